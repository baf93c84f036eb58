// The shipped data in share/intensity, and what the loader does with bad files.

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "carbon/carbon_data.h"
#include "helpers.h"

using namespace greenrun;
using namespace greenrun::test;

namespace {
const CarbonData& shipped() { return shipped_carbon_data(); }
}  // namespace

TEST_CASE("shipped data: every Electricity Maps zone, both factors, sources and years", "[data]") {
  const auto& d = shipped();
  CHECK(validate_carbon_data(d).empty());
  CHECK(d.zones.size() == 352);
  size_t both = 0;
  for (const auto& z : d.zones) {
    if (z.lifecycle_g_per_kwh && z.direct_g_per_kwh) ++both;
    CHECK_FALSE(z.source.empty());
    CHECK(z.year >= 2023);
  }
  CHECK(both == d.zones.size());
  REQUIRE(d.zone("GLOBAL"));
  CHECK(*d.zone("GLOBAL")->lifecycle_g_per_kwh == 480);
  REQUIRE(d.zone("fr"));
  CHECK(*d.zone("FR")->lifecycle_g_per_kwh == Approx(33.44));
  CHECK(*d.zone("FR")->direct_g_per_kwh == Approx(18.4));
}

TEST_CASE("shipped data: countries by alpha-2 and alpha-3, Ember where no zone exists", "[data]") {
  const auto& d = shipped();
  CHECK(d.countries.size() > 200);
  const Country* fr = d.country_by_code("FRA");
  REQUIRE(fr);
  CHECK(fr->iso2 == "FR");
  CHECK(fr->zone == "FR");
  const Country* ru = d.country_by_code("ru");
  REQUIRE(ru);
  CHECK(ru->zone.empty());  // Electricity Maps has only sub-zones of Russia
  CHECK_THAT(std::string(ru->source), Catch::Contains("Ember"));
  CHECK_FALSE(ru->direct_g_per_kwh);
  CHECK(ru->lifecycle_g_per_kwh.value_or(0) > 100);
}

TEST_CASE("shipped data: cloud regions resolve to a zone or say why not, PUE per provider", "[data]") {
  const auto& d = shipped();
  std::map<std::string, int> per_provider;
  for (const auto& r : d.cloud) {
    ++per_provider[r.provider];
    if (r.zone.empty()) CHECK_FALSE(r.note.empty());
    else CHECK(d.zone(r.zone));
  }
  CHECK(per_provider["aws"] >= 25);
  CHECK(per_provider["azure"] >= 50);
  CHECK(per_provider["gcp"] >= 38);
  size_t google = std::count_if(d.cloud.begin(), d.cloud.end(), [](auto& r) { return r.google_direct_g_per_kwh.has_value(); });
  CHECK(google == 44);  // every region Google publishes
  for (auto p : {"aws", "gcp", "azure"}) {
    REQUIRE(d.pue_for(p));
    CHECK(d.pue_for(p)->pue > 1.0);
    CHECK(d.pue_for(p)->pue < 1.6);
  }
  CHECK_FALSE(d.equivalents.empty());
}

TEST_CASE("shipped data: attribution and licence files ship with it", "[data]") {
  CHECK(std::filesystem::exists(source_dir() + "/share/intensity/LICENSE-ODbL.txt"));
  auto text = slurp(source_dir() + "/share/intensity/ATTRIBUTION.md");
  CHECK_THAT(text, Catch::Contains("ODbL") && Catch::Contains("CC BY 4.0") && Catch::Contains("Electricity Maps"));
}

TEST_CASE("a malformed data file is rejected with its name and line", "[data]") {
  TempDir dir;
  std::filesystem::copy(source_dir() + "/share/intensity", dir / "intensity");
  auto zones = slurp(dir / "intensity/zones.csv");
  auto pos = zones.find("\nFR,");
  REQUIRE(pos != std::string::npos);
  auto line_no = std::count(zones.begin(), zones.begin() + static_cast<long>(pos) + 1, '\n') + 1;
  zones.replace(zones.find("33.44", pos), 5, "lots");
  write_file(dir / "intensity/zones.csv", zones);
  auto d = load_carbon_data(dir.path());
  REQUIRE_FALSE(d);
  CHECK_THAT(d.error(), Catch::Contains("zones.csv line " + std::to_string(line_no)) && Catch::Contains("'lots'"));

  SECTION("out-of-range figures fail validation") {
    zones.replace(zones.find("lots", pos), 4, "9999");
    write_file(dir / "intensity/zones.csv", zones);
    auto bad = load_carbon_data(dir.path());
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error(), Catch::Contains("zone FR") && Catch::Contains("outside"));
  }
  SECTION("duplicate ids fail validation, naming the id") {
    zones.replace(zones.find("lots", pos), 4, "33.44");
    // The zone after FR takes FR's id.
    auto next = zones.find('\n', pos + 1) + 1;
    zones.replace(next, zones.find(',', next) - next, "FR");
    write_file(dir / "intensity/zones.csv", zones);
    auto dup = load_carbon_data(dir.path());
    REQUIRE_FALSE(dup);
    CHECK_THAT(dup.error(), Catch::Contains("zone FR appears twice"));
  }
  SECTION("a duplicate country code or cloud region fails too") {
    zones.replace(zones.find("lots", pos), 4, "33.44");
    write_file(dir / "intensity/zones.csv", zones);
    auto cloud = slurp(dir / "intensity/cloud_regions.csv");
    auto first = cloud.find('\n') + 1;
    cloud += cloud.substr(first, cloud.find('\n', first) + 1 - first);  // the first region again
    write_file(dir / "intensity/cloud_regions.csv", cloud);
    auto dup = load_carbon_data(dir.path());
    REQUIRE_FALSE(dup);
    CHECK_THAT(dup.error(), Catch::Contains("cloud region aws:af-south-1 twice"));
  }
  SECTION("a missing file says how to point greenrun at its data") {
    std::filesystem::remove(dir / "intensity/pue.csv");
    zones.replace(zones.find("lots", pos), 4, "33.44");
    write_file(dir / "intensity/zones.csv", zones);
    auto missing = load_carbon_data(dir.path());
    REQUIRE_FALSE(missing);
    CHECK_THAT(missing.error(), Catch::Contains("pue.csv") && Catch::Contains("GREENRUN_DATA_DIR"));
  }
}

TEST_CASE("the data directory: GREENRUN_DATA_DIR first", "[data]") {
  auto env = [](const std::string& k) -> std::optional<std::string> {
    if (k == "GREENRUN_DATA_DIR") return std::string("/some/where");
    return std::nullopt;
  };
  CHECK(find_data_dir(env) == "/some/where");
  auto none = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  auto found = find_data_dir(none);
  CHECK(std::filesystem::exists(found + "/intensity/zones.csv"));
  CHECK(data_dir_candidates(env) == std::vector<std::string>{"/some/where"});
  // This test binary is in its build directory: next to it, the prefix it
  // was built for, then the source tree (never for an installed binary).
  auto c = data_dir_candidates(none);
  REQUIRE(c.size() == 3);
  CHECK_THAT(c[0], Catch::EndsWith("/tests/../share/greenrun"));
  CHECK_THAT(c[1], Catch::EndsWith("/share/greenrun"));
  CHECK(std::filesystem::equivalent(c[2], found));
}

TEST_CASE("an installed greenrun (outside its build directory) never reads the source tree", "[data][install]") {
  // A copy of the binary in a fresh prefix: it finds PREFIX/share/greenrun,
  // and without it says where it looked rather than using the source tree.
  TempDir prefix;
  std::filesystem::create_directories(prefix.path() + "/bin");
  std::filesystem::copy_file(GREENRUN_BIN, prefix.path() + "/bin/greenrun");
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), prefix.path() + "/bin/greenrun");
    ProcOptions o;
    o.env["GREENRUN_DATA_DIR"] = "";
    return run_proc(args, o);
  };
  auto none = run({"--version"});
  CHECK_THAT(none.out, Catch::Contains("data: not found (looked in " + prefix.path() + "/bin/../share/greenrun"));
  CHECK_THAT(none.out, !Catch::Contains(std::string(SOURCE_DIR) + "/share"));
  auto missing = run({"--", "true"});
  CHECK(missing.status == 125);
  CHECK_THAT(missing.err, Catch::Contains("GREENRUN_DATA_DIR"));
  std::filesystem::create_directories(prefix.path() + "/share");
  std::filesystem::copy(std::string(SOURCE_DIR) + "/share", prefix.path() + "/share/greenrun",
                        std::filesystem::copy_options::recursive);
  auto found = run({"--version"});
  CHECK_THAT(found.out, Catch::Contains("data: " + std::filesystem::canonical(prefix.path() + "/share/greenrun").string() + " (looked in"));
  CHECK(run({"-q", "--", "true"}).status == 0);
}
