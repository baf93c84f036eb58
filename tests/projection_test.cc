// The projection of a run's total: the arithmetic on series worked out by
// hand, then end to end on fixture RAPL counters that the command advances at
// set powers while it reports linear progress (not on estimates, which are
// noisy here).

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "carbon/carbon.h"
#include "process/marks.h"
#include "sampling/projection.h"
#include "helpers.h"

using namespace greenrun;
using namespace greenrun::test;
using nlohmann::json;

namespace {

/// A run of `seconds` at `watts(t)`, sampled every `dt`, reporting progress
/// t / seconds at each sample (both scopes the same).
template <class Watts>
ProjectionInputs steady_run(double seconds, double upto_s, double dt, Watts watts) {
  ProjectionInputs in;
  in.energy.push_back({});
  double e = 0;
  for (double t = dt; t <= upto_s + 1e-9; t += dt) {
    e += watts(t - dt / 2) * dt;
    in.energy.push_back({t, e, e});
    in.progress.push_back({t, t / seconds});
  }
  return in;
}

}  // namespace

TEST_CASE("projection: constant power and linear progress give the total at every point", "[projection]") {
  // 10 W for 100 s: 1000 J in all.
  for (double upto : {25.0, 50.0, 75.0}) {
    auto p = project_energy(steady_run(100, upto, 1, [](double) { return 10.0; }), false, std::nullopt);
    REQUIRE(p);
    CHECK(p->method == "progress");
    CHECK(p->fraction == Approx(upto / 100));
    CHECK(p->energy_j == Approx(1000));
    CHECK(p->end_s == Approx(100));
  }
}

TEST_CASE("projection: a second half at twice the power is right from the half-way rate on", "[projection]") {
  // 10 W for 50 s, then 20 W for 50 s: 500 + 1000 = 1500 J.
  auto watts = [](double t) { return t < 50 ? 10.0 : 20.0; };
  // At 25% and 50% nothing has shown the second half yet: 1000 J, 33% low.
  CHECK(project_energy(steady_run(100, 25, 1, watts), false, std::nullopt)->energy_j == Approx(1000));
  CHECK(project_energy(steady_run(100, 50, 1, watts), false, std::nullopt)->energy_j == Approx(1000));
  // At 75% the rate is that of [50 s, 75 s]: 1000 J used + 0.25 x 2000 J = 1500 J.
  auto p = project_energy(steady_run(100, 75, 1, watts), false, std::nullopt);
  REQUIRE(p);
  CHECK(p->energy_j == Approx(1500));
  CHECK(p->rate_from_fraction == Approx(0.5));
}

TEST_CASE("projection: a slow first epoch does not weigh once the run is a third further", "[projection]") {
  // 10 W throughout; the first 10% of the work takes 30 s, the other 90% 90 s
  // (1 s per 1%): 1200 J in all, ending at 120 s.
  ProjectionInputs in;
  in.energy.push_back({});
  for (int s = 1; s <= 60; ++s) {
    in.energy.push_back({double(s), 10.0 * s, 10.0 * s});
    const double fraction = s <= 30 ? 0.1 * s / 30 : 0.1 + 0.01 * (s - 30);
    in.progress.push_back({double(s), fraction});
  }
  auto p = project_energy(in, true, std::nullopt);  // at 60 s, 40% done
  REQUIRE(p);
  CHECK(p->fraction == Approx(0.4));
  CHECK(p->energy_j == Approx(1200));
  CHECK(p->end_s == Approx(120));
  // total / fraction would say 600 / 0.4 = 1500 J.
}

TEST_CASE("projection: from --expected-duration without progress, and nothing before there is anything", "[projection]") {
  ProjectionInputs in;
  in.energy = {{0, 0, 0}, {10, 50, 100}, {20, 100, 200}, {30, 150, 300}};
  CHECK_FALSE(project_energy(in, false, std::nullopt));
  auto p = project_energy(in, true, 60.0);
  REQUIRE(p);
  CHECK(p->method == "expected-duration");
  CHECK(p->fraction == Approx(0.5));
  CHECK(p->energy_j == Approx(600));  // 10 W machine-wide for 60 s
  CHECK(p->end_s == Approx(60));
  // Progress sent after the last closed window waits for it; progress 0 projects nothing.
  in.progress = {{35, 0.9}};
  CHECK(project_energy(in, false, std::nullopt) == std::nullopt);
  in.progress = {{5, 0}};
  CHECK(project_energy(in, false, std::nullopt) == std::nullopt);
  // A run past its expected duration: what is spent is the least it uses.
  p = project_energy(in, false, 20.0);
  REQUIRE(p);
  CHECK(p->energy_j == Approx(150));
  CHECK(p->end_s == Approx(30));
}

TEST_CASE("projection: series stay bounded and keep their first and latest points", "[projection]") {
  std::vector<ProgressPoint> pts;
  for (int i = 0; i < 100000; ++i) append_bounded(pts, ProgressPoint{double(i), i / 100000.0});
  CHECK(pts.size() <= kMaxSeriesPoints);
  CHECK(pts.front().at_s == 0);
  CHECK(pts.back().at_s == 99999);
  for (size_t i = 1; i < pts.size(); ++i) CHECK(pts[i].at_s > pts[i - 1].at_s);
  // The latest quarter of the series is still as it came.
  CHECK(pts[pts.size() - 2].at_s == 99998);
}

TEST_CASE("projection: what is still to come is priced over the hours it is projected to take", "[projection]") {
  using namespace std::chrono;
  const auto t0 = system_clock::from_time_t(1796601600);  // 00:00 UTC
  CarbonSettings s;
  s.pue = 1.5;
  // A forecast: 400 g/kWh for the first hour, 100 g/kWh after.
  s.profile = IntensityProfile::steps({{t0, 400, Basis::Forecast}, {t0 + hours(1), 100, Basis::Forecast}});
  // 10 g so far; 3.6 MJ (1 kWh) to come from 00:30 to 02:30: a quarter of that time at 400, the rest at 100.
  const double g = projected_emissions_g(s, 10, 3.6e6, t0 + minutes(30), t0 + minutes(150));
  CHECK(g == Approx(10 + 1.0 * 1.5 * (0.25 * 400 + 0.75 * 100)));
  // Nothing more to come: what is spent.
  CHECK(projected_emissions_g(s, 10, 0, t0, t0 + hours(1)) == Approx(10));
}

namespace {

// The command: advances the fixture's package counter at `watts` (then
// `watts2` from half of `seconds`) and the dram counter at 1 W, every 5 ms,
// and reports progress t / seconds every 50 ms; stops at `stop` of the way,
// keeps the counters moving 0.3 s more (so that windows close after its last
// progress), and exits.
const char* kWorkload = R"PY(
import os, sys, time
root, seconds, watts, watts2, stop = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
pkg = os.open(root + "/class/powercap/intel-rapl:0/energy_uj", os.O_WRONLY)
dram = os.open(root + "/class/powercap/intel-rapl:0:0/energy_uj", os.O_WRONLY)
fifo = os.open(os.environ["GREENRUN_MARK"], os.O_WRONLY | os.O_NONBLOCK)
def energy_j(t):
    half = seconds / 2
    return watts * min(t, half) + watts2 * max(0.0, t - half)
start = time.monotonic()
last_progress = -1.0
while True:
    t = time.monotonic() - start
    os.pwrite(pkg, b"%020d\n" % int(energy_j(t) * 1e6), 0)
    os.pwrite(dram, b"%020d\n" % int(t * 1e6), 0)
    if t / seconds < stop and t - last_progress >= 0.05:
        os.write(fifo, b"\x1eprogress %.6f\n" % (t / seconds))
        last_progress = t
    if t / seconds >= stop + 0.3 / seconds:
        break
    time.sleep(0.005)
)PY";

struct Fixture {
  TempDir dir;
  std::string sys = dir / "sys";
  Fixture() {
    add_powercap_zone(sys, "intel-rapl:0", "package-0", 0);
    add_powercap_zone(sys, "intel-rapl:0:0", "dram", 0);
    write_file(dir / "load.py", kWorkload);
  }
  /// The final report of a run stopped at `stop` of `seconds`.
  ProcResult run(double seconds, double watts, double watts2, double stop, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {greenrun_bin(), "-q", "--json", dir / "r.json", "--interval", "50ms",
                                     "--scope", "machine"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    for (std::string a : {std::string("--"), std::string("/usr/bin/python3"), dir / "load.py", sys, std::to_string(seconds),
                          std::to_string(watts), std::to_string(watts2), std::to_string(stop)})
      argv.push_back(a);
    ProcOptions opt;
    opt.env = {{"GREENRUN_SYSFS_ROOT", sys}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
    return run_proc(argv, opt);
  }
  json report() const { return json::parse(slurp(dir / "r.json")); }
};

/// The projected total against what the whole run uses: its counters at set
/// powers for `seconds`, 1 W of dram throughout.
double projection_error(const json& r, double seconds, double watts, double watts2) {
  REQUIRE(r["projection"].is_object());
  CHECK(r["projection"]["method"] == "progress");
  for (const auto& c : r["components"]) CHECK(c["measured"] == true);
  const double total = watts * seconds / 2 + watts2 * seconds / 2 + 1.0 * seconds;
  return r["projection"]["energy_j"].get<double>() / total - 1;
}

}  // namespace

TEST_CASE("projection end to end: constant power at 25% done is within 5% of the run's energy", "[projection][cli]") {
  Fixture f;
  auto r = f.run(4, 20, 20, 0.25);
  REQUIRE(r.status == 0);
  auto j = f.report();
  CHECK(j["projection"]["fraction"].get<double>() == Approx(0.25).margin(0.02));
  const double err = projection_error(j, 4, 20, 20);
  INFO("projected " << j["projection"].dump());
  CHECK(std::abs(err) < 0.05);
  // The end is 4 s after the command started.
  CHECK(j["projection"]["ends_at"].get<std::string>().size() > 20);
}

TEST_CASE("projection end to end: a second half at twice the power is within 10% at 75% done", "[projection][cli]") {
  Fixture f;
  auto r = f.run(4, 10, 20, 0.75);
  REQUIRE(r.status == 0);
  auto j = f.report();
  CHECK(j["projection"]["fraction"].get<double>() == Approx(0.75).margin(0.02));
  INFO("projected " << j["projection"].dump());
  CHECK(std::abs(projection_error(j, 4, 10, 20)) < 0.10);
}

TEST_CASE("projection end to end: a projected budget overrun is warned once, long before it is spent", "[projection][cli]") {
  Fixture f;
  // 20 W + 1 W for 4 s is 84 J; the budget is 60 J, and the run stops at half way (42 J).
  auto r = f.run(4, 20, 20, 0.5, {"--max-energy", "60J"});
  INFO(r.err);
  CHECK(r.status == 0);  // nothing was spent past the budget
  size_t warnings = 0;
  for (size_t at = r.err.find("the energy budget will be exceeded"); at != std::string::npos;
       at = r.err.find("the energy budget will be exceeded", at + 1))
    ++warnings;
  CHECK(warnings == 1);
  CHECK_THAT(r.err, Catch::Contains("> --max-energy 60.0 J"));
  auto j = f.report();
  bool noted = false;
  for (const auto& n : j["notes"]) noted |= n.get<std::string>().find("will be exceeded") != std::string::npos;
  CHECK(noted);
}

TEST_CASE("records on the marks FIFO: counts and progress parse, anything else is no record", "[projection][marks]") {
  CHECK(parse_record("count 64 samples").kind == MarkRecord::Kind::Count);
  CHECK(parse_record("count 64 samples").value == 64);
  CHECK(parse_record("count 1e3 tokens").value == 1000);
  CHECK(parse_record("progress 0.25").kind == MarkRecord::Kind::Progress);
  for (const char* bad : {"progress 1.5", "progress -0.1", "count -1 samples", "count nan samples", "count inf samples",
                          "count 0x10 samples", "count 5", "count 5 two words", "count 5 sa/mples", "progress",
                          "progress 0.5 extra", "other 5"})
    CHECK(parse_record(bad).kind == MarkRecord::Kind::Invalid);
  CHECK(count_line(64, "samples") == "\x1e" "count 64 samples\n");
  CHECK(progress_line(0.25) == "\x1e" "progress 0.25\n");
  // A plain line stays a mark, whatever it says; a label never starts a record.
  std::vector<MarkRecord> got;
  MarkLines lines;
  lines.feed("count 5 samples\n\x1e" "count 5 samples\n\x1e" "progress 0.5\n", [&](MarkRecord r) { got.push_back(r); });
  REQUIRE(got.size() == 3);
  CHECK(got[0].kind == MarkRecord::Kind::Mark);
  CHECK(got[0].text == "count 5 samples");
  CHECK(got[1].kind == MarkRecord::Kind::Count);
  CHECK(got[2].kind == MarkRecord::Kind::Progress);
}

TEST_CASE("greenrun count and progress from a shell: units per run and per phase, SCI per counted unit", "[projection][marks][cli]") {
  Fixture f;
  const std::string g = greenrun_bin();
  const std::string script = g + " mark train; " + g + " count 600 samples; " + g + " count 0.5e3 samples; " + g +
                             " count 7 batches; " + g + " progress 0.5; sleep 0.3; " + g + " mark eval; " + g +
                             " count 100 samples; " + g + " progress 1; sleep 0.3; " + g + " count -1 samples; " + g +
                             " count 5 'bad unit'; true";
  ProcOptions opt;
  opt.env = {{"GREENRUN_SYSFS_ROOT", f.sys}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
  auto r = run_proc({g, "-q", "--json", f.dir / "r.json", "--metrics", f.dir / "r.prom", "--interval", "50ms", "--", "sh", "-c", script}, opt);
  REQUIRE(r.status == 0);
  auto j = f.report();
  REQUIRE(j["units"].size() == 2);
  CHECK(j["units"][0]["unit"] == "samples");
  CHECK(j["units"][0]["count"] == 1200);
  CHECK(j["units"][1]["unit"] == "batches");
  CHECK(j["units"][1]["count"] == 7);
  const double energy = j["energy_j"], emissions = j["emissions_g"];
  CHECK(j["units"][0]["energy_j_per_unit"].get<double>() == Approx(energy / 1200));
  CHECK(j["units"][0]["emissions_g_per_unit"].get<double>() == Approx(emissions / 1200));
  // Per phase: train counted 1100 samples and 7 batches, eval 100 samples.
  const json* train = nullptr;
  const json* eval = nullptr;
  for (const auto& p : j["phases"]) {
    if (p["name"] == "train") train = &p;
    if (p["name"] == "eval") eval = &p;
  }
  REQUIRE(train);
  REQUIRE(eval);
  REQUIRE((*train)["units"].size() == 2);
  CHECK((*train)["units"][0]["count"] == 1100);
  CHECK((*train)["units"][0]["energy_j_per_unit"].get<double>() == Approx((*train)["energy_j"].get<double>() / 1100));
  REQUIRE((*eval)["units"].size() == 1);
  CHECK((*eval)["units"][0]["count"] == 100);
  // SCI without --functional-unit: R is the first unit counted.
  CHECK(j["sci"]["functional_unit"] == "samples");
  CHECK(j["sci"]["functional_units"] == 1200);
  CHECK(j["sci"]["functional_unit_counted"] == true);
  CHECK(j["projection"]["fraction"] == 1);
  const std::string prom = slurp(f.dir / "r.prom");
  CHECK_THAT(prom, Catch::Contains("greenrun_units_total{unit=\"samples\",run=\"r\"} 1200"));
  CHECK_THAT(prom, Catch::Contains("greenrun_energy_per_unit_joules{unit=\"samples\""));
  CHECK_THAT(prom, Catch::Contains("greenrun_progress_ratio{method=\"progress\""));
  // Bad counts are refused by the subcommand, before anything is sent.
  auto bad = run_proc({g, "count", "-1", "samples"});
  CHECK(bad.status == 2);
  CHECK_THAT(bad.err, Catch::Contains("greenrun count: give a number >= 0 and a unit"));
  CHECK(run_proc({g, "progress", "1.5"}).status == 2);
  // Outside greenrun they do nothing and succeed.
  CHECK(run_proc({g, "count", "5", "samples"}, {"", {{"GREENRUN_MARK", ""}}}).status == 0);
}
