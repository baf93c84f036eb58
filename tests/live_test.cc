// Live intensity without a network: the providers' documented answers
// parsed into steps (exact figures and units), the merged series and its
// profile (live, forecast, yearly), the response cache, the URL rule.

#include <set>

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include "carbon/carbon.h"
#include "carbon/live.h"
#include "carbon/provider.h"
#include "carbon/response_cache.h"
#include "config/config_files.h"
#include "config/option_table.h"
#include "commands/options.h"
#include "helpers.h"
#include "util/fs.h"
#include "util/http.h"

using namespace greenrun;
using namespace greenrun::test;
using namespace std::chrono;
using nlohmann::json;

namespace {
system_clock::time_point at(long long unix_s) { return system_clock::time_point(seconds(unix_s)); }
}  // namespace

TEST_CASE("Electricity Maps: latest, history with a null hour, forecast", "[live]") {
  // The documented answer of /v3/carbon-intensity/latest?zone=BE.
  auto latest = parse_electricitymaps(json::parse(
      R"({"zone":"BE","carbonIntensity":214,"datetime":"2024-11-28T15:00:00.000Z","updatedAt":"2024-11-28T14:46:10.233Z",
          "createdAt":"2024-11-25T15:43:23.481Z","emissionFactorType":"lifecycle","isEstimated":true,
          "estimationMethod":"TIME_SLICER_AVERAGE"})"));
  REQUIRE(latest);
  REQUIRE(latest->steps.size() == 1);
  CHECK(latest->steps[0].from == *parse_timestamp("2024-11-28T15:00:00Z"));
  CHECK(latest->steps[0].g_per_kwh == 214);
  CHECK(latest->steps[0].basis == Basis::Estimated);  // isEstimated: never called live
  REQUIRE(latest->notes.size() == 1);
  CHECK_THAT(latest->notes[0], Catch::Contains("estimated the hour") && Catch::Contains("TIME_SLICER_AVERAGE"));
  CHECK(latest->period == hours(1));
  auto history = parse_electricitymaps(json::parse(R"({"zone":"DE","history":[
      {"zone":"DE","carbonIntensity":null,"datetime":"2024-03-05T19:00:00.000Z"},
      {"zone":"DE","carbonIntensity":599,"datetime":"2024-03-05T20:00:00.000Z","isEstimated":false,"estimationMethod":null},
      {"zone":"DE","carbonIntensity":689,"datetime":"2024-03-06T19:00:00.000Z","isEstimated":true}]})"));
  REQUIRE(history);
  REQUIRE(history->steps.size() == 2);  // the null hour is skipped, not read as 0
  CHECK(history->steps[0].basis == Basis::Live);
  CHECK(history->steps[1].g_per_kwh == 689);
  CHECK(history->steps[1].basis == Basis::Estimated);
  CHECK_THAT(history->notes.at(0), Catch::Contains("estimated 1 of 2 hours"));
  auto forecast = parse_electricitymaps(json::parse(R"({"zone":"CH","forecast":[
      {"carbonIntensity":90,"datetime":"2023-11-01T07:00:00.000Z"},{"carbonIntensity":107,"datetime":"2023-11-01T08:00:00.000Z"}],
      "updatedAt":"2023-11-01T06:50:23.662Z"})"));
  REQUIRE(forecast);
  CHECK(forecast->steps[0].basis == Basis::Forecast);
  CHECK(forecast->steps[1].g_per_kwh == 107);
  CHECK_FALSE(parse_electricitymaps(json::parse(R"({"error":"Invalid auth-token"})")));
}

TEST_CASE("WattTime: lbs/MWh to g/kWh, marginal, units checked", "[live]") {
  // The transition document's forecast example.
  auto r = parse_watttime(json::parse(R"({"data":[{"point_time":"2022-07-15T00:00:00+00:00","value":1048.4131919701972},
      {"point_time":"2022-07-15T00:05:00+00:00","value":1051.0880801214637}],
      "meta":{"data_point_period_seconds":300,"region":"CAISO_NORTH","signal_type":"co2_moer","units":"lbs_co2_per_mwh",
              "generated_at":"2022-07-15T00:00:00+00:00"}})"),
                          true);
  REQUIRE(r);
  REQUIRE(r->steps.size() == 2);
  CHECK(r->steps[0].g_per_kwh == Approx(1048.4131919701972 * 0.453592));  // 475.55 g/kWh
  CHECK(r->steps[0].basis == Basis::Forecast);
  CHECK(r->period == seconds(300));
  auto wrong = parse_watttime(json::parse(R"({"data":[],"meta":{"units":"kg_co2_per_mwh"}})"), false);
  REQUIRE_FALSE(wrong);
  CHECK_THAT(wrong.error(), Catch::Contains("expected lbs_co2_per_mwh"));
}

TEST_CASE("Electricity Maps: the answer's zone and emission factor must be what was asked", "[live]") {
  const json latest = json::parse(
      R"({"zone":"BE","carbonIntensity":214,"datetime":"2024-11-28T15:00:00.000Z","emissionFactorType":"lifecycle",
          "isEstimated":false,"estimationMethod":null})");
  const ElectricityMapsQuery be{"BE", Factor::Lifecycle}, de{"DE", Factor::Lifecycle}, direct{"be", Factor::Direct};
  auto ok = parse_electricitymaps(latest, &be);
  REQUIRE(ok);
  CHECK(ok->steps[0].basis == Basis::Live);
  CHECK(ok->notes.empty());
  auto zone = parse_electricitymaps(latest, &de);
  REQUIRE_FALSE(zone);
  CHECK_THAT(zone.error(), Catch::Contains("zone BE, not DE"));
  auto factor = parse_electricitymaps(latest, &direct);
  REQUIRE_FALSE(factor);
  CHECK_THAT(factor.error(), Catch::Contains("emissionFactorType is lifecycle, not direct"));
  // A history whose entries name another zone than the answer's top level.
  auto mixed = parse_electricitymaps(json::parse(R"({"zone":"DE","history":[
      {"zone":"FR","carbonIntensity":50,"datetime":"2024-03-05T20:00:00.000Z"}]})"), &de);
  CHECK_FALSE(mixed);
}

TEST_CASE("WattTime: meta.warnings are noted, a forecast older than its horizon flagged", "[live]") {
  const std::string data = R"("data":[{"point_time":"2022-07-15T00:00:00+00:00","value":1000},
      {"point_time":"2022-07-15T00:05:00+00:00","value":1000}])";
  auto warned = parse_watttime(json::parse("{" + data + R"(,"meta":{"data_point_period_seconds":300,"units":"lbs_co2_per_mwh",
      "generated_at":"2022-07-15T00:00:00+00:00","warnings":[{"type":"EXPIRED_DATA","message":"stale model"}]}})"),
                               true, *parse_timestamp("2022-07-15T00:02:00Z"));
  REQUIRE(warned);
  REQUIRE(warned->notes.size() == 1);  // fresh: only the warning
  CHECK(warned->notes[0] == "watttime warns (EXPIRED_DATA): stale model");
  // Ten minutes of forecast, made an hour before now.
  auto stale = parse_watttime(json::parse("{" + data + R"(,"meta":{"data_point_period_seconds":300,"units":"lbs_co2_per_mwh",
      "generated_at":"2022-07-14T23:00:00+00:00"}})"),
                              true, *parse_timestamp("2022-07-15T00:00:00Z"));
  REQUIRE(stale);
  REQUIRE(stale->notes.size() == 1);
  CHECK_THAT(stale->notes[0], Catch::Contains("1.00 h ago, older than its 0.167 h horizon"));
}

TEST_CASE("UK Carbon Intensity: national actual and forecast, regional object and array", "[live]") {
  auto national = parse_uk_carbon_intensity(json::parse(R"({"data":[
      {"from":"2018-01-20T12:00Z","to":"2018-01-20T12:30Z","intensity":{"forecast":266,"actual":263,"index":"moderate"}},
      {"from":"2020-05-24T20:30Z","to":"2020-05-24T21:00Z","intensity":{"forecast":146,"actual":null,"index":"low"}}]})"));
  REQUIRE(national);
  CHECK(national->steps[0].from == *parse_timestamp("2018-01-20T12:00:00Z"));
  CHECK(national->steps[0].g_per_kwh == 263);  // the actual, not the forecast
  CHECK(national->steps[0].basis == Basis::Live);
  CHECK(national->steps[1].g_per_kwh == 146);
  CHECK(national->steps[1].basis == Basis::Forecast);
  CHECK(national->period == minutes(30));
  const char* slot = R"({"from":"2026-09-29T11:30Z","to":"2026-09-29T12:00Z","intensity":{"forecast":85,"index":"low"},
                         "generationmix":[{"fuel":"wind","perc":34.0}]})";
  auto regional = parse_uk_carbon_intensity(json::parse(std::string(R"({"data":{"regionid":12,"shortname":"South England",
      "postcode":"OX1","data":[)") + slot + "]}}"));
  REQUIRE(regional);
  CHECK(regional->steps[0].g_per_kwh == 85);
  auto current = parse_uk_carbon_intensity(json::parse(std::string(R"({"data":[{"regionid":3,"postcode":"RG10","data":[)") +
                                                       slot + "]}]}"));
  REQUIRE(current);
  CHECK(current->steps[0].g_per_kwh == 85);
}

TEST_CASE("live series: live beats forecast, gaps and edges take the yearly figure", "[live]") {
  LiveSeries s;
  IntensitySeries forecast{{{at(0), 300, Basis::Forecast}, {at(3600), 200, Basis::Forecast}}, hours(1), {}};
  IntensitySeries live{{{at(0), 250, Basis::Live}}, hours(1), {}};
  s.merge(live);
  s.merge(forecast);  // later, but a forecast never replaces what happened
  CHECK(*s.at(at(10)) == 250);
  CHECK(*s.at(at(3600)) == 200);
  CHECK_FALSE(s.at(at(7200)));
  CHECK_FALSE(s.at(at(-1)));
  CHECK(*s.next_change(at(10)) == at(3600));
  CHECK(*s.next_change(at(3600)) == at(7200));
  const IntensityProfile p = s.profile(400);
  // An hour before (yearly), the two hours, an hour after (yearly).
  CHECK(p.average(at(-3600), at(7200 + 3600)) == Approx((400 + 250 + 200 + 400) / 4.0));
  const BasisSeconds c = p.coverage(at(-3600), at(10800));
  CHECK(c[static_cast<size_t>(Basis::Yearly)] == Approx(7200));
  CHECK(c[static_cast<size_t>(Basis::Live)] == Approx(3600));
  CHECK(c[static_cast<size_t>(Basis::Forecast)] == Approx(3600));
  // A gap between answers is yearly too.
  LiveSeries gap;
  gap.merge(IntensitySeries{{{at(0), 100, Basis::Live}, {at(7200), 100, Basis::Live}}, hours(1), {}});
  CHECK(gap.profile(400).average(at(0), at(10800)) == Approx(200));
}

TEST_CASE("timeline records carry the basis that priced them", "[live]") {
  Timeline t({{Component{ComponentKind::Cpu, 0}, true}});
  Window w;
  w.machine_j = {3.6e6};
  w.tree_j = {3.6e6};
  w.start_s = 0;
  w.end_s = 3600;
  t.append(w);
  w.start_s = 3600;
  w.end_s = 7200;
  t.append(w);
  LiveSeries s;
  s.merge(IntensitySeries{{{at(0), 250, Basis::Live}}, hours(1), {}});
  auto records = record_emissions(t, at(0), s.profile(400), 1.0, false);
  REQUIRE(records.size() == 2);
  CHECK(records[0].basis == Basis::Live);
  CHECK(records[0].emissions_g == Approx(250));  // 1 kWh x 250 g/kWh
  CHECK(records[1].basis == Basis::Yearly);
  CHECK(records[1].emissions_g == Approx(400));
}

TEST_CASE("response cache: 0600 files under a 0700 directory, a TTL, the key checked", "[live]") {
  TempDir d;
  ResponseCache cache(d / "greenrun", minutes(10));
  const auto now = system_clock::now();
  cache.put("https://example.org/a?zone=DE", R"({"x":1})", now);
  CHECK(*cache.get("https://example.org/a?zone=DE", now + minutes(9)) == R"({"x":1})");
  CHECK_FALSE(cache.get("https://example.org/a?zone=DE", now + minutes(11)));
  CHECK_FALSE(cache.get("https://example.org/a?zone=FR", now));
  struct stat st {};
  REQUIRE(stat((d / "greenrun").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  for (const auto& name : list_dir(d / "greenrun")) {
    REQUIRE(stat((d / "greenrun/" + name).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
  CHECK_FALSE(ResponseCache(d / "off", seconds(0)).enabled());
  auto env = [&](const std::string& k) -> std::optional<std::string> {
    if (k == "XDG_CACHE_HOME") return std::string("/xdg");
    return std::nullopt;
  };
  CHECK(ResponseCache::default_dir(env) == "/xdg/greenrun");
}

TEST_CASE("base URLs are https or loopback http, and secrets are redacted", "[live]") {
  CHECK(check_base_url("https://api.electricitymap.org"));
  CHECK(check_base_url("http://127.0.0.1:8080/x"));
  CHECK(check_base_url("http://localhost:1"));
  CHECK(check_base_url("http://[::1]:1"));
  CHECK_FALSE(check_base_url("http://api.electricitymap.org"));
  CHECK_FALSE(check_base_url("ftp://127.0.0.1"));
  Redactor redact;
  redact.add("abcdefgh");
  redact.add("");
  CHECK(redact("token abcdefgh and abcdefgh") == "token *** and ***");
  CHECK(user_agent().rfind("greenrun/", 0) == 0);
}

TEST_CASE("provider names and locations are checked before the command starts", "[live]") {
  GridOptions o;
  Location loc;
  loc.zone = "DE";
  auto env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  CHECK(make_provider("electricitymaps", loc, Factor::Lifecycle, nullptr, o, env));
  CHECK((*make_provider("electricitymaps", loc, Factor::Lifecycle, nullptr, o, env))->source().location == "DE");
  auto wt = make_provider("watttime:CAISO_NORTH", loc, Factor::Lifecycle, nullptr, o, env);
  REQUIRE(wt);
  CHECK((*wt)->source().signal == "marginal");
  CHECK((*make_provider("uk:OX1 3QD", loc, Factor::Lifecycle, nullptr, o, env))->source().location == "OX1");
  CHECK_FALSE(make_provider("watttime", loc, Factor::Lifecycle, nullptr, o, env));
  CHECK_FALSE(make_provider("file", loc, Factor::Lifecycle, nullptr, o, env));
  auto unknown = make_provider("gridstatus", loc, Factor::Lifecycle, nullptr, o, env);
  REQUIRE_FALSE(unknown);
  CHECK_THAT(unknown.error(), Catch::Contains("unknown provider"));
  auto plain = [](const std::string& k) -> std::optional<std::string> {
    if (k == kElectricityMapsUrlEnv) return std::string("http://example.org");
    return std::nullopt;
  };
  CHECK_FALSE(make_provider("electricitymaps", loc, Factor::Lifecycle, nullptr, o, plain));
}

TEST_CASE("every row of the provider table is in the help, the errors, the completions and the credential keys", "[live]") {
  // The table is the one list; what cannot read it (config/, below carbon/, and
  // the shell completions) is checked against it here.
  const std::string help = find_option("intensity-source")->help;
  GridOptions o;
  Location loc;
  auto env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  const std::string unknown = make_provider("gridstatus", loc, Factor::Lifecycle, nullptr, o, env).error();
  std::set<std::string> credentials;
  for (const auto& p : provider_table()) {
    INFO(p.name);
    CHECK_THAT(help, Catch::Contains(p.usage));
    CHECK_THAT(unknown, Catch::Contains(p.usage));
    for (const char* file : {"greenrun.bash", "_greenrun", "greenrun.fish"})
      CHECK_THAT(slurp(source_dir() + "/completions/" + file), Catch::Contains(std::string(p.name)));
    for (const char* c : p.credentials) credentials.insert(c);
    if (p.url_env) CHECK_THAT(slurp(source_dir() + "/man/greenrun.1"), Catch::Contains(p.url_env));
  }
  std::set<std::string> keys;
  for (const auto& s : secret_table()) keys.insert(s.env);
  CHECK(credentials == keys);
}

TEST_CASE("intensity files may mark forecast rows", "[live]") {
  auto csv = parse_intensity_text("timestamp,g_per_kwh,forecast\n0,100,false\n3600,200,true\n", "f.csv");
  REQUIRE(csv);
  CHECK(csv->data()[0].basis == Basis::File);
  CHECK(csv->data()[1].basis == Basis::Forecast);
  auto js = parse_intensity_text(R"([{"timestamp":0,"g_per_kwh":1,"forecast":true}])", "f.json");
  REQUIRE(js);
  CHECK(js->data()[0].basis == Basis::Forecast);
  auto bad = parse_intensity_text("timestamp,g_per_kwh,forecast\n0,100,maybe\n", "f.csv");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error(), Catch::Contains("f.csv line 2"));
}

TEST_CASE("options: signals, intensities, the carbon-aware rules", "[live][options]") {
  CHECK(*parse_signal("stop") == SIGSTOP);
  CHECK(*parse_signal("SIGUSR1") == SIGUSR1);
  CHECK(*parse_signal("USR2") == SIGUSR2);
  CHECK(*parse_signal("10") == 10);
  CHECK_FALSE(parse_signal("KILL"));
  CHECK_FALSE(parse_signal("SIGNOPE"));
  CHECK(*parse_intensity("300g") == 300);
  CHECK(*parse_intensity("250.5 g/kWh") == 250.5);
  CHECK(*parse_intensity("0") == 0);
  CHECK_FALSE(parse_intensity("-1"));
  CHECK_FALSE(parse_intensity("3000"));
  auto env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  auto no_duration = parse_cli({"--start-within", "8h", "--", "true"}, env);
  CHECK(no_duration.exit_code == 125);
  CHECK_THAT(no_duration.message, Catch::Contains("--expected-duration"));
  auto ok = parse_cli({"--start-within", "8h", "--expected-duration", "2h", "--pause-above", "300g", "--pause-with",
                       "SIGUSR1", "--max-delay", "1h", "--", "true"},
                      env);
  REQUIRE(ok.action == ParsedCli::Action::Run);
  CHECK(*ok.options.aware.start_within == hours(8));
  CHECK(*ok.options.aware.pause_above == 300);
  CHECK(ok.options.aware.pause_signal == SIGUSR1);
  CHECK(ok.options.aware.max_delay == hours(1));
  CHECK(ok.options.grid.intensity_poll == minutes(15));
  CHECK(ok.options.grid.intensity_timeout == seconds(15));
  CHECK(parse_cli({"--pause-with", "nope", "--", "true"}, env).exit_code == 125);
}
