// The sampler driven tick by tick with a fake clock, fake sources and a fake
// process tree: joules worked out by hand, the timeline against the totals,
// and a month-long run in bounded memory.

#include <catch2/catch.hpp>

#include "carbon/carbon.h"
#include "carbon/carbon_options.h"
#include "helpers.h"
#include "sampling/sampler.h"
#include "sensors/rapl_powercap.h"

using namespace greenrun;
using namespace greenrun::test;
using namespace std::chrono;

namespace {

struct FakeClock {
  steady_clock::time_point now = steady_clock::time_point(hours(1000));
  system_clock::time_point wall = system_clock::time_point(seconds(1'700'000'000));
  void advance(duration<double> d) {
    now += duration_cast<steady_clock::duration>(d);
    wall += duration_cast<system_clock::duration>(d);
  }
};

// The tree uses `tree_cores` of CPU, the machine `machine_cores`, from the
// clock's start; memory is fixed.
class FakeTree : public TreeReader {
 public:
  FakeTree(const FakeClock& clock, double tree_cores, double machine_cores)
      : clock_(clock), start_(clock.now), tree_(tree_cores), machine_(machine_cores) {}
  void prime() override {}
  void read(bool, TreeSample& out) override {
    const double t = duration<double>(clock_.now - start_).count();
    out.user_s = tree_ * t;
    out.system_s = 0;
    out.machine_busy_s = machine_ * t;
    out.machine_total_s = 2 * t;  // two CPUs
    out.rss_bytes = 1 << 20;
    out.running = 1;
    out.processes_seen = 1;
  }

 private:
  const FakeClock& clock_;
  steady_clock::time_point start_;
  double tree_, machine_;
};

// A cumulative counter at a constant power from the clock's start.
class FakeSource : public ChannelTable<double> {
 public:
  FakeSource(const FakeClock& clock, ComponentKind kind, double watts) : clock_(clock), start_(clock.now), watts_(watts) {
    Channel c;
    c.component.kind = kind;
    c.label = "fake";
    c.source = "fake";
    add(c, 0.0);
  }
  void read(const SampleContext&, std::vector<ChannelReading>& out) override {
    out.assign(1, {watts_ * duration<double>(clock_.now - start_).count(), true, std::nullopt});
  }

 private:
  const FakeClock& clock_;
  steady_clock::time_point start_;
  double watts_;
};

SamplerOptions fake_options(FakeClock& clock, nanoseconds interval) {
  SamplerOptions o;
  o.interval = interval;
  o.now = [&clock] { return clock.now; };
  o.wall = [&clock] { return clock.wall; };
  return o;
}

double timeline_sum(const Timeline& t, bool machine) {
  double sum = 0;
  for (size_t i = 0; i < t.size(); ++i) sum += t.energy_j(i, machine);
  return sum;
}

double totals_sum(const Measurements& m, bool machine) {
  double sum = 0;
  for (const auto& x : m.totals) sum += machine ? x.machine_j : x.tree_j;
  return sum;
}

}  // namespace

TEST_CASE("sampler: ticks on a fake clock attribute energy by CPU share, exactly", "[sampler]") {
  FakeClock clock;
  std::vector<std::unique_ptr<EnergySource>> sources;
  sources.push_back(std::make_unique<FakeSource>(clock, ComponentKind::Cpu, 20.0));
  sources.push_back(std::make_unique<FakeSource>(clock, ComponentKind::Gpu, 100.0));
  // The tree uses half a core of the machine's one busy core: half the CPU energy.
  Sampler s(fake_options(clock, seconds(1)), std::move(sources), std::make_unique<FakeTree>(clock, 0.5, 1.0));
  s.baseline();
  for (int i = 0; i < 10; ++i) {
    clock.advance(seconds(1));
    s.step();
  }
  clock.advance(milliseconds(500));
  s.step(true);
  const Measurements m = s.measurements();
  REQUIRE(m.totals.size() == 2);
  CHECK(m.totals[0].machine_j == Approx(20 * 10.5));
  CHECK(m.totals[0].tree_j == Approx(10 * 10.5));
  CHECK(m.totals[1].machine_j == Approx(100 * 10.5));
  CHECK(m.totals[1].tree_j == Approx(50 * 10.5));  // no share of its own: CPU share too
  CHECK(m.sampled_s == Approx(10.5));
  CHECK(m.samples == 12);
  CHECK(m.user_s == Approx(5.25));
  CHECK(m.origin == system_clock::time_point(seconds(1'700'000'000)));
  const Timeline& t = m.timeline;
  REQUIRE(t.size() == 11);
  CHECK(t.components().size() == 2);
  CHECK(t.record(0).start_s == 0.0);
  CHECK(t.record(0).end_s == 1.0);
  CHECK(t.record(10).start_s == 10.0);
  CHECK(t.record(10).end_s == 10.5);
  CHECK(t.machine_j(3, 0) == Approx(20));
  CHECK(t.tree_j(3, 1) == Approx(50));
  CHECK(t.record(10).tree_cpu_s == Approx(0.25));
  CHECK(timeline_sum(t, false) == Approx(totals_sum(m, false)));
  CHECK(timeline_sum(t, true) == Approx(totals_sum(m, true)));
  CHECK(m.peak_tree_w == Approx(60));
}

TEST_CASE("sampler: a counter that wraps mid-run, and the timeline still sums to the totals", "[sampler][rapl]") {
  TempDir dir;
  const uint64_t range = 262'143'328'850ULL;
  add_powercap_zone(dir.path(), "intel-rapl:0", "package-0", range - 3'000'000, range);
  std::vector<Finding> findings;
  FakeClock clock;
  std::vector<std::unique_ptr<EnergySource>> sources;
  sources.push_back(RaplPowercapSource::open(dir.path(), findings));
  REQUIRE(sources[0]);
  Sampler s(fake_options(clock, seconds(1)), std::move(sources), std::make_unique<FakeTree>(clock, 1.0, 1.0));
  s.baseline();
  // 2 J, 2 J across the wrap (range - 1'000'000 -> 1'000'000), then 4 J.
  for (uint64_t uj : {range - 1'000'000, uint64_t{1'000'000}, uint64_t{5'000'000}}) {
    set_energy(dir.path(), "intel-rapl:0", uj);
    clock.advance(seconds(1));
    s.step();
  }
  s.step(true);
  const Measurements m = s.measurements();
  CHECK(m.totals[0].machine_j == Approx(8.0));
  REQUIRE(m.timeline.size() == 4);  // the final step closes an empty window
  CHECK(m.timeline.machine_j(1, 0) == Approx(2.0));
  CHECK(m.timeline.machine_j(2, 0) == Approx(4.0));
  CHECK(timeline_sum(m.timeline, true) == Approx(8.0));
  CHECK(timeline_sum(m.timeline, false) == Approx(totals_sum(m, false)));
}

TEST_CASE("sampler + carbon: an hourly file that changes mid-run prices each record at its hour", "[sampler][carbon]") {
  TempDir dir;
  FakeClock clock;
  // The run starts 30 minutes before the hour at which the grid goes from 100 to 400 g/kWh.
  const auto t0 = clock.wall;
  const long long change = duration_cast<seconds>((t0 + minutes(30)).time_since_epoch()).count();
  write_file(dir / "grid.csv", "timestamp,g_per_kwh\n" + std::to_string(change - 3600) + ",100\n" +
                                   std::to_string(change) + ",400\n" + std::to_string(change + 3600) + ",400\n");
  GridOptions o;
  o.region = "FR";
  o.intensity_file = dir / "grid.csv";
  auto settings = resolve_carbon_settings(o, shipped_carbon_data(), [](const std::string&) { return std::nullopt; });
  REQUIRE(settings);

  std::vector<std::unique_ptr<EnergySource>> sources;
  sources.push_back(std::make_unique<FakeSource>(clock, ComponentKind::Cpu, 360.0));  // 0.1 kWh per 1000 s
  Sampler s(fake_options(clock, seconds(10)), std::move(sources), std::make_unique<FakeTree>(clock, 1.0, 1.0));
  s.baseline();
  for (int i = 0; i < 360; ++i) {  // one hour at 10 s
    clock.advance(seconds(10));
    s.step();
  }
  s.step(true);
  const Measurements m = s.measurements();
  auto c = build_carbon_report(shipped_carbon_data(), *settings, m.timeline, m.origin, false, t0, clock.wall);
  // 360 W for 30 min at 100 and 30 min at 400: 0.18 kWh x 100 + 0.18 kWh x 400.
  CHECK(c.energy_kwh == Approx(0.36));
  CHECK(c.emissions_g == Approx(18 + 72));
  CHECK(c.intensity_g_per_kwh == Approx(250));
  double sum = 0;
  for (const auto& r : c.records) sum += r.emissions_g;
  CHECK(sum == Approx(c.emissions_g).epsilon(1e-12));
  CHECK(c.records.front().intensity_g_per_kwh == Approx(100));
  CHECK(c.records.back().intensity_g_per_kwh == Approx(400));
}

TEST_CASE("sampler: a simulated 30-day run at 1 s stays bounded and exact", "[sampler][timeline]") {
  FakeClock clock;
  std::vector<std::unique_ptr<EnergySource>> sources;
  sources.push_back(std::make_unique<FakeSource>(clock, ComponentKind::Cpu, 35.0));
  sources.push_back(std::make_unique<FakeSource>(clock, ComponentKind::Ram, 3.0));
  sources.push_back(std::make_unique<FakeSource>(clock, ComponentKind::Gpu, 300.0));
  Sampler s(fake_options(clock, seconds(1)), std::move(sources), std::make_unique<FakeTree>(clock, 0.75, 1.5));
  s.baseline();
  const int ticks = 30 * 24 * 3600;
  for (int i = 0; i < ticks; ++i) {
    clock.advance(seconds(1));
    s.step();
  }
  s.step(true);
  const Measurements m = s.measurements();
  const Timeline& t = m.timeline;
  CHECK(t.memory_bytes() < (1u << 20));
  CHECK(t.size() <= t.capacity());
  CHECK(t.size() > t.capacity() / 2);
  CHECK(t.windows_per_record() >= 512);  // merged ten times: 2.6 million windows in 4,096 records
  CHECK(t.windows() == static_cast<uint64_t>(ticks) + 1);
  // Every window's energy is in the timeline, to the last joule.
  const double machine = 338.0 * ticks;
  CHECK(std::abs(timeline_sum(t, true) - machine) < 1.0);
  CHECK(std::abs(timeline_sum(t, false) - machine / 2) < 1.0);
  CHECK(std::abs(timeline_sum(t, true) - totals_sum(m, true)) < 1.0);
  CHECK(t.record(0).start_s == 0.0);
  CHECK(t.record(t.size() - 1).end_s == Approx(ticks));
  for (size_t i = 1; i < t.size(); ++i) CHECK(t.record(i).start_s == t.record(i - 1).end_s);
}
