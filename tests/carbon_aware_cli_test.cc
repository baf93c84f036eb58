// Carbon-aware runs end to end through the greenrun binary: a loopback
// server (tests/fake_grid_server.py) answers as Electricity Maps, WattTime
// and the UK Carbon Intensity API document, and fails in every way a
// provider can; files drive --start-within and --pause-above to the second.
// Nothing here leaves the machine.

#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <tuple>

#include "carbon/carbon_data.h"
#include "carbon/intensity.h"
#include "helpers.h"
#include "util/fs.h"

using namespace greenrun::test;
using nlohmann::json;

namespace {

constexpr const char* kToken = "test-token-s3cr3t";  // the fake server's, see fake_grid_server.py
constexpr double kGramsPerLb = 0.453592;

double unix_now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

/// The fake providers, on a free loopback port.
struct FakeGrid {
  TempDir dir;
  Background server;
  int port = 0;
  FakeGrid() {
    server = start_background({"python3", source_dir() + "/tests/fake_grid_server.py", dir / "port", dir / "log"}, dir.path());
    REQUIRE(eventually([&] { return greenrun::path_exists(dir / "port"); }, 20));
    port = std::stoi(slurp(dir / "port"));
  }
  ~FakeGrid() {
    kill(server.pid, SIGTERM);
    server.wait(5);
  }
  std::string url(const std::string& mode, const std::string& provider) const {
    return "http://127.0.0.1:" + std::to_string(port) + "/" + mode + "/" + provider;
  }
  std::vector<json> requests() const {
    std::vector<json> out;
    std::istringstream in(slurp(dir / "log"));
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
  }
};

/// A machine drawing 30 W (a RAPL fixture), greenrun's cache in a fresh directory.
struct Machine {
  TempDir dir;
  std::string sys = dir / "sys";
  FakeRapl rapl{sys, 30};
  std::map<std::string, std::string> env() const {
    return {{"GREENRUN_SYSFS_ROOT", sys}, {"TZ", "UTC"}, {"GREENRUN_CONFIG", ""}, {"XDG_CACHE_HOME", dir / "cache"}};
  }
  ProcResult run(std::vector<std::string> args, const std::map<std::string, std::string>& extra = {}) const {
    args.insert(args.begin(), greenrun_bin());
    ProcOptions opt;
    opt.env = env();
    for (auto& [k, v] : extra) opt.env[k] = v;
    return run_proc(args, opt);
  }
};

std::map<std::string, std::string> em_env(const FakeGrid& g, const std::string& mode) {
  return {{"GREENRUN_ELECTRICITYMAPS_TOKEN", kToken}, {"GREENRUN_ELECTRICITYMAPS_URL", g.url(mode, "em")}};
}

double yearly(const std::string& zone) { return *shipped_carbon_data().zone(zone)->lifecycle_g_per_kwh; }

int count_lines_with(const std::string& text, const std::string& what) {
  int n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) n += line.find(what) != std::string::npos;
  return n;
}

/// Writes a CSV of one value per second from T-5 to T+60, T = the whole second now.
long write_seconds_file(const std::string& path, const std::function<double(long)>& value, bool forecast = false) {
  const long t = static_cast<long>(unix_now());
  std::string csv = forecast ? "timestamp,g_per_kwh,forecast\n" : "timestamp,g_per_kwh\n";
  for (long k = -5; k <= 60; ++k)
    csv += std::to_string(t + k) + "," + std::to_string(value(k)) + (forecast ? ",true\n" : "\n");
  write_file(path, csv);
  return t;
}

std::vector<double> timestamps(const std::string& path) {
  std::vector<double> out;
  std::istringstream in(slurp(path));
  for (std::string line; std::getline(in, line);)
    if (auto v = greenrun::parse_double(line)) out.push_back(*v);
  return out;
}

}  // namespace

TEST_CASE("a provider's history prices the run, and within the TTL a second run makes no request", "[carbon-aware][cli]") {
  FakeGrid grid;
  Machine m;
  auto run = [&](const std::string& name) {
    auto r = m.run({"--scope", "machine", "--interval", "100ms", "--region", "DE", "--intensity-source", "electricitymaps",
                    "--json", m.dir / name, "--", "sleep", "0.3"},
                   em_env(grid, "ok"));
    REQUIRE(r.status == 0);
    return r;
  };
  auto r = run("a.json");
  auto j = json::parse(slurp(m.dir / "a.json"));
  CHECK(j["intensity_source"]["provider"] == "electricitymaps");
  CHECK(j["intensity_source"]["location"] == "DE");
  CHECK(j["intensity_source"]["answered"] == true);
  CHECK(j["intensity_source"]["problem"].is_null());
  // The history's figure for this hour (250), not the latest's (214) nor the yearly one.
  for (const auto& rec : j["timeline"]["records"]) {
    CHECK(rec["intensity_basis"] == "live");
    CHECK(rec["intensity_g_per_kwh"].get<double>() == 250);
  }
  CHECK(j["intensity_g_per_kwh"].get<double>() == 250);
  CHECK(j["emissions_g"].get<double>() == Approx(j["energy_j"].get<double>() / 3.6e6 * 250).epsilon(1e-9));
  CHECK(j["intensity_basis_s"]["yearly"].get<double>() == 0);
  CHECK_THAT(r.err, Catch::Contains("live grid data") && Catch::Contains("priced by     live 100%"));
  auto requests = grid.requests();
  REQUIRE(requests.size() == 2);
  CHECK_THAT(requests[0]["path"].get<std::string>(), Catch::Contains("/v3/carbon-intensity/latest?zone=DE&emissionFactorType=lifecycle"));
  CHECK_THAT(requests[1]["path"].get<std::string>(), Catch::Contains("/v3/carbon-intensity/history?zone=DE"));
  for (const auto& q : requests) {
    CHECK(q["headers"]["auth-token"] == kToken);
    CHECK_THAT(q["headers"]["user-agent"].get<std::string>(), Catch::StartsWith("greenrun/"));
  }
  run("b.json");
  CHECK(grid.requests().size() == 2);  // both answers came from the cache
  CHECK(json::parse(slurp(m.dir / "b.json"))["intensity_g_per_kwh"].get<double>() == 250);
  struct stat st {};
  REQUIRE(stat((m.dir / "cache/greenrun").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  for (const auto& f : greenrun::list_dir(m.dir / "cache/greenrun")) {
    REQUIRE(stat((m.dir / "cache/greenrun/" + f).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
}

TEST_CASE("a failing provider: one line, the yearly figure, the command neither failed nor delayed", "[carbon-aware][cli]") {
  FakeGrid grid;
  for (const std::string mode : {"401", "429", "500", "slow", "truncated", "html"}) {
    DYNAMIC_SECTION(mode) {
      Machine m;
      auto r = m.run({"--scope", "machine", "--interval", "100ms", "--region", "DE", "--intensity-source",
                      "electricitymaps", "--intensity-timeout", "1s", "--json", m.dir / "r.json", "--", "sh", "-c",
                      "date +%s.%N > \"$0\"; sleep 0.2; date +%s.%N >> \"$0\"", m.dir / "times"},
                     em_env(grid, mode));
      const double exited = unix_now();
      REQUIRE(r.status == 0);
      CHECK(count_lines_with(r.err, "electricitymaps:") == 1);
      CHECK_THAT(r.err, Catch::Contains("the yearly figure was used"));
      // Against the provider's own clock, not greenrun's start-up: the command
      // started before the 1 s timeout of the request that reached the server
      // could run out (the slow answer takes 5 s), so the request ran beside it.
      const auto times = timestamps(m.dir / "times");
      REQUIRE(times.size() == 2);
      const auto asked = grid.requests();
      REQUIRE_FALSE(asked.empty());
      CHECK(times[0] < asked.front()["t"].get<double>() + 1.0);
      // After the command: at most the timeout, not the slow answer's 5 s.
      CHECK(exited - times[1] < 1.0 + 2.0);
      auto j = json::parse(slurp(m.dir / "r.json"));
      CHECK(j["intensity_source"]["answered"] == false);
      CHECK_FALSE(j["intensity_source"]["problem"].is_null());
      CHECK(j["intensity_basis_s"]["live"].get<double>() == 0);
      CHECK(j["intensity_g_per_kwh"].get<double>() == Approx(yearly("DE")));
      for (const auto& rec : j["timeline"]["records"]) CHECK(rec["intensity_basis"] == "yearly");
    }
  }
}

TEST_CASE("credentials never reach an output, even from a server that echoes them", "[carbon-aware][cli]") {
  FakeGrid grid;
  Machine m;
  auto r = m.run({"--log-level", "trace", "--log-file", m.dir / "g.log", "--region", "DE", "--intensity-source",
                  "electricitymaps", "--json", m.dir / "r.json", "--csv",
                  m.dir / "r.csv", "--summary-file", m.dir / "summary.txt", "--", "true"},
                 em_env(grid, "echo401"));
  REQUIRE(r.status == 0);
  CHECK_THAT(slurp(m.dir / "summary.txt"), Catch::Contains("Invalid auth-token ***"));
  auto w = m.run({"-v", "--intensity-source", "watttime:CAISO_NORTH", "--json", m.dir / "w.json", "--", "true"},
                 {{"GREENRUN_WATTTIME_USERNAME", "grid-user"}, {"GREENRUN_WATTTIME_PASSWORD", "grid-pass-s3cr3t"},
                  {"GREENRUN_WATTTIME_URL", grid.url("ok", "wt")}});
  REQUIRE(w.status == 0);
  CHECK_THAT(slurp(m.dir / "g.log"), Catch::Contains("debug:"));  // the log was written, and is searched below
  // The same credentials from a 0600 config file (outside the directory searched below).
  TempDir private_dir;
  const std::string config = private_dir / "config";
  write_file(config, std::string("electricitymaps-token = ") + kToken +
                         "\nwatttime-username = grid-user\nwatttime-password = grid-pass-s3cr3t\n");
  chmod(config.c_str(), 0600);
  const size_t asked = grid.requests().size();
  auto f = m.run({"-v", "--region", "DE", "--intensity-source", "electricitymaps", "--json", m.dir / "f.json", "--",
                  "true"},
                 {{"GREENRUN_CONFIG", config}, {"GREENRUN_ELECTRICITYMAPS_URL", grid.url("echo401", "em")}});
  REQUIRE(f.status == 0);
  REQUIRE(grid.requests().size() > asked);
  CHECK(grid.requests().back()["headers"]["auth-token"] == kToken);  // the file's token reached the provider
  auto listed = m.run({"config"}, {{"GREENRUN_CONFIG", config}});
  REQUIRE(listed.status == 0);
  CHECK_THAT(listed.out, Catch::Contains("electricitymaps-token") && Catch::Contains("(set)"));
  std::string everything = r.out + r.err + w.out + w.err + f.out + f.err + listed.out + listed.err;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(m.dir.path()))
    if (entry.is_regular_file() && entry.path().string().find("/sys/") == std::string::npos)
      everything += slurp(entry.path().string());
  CHECK(everything.find(kToken) == std::string::npos);
  CHECK(everything.find("grid-pass-s3cr3t") == std::string::npos);
  CHECK(everything.find("jwt-s3cr3t") == std::string::npos);
  CHECK(everything.find("s3cr3t") == std::string::npos);
}

TEST_CASE("require-live-intensity: without data the command never starts", "[carbon-aware][cli]") {
  FakeGrid grid;
  Machine m;
  auto r = m.run({"--region", "DE", "--intensity-source", "electricitymaps", "--require-live-intensity", "--", "touch",
                  m.dir / "ran"},
                 em_env(grid, "401"));
  CHECK(r.status == 125);
  CHECK_FALSE(greenrun::path_exists(m.dir / "ran"));
  CHECK(count_lines_with(r.err, "electricitymaps:") == 1);
  auto ok = m.run({"--region", "DE", "--intensity-source", "electricitymaps", "--require-live-intensity", "--", "touch",
                   m.dir / "ran"},
                  em_env(grid, "ok"));
  CHECK(ok.status == 0);
  CHECK(greenrun::path_exists(m.dir / "ran"));
}

TEST_CASE("WattTime: basic-auth login, bearer token, lbs/MWh as marginal g/kWh, not compared like for like", "[carbon-aware][cli]") {
  FakeGrid grid;
  Machine m;
  auto r = m.run({"--scope", "machine", "--interval", "100ms", "--intensity-source", "watttime:CAISO_NORTH", "--json",
                  m.dir / "w.json", "--", "sleep", "0.3"},
                 {{"GREENRUN_WATTTIME_USERNAME", "grid-user"}, {"GREENRUN_WATTTIME_PASSWORD", "grid-pass-s3cr3t"},
                  {"GREENRUN_WATTTIME_URL", grid.url("ok", "wt")}});
  REQUIRE(r.status == 0);
  auto j = json::parse(slurp(m.dir / "w.json"));
  CHECK(j["intensity_source"]["signal"] == "marginal");
  CHECK(j["intensity_source"]["factor"] == "direct");
  CHECK(j["intensity_g_per_kwh"].get<double>() == Approx(1100 * kGramsPerLb));  // the history's 1100 lbs/MWh
  CHECK_THAT(j["comparisons_note"].get<std::string>(), Catch::Contains("marginal") && Catch::Contains("not like for like"));
  CHECK_THAT(r.err, Catch::Contains("not like for like"));
  auto requests = grid.requests();
  REQUIRE(requests.size() >= 2);
  CHECK_THAT(requests[0]["path"].get<std::string>(), Catch::EndsWith("/login"));
  CHECK_THAT(requests[0]["headers"]["authorization"].get<std::string>(), Catch::StartsWith("Basic "));
  for (size_t i = 1; i < requests.size(); ++i) {
    CHECK(requests[i]["headers"]["authorization"] == "Bearer jwt-s3cr3t");
    CHECK_THAT(requests[i]["path"].get<std::string>(), Catch::Contains("signal_type=co2_moer"));
  }
}

TEST_CASE("UK Carbon Intensity: the national actual prices the run", "[carbon-aware][cli]") {
  FakeGrid grid;
  Machine m;
  auto r = m.run({"--scope", "machine", "--interval", "100ms", "--region", "GB", "--intensity-source", "uk", "--json",
                  m.dir / "u.json", "--", "sleep", "0.2"},
                 {{"GREENRUN_UK_CARBON_INTENSITY_URL", grid.url("ok", "uk")}});
  REQUIRE(r.status == 0);
  auto j = json::parse(slurp(m.dir / "u.json"));
  CHECK(j["intensity_g_per_kwh"].get<double>() == 180);  // "actual", not "forecast" (200)
  CHECK(j["intensity_source"]["location"] == "national");
  for (const auto& q : grid.requests()) CHECK(q["headers"].count("auth-token") == 0);
}

TEST_CASE("greenrun plan: the best start over a provider's forecast, and the lines that schedule it", "[carbon-aware][cli][plan]") {
  FakeGrid grid;
  Machine m;
  // Hourly forecast from this hour: 300, with 120 three hours ahead. A 1-hour
  // job is best centred on the dip: 2.5 h after the hour, mean 165
  // (each half from 210 to 120); at once: 300. For 2 kWh: 270 g less.
  auto r = m.run({"plan", "--duration", "1h", "--within", "12h", "--region", "DE", "--intensity-source", "electricitymaps",
                  "--expected-energy", "2kWh", "--format", "json"},
                 em_env(grid, "ok"));
  REQUIRE(r.status == 0);
  auto j = json::parse(r.out);
  auto best = greenrun::parse_timestamp(j["best_start"].get<std::string>());
  REQUIRE(best);
  const double best_s = std::chrono::duration<double>(best->time_since_epoch()).count();
  CHECK(std::fmod(best_s - 9000, 3600) == Approx(0).margin(1e-3));
  CHECK(j["best_g_per_kwh"].get<double>() == Approx(165));
  CHECK(j["now_g_per_kwh"].get<double>() == Approx(300));
  CHECK(j["saving_g"].get<double>() == Approx(270));
  CHECK(j["saving_percent"].get<double>() == Approx(45));
  auto at = m.run({"plan", "--duration", "1h", "--within", "12h", "--region", "DE", "--intensity-source",
                   "electricitymaps", "--format", "at"},
                  em_env(grid, "ok"));
  CHECK(at.out == j["at"].get<std::string>() + "\n");
  CHECK_THAT(at.out, Catch::StartsWith("at -t "));
  CHECK(grid.requests().size() == 1);  // the second plan read the cache
  auto none = m.run({"plan", "--duration", "1h"});
  CHECK(none.status == 2);
  CHECK_THAT(none.err, Catch::Contains("needs a forecast"));
}

TEST_CASE("start-within starts the command at the forecast's best time", "[carbon-aware][cli]") {
  Machine m;
  // 500 except 100 from T+3 to T+8: a 5-second job is best started at T+3.
  const long t = write_seconds_file(m.dir / "f.csv", [](long k) { return k >= 3 && k <= 8 ? 100 : 500; }, true);
  auto r = m.run({"--start-within", "20s", "--expected-duration", "5s", "--intensity-file", m.dir / "f.csv", "--json",
                  m.dir / "s.json", "--", "sh", "-c", "date +%s.%N > \"$0\"", m.dir / "started"});
  REQUIRE(r.status == 0);
  const double started = timestamps(m.dir / "started").at(0);
  CHECK(started - static_cast<double>(t) == Approx(3).margin(0.25));
  CHECK_THAT(r.err, Catch::Contains("cleanest start"));
  auto j = json::parse(slurp(m.dir / "s.json"));
  CHECK(*greenrun::parse_timestamp(j["schedule"]["planned_start"].get<std::string>()) ==
        std::chrono::system_clock::time_point(std::chrono::seconds(t + 3)));
  CHECK(j["schedule"]["forecast_planned_g_per_kwh"].get<double>() == Approx(100));
  CHECK(j["schedule"]["waited_s"].get<double>() > 1);
}

TEST_CASE("a signal during the wait: 128+N and the command never starts", "[carbon-aware][cli]") {
  Machine m;
  write_seconds_file(m.dir / "f.csv", [](long k) { return k >= 30 ? 100 : 500; }, true);
  auto bg = start_background({greenrun_bin(), "--start-within", "50s", "--expected-duration", "5s", "--intensity-file",
                              m.dir / "f.csv", "--", "touch", m.dir / "ran"},
                             m.dir.path(), m.env());
  REQUIRE(eventually([&] { return bg.err().find("waiting") != std::string::npos; }, 10));
  kill(bg.pid, SIGINT);
  CHECK(bg.wait(10) == 130);
  CHECK_FALSE(greenrun::path_exists(m.dir / "ran"));
}

TEST_CASE("pause-above pauses the command while the grid is dirty: its timestamps show the gap", "[carbon-aware][cli]") {
  Machine m;
  // 100 except 500 from T+2 to T+5: three seconds above 300.
  const long t = write_seconds_file(m.dir / "p.csv", [](long k) { return k >= 2 && k < 5 ? 500 : 100; });
  // A timestamp every 0.1 s for 6 s and the pause.
  auto r = m.run({"--pause-above", "300g", "--intensity-poll", "200ms", "--intensity-file", m.dir / "p.csv", "--json",
                  m.dir / "p.json", "--", "sh", "-c",
                  "i=0; while [ $i -lt 60 ]; do date +%s.%N >> \"$0\"; sleep 0.1; i=$((i+1)); done", m.dir / "ts"});
  REQUIRE(r.status == 0);
  auto ts = timestamps(m.dir / "ts");
  std::vector<std::pair<double, double>> gaps;  // (offset from T, length)
  for (size_t i = 1; i < ts.size(); ++i)
    if (ts[i] - ts[i - 1] > 1) gaps.emplace_back(ts[i - 1] - static_cast<double>(t), ts[i] - ts[i - 1]);
  REQUIRE(gaps.size() == 1);
  CHECK(gaps[0].first == Approx(2).margin(0.3));
  CHECK(gaps[0].second == Approx(3).margin(0.35));
  auto j = json::parse(slurp(m.dir / "p.json"));
  REQUIRE(j["pause"]["spans"].size() == 1);
  CHECK(j["pause"]["spans"][0]["duration_s"].get<double>() == Approx(3).margin(0.1));
  CHECK(j["pause"]["spans"][0]["intensity_g_per_kwh"].get<double>() == 500);
  CHECK(j["pause"]["spans"][0]["resumed_because"] == "below the threshold");
  CHECK(j["pause"]["signal"] == "SIGSTOP");
  double paused = 0;
  for (const auto& rec : j["timeline"]["records"]) paused += rec["paused_s"].get<double>();
  CHECK(paused == Approx(3).margin(0.1));
  CHECK_THAT(r.err, Catch::Contains("paused        1 time, "));
}

TEST_CASE("pause-above acts on a provider's first answer when it arrives, not at the next poll", "[carbon-aware][cli]") {
  FakeGrid grid;
  Machine m;  // a fresh cache: nothing is known before the command starts
  // The forecast for this hour is 300 g/kWh, above 250: the command is paused
  // as soon as the answer is in, though the next poll is 15 minutes away.
  auto r = m.run({"--region", "DE", "--intensity-source", "electricitymaps", "--pause-above", "250", "--max-delay", "1s",
                  "--json", m.dir / "p.json", "--", "sleep", "2"},
                 em_env(grid, "ok"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto j = json::parse(slurp(m.dir / "p.json"));
  REQUIRE(j["pause"]["spans"].size() == 1);
  const auto& span = j["pause"]["spans"][0];
  CHECK(span["intensity_g_per_kwh"].get<double>() == 300);
  CHECK(span["resumed_because"] == "the delay budget (--max-delay) was spent");
  // From the command's start: the answer's round trip on loopback, not the 15 min --intensity-poll.
  CHECK(span["start_s"].get<double>() < 1.5);
  CHECK(span["duration_s"].get<double>() == Approx(1).margin(0.3));
}

namespace {

/// The fields of /proc/PID/stat after the command name: state, ppid, pgrp.
struct ProcStat {
  char state = '?';
  pid_t ppid = 0, pgrp = 0;
  std::string comm;
};
std::optional<ProcStat> proc_stat(const std::string& pid) {
  const std::string stat = slurp("/proc/" + pid + "/stat");
  const size_t open = stat.find('('), close = stat.rfind(')');
  if (open == std::string::npos || close == std::string::npos) return std::nullopt;
  ProcStat s;
  s.comm = stat.substr(open + 1, close - open - 1);
  std::istringstream rest(stat.substr(close + 2));
  if (!(rest >> s.state >> s.ppid >> s.pgrp)) return std::nullopt;
  return s;
}

/// A child of `parent` named `comm` found in /proc, or -1 (greenrun's other
/// child, the watchdog's short-lived intermediate, is not the command).
pid_t child_of(pid_t parent, const std::string& comm = "sh") {
  for (const auto& name : greenrun::list_dir("/proc"))
    if (auto s = proc_stat(name); s && s->comm == comm && s->ppid == parent) return std::stoi(name);
  return -1;
}

/// Whether a process of group `pgid` is stopped (T). Not only its leader: a
/// shell waiting for the vfork child it runs `date` in sleeps in D until that
/// child, stopped before its exec, is continued.
bool group_stopped(pid_t pgid) {
  for (const auto& name : greenrun::list_dir("/proc"))
    if (auto s = proc_stat(name); s && s->pgrp == pgid && s->state == 'T') return true;
  return false;
}

/// Waits until greenrun's command (in a process group of its own) is stopped; returns its group.
pid_t until_paused(pid_t greenrun, const Background& bg) {
  pid_t command = -1;
  REQUIRE(eventually([&] { return (command = child_of(greenrun)) > 0; }, 20));
  const bool stopped = eventually([&] { return group_stopped(command); }, 20);
  INFO("command " << command << "; greenrun's stderr: " << bg.err());
  REQUIRE(stopped);
  return command;
}

/// A command ticking into $0 that touches $1 once its traps (`traps`) are set.
std::vector<std::string> ticking_after(const Machine& m, const std::string& traps) {
  return {"sh", "-c",
          traps + "; touch \"$1\"; i=0; while [ $i -lt 100 ]; do date +%s.%N >> \"$0\"; sleep 0.1; i=$((i+1)); done",
          m.dir / "ts", m.dir / "ready"};
}

std::vector<std::string> paused_run(const Machine& m, const std::string& traps) {
  std::vector<std::string> args = {greenrun_bin(),     "--pause-above", "300", "--intensity-poll", "100ms",
                                   "--intensity-file", m.dir / "p.csv", "--"};
  auto cmd = ticking_after(m, traps);
  args.insert(args.end(), cmd.begin(), cmd.end());
  return args;
}

struct Paused {
  Background bg;
  pid_t greenrun = -1, pgid = -1;
};

/// greenrun (from `start`: the process and greenrun's pid in it) over a
/// ticking_after() command, once it is paused with its traps set. The grid is
/// dirty from T+2; a machine loaded enough to start greenrun two seconds late
/// pauses the command before its first line, where no trap exists yet: such
/// a try is ended and made again (three in all).
template <class Start>
Paused start_paused(const Machine& m, Start start) {
  for (int attempt = 1;; ++attempt) {
    std::filesystem::remove(m.dir / "ready");
    std::filesystem::remove(m.dir / "ts");
    write_seconds_file(m.dir / "p.csv", [](long k) { return k >= 2 ? 500 : 100; });
    Paused p;
    std::tie(p.bg, p.greenrun) = start();
    p.pgid = until_paused(p.greenrun, p.bg);
    if (greenrun::path_exists(m.dir / "ready")) return p;
    INFO("try " << attempt << ": the command was paused before it set its traps");
    REQUIRE(attempt < 3);
    kill(p.greenrun, SIGKILL);
    kill(-p.pgid, SIGKILL);
    p.bg.wait(10);
  }
}

const char* kIgnoreHup = "trap '' HUP";

}  // namespace

TEST_CASE("SIGTERM to greenrun during a pause reaches the command, continued", "[carbon-aware][cli]") {
  Machine m;
  auto p = start_paused(m, [&] {
    auto bg = start_background(paused_run(m, "trap 'echo term >> \"$0\"; exit 3' TERM"), m.dir.path(), m.env());
    return std::pair{bg, bg.pid};
  });
  kill(p.greenrun, SIGTERM);
  CHECK(p.bg.wait(10) == 3);  // the command's trap ran: it was continued to receive the signal
  CHECK_THAT(slurp(m.dir / "ts"), Catch::Contains("term"));
  CHECK(eventually([&] { return kill(-p.pgid, 0) != 0; }, 5));
}

TEST_CASE("SIGKILL to greenrun during a pause: the command is not left stopped", "[carbon-aware][cli]") {
  Machine m;
  // Orphaned by greenrun's death, the stopped group gets SIGHUP then SIGCONT
  // from the kernel: a command that ignores SIGHUP (nohup) ticks on.
  auto p = start_paused(m, [&] {
    auto bg = start_background(paused_run(m, kIgnoreHup), m.dir.path(), m.env());
    return std::pair{bg, bg.pid};
  });
  const size_t before = timestamps(m.dir / "ts").size();
  kill(p.greenrun, SIGKILL);
  p.bg.wait(10);
  CHECK(eventually([&] { return timestamps(m.dir / "ts").size() > before + 2; }, 5));
  kill(-p.pgid, SIGKILL);
}

TEST_CASE("SIGKILL to greenrun under a subreaper during a pause: the watchdog continues the command", "[carbon-aware][cli]") {
  Machine m;
  // Under a subreaper in the same session (a container's init, a CI agent)
  // the group is not orphaned and the kernel sends nothing: only greenrun's
  // watchdog continues it.
  const char* subreaper =
      "import ctypes, os, sys, time\n"
      "ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)\n"  // PR_SET_CHILD_SUBREAPER
      "pid = os.fork()\n"
      "if pid == 0: os.execvp(sys.argv[1], sys.argv[1:])\n"
      "open(os.environ['GR_PID'] + '.tmp', 'w').write(str(pid)); os.rename(os.environ['GR_PID'] + '.tmp', os.environ['GR_PID'])\n"
      "end = time.time() + 60\n"
      "while time.time() < end:\n"
      "  try: os.waitpid(-1, 0)\n"
      "  except ChildProcessError: break\n";
  auto env = m.env();
  env["GR_PID"] = m.dir / "greenrun.pid";
  auto p = start_paused(m, [&] {
    std::filesystem::remove(m.dir / "greenrun.pid");
    auto args = paused_run(m, kIgnoreHup);
    args.insert(args.begin(), {"python3", "-c", subreaper});
    auto bg = start_background(args, m.dir.path(), env);
    REQUIRE(eventually([&] { return greenrun::path_exists(m.dir / "greenrun.pid"); }, 20));
    return std::pair{bg, static_cast<pid_t>(std::stoi(slurp(m.dir / "greenrun.pid")))};
  });
  const size_t before = timestamps(m.dir / "ts").size();
  kill(p.greenrun, SIGKILL);
  CHECK(eventually([&] { return timestamps(m.dir / "ts").size() > before + 2; }, 5));
  kill(-p.pgid, SIGKILL);
  p.bg.wait(10);
}

TEST_CASE("without --intensity-source nothing is requested, whatever the environment holds", "[carbon-aware][cli]") {
  FakeGrid grid;
  Machine m;
  auto r = m.run({"--region", "DE", "--", "true"}, em_env(grid, "ok"));
  CHECK(r.status == 0);
  CHECK(grid.requests().empty());
  CHECK_FALSE(greenrun::path_exists(m.dir / "cache/greenrun"));
}

TEST_CASE("greenrun plan from a file and an earlier report: sbatch, cron and the saving in grams", "[carbon-aware][cli][plan]") {
  Machine m;
  // Hourly forecast values from the next whole hour H: 400, 400, 100, 400...
  // A 1-hour job (the earlier report's duration) is best centred on H+2h:
  // H+1.5h, mean 175 (each half from 250 to 100); at once 400.
  const long now = static_cast<long>(unix_now());
  const long h = now / 3600 * 3600 + 3600;
  std::string csv = "timestamp,g_per_kwh,forecast\n" + std::to_string(now) + ",400,true\n";
  for (long k = 0; k < 6; ++k) csv += std::to_string(h + k * 3600) + "," + (k == 2 ? "100" : "400") + ",true\n";
  write_file(m.dir / "f.csv", csv);
  write_file(m.dir / "last.json", R"({"energy_j": 7200000, "duration_s": 3600})");  // 2 kWh over 1 h
  auto j = json::parse(m.run({"plan", "--intensity-file", m.dir / "f.csv", "--like", m.dir / "last.json", "--format",
                              "json"}).out);
  CHECK(*greenrun::parse_timestamp(j["best_start"].get<std::string>()) ==
        std::chrono::system_clock::time_point(std::chrono::seconds(h + 5400)));
  CHECK(j["best_g_per_kwh"].get<double>() == Approx(175));
  CHECK(j["now_g_per_kwh"].get<double>() == Approx(400));
  CHECK(j["saving_g"].get<double>() == Approx(2 * (400 - 175)));
  auto sbatch = m.run({"plan", "--intensity-file", m.dir / "f.csv", "--duration", "1h", "--format", "sbatch"});
  CHECK(sbatch.out == j["sbatch"].get<std::string>() + "\n");
  auto cron = m.run({"plan", "--intensity-file", m.dir / "f.csv", "--duration", "1h", "--format", "cron"});
  const std::time_t best = h + 5400;
  std::tm tm{};
  gmtime_r(&best, &tm);  // greenrun ran with TZ=UTC
  CHECK(cron.out == "30 " + std::to_string(tm.tm_hour) + " " + std::to_string(tm.tm_mday) + " " +
                        std::to_string(tm.tm_mon + 1) + " *\n");
}

TEST_CASE("a provider's Content-Type never reaches the terminal as a control sequence", "[carbon-aware][cli][hardening]") {
  FakeGrid grid;
  Machine m;
  auto r = m.run({"--region", "DE", "--intensity-source", "electricitymaps", "--json", m.dir / "r.json", "--", "true"},
                 em_env(grid, "esctype"));
  REQUIRE(r.status == 0);
  INFO(r.err);
  CHECK_THAT(r.err, Catch::Contains("not JSON"));
  CHECK(r.err.find('\x1b') == std::string::npos);
  CHECK(r.err.find('\x07') == std::string::npos);
}

TEST_CASE("what a provider says of its figures: estimated hours, another zone or factor, warnings, a stale forecast",
          "[carbon-aware][cli]") {
  FakeGrid grid;
  Machine m;
  auto em = [&](const std::string& mode, const std::string& file) {
    auto r = m.run({"--scope", "machine", "--interval", "100ms", "--region", "DE", "--intensity-source", "electricitymaps",
                    "--json", m.dir / file, "--", "sleep", "0.3"},
                   em_env(grid, mode));
    REQUIRE(r.status == 0);
    return std::make_pair(r, json::parse(slurp(m.dir / file)));
  };
  SECTION("hours Electricity Maps estimated are priced as estimated, not live, and the method is named") {
    auto [r, j] = em("estimated", "e.json");
    INFO(r.err);
    for (const auto& rec : j["timeline"]["records"]) CHECK(rec["intensity_basis"] == "estimated");
    CHECK(j["intensity_basis_s"]["live"].get<double>() == 0);
    CHECK(j["intensity_basis_s"]["estimated"].get<double>() > 0);
    CHECK_THAT(j["intensity_source"]["notes"].dump(), Catch::Contains("estimated") && Catch::Contains("TIME_SLICER_AVERAGE"));
    CHECK_THAT(r.err, Catch::Contains("estimated 100%") && Catch::Contains("TIME_SLICER_AVERAGE"));
    CHECK(j["intensity_g_per_kwh"].get<double>() == 250);  // still the provider's figure
  }
  SECTION("measured hours stay live") {
    auto [r, j] = em("ok", "ok.json");
    for (const auto& rec : j["timeline"]["records"]) CHECK(rec["intensity_basis"] == "live");
  }
  SECTION("an answer for another zone or another emission factor is refused") {
    for (const std::string mode : {"otherzone", "direct"}) {
      auto [r, j] = em(mode, mode + ".json");
      INFO(mode << ": " << r.err);
      CHECK(j["intensity_source"]["answered"] == false);
      const std::string problem = j["intensity_source"]["problem"].is_string() ? j["intensity_source"]["problem"].get<std::string>() : "";
      CHECK_THAT(problem, mode == "otherzone" ? Catch::Contains("FR") && Catch::Contains("DE")
                                              : Catch::Contains("direct") && Catch::Contains("lifecycle"));
      for (const auto& rec : j["timeline"]["records"]) CHECK(rec["intensity_basis"] == "yearly");
    }
  }
  SECTION("WattTime's warnings are noted, and a forecast older than its horizon is flagged") {
    for (const std::string mode : {"warn", "stale"}) {
      auto r = m.run({"--intensity-source", "watttime:CAISO_NORTH", "--json", m.dir / (mode + ".json"), "--", "true"},
                     {{"GREENRUN_WATTTIME_USERNAME", "grid-user"}, {"GREENRUN_WATTTIME_PASSWORD", "grid-pass-s3cr3t"},
                      {"GREENRUN_WATTTIME_URL", grid.url(mode, "wt")}});
      REQUIRE(r.status == 0);
      INFO(mode << ": " << r.err);
      auto j = json::parse(slurp(m.dir / (mode + ".json")));
      const std::string notes = j["intensity_source"]["notes"].dump();
      CHECK_THAT(notes, mode == "warn" ? Catch::Contains("MODEL_UPDATE") && Catch::Contains("A new model version")
                                       : Catch::Contains("generated") && Catch::Contains("older than its"));
      CHECK_THAT(r.err, Catch::Contains(mode == "warn" ? "A new model version" : "older than its"));
    }
  }
}
