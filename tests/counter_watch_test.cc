// Counters that never move (a hypervisor's perf energy-psys, a RAPL or hwmon
// file it exposes frozen) and counters that move in steps (NVML's, about every
// 100 ms): through the binary with fixture trees, and tick by tick.

#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <thread>

#include <nlohmann/json.hpp>

#include "helpers.h"
#include "sampling/counter_watch.h"
#include "sampling/sampler.h"
#include "sensors/estimate.h"

using namespace greenrun;
using namespace greenrun::test;
using namespace std::chrono;
using nlohmann::json;

namespace {

struct FrozenBox {
  TempDir dir;
  std::string sys = dir / "sys";
  FrozenBox() { make_dirs(sys); }
  ProcResult run(std::vector<std::string> args) const {
    std::vector<std::string> argv = {greenrun_bin(), "--sysfs-root", sys, "--interval", "250ms", "--json", dir / "r.json"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcOptions opt;
    opt.env = {{"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
    return run_proc(argv, opt);
  }
  json report() const { return json::parse(slurp(dir / "r.json")); }
};

struct FakeClock {
  steady_clock::time_point now = steady_clock::time_point(hours(1000));
  void advance(duration<double> d) { now += duration_cast<steady_clock::duration>(d); }
  double since(steady_clock::time_point t0) const { return duration<double>(now - t0).count(); }
};

// The tree and the machine busy at these rates, two CPUs.
class FakeTree : public TreeReader {
 public:
  FakeTree(const FakeClock& clock, double tree_cores, double machine_cores)
      : clock_(clock), start_(clock.now), tree_(tree_cores), machine_(machine_cores) {}
  void prime() override {}
  void read(bool, TreeSample& out) override {
    const double t = clock_.since(start_);
    out.user_s = tree_ * t;
    out.machine_busy_s = machine_ * t;
    out.machine_total_s = 2 * t;
    out.rss_bytes = 0;
  }

 private:
  const FakeClock& clock_;
  steady_clock::time_point start_;
  double tree_, machine_;
};

// A RAPL-like counter at `watts` until `stops_s` (never: a live counter), in
// steps of `step_s` (0: smooth), read as a counter.
class StuckCounter : public ChannelTable<double> {
 public:
  StuckCounter(const FakeClock& clock, ComponentKind kind, double watts, double stops_s, double step_s = 0,
               double update_s = kRaplUpdateS, std::string label = "counter")
      : clock_(clock), start_(clock.now), watts_(watts), stops_s_(stops_s), step_s_(step_s) {
    Channel c;
    c.component.kind = kind;
    c.label = std::move(label);
    c.source = "fake counter";
    c.counter = true;
    c.update_s = update_s;
    add(c, 0.0);
  }
  void read(const SampleContext&, std::vector<ChannelReading>& out) override {
    double t = std::min(clock_.since(start_) + 1e-9, stops_s_);
    if (step_s_ > 0) t = std::floor(t / step_s_) * step_s_;
    out.assign(1, {watts_ * t, true, std::nullopt});
  }

 private:
  const FakeClock& clock_;
  steady_clock::time_point start_;
  double watts_, stops_s_, step_s_;
};

/// The estimate: 10 W idle, 30 W at full load (20 W at the fake tree's half
/// load), memory standing by too; `cpu` false: all of it on standby.
std::unique_ptr<EnergySource> estimate(bool cpu = false) {
  CpuPowerModel m;
  m.idle_w = 10;
  m.max_w = 30;
  m.method = "test model";
  return std::make_unique<EstimateSource>(m, cpu, false, kRamWPerGb, 2);
}

SamplerOptions fake_options(FakeClock& clock, nanoseconds interval) {
  SamplerOptions o;
  o.interval = interval;
  o.now = [&clock] { return clock.now; };
  return o;
}

Measurements run_ticks(Sampler& s, FakeClock& clock, int ticks, duration<double> every) {
  s.baseline();
  for (int i = 0; i < ticks; ++i) {
    clock.advance(every);
    s.step();
  }
  clock.advance(every / 2);
  s.step(true);
  return s.measurements();
}

const ChannelTotals* totals_of(const Measurements& m, const std::string& source, ComponentKind kind) {
  for (size_t i = 0; i < m.channels.size(); ++i)
    if (m.channels[i].source == source && m.channels[i].component.kind == kind) return &m.totals[i];
  return nullptr;
}

const json* unused_source(const json& j, const std::string& what) {
  for (const auto& f : j["unused_sources"])
    if (f["what"] == what) return &f;
  return nullptr;
}

}  // namespace

TEST_CASE("a psys counter that never moves under a busy command is frozen: CPU and memory estimated, never 0 J measured",
          "[frozen][rapl]") {
  // The H200 VM's perf energy-psys read 0 J under a full core for 45 s, and by
  // the psys rule it replaced the CPU and DRAM estimates: "0 J measured".
  FrozenBox b;
  add_powercap_zone(b.sys, "intel-rapl:1", "psys", 5'000'000'000ULL);
  auto r = b.run({"--", toy_train_bin(), "2.5"});
  REQUIRE(r.status == 0);
  auto j = b.report();
  INFO(j.dump(1));
  CHECK_FALSE(component(j, "platform"));  // it measured nothing: no "platform 0 J measured"
  const json* cpu = component(j, "cpu");
  const json* ram = component(j, "ram");
  REQUIRE(cpu);
  REQUIRE(ram);
  CHECK((*cpu)["measured"] == false);
  CHECK((*cpu)["source"] == "estimate");
  // Estimated over the whole run, not from the moment the freeze was seen.
  CHECK((*cpu)["machine_energy_j"].get<double>() > 0);
  const json& records = j["timeline"]["records"];
  REQUIRE(records.size() >= 2);
  for (const auto& rec : records) CHECK(rec["machine_energy_j"][0].get<double>() > 0);  // the first record too
  const json* psys = unused_source(j, "psys");
  REQUIRE(psys);
  CHECK((*psys)["disposition"] == "frozen");
  CHECK_THAT((*psys)["reason"].get<std::string>(), Catch::Contains("did not advance") && Catch::Contains("CPU"));
  CHECK_THAT(r.err, Catch::Contains("frozen") && Catch::Contains("estimated"));
  CHECK(j["timeline"]["components"].size() == 2);
}

TEST_CASE("a package counter that freezes after 1 s: measured until then, a note, the rest estimated", "[frozen][rapl]") {
  FrozenBox b;
  add_powercap_zone(b.sys, "intel-rapl:0", "package-0", 1'000'000);
  // 20 W for the first second, then the counter stops.
  std::atomic<bool> stop{false};
  std::thread ticker([&] {
    const auto t0 = std::chrono::steady_clock::now();
    while (!stop) {
      const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      set_energy(b.sys, "intel-rapl:0", 1'000'000 + static_cast<uint64_t>(20e6 * std::min(t, 1.0)));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  auto r = b.run({"--", toy_train_bin(), "3.5"});
  stop = true;
  ticker.join();
  REQUIRE(r.status == 0);
  auto j = b.report();
  INFO(j.dump(1));
  const json* cpu = component(j, "cpu");
  REQUIRE(cpu);
  CHECK((*cpu)["measured"] == false);  // partly estimated
  REQUIRE((*cpu)["detail"].size() == 2);
  const json& rapl = (*cpu)["detail"][0];
  const json& est = (*cpu)["detail"][1];
  CHECK(rapl["source"] == "RAPL powercap");
  CHECK(rapl["machine_energy_j"].get<double>() <= 20.0 + 1e-6);  // what it measured before it stopped
  CHECK(rapl["machine_energy_j"].get<double>() >= 10.0);
  CHECK(est["source"] == "estimate");
  CHECK(est["machine_energy_j"].get<double>() > 0);
  bool noted = false;
  for (const auto& n : j["notes"]) noted = noted || n.get<std::string>().find("stopped advancing") != std::string::npos;
  CHECK(noted);
  const json* pkg = unused_source(j, "package-0");
  REQUIRE(pkg);
  CHECK((*pkg)["disposition"] == "frozen");
}

TEST_CASE("greenrun sensors watches counters for a second: a frozen one is said to be frozen", "[frozen][sensors]") {
  TempDir dir;
  add_powercap_zone(dir / "sys", "intel-rapl:0", "package-0", 123456);
  FakeRapl moving(dir / "live", 30);
  auto frozen = run_proc({greenrun_bin(), "sensors", "--json", "--sysfs-root", dir / "sys"});
  REQUIRE(frozen.status == 0);
  auto j = json::parse(frozen.out);
  bool said = false;
  for (const auto& s : j["sources"])
    if (s["what"] == "package-0 (intel-rapl:0)" || s["what"] == "package-0")
      said = s["disposition"] == "frozen" && s["detail"].get<std::string>().find("did not advance") != std::string::npos;
  CHECK(said);
  bool cpu_estimated = false;
  for (const auto& u : j["used"]) cpu_estimated = cpu_estimated || (u["component"] == "cpu" && u["measured"] == false);
  CHECK(cpu_estimated);

  auto live = run_proc({greenrun_bin(), "sensors", "--json", "--sysfs-root", dir / "live"});
  REQUIRE(live.status == 0);
  auto k = json::parse(live.out);
  bool used = false;
  for (const auto& u : k["used"]) used = used || (u["component"] == "cpu" && u["source"] == "RAPL powercap");
  CHECK(used);
}

TEST_CASE("CounterWatch: frozen only while the machine works, and the update period learned from still reads", "[frozen][counter_watch]") {
  CounterWatch busy;
  CHECK_FALSE(busy.observe(0, 5, 0));
  CHECK_FALSE(busy.observe(0.5, 5, 0.5));
  CHECK(busy.observe(1.0, 5, 0.5));  // a second without a move, a CPU-second of work
  CHECK(busy.frozen());
  CHECK_FALSE(busy.ever_moved());
  CHECK(busy.last_move_s() == 0);

  CounterWatch idle;  // moved by zero on an idle machine: a live counter as far as anyone can tell
  for (int i = 0; i <= 100; ++i) CHECK_FALSE(idle.observe(i * 0.1, 5, 0.0001));
  CHECK_FALSE(idle.frozen());

  CounterWatch later;
  CHECK_FALSE(later.observe(0, 1, 0));
  CHECK_FALSE(later.observe(1, 2, 1));
  CHECK_FALSE(later.observe(2, 3, 1));
  CHECK_FALSE(later.observe(2.5, 3, 0.5));
  CHECK(later.observe(3, 3, 0.5));
  CHECK(later.ever_moved());
  CHECK(later.last_move_s() == 2);

  // 100 ms steps read every 50 ms: half the reads see none.
  CounterWatch steps;
  for (int i = 0; i <= 40; ++i) steps.observe(i * 0.05 + 0.01, std::floor(i / 2.0), 0.05);
  CHECK(steps.learned());
  CHECK(steps.update_s() == Approx(0.1).epsilon(0.05));
  CHECK(steps.min_record_s() == Approx(1.0).epsilon(0.05));
  // Read every 250 ms, every read sees a step: only the prior can say.
  CounterWatch coarse(0.1);
  for (int i = 0; i <= 20; ++i) coarse.observe(i * 0.25, i * 2.5, 0.25);
  CHECK_FALSE(coarse.learned());
  CHECK(coarse.update_s() == 0.1);
  CHECK(CounterWatch().update_s() == 0);
  CHECK(CounterWatch(0.1).frozen_after_s() == Approx(1.0));
}

TEST_CASE("sampler: a frozen psys counter gives way to the estimate, from the start, exactly", "[frozen][sampler]") {
  FakeClock clock;
  std::vector<std::unique_ptr<EnergySource>> sources;
  sources.push_back(std::make_unique<StuckCounter>(clock, ComponentKind::Platform, 50, 0.0, 0, kRaplUpdateS, "psys"));
  sources.push_back(estimate());
  // The tree uses one core of two and the machine is that busy: load 0.5, 20 W.
  Sampler s(fake_options(clock, seconds(1)), std::move(sources), std::make_unique<FakeTree>(clock, 1.0, 1.0));
  const Measurements m = run_ticks(s, clock, 10, seconds(1));
  REQUIRE(m.frozen.size() == 1);
  CHECK(m.frozen[0].label == "psys");
  CHECK(m.frozen[0].from_start);
  CHECK(m.frozen[0].detected_s == Approx(1.0));
  CHECK_THAT(m.frozen[0].reason, Catch::Contains("did not advance in 1.00 s") && Catch::Contains("CPU and memory estimated instead, from the start"));
  CHECK_FALSE(totals_of(m, "fake counter", ComponentKind::Platform));  // no "0 J measured"
  const ChannelTotals* cpu = totals_of(m, "estimate", ComponentKind::Cpu);
  REQUIRE(cpu);
  CHECK(cpu->machine_j == Approx(20 * 10.5));  // the whole run, the second before the freeze was seen included
  CHECK(cpu->tree_j == Approx(20 * 10.5));     // the tree's share of the CPU time: all of it
  REQUIRE(totals_of(m, "estimate", ComponentKind::Ram));
  REQUIRE(m.timeline.components().size() == 2);
  CHECK(m.timeline.components()[0].component.kind == ComponentKind::Cpu);
  CHECK_FALSE(m.timeline.components()[0].measured);
  double timeline_j = 0;
  for (size_t i = 0; i < m.timeline.size(); ++i) {
    CHECK(m.timeline.machine_j(i, 0) > 0);
    timeline_j += m.timeline.machine_j(i, 0);
  }
  CHECK(timeline_j == Approx(cpu->machine_j));
  CHECK(m.peak_machine_w == Approx(20.0).epsilon(0.01));
}

TEST_CASE("sampler: a counter that moved by zero on an idle machine is 0 J measured, not frozen", "[frozen][sampler]") {
  FakeClock clock;
  std::vector<std::unique_ptr<EnergySource>> sources;
  sources.push_back(std::make_unique<StuckCounter>(clock, ComponentKind::Platform, 50, 0.0, 0, kRaplUpdateS, "psys"));
  sources.push_back(estimate());
  Sampler s(fake_options(clock, seconds(1)), std::move(sources), std::make_unique<FakeTree>(clock, 0.0, 0.0));
  const Measurements m = run_ticks(s, clock, 10, seconds(1));
  CHECK(m.frozen.empty());
  const ChannelTotals* psys = totals_of(m, "fake counter", ComponentKind::Platform);
  REQUIRE(psys);
  CHECK(psys->machine_j == 0);
  CHECK(m.channels.size() == 1);  // the estimate stayed on standby
}

TEST_CASE("sampler: a package counter that freezes mid-run: measured until then, estimated after, its share of the CPU",
          "[frozen][sampler]") {
  FakeClock clock;
  std::vector<std::unique_ptr<EnergySource>> sources;
  // Two packages at 30 W each; package-1 stops at 3 s. The machine-wide
  // estimate stands in for half the CPU: one package of two.
  sources.push_back(std::make_unique<StuckCounter>(clock, ComponentKind::Cpu, 30, 1e9, 0, kRaplUpdateS, "package-0"));
  sources.push_back(std::make_unique<StuckCounter>(clock, ComponentKind::Cpu, 30, 3.0, 0, kRaplUpdateS, "package-1"));
  sources.push_back(estimate());
  Sampler s(fake_options(clock, milliseconds(500)), std::move(sources), std::make_unique<FakeTree>(clock, 1.0, 1.0));
  const Measurements m = run_ticks(s, clock, 20, milliseconds(500));  // 10.25 s
  REQUIRE(m.frozen.size() == 1);
  CHECK(m.frozen[0].label == "package-1");
  CHECK_FALSE(m.frozen[0].from_start);
  CHECK(m.frozen[0].since_s == Approx(3.0));
  CHECK(m.frozen[0].detected_s == Approx(4.0));
  REQUIRE(m.notes.size() == 1);
  CHECK_THAT(m.notes[0], Catch::Contains("package-1") && Catch::Contains("stopped advancing after 3.00 s") &&
                             Catch::Contains("CPU estimated instead for the rest of the run"));
  REQUIRE(m.channels.size() == 3);  // both packages (package-1 measured 3 s), the estimate
  CHECK(m.totals[0].machine_j == Approx(30 * 10.25));
  CHECK(m.totals[1].machine_j == Approx(30 * 3.0));
  CHECK(m.channels[2].source == "estimate");
  CHECK(m.totals[2].machine_j == Approx(0.5 * 20 * (10.25 - 3.0)));
  REQUIRE(m.timeline.components().size() == 1);  // all of it the CPU
  double sum = 0;
  for (size_t i = 0; i < m.timeline.size(); ++i) sum += m.timeline.machine_j(i, 0);
  CHECK(sum == Approx(m.totals[0].machine_j + m.totals[1].machine_j + m.totals[2].machine_j));
}

TEST_CASE("sampler: a counter in 100 ms steps holds windows open to ten steps, never finer", "[resolution][sampler]") {
  FakeClock clock;
  clock.advance(milliseconds(37));  // the counter's steps keep their own phase
  std::vector<std::unique_ptr<EnergySource>> sources;
  sources.push_back(std::make_unique<StuckCounter>(clock, ComponentKind::Gpu, 300, 1e9, 0.1, 0.1, "gpu"));
  Sampler s(fake_options(clock, milliseconds(100)), std::move(sources), std::make_unique<FakeTree>(clock, 1.0, 1.0));
  const Measurements m = run_ticks(s, clock, 55, milliseconds(100));
  CHECK(m.window_s == Approx(1.0));
  REQUIRE(m.timeline.size() == 5);  // 5.55 s: five records, the last 0.55 s joined to the one before
  for (size_t i = 0; i < m.timeline.size(); ++i) {
    const auto& r = m.timeline.record(i);
    CHECK(r.end_s - r.start_s >= 1.0 - 1e-9);
    CHECK(m.timeline.machine_j(i, 0) / (r.end_s - r.start_s) == Approx(300).epsilon(0.1));
  }
  REQUIRE(m.timeline.components().size() == 1);
  CHECK(m.timeline.components()[0].update_s == Approx(0.1));
  CHECK(m.timeline.components()[0].resolution_s == Approx(1.0));
}
