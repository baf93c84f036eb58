#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <algorithm>

#include "helpers.h"
#include "sensors/rapl_powercap.h"
#include "sensors/selection.h"

using namespace greenrun;
using namespace greenrun::test;

namespace {

struct Opened {
  std::unique_ptr<EnergySource> source;
  std::vector<Finding> findings;
};

// The source as the probe leaves it: opened, then through the selection rules.
Opened open_rapl(const std::string& root) {
  Opened o;
  std::vector<std::unique_ptr<EnergySource>> sources;
  if (auto s = RaplPowercapSource::open(root, o.findings)) sources.push_back(std::move(s));
  select_channels(sources, o.findings);
  if (!sources.empty()) o.source = std::move(sources[0]);
  return o;
}

std::vector<std::string> labels(const EnergySource& s) {
  std::vector<std::string> out;
  for (const auto& c : s.channels()) out.push_back(c.component.name() + ":" + c.label);
  return out;
}

std::vector<double> read_all(EnergySource& s) {
  std::vector<ChannelReading> r;
  s.read(SampleContext{}, r);
  std::vector<double> out;
  for (const auto& x : r) out.push_back(x.ok ? x.energy_j : -1);
  return out;
}

}  // namespace

TEST_CASE("counter delta corrects one wrap with max_energy_range_uj", "[rapl]") {
  CHECK(counter_delta(100, 250, 1000) == 150u);
  CHECK(counter_delta(900, 100, 1000) == 200u);
  CHECK_FALSE(counter_delta(900, 100, 0));      // range unknown: cannot correct
  CHECK_FALSE(counter_delta(2000, 100, 1000));  // prev beyond range: corrupt
  // 64-bit values beyond 2^32 stay exact.
  CHECK(counter_delta(5'000'000'000ULL, 5'000'000'123ULL, 262143328850ULL) == 123u);
}

TEST_CASE("one socket: package and dram by name, core and uncore never added", "[rapl]") {
  TempDir dir;
  const auto root = dir.path();
  make_dirs(root + "/class/powercap/intel-rapl");  // the control type directory itself
  add_powercap_zone(root, "intel-rapl:0", "package-0", 1'000'000);
  // On servers intel-rapl:0:0 is dram, not core: only the name counts.
  add_powercap_zone(root, "intel-rapl:0:0", "dram", 500'000);
  add_powercap_zone(root, "intel-rapl:0:1", "core", 700'000);
  add_powercap_zone(root, "intel-rapl:0:2", "uncore", 100'000);
  auto o = open_rapl(root);
  REQUIRE(o.source);
  CHECK(labels(*o.source) == std::vector<std::string>{"cpu:package-0", "dram:dram"});
  CHECK(read_all(*o.source) == std::vector<double>{0, 0});
  set_energy(root, "intel-rapl:0", 3'500'000);
  set_energy(root, "intel-rapl:0:0", 1'000'000);
  set_energy(root, "intel-rapl:0:1", 9'000'000);
  CHECK(read_all(*o.source) == std::vector<double>{2.5, 0.5});
  auto core = std::find_if(o.findings.begin(), o.findings.end(), [](auto& f) { return f.what.rfind("core", 0) == 0; });
  REQUIRE(core != o.findings.end());
  CHECK(core->disposition == Disposition::Covered);
  CHECK_THAT(core->reason, Catch::Contains("inside its package"));
}

TEST_CASE("two sockets: every package and dram, in zone order", "[rapl]") {
  TempDir dir;
  const auto root = dir.path();
  add_powercap_zone(root, "intel-rapl:1", "package-1", 0);
  add_powercap_zone(root, "intel-rapl:0", "package-0", 0);
  add_powercap_zone(root, "intel-rapl:1:0", "dram", 0);
  add_powercap_zone(root, "intel-rapl:0:0", "dram", 0);
  auto o = open_rapl(root);
  REQUIRE(o.source);
  CHECK(labels(*o.source) == std::vector<std::string>{"cpu:package-0", "dram:dram", "cpu:package-1", "dram:dram"});
  read_all(*o.source);
  set_energy(root, "intel-rapl:0", 10'000'000);
  set_energy(root, "intel-rapl:1", 20'000'000);
  set_energy(root, "intel-rapl:0:0", 1'000'000);
  set_energy(root, "intel-rapl:1:0", 2'000'000);
  CHECK(read_all(*o.source) == std::vector<double>{10, 1, 20, 2});
  // The two dram zones are distinct (different packages), not duplicates.
  CHECK(std::count_if(o.findings.begin(), o.findings.end(), [](auto& f) { return f.used(); }) == 4);
}

TEST_CASE("psys replaces package and dram", "[rapl]") {
  TempDir dir;
  const auto root = dir.path();
  add_powercap_zone(root, "intel-rapl:0", "package-0", 0);
  add_powercap_zone(root, "intel-rapl:0:0", "core", 0);
  add_powercap_zone(root, "intel-rapl:0:2", "dram", 0);
  add_powercap_zone(root, "intel-rapl:1", "psys", 0);  // on a laptop intel-rapl:1 is psys, not package-1
  auto o = open_rapl(root);
  REQUIRE(o.source);
  CHECK(labels(*o.source) == std::vector<std::string>{"platform:psys"});
  auto pkg = std::find_if(o.findings.begin(), o.findings.end(), [](auto& f) { return f.what == "package-0"; });
  REQUIRE(pkg != o.findings.end());
  CHECK(pkg->disposition == Disposition::Covered);
  CHECK_THAT(pkg->reason, Catch::Contains("covered by psys"));
}

TEST_CASE("MMIO duplicates of the MSR zones are counted once", "[rapl]") {
  TempDir dir;
  const auto root = dir.path();
  add_powercap_zone(root, "intel-rapl-mmio:0", "package-0", 0);
  add_powercap_zone(root, "intel-rapl:0", "package-0", 0);
  add_powercap_zone(root, "intel-rapl:0:0", "dram", 0);
  auto o = open_rapl(root);
  REQUIRE(o.source);
  CHECK(labels(*o.source) == std::vector<std::string>{"cpu:package-0", "dram:dram"});
  CHECK(o.source->channels()[0].origin == root + "/class/powercap/intel-rapl:0");
  auto dup = std::find_if(o.findings.begin(), o.findings.end(), [](auto& f) { return f.path.find("mmio") != std::string::npos; });
  REQUIRE(dup != o.findings.end());
  CHECK(dup->disposition == Disposition::Covered);
  CHECK_THAT(dup->reason, Catch::Contains("duplicate"));

  SECTION("an MMIO-only zone is used when the MSR interface lacks it") {
    TempDir only;
    add_powercap_zone(only.path(), "intel-rapl-mmio:0", "package-0", 0);
    auto m = open_rapl(only.path());
    REQUIRE(m.source);
    CHECK(labels(*m.source) == std::vector<std::string>{"cpu:package-0"});
  }
}

TEST_CASE("a counter that wraps during a run is corrected", "[rapl]") {
  TempDir dir;
  const auto root = dir.path();
  const uint64_t range = 262'143'328'850ULL;  // 0xffffffff x 61.035 uJ
  add_powercap_zone(root, "intel-rapl:0", "package-0", range - 2'000'000, range);
  auto o = open_rapl(root);
  REQUIRE(o.source);
  read_all(*o.source);
  set_energy(root, "intel-rapl:0", range - 500'000);
  CHECK(read_all(*o.source)[0] == Approx(1.5));
  set_energy(root, "intel-rapl:0", 1'000'000);  // wrapped
  CHECK(read_all(*o.source)[0] == Approx(3.0));
  set_energy(root, "intel-rapl:0", 4'000'000);
  CHECK(read_all(*o.source)[0] == Approx(6.0));
}

TEST_CASE("no powercap zones: a finding that says why", "[rapl]") {
  TempDir dir;
  auto o = open_rapl(dir.path());
  CHECK_FALSE(o.source);
  REQUIRE(o.findings.size() == 1);
  CHECK_THAT(o.findings[0].reason, Catch::Contains("no RAPL energy counters"));
}

TEST_CASE("a zone whose energy_uj is garbage is not used", "[rapl]") {
  TempDir dir;
  add_powercap_zone(dir.path(), "intel-rapl:0", "package-0", 0);
  write_file(dir / "class/powercap/intel-rapl:0/energy_uj", "n/a\n");
  auto o = open_rapl(dir.path());
  CHECK_FALSE(o.source);
  REQUIRE_FALSE(o.findings.empty());
  CHECK_THAT(o.findings[0].reason, Catch::Contains("cannot read"));
}

TEST_CASE("a small backward step is a glitch, not a wrap: the interval is skipped and noted", "[rapl]") {
  TempDir dir;
  const auto root = dir.path();
  const uint64_t range = 262'143'328'850ULL;
  add_powercap_zone(root, "intel-rapl:0", "package-0", 5'000'000'000ULL, range);
  std::vector<Finding> findings;
  auto src = RaplPowercapSource::open(root, findings);
  REQUIRE(src);
  auto at = [&](double t_s) {
    SampleContext ctx;
    ctx.now = std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(t_s)));
    std::vector<ChannelReading> r;
    src->read(ctx, r);
    return r[0].ok ? r[0].energy_j : -1.0;
  };
  CHECK(at(0) == 0);
  set_energy(root, "intel-rapl:0", 5'001'000'000ULL);
  CHECK(at(1) == Approx(1.0));
  set_energy(root, "intel-rapl:0", 5'000'999'000ULL);  // 1 mJ back: as a wrap, 72.8 Wh in a second
  CHECK(at(2) == -1.0);                                // no reading for this interval
  set_energy(root, "intel-rapl:0", 5'001'019'000ULL);
  CHECK(at(3) == Approx(1.02));  // counting goes on from the glitch
  REQUIRE(src->notes().size() == 1);
  CHECK_THAT(src->notes()[0], Catch::Contains("1 counter step beyond any possible power") && Catch::Contains("262 kW"));

  SECTION("a real wrap over a plausible span is still corrected") {
    set_energy(root, "intel-rapl:0", range - 1'000'000);
    const double before = at(400);  // 262 kJ in 397 s: 660 W, possible
    set_energy(root, "intel-rapl:0", 2'000'000);
    CHECK(at(401) == Approx(before + 3.0));
  }
}
