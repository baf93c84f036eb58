// Every option's bad value: greenrun stops with 125 before the command runs,
// on one line that names the option and its value and says what was
// expected. The table must cover every valued option in the option table.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "commands/options.h"
#include "config/option_table.h"
#include "helpers.h"

using namespace greenrun;
using namespace greenrun::test;

namespace {

struct Bad {
  std::vector<std::string> args;  // the bad value (and what it needs besides)
  std::string expect;             // part of the message that says what was expected
};

// Options that take any value: a name, or a path whose absence is a note in
// the report (the same config is used on machines with and without a GPU).
const std::map<std::string, std::string> kAnyValue = {
    {"project", "a CSV column"},          {"experiment-id", "a CSV column"},
    {"cpu-model", "a name; an unknown one is labelled in the estimate"},
    {"nvml-lib", "a missing library is a note"}, {"rocm-lib", "a missing library is a note"},
    {"dev-root", "a missing root is a note"},    {"sysfs-root", "a missing root is a note"},
    {"procfs-root", "a missing root is a note"},
};

const std::map<std::string, Bad>& bad_values() {
  static const std::map<std::string, Bad> table = {
      {"config", {{"--config", "/nonexistent/greenrun.conf"}, "cannot read the config file /nonexistent/greenrun.conf"}},
      {"interval", {{"--interval", "0"}, "must be at least 1ms, e.g. 250ms or 2s"}},
      {"scope", {{"--scope", "cpu"}, "must be process or machine"}},
      {"tree", {{"--tree", "pids"}, "must be auto, cgroup or proc"}},
      {"log-level", {{"--log-level", "loud"}, "must be off, debug or trace"}},
      {"log-file", {{"--log-file", "/nonexistent/g.log"}, "directory /nonexistent does not exist"}},
      {"json", {{"--json", "/nonexistent/x.json"}, "directory /nonexistent does not exist; create it first"}},
      {"checkpoint", {{"--checkpoint", "5x"}, "is not a duration; use e.g. 30s, 5m"}},
      {"summary-file", {{"--summary-file", "/nonexistent/s"}, "directory /nonexistent does not exist"}},
      {"csv", {{"--csv", "/nonexistent/e.csv"}, "directory /nonexistent does not exist"}},
      {"step-summary", {{"--step-summary", "/nonexistent/s.md"}, "directory /nonexistent does not exist"}},
      {"metrics", {{"--metrics", "/nonexistent/m.prom"}, "directory /nonexistent does not exist"}},
      {"metrics-format", {{"--metrics-format", "json"}, "must be prometheus or openmetrics"}},
      {"pushgateway", {{"--pushgateway", "ftp://x"}, "expected an http:// URL"}},
      {"label", {{"--label", "1a=b"}, "is not KEY=VALUE with KEY a Prometheus label name"}},
      {"max-energy", {{"--max-energy", "lots"}, "is not an energy; use e.g. 50kJ"}},
      {"max-emissions", {{"--max-emissions", "5x"}, "is not a mass; use e.g. 20g"}},
      {"max-increase", {{"--max-increase", "ten"}, "is not a percentage; use e.g. 10%"}},
      {"on-budget", {{"--on-budget", "explode"}, "must be warn, fail or stop"}},
      {"grace", {{"--grace", "forever"}, "is not a duration up to 1h"}},
      {"baseline", {{"--baseline", "/nonexistent/b.json"}, "cannot read /nonexistent/b.json"}},
      {"region", {{"--region", "Atlantis"}, "unknown region 'Atlantis' ('greenrun regions Atlantis' lists matches)"}},
      {"cloud", {{"--cloud", "aws:mars-1"}, "unknown aws region 'mars-1'"}},
      {"intensity", {{"--intensity", "-5"}, "must be a number of gCO2e/kWh in 0..2000"}},
      {"intensity-file", {{"--intensity-file", "/nonexistent/i.csv"}, "cannot read --intensity-file /nonexistent/i.csv"}},
      {"pue", {{"--pue", "0.5"}, "must be a number between 1.0 and 3.0"}},
      {"emission-factor", {{"--emission-factor", "total"}, "must be lifecycle or direct"}},
      {"compare", {{"--compare", "Atlantis"}, "unknown region 'Atlantis'"}},
      {"intensity-source", {{"--intensity-source", "acme"}, "unknown provider; use electricitymaps[:ZONE]"}},
      {"intensity-timeout", {{"--intensity-timeout", "1ms"}, "must be at least 100ms"}},
      {"intensity-ttl", {{"--intensity-ttl", "99d"}, "is not a duration; use e.g. 30s, 15m, 2h"}},
      {"intensity-poll", {{"--intensity-poll", "1ms"}, "must be at least 10ms"}},
      {"start-within", {{"--start-within", "1h"}, "--start-within needs --expected-duration"}},
      {"expected-duration", {{"--expected-duration", "soon"}, "is not a duration"}},
      {"pause-above", {{"--pause-above", "9999"}, "must be gCO2e/kWh in 0..2000"}},
      {"max-delay", {{"--max-delay", "never"}, "is not a duration"}},
      {"pause-with", {{"--pause-with", "SIGFOO"}, "must be stop or a signal name (SIGUSR1) or number"}},
      {"cpu-tdp", {{"--cpu-tdp", "-3"}, "must be a number of watts in 0..100000, e.g. 65"}},
      {"cpu-idle-w", {{"--cpu-idle-w", "abc"}, "must be a number of watts"}},
      {"cpu-max-w", {{"--cpu-max-w", "1e9"}, "must be a number of watts"}},
      {"ram-w-per-gb", {{"--ram-w-per-gb", "nan"}, "must be a number of watts"}},
      {"gpu-tdp", {{"--gpu-tdp", "x"}, "must be a number of watts"}},
      {"html", {{"--html", "/nonexistent/r.html"}, "directory /nonexistent does not exist"}},
      {"progress", {{"--progress", "0"}, "must be a duration from 1s to 24h, e.g. 10m"}},
      {"instance-type", {{"--instance-type", "m9.huge", "--cloud", "aws:us-east-1"}, "unknown aws instance type 'm9.huge'; did you mean"}},
      {"embodied-kg", {{"--embodied-kg", "-1"}, "must be kgCO2e, more than 0 and at most 1000000"}},
      {"lifetime", {{"--lifetime", "99"}, "must be a number of years from 0.25 to 50"}},
      {"functional-unit", {{"--functional-unit", "0"}, "must be N or N:NAME with N > 0"}},
      {"wue", {{"--wue", "50"}, "must be a number of L/kWh in 0..20"}},
  };
  return table;
}

}  // namespace

TEST_CASE("every option's bad value: 125 before the command, one line naming the option and what was expected",
          "[options][errors]") {
  TempDir dir;
  const std::string witness = dir / "ran";
  std::set<std::string> seen;
  for (const auto& spec : option_table()) {
    if (!spec.value) continue;  // flags take no value
    seen.insert(spec.name);
    if (kAnyValue.count(spec.name)) continue;
    auto it = bad_values().find(spec.name);
    INFO("--" << spec.name << " has no bad-value case here: add one (or to kAnyValue, with the reason)");
    REQUIRE(it != bad_values().end());
    std::vector<std::string> argv{GREENRUN_BIN};
    argv.insert(argv.end(), it->second.args.begin(), it->second.args.end());
    argv.insert(argv.end(), {"--", "touch", witness});
    ProcOptions o;
    o.env = {{"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
    auto r = run_proc(argv, o);
    INFO("--" << spec.name << ": " << r.err);
    CHECK(r.status == 125);
    CHECK_FALSE(std::filesystem::exists(witness));  // the command never started
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_THAT(r.err, Catch::StartsWith("greenrun: "));
    CHECK_THAT(r.err, Catch::Contains(it->second.args[0]) || Catch::Contains(it->second.args[1]));
    CHECK_THAT(r.err, Catch::Contains(it->second.expect));
  }
  // No stale rows: every case names an option that exists and takes a value.
  for (const auto& [name, bad] : bad_values()) CHECK(seen.count(name) == 1);
  for (const auto& [name, why] : kAnyValue) CHECK(seen.count(name) == 1);
}

namespace {

/// The run's options a subcommand takes, read from its --help ("--pue RATIO";
/// a subcommand's own flag of the same name, sensors' --json, takes no value).
std::vector<std::string> table_options_of(const std::string& sub) {
  auto help = run_proc({greenrun_bin(), sub, "--help"});
  std::vector<std::string> out;
  for (const auto& spec : option_table())
    if (spec.value && help.out.find(std::string("--") + spec.name + " " + spec.value) != std::string::npos)
      out.push_back(spec.name);
  return out;
}

}  // namespace

TEST_CASE("subcommands refuse every bad value of the run's options they take, as a run does (125)", "[options][errors]") {
  TempDir dir;
  write_file(dir / "f.csv", "timestamp,g_per_kwh,forecast\n2030-01-01T00:00:00Z,100,true\n2030-01-01T01:00:00Z,200,true\n");
  // What each subcommand needs besides the option under test (none of them uses it).
  const std::map<std::string, std::vector<std::string>> base = {
      {"plan", {"--duration", "1h", "--intensity-file", dir / "f.csv"}}, {"regions", {}}, {"sensors", {}}, {"config", {}}};
  for (const auto& [sub, needs] : base) {
    const auto options = table_options_of(sub);
    CHECK_FALSE(options.empty());
    for (const auto& name : options) {
      if (kAnyValue.count(name)) continue;
      auto it = bad_values().find(name);
      INFO("--" << name << " has no bad-value case here: add one (or to kAnyValue, with the reason)");
      REQUIRE(it != bad_values().end());
      std::vector<std::string> argv{greenrun_bin(), sub};
      const auto& bad = it->second.args;
      // Where the case gives an option the base gives too, the case's value replaces it.
      for (size_t i = 0; i < needs.size(); i += 2)
        if (std::find(bad.begin(), bad.end(), needs[i]) == bad.end()) argv.insert(argv.end(), {needs[i], needs[i + 1]});
      argv.insert(argv.end(), bad.begin(), bad.end());
      // config lists settings; it converts them as a run does but resolves
      // nothing (no region looked up, no file opened): only the values a
      // run's parsing refuses are its to refuse.
      if (sub == "config") {
        std::vector<std::string> run_args(bad.begin(), bad.end());
        run_args.insert(run_args.end(), {"--", "true"});
        if (parse_cli(run_args, env_of({})).action != ParsedCli::Action::Exit) continue;
      }
      ProcOptions o;
      o.env = {{"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
      auto r = run_proc(argv, o);
      INFO("greenrun " << sub << " --" << name << ": " << r.err);
      CHECK(r.status == 125);
      CHECK_THAT(r.err, Catch::Contains(it->second.expect));
    }
  }
  SECTION("the issue's case, and an empty value") {
    ProcOptions o;
    o.env = {{"GREENRUN_CONFIG", ""}};
    auto r = run_proc({greenrun_bin(), "plan", "--duration", "1h", "--intensity-file", dir / "f.csv", "--pue", "9",
                       "--emission-factor", "bogus"},
                      o);
    CHECK(r.status == 125);
    CHECK_THAT(r.err, Catch::Contains("--emission-factor bogus: must be lifecycle or direct"));
    auto pue = run_proc({greenrun_bin(), "plan", "--duration", "1h", "--intensity-file", dir / "f.csv", "--pue", "9"}, o);
    CHECK(pue.status == 125);
    CHECK_THAT(pue.err, Catch::Contains("--pue 9: must be a number between 1.0 and 3.0"));
    auto e = run_proc({greenrun_bin(), "regions", "--emission-factor", ""}, o);
    CHECK(e.status == 125);
    CHECK_THAT(e.err, Catch::Contains("--emission-factor was given an empty value"));
    auto env = run_proc({greenrun_bin(), "regions", "FR"}, ProcOptions{"", {{"GREENRUN_CONFIG", ""}, {"GREENRUN_EMISSION_FACTOR", "bogus"}}, 30});
    CHECK(env.status == 125);
    CHECK_THAT(env.err, Catch::Contains("GREENRUN_EMISSION_FACTOR=bogus: must be lifecycle or direct"));
  }
}
