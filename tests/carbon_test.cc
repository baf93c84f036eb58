#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>

#include "carbon/carbon.h"
#include "carbon/carbon_options.h"
#include <nlohmann/json.hpp>
#include "helpers.h"

using namespace greenrun;
using namespace greenrun::test;

namespace {
const CarbonData& data() { return shipped_carbon_data(); }
CarbonSettings settings(GridOptions o, std::map<std::string, std::string> env = {{"TZ", "UTC"}}) {
  auto s = resolve_carbon_settings(o, data(), env_of(env));
  if (!s) FAIL(s.error());
  return *s;
}
// A timeline of one cpu component with the given windows: {start_s, end_s, tree J, machine J}.
struct W {
  double start, end, tree_j, machine_j;
};
Timeline timeline_of(std::vector<W> windows, size_t capacity = 0) {
  Component cpu;
  Timeline t({{cpu, true}}, capacity);
  for (const auto& w : windows) {
    Window x;
    x.start_s = w.start;
    x.end_s = w.end;
    x.tree_j = {w.tree_j};
    x.machine_j = {w.machine_j};
    t.append(x);
  }
  return t;
}
const auto kEpoch = std::chrono::system_clock::time_point{};
const Comparison* row(const CarbonReport& r, const std::string& id) {
  for (const auto& c : r.comparisons)
    if (c.id == id) return &c;
  return nullptr;
}
}  // namespace

TEST_CASE("emissions = energy x PUE x intensity, elsewhere at the same PUE", "[carbon]") {
  GridOptions o;
  o.region = "FR";
  o.pue = 1.5;
  auto s = settings(o);
  auto r = build_carbon_report(data(), s, timeline_of({{0, 10, 7.2e6, 14.4e6}}), kEpoch, false, {}, {});  // 2 kWh
  CHECK(r.energy_kwh == Approx(2.0));
  CHECK(r.intensity_g_per_kwh == Approx(33.44));
  CHECK(r.emissions_g == Approx(2 * 1.5 * 33.44));
  CHECK(r.machine_emissions_g == Approx(2 * 2 * 1.5 * 33.44));
  const Comparison* pl = row(r, "PL");
  REQUIRE(pl);
  CHECK(pl->emissions_g == Approx(2 * 1.5 * 703.49));
  REQUIRE(row(r, "NO"));
  REQUIRE(row(r, "GLOBAL"));
  CHECK(row(r, "GLOBAL")->emissions_g == Approx(2 * 1.5 * 480));
  REQUIRE(row(r, "FR"));
  CHECK(row(r, "FR")->why == "here");
  CHECK(std::is_sorted(r.comparisons.begin(), r.comparisons.end(),
                       [](auto& a, auto& b) { return a.g_per_kwh < b.g_per_kwh; }));
  CHECK(r.comparisons.front().why == "cleanest");
  CHECK(r.comparisons.back().why == "dirtiest");
  for (const auto& e : r.equivalents) {
    REQUIRE(e.value > 0);
    CHECK(e.value == Approx(r.emissions_g / data().equivalents[&e - &r.equivalents[0]].g_per_unit));
  }
}

TEST_CASE("an hourly profile: the run's intensity is the energy-weighted average", "[carbon]") {
  TempDir dir;
  write_file(dir / "grid.csv", "timestamp,g_per_kwh\n0,100\n3600,500\n");
  GridOptions o;
  o.region = "DE";
  o.intensity_file = dir / "grid.csv";
  auto s = settings(o);
  CHECK(s.location.source == "--intensity-file " + o.intensity_file);
  // Each record at the intensity of its span: 1 kWh at 100, 3 kWh at 500 (the whole machine 2 kWh more).
  auto t = timeline_of({{0, 3600, 3.6e6, 3.6e6}, {3600, 7200, 10.8e6, 18e6}});
  auto r = build_carbon_report(data(), s, t, kEpoch, false, kEpoch, kEpoch + std::chrono::hours(2));
  REQUIRE(r.records.size() == 2);
  CHECK(r.records[0].intensity_g_per_kwh == Approx(100));
  CHECK(r.records[1].intensity_g_per_kwh == Approx(500));
  CHECK(r.records[0].emissions_g == Approx(100));
  CHECK(r.records[1].emissions_g == Approx(1500));
  CHECK(r.emissions_g == Approx(1600));
  CHECK(r.machine_emissions_g == Approx(100 + 2500));
  CHECK(r.intensity_g_per_kwh == Approx(400));  // 1600 g / 4 kWh
  CHECK(r.seconds_outside_file == Approx(0));

  SECTION("the scope picks the energy: --scope machine") {
    auto m = build_carbon_report(data(), s, t, kEpoch, true, kEpoch, kEpoch + std::chrono::hours(2));
    CHECK(m.emissions_g == Approx(100 + 2500));
  }
  SECTION("a record spanning the change gets the average over its span") {
    auto one = timeline_of({{1800, 5400, 3.6e6, 3.6e6}});
    auto x = build_carbon_report(data(), s, one, kEpoch, false, kEpoch, kEpoch + std::chrono::hours(2));
    CHECK(x.records[0].intensity_g_per_kwh == Approx(300));
    CHECK(x.emissions_g == Approx(300));
  }
  SECTION("an empty timeline (the first checkpoint): no emissions, the intensity of the span") {
    auto x = build_carbon_report(data(), s, timeline_of({}), kEpoch, false, kEpoch, kEpoch + std::chrono::hours(2));
    CHECK(x.emissions_g == 0);
    CHECK(x.intensity_g_per_kwh == Approx(300));
  }
}

TEST_CASE("settings: cloud PUE, overrides, compare lists, factor", "[carbon]") {
  GridOptions o;
  o.cloud = "aws:eu-west-3";
  auto s = settings(o);
  CHECK(s.location.zone == "FR");
  CHECK(s.pue == Approx(data().pue_for("aws")->pue));
  CHECK_THAT(s.pue_source, Catch::Contains("aws default"));
  auto r = build_carbon_report(data(), s, timeline_of({{0, 1, 3.6e6, 3.6e6}}), kEpoch, false, {}, {});
  size_t cloud_rows = std::count_if(r.comparisons.begin(), r.comparisons.end(), [](auto& c) { return c.why == "cloud"; });
  CHECK(cloud_rows >= 20);  // the provider's other regions

  o.pue = 1.1;
  o.intensity = 250;
  auto given = settings(o);
  CHECK(given.pue == 1.1);
  CHECK(given.location.g_per_kwh == 250);
  CHECK(given.location.source == "--intensity");

  GridOptions c;
  c.region = "SE-SE3";
  c.compare = "IS, gcp:europe-west9,new south wales";
  auto cs = settings(c);
  REQUIRE(cs.compare.size() == 3);
  CHECK(cs.compare[2].zone == "AU-NSW");
  c.compare = "none";
  auto none = settings(c);
  CHECK_FALSE(none.show_comparisons);
  CHECK(build_carbon_report(data(), none, timeline_of({{0, 1, 1, 1}}), kEpoch, false, {}, {}).comparisons.size() == 1);
  c.compare = "atlantis";
  CHECK_THAT(resolve_carbon_settings(c, data(), env_of({})).error(), Catch::StartsWith("--compare: unknown region"));

  GridOptions d;
  d.region = "PL";
  d.emission_factor = Factor::Direct;
  CHECK(settings(d).location.g_per_kwh == Approx(643.02));
}

TEST_CASE("settings: the time zone guess when nothing is set", "[carbon]") {
  if (access("/usr/share/zoneinfo/zone.tab", R_OK) != 0) SKIP_UNLESS_CI("tzdata is not installed (no /usr/share/zoneinfo/zone.tab)");
  auto paris = settings(GridOptions{}, {{"TZ", "Europe/Paris"}});
  CHECK(paris.location.zone == "FR");
  CHECK(paris.location.guessed);
  auto utc = settings(GridOptions{}, {{"TZ", "UTC"}});
  CHECK(utc.location.zone == "GLOBAL");
}

TEST_CASE("figures from the data keep their source precision (no 33.43999999999999)", "[carbon]") {
  TempDir dir;
  write_file(dir / "grid.csv", "timestamp,g_per_kwh\n0,33.44\n3600,50.1\n");
  GridOptions o;
  o.region = "FR";
  o.intensity_file = dir / "grid.csv";
  auto s = settings(o);
  auto t = timeline_of({{10, 20, 1234.5678, 2000}, {20, 31.7, 9876.54321, 10000}});
  auto r = build_carbon_report(data(), s, t, kEpoch, false, kEpoch, kEpoch + std::chrono::seconds(40));
  CHECK(r.records[0].intensity_g_per_kwh == 33.44);  // exactly the file's figure
  CHECK(r.intensity_g_per_kwh == 33.44);
  CHECK(nlohmann::json(r.intensity_g_per_kwh).dump() == "33.44");
  auto both = timeline_of({{3000, 3600, 3600, 3600}, {3600, 4200, 7200, 7200}});
  auto b = build_carbon_report(data(), s, both, kEpoch, false, kEpoch, kEpoch + std::chrono::seconds(4200));
  CHECK(nlohmann::json(b.intensity_g_per_kwh).dump() == "44.5467");  // (33.44 + 2 x 50.1) / 3, six digits
}
