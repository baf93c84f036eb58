#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>

#include "carbon/carbon.h"
#include "helpers.h"

using namespace greenrun;
using namespace greenrun::test;

namespace {
const CarbonData& data() { return shipped_carbon_data(); }
EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}
CarbonSettings settings(Options o, std::map<std::string, std::string> env = {{"TZ", "UTC"}}) {
  auto s = resolve_carbon_settings(o, data(), env_of(env));
  if (!s) FAIL(s.error());
  return *s;
}
const Comparison* row(const CarbonReport& r, const std::string& id) {
  for (const auto& c : r.comparisons)
    if (c.id == id) return &c;
  return nullptr;
}
}  // namespace

TEST_CASE("emissions = energy x PUE x intensity, elsewhere at the same PUE", "[carbon]") {
  Options o;
  o.region = "FR";
  o.pue = 1.5;
  auto s = settings(o);
  const double joules = 7.2e6;  // 2 kWh
  const double raw_g = 2 * 33.44;
  auto r = build_carbon_report(data(), s, joules, raw_g, raw_g * 2, {}, {});
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
  Options o;
  o.region = "DE";
  o.intensity_file = dir / "grid.csv";
  auto s = settings(o);
  CHECK(s.location.source == "--intensity-file " + o.intensity_file);
  // Accounting integrates per window; here 1 kWh at 100 and 1 kWh at 500.
  auto r = build_carbon_report(data(), s, 7.2e6, 600, 600, std::chrono::system_clock::time_point{},
                               std::chrono::system_clock::time_point{} + std::chrono::hours(2));
  CHECK(r.intensity_g_per_kwh == Approx(300));
  CHECK(r.emissions_g == Approx(600));
  CHECK(r.seconds_outside_file == Approx(0));
}

TEST_CASE("settings: cloud PUE, overrides, compare lists, factor", "[carbon]") {
  Options o;
  o.cloud = "aws:eu-west-3";
  auto s = settings(o);
  CHECK(s.location.zone == "FR");
  CHECK(s.pue == Approx(data().pue_for("aws")->pue));
  CHECK_THAT(s.pue_source, Catch::Contains("aws default"));
  auto r = build_carbon_report(data(), s, 3.6e6, s.location.g_per_kwh, s.location.g_per_kwh, {}, {});
  size_t cloud_rows = std::count_if(r.comparisons.begin(), r.comparisons.end(), [](auto& c) { return c.why == "cloud"; });
  CHECK(cloud_rows >= 20);  // the provider's other regions

  o.pue = 1.1;
  o.intensity = 250;
  auto given = settings(o);
  CHECK(given.pue == 1.1);
  CHECK(given.location.g_per_kwh == 250);
  CHECK(given.location.source == "--intensity");

  Options c;
  c.region = "SE-SE3";
  c.compare = "IS, gcp:europe-west9,new south wales";
  auto cs = settings(c);
  REQUIRE(cs.compare.size() == 3);
  CHECK(cs.compare[2].zone == "AU-NSW");
  c.compare = "none";
  auto none = settings(c);
  CHECK_FALSE(none.show_comparisons);
  CHECK(build_carbon_report(data(), none, 1, 0, 0, {}, {}).comparisons.size() == 1);
  c.compare = "atlantis";
  CHECK_THAT(resolve_carbon_settings(c, data(), env_of({})).error(), Catch::StartsWith("--compare: unknown region"));

  Options d;
  d.region = "PL";
  d.emission_factor = "direct";
  CHECK(settings(d).location.g_per_kwh == Approx(643.02));
}

TEST_CASE("settings: the time zone guess when nothing is set", "[carbon]") {
  if (access("/usr/share/zoneinfo/zone.tab", R_OK) != 0) {
    WARN("skipped: tzdata not installed");
    return;
  }
  auto paris = settings(Options{}, {{"TZ", "Europe/Paris"}});
  CHECK(paris.location.zone == "FR");
  CHECK(paris.location.guessed);
  auto utc = settings(Options{}, {{"TZ", "UTC"}});
  CHECK(utc.location.zone == "GLOBAL");
}
