#include <catch2/catch.hpp>
#include <unistd.h>

#include <optional>

#include "carbon/carbon_data.h"
#include "helpers.h"
#include "carbon/region.h"

using namespace greenrun;
using namespace greenrun::test;

namespace {
const CarbonData& data() { return shipped_carbon_data(); }
Location region(const std::string& q, Factor f = Factor::Lifecycle) {
  auto r = resolve_region(data(), q, f);
  if (!r) FAIL(r.error());
  return *r;
}
}  // namespace

TEST_CASE("regions by zone id, ISO code or name, any case and accents", "[region]") {
  CHECK(region("US-CAL-CISO").zone == "US-CAL-CISO");
  CHECK(region("se-se3").g_per_kwh == Approx(20.42));
  auto fr = region("FR");
  CHECK(fr.zone == "FR");
  CHECK(fr.name == "France");
  CHECK(fr.factor == Factor::Lifecycle);
  CHECK(region("FRA").zone == "FR");
  CHECK(region("france").zone == "FR");
  CHECK(region("new south wales").zone == "AU-NSW");
  CHECK(region("Québec").zone == "CA-QC");
  CHECK(region("quebec").zone == "CA-QC");
  CHECK(region("United States of America").zone == "US");
  CHECK(region("world").zone == "GLOBAL");
  CHECK(region("FR", Factor::Direct).g_per_kwh == Approx(18.4));
}

TEST_CASE("a country Electricity Maps lacks uses Ember, and says when a factor is missing", "[region]") {
  auto ru = region("Russia");
  CHECK(ru.zone.empty());
  CHECK(ru.id == "RU");
  CHECK_THAT(ru.source, Catch::Contains("Ember"));
  auto direct = region("RU", Factor::Direct);
  CHECK(direct.factor == Factor::Lifecycle);
  CHECK_THAT(direct.note, Catch::Contains("no direct figure"));
}

TEST_CASE("an unknown region lists the closest matches", "[region]") {
  auto r = resolve_region(data(), "Frnace", Factor::Lifecycle);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error(), Catch::Contains("unknown region 'Frnace'") && Catch::Contains("did you mean") &&
                            Catch::Contains("FR (France)"));
  auto cal = resolve_region(data(), "california", Factor::Lifecycle);
  REQUIRE_FALSE(cal);
  CHECK_THAT(cal.error(), Catch::Contains("US-CAL-"));
  CHECK_FALSE(resolve_region(data(), "", Factor::Lifecycle));
}

TEST_CASE("cloud regions", "[region]") {
  auto aws = resolve_cloud(data(), "aws:us-east-1", Factor::Lifecycle);
  REQUIRE(aws);
  CHECK(aws->zone == "US-MIDA-PJM");
  CHECK(aws->cloud_provider == "aws");
  CHECK(aws->g_per_kwh == Approx(data().zone("US-MIDA-PJM")->lifecycle_g_per_kwh.value()));
  auto gcp = resolve_cloud(data(), "GCP:europe-west9", Factor::Direct);
  REQUIRE(gcp);
  CHECK_THAT(gcp->source, Catch::Contains("Google"));  // Google's own figure, labelled direct
  CHECK(gcp->factor == Factor::Direct);
  auto gcp_lc = resolve_cloud(data(), "gcp:europe-west9", Factor::Lifecycle);
  REQUIRE(gcp_lc);
  CHECK(gcp_lc->zone == "FR");
  auto az = resolve_cloud(data(), "azure:westeurope", Factor::Lifecycle);
  REQUIRE(az);
  CHECK(az->zone == "NL");
  auto only_google = resolve_cloud(data(), "gcp:africa-south1", Factor::Lifecycle);
  REQUIRE(only_google);
  CHECK(only_google->factor == Factor::Direct);
  CHECK_THAT(only_google->note, Catch::Contains("no life-cycle figure"));

  auto bad_provider = resolve_cloud(data(), "ibm:dal10", Factor::Lifecycle);
  REQUIRE_FALSE(bad_provider);
  CHECK_THAT(bad_provider.error(), Catch::Contains("aws, gcp or azure"));
  auto typo = resolve_cloud(data(), "aws:us-est-1", Factor::Lifecycle);
  REQUIRE_FALSE(typo);
  CHECK_THAT(typo.error(), Catch::Contains("did you mean") && Catch::Contains("aws:us-east-1"));
  CHECK_FALSE(resolve_cloud(data(), "us-east-1", Factor::Lifecycle));
}

TEST_CASE("the system time zone from TZ, /etc/timezone or /etc/localtime", "[region][tz]") {
  CHECK(system_time_zone(std::string(":Europe/Paris")) == "Europe/Paris");
  CHECK(system_time_zone(std::string("Europe/Oslo")) == "Europe/Oslo");
  CHECK(system_time_zone(std::string("/usr/share/zoneinfo/Asia/Tokyo")) == "Asia/Tokyo");
  CHECK(system_time_zone(std::string("CET-1CEST,M3.5.0,M10.5.0/3")) == "");
  TempDir etc;
  write_file(etc / "timezone", "Europe/Warsaw\n");
  CHECK(system_time_zone(std::nullopt, etc.path()) == "Europe/Warsaw");
  TempDir etc2;
  REQUIRE(symlink("/usr/share/zoneinfo/America/Chicago", (etc2 / "localtime").c_str()) == 0);
  CHECK(system_time_zone(std::nullopt, etc2.path()) == "America/Chicago");
}

TEST_CASE("time zone to country through zone.tab, zone1970.tab and links", "[region][tz]") {
  TempDir zi;
  write_file(zi / "zone.tab", "# comment\nFR\t+4852+00220\tEurope/Paris\nNL\t+5222+00454\tEurope/Amsterdam\n");
  write_file(zi / "zone1970.tab", "BE,LU,NL\t+5050+00420\tEurope/Brussels\nSE\t+5920+01803\tEurope/Stockholm\n");
  write_file(zi / "Europe/Stockholm", "TZif");
  REQUIRE(symlink("Stockholm", (zi / "Europe/Old_Stockholm").c_str()) == 0);
  CHECK(country_of_time_zone("Europe/Paris", zi.path()) == "FR");
  CHECK(country_of_time_zone("Europe/Amsterdam", zi.path()) == "NL");  // zone.tab: exact country
  CHECK(country_of_time_zone("Europe/Brussels", zi.path()) == "BE");   // zone1970.tab: first listed
  CHECK(country_of_time_zone("Europe/Old_Stockholm", zi.path()) == "SE");
  CHECK(country_of_time_zone("Etc/UTC", zi.path()) == "");
  CHECK(country_of_time_zone("", zi.path()) == "");
}

TEST_CASE("with nothing set: the time zone's country, or the world average", "[region][tz]") {
  TempDir zi;
  write_file(zi / "zone.tab", "FR\t+4852+00220\tEurope/Paris\nNO\t+5955+01045\tEurope/Oslo\n");
  auto paris = guess_location(data(), "Europe/Paris", zi.path(), Factor::Lifecycle);
  CHECK(paris.zone == "FR");
  CHECK(paris.guessed);
  CHECK_THAT(paris.how, Catch::Contains("guessed from the time zone Europe/Paris") && Catch::Contains("--region"));
  auto utc = guess_location(data(), "UTC", zi.path(), Factor::Lifecycle);
  CHECK(utc.zone == "GLOBAL");
  CHECK(utc.g_per_kwh == 480);
  CHECK_THAT(utc.how, Catch::Contains("world average"));
  CHECK(guess_location(data(), "", zi.path(), Factor::Lifecycle).zone == "GLOBAL");
}

TEST_CASE("the time zone's country from the system's tzdata", "[region][tz]") {
  if (access("/usr/share/zoneinfo/zone.tab", R_OK) != 0) SKIP_UNLESS_CI("tzdata is not installed (no /usr/share/zoneinfo/zone.tab)");
  CHECK(guess_location(data(), "Europe/Oslo", "/usr/share/zoneinfo", Factor::Lifecycle).zone == "NO");
}
