// End-to-end: the real greenrun binary wrapping real processes.

#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <fstream>
#include <thread>

#include "helpers.h"

using namespace greenrun::test;
using nlohmann::json;

namespace {

std::vector<std::string> gr(std::vector<std::string> args) {
  args.insert(args.begin(), greenrun_bin());
  return args;
}

// An empty sysfs: greenrun must not read the build machine's real counters in tests.
struct Sandbox {
  TempDir dir;
  std::string sys = dir / "sys";
  Sandbox() { make_dirs(sys); }
  std::map<std::string, std::string> env() const { return {{"GREENRUN_SYSFS_ROOT", sys}}; }
  ProcResult run(std::vector<std::string> args, ProcOptions opt = {}) const {
    for (const auto& [k, v] : env()) opt.env.emplace(k, v);
    return run_proc(gr(std::move(args)), opt);
  }
};

}  // namespace

TEST_CASE("stdin, stdout and stderr belong to the command", "[wrap]") {
  Sandbox sb;
  ProcOptions opt;
  opt.stdin_data = "line one\nline two\n";
  auto r = sb.run({"-q", "--", "cat"}, opt);
  CHECK(r.status == 0);
  CHECK(r.out == "line one\nline two\n");
  CHECK(r.err.empty());

  auto e = sb.run({"-q", "--", "sh", "-c", "echo to-out; echo to-err >&2"});
  CHECK(e.out == "to-out\n");
  CHECK(e.err == "to-err\n");

  SECTION("the summary goes to stderr only") {
    auto s = sb.run({"--", "sh", "-c", "echo data"});
    CHECK(s.out == "data\n");
    CHECK_THAT(s.err, Catch::Contains("greenrun: sh -c 'echo data'") && Catch::Contains("exited with status 0"));
  }
}

TEST_CASE("exit status is the command's, 128+N on signal N", "[wrap]") {
  Sandbox sb;
  CHECK(sb.run({"-q", "--", "sh", "-c", "exit 3"}).status == 3);
  CHECK(sb.run({"-q", "--", "true"}).status == 0);
  CHECK(sb.run({"-q", "--", "false"}).status == 1);
  auto killed = sb.run({"--json", sb.dir / "k.json", "--", "sh", "-c", "kill -TERM $$"});
  CHECK(killed.status == 128 + SIGTERM);
  CHECK(killed.signal == 0);  // greenrun exits normally with the status, it is not killed itself
  CHECK_THAT(killed.err, Catch::Contains("killed by SIGTERM"));
  auto j = json::parse(slurp(sb.dir / "k.json"));
  CHECK(j["signal"] == "SIGTERM");
  CHECK(j["exit_code"].is_null());
  CHECK(sb.run({"-q", "--", "sh", "-c", "kill -KILL $$"}).status == 128 + SIGKILL);
}

TEST_CASE("127 for a command not found, 126 for one that cannot run", "[wrap]") {
  Sandbox sb;
  auto nf = sb.run({"--json", sb.dir / "nf.json", "--", "greenrun-no-such-command-xyz"});
  CHECK(nf.status == 127);
  auto j = json::parse(slurp(sb.dir / "nf.json"));
  CHECK(j["status"] == "failed");
  CHECK(j["exit_code"] == 127);
  CHECK_THAT(j["error"].get<std::string>(), Catch::Contains("not found"));
  CHECK_THAT(nf.err, Catch::Contains("greenrun-no-such-command-xyz") && Catch::Contains("not found"));
  CHECK(std::count(nf.err.begin(), nf.err.end(), '\n') == 1);

  write_file(sb.dir / "not-exec.sh", "#!/bin/sh\necho hi\n");
  chmod((sb.dir / "not-exec.sh").c_str(), 0644);
  auto ne = sb.run({"--", sb.dir / "not-exec.sh"});
  CHECK(ne.status == 126);
  CHECK_THAT(ne.err, Catch::Contains("is not executable (chmod +x"));
  CHECK(sb.run({"--", sb.dir.path()}).status == 126);

  // A script without a #! line runs through /bin/sh, as with execvp.
  write_file(sb.dir / "plain.sh", "echo plain\n");
  chmod((sb.dir / "plain.sh").c_str(), 0755);
  auto plain = sb.run({"-q", "--", sb.dir / "plain.sh"});
  CHECK(plain.status == 0);
  CHECK(plain.out == "plain\n");
}

TEST_CASE("an unwritable output path fails with 125 before the command starts", "[wrap]") {
  Sandbox sb;
  auto marker = sb.dir / "ran";
  for (auto args : std::vector<std::vector<std::string>>{
           {"--json", sb.dir / "missing-dir/out.json", "--", "touch", marker},
           {"--json", sb.dir.path(), "--", "touch", marker},
           {"--summary-file", "/proc/greenrun-cannot-write", "--", "touch", marker}}) {
    auto r = sb.run(args);
    CHECK(r.status == 125);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_THAT(r.err, Catch::StartsWith("greenrun: "));
  }
  CHECK_FALSE(std::ifstream(marker).good());
}

TEST_CASE("signals sent to greenrun are forwarded to the command", "[wrap][signals]") {
  Sandbox sb;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) {
    DYNAMIC_SECTION("signal " << sig) {
      auto ready = sb.dir / ("ready" + std::to_string(sig));
      std::string script = "trap 'echo got-" + std::to_string(sig) + "; exit 42' " + std::to_string(sig) +
                           "; touch " + ready + "; while :; do sleep 0.02; done";
      auto bg = start_background(gr({"--", "sh", "-c", script}), sb.dir.path(), sb.env());
      REQUIRE(eventually([&] { return std::ifstream(ready).good(); }));
      kill(bg.pid, sig);
      CHECK(bg.wait(10) == 42);
      CHECK(bg.out() == "got-" + std::to_string(sig) + "\n");
      CHECK_THAT(bg.err(), Catch::Contains("exited with status 42"));
    }
  }
}

TEST_CASE("the command outlives a killed greenrun, and the last checkpoint stays", "[wrap][signals]") {
  Sandbox sb;
  auto pidfile = sb.dir / "pid", done = sb.dir / "done", report = sb.dir / "r.json";
  std::string script = "echo $$ > " + pidfile + "; sleep 1; touch " + done;
  auto bg = start_background(gr({"--json", report, "--", "sh", "-c", script}), sb.dir.path(), sb.env());
  REQUIRE(eventually([&] { return !slurp(pidfile).empty(); }));
  pid_t cmd = std::stoi(slurp(pidfile));
  kill(bg.pid, SIGKILL);
  CHECK(bg.wait(5) == 128 + SIGKILL);
  CHECK(pid_alive(cmd));
  CHECK(eventually([&] { return std::ifstream(done).good(); }, 10));
  auto j = json::parse(slurp(report));
  CHECK(j["status"] == "running");
  CHECK(j["command"][0] == "sh");
}

TEST_CASE("orphaned descendants are reaped and their CPU time counted", "[wrap][tree]") {
  Sandbox sb;
  // sh A starts sh B, which starts a busy grandchild C and exits at once: C is
  // orphaned and re-parented to greenrun (a subreaper), not to init. With a
  // 10 s interval nothing samples C while it runs: only getrusage sees it.
  std::string inner = toy_train_bin() + " 0.6 > /dev/null &";
  std::string script = "sh -c '" + inner + "'; sleep 2";
  auto r = sb.run({"--interval", "10s", "--json", sb.dir / "t.json", "--", "sh", "-c", script});
  REQUIRE(r.status == 0);
  auto j = json::parse(slurp(sb.dir / "t.json"));
  // C busies 0.6 s of wall time; on a loaded machine it gets less CPU, but
  // without the orphan counted the run would show the shells' few ms.
  CHECK(j["cpu_time_s"].get<double>() >= 0.25);
  CHECK(j["descendants_running_at_exit"] == 0);
}

TEST_CASE("greenrun returns when the command exits and counts what is left running", "[wrap][tree]") {
  Sandbox sb;
  auto r = sb.run({"--json", sb.dir / "d.json", "--", "sh", "-c", "sleep 3 >/dev/null 2>&1 & sleep 0.1"});
  CHECK(r.status == 0);
  CHECK(r.seconds < 2.0);
  CHECK_THAT(r.err, Catch::Contains("1 descendant was still running"));
  auto j = json::parse(slurp(sb.dir / "d.json"));
  CHECK(j["descendants_running_at_exit"] == 1);
}

TEST_CASE("the final sample is taken as soon as the command exits", "[wrap][timing]") {
  Sandbox sb;
  // With a 10-minute interval, waiting for the next tick would take 10
  // minutes: a bound of a twentieth of it holds under any load and still fails.
  ProcOptions opt;
  opt.timeout_s = 120;
  auto r = sb.run({"-q", "--interval", "10m", "--json", sb.dir / "r.json", "--", "sleep", "0.2"}, opt);
  CHECK_FALSE(r.timed_out);
  CHECK(r.status == 0);
  CHECK(r.seconds < 30);
  auto j = json::parse(slurp(sb.dir / "r.json"));
  CHECK(j["status"] == "finished");
  CHECK(j["duration_s"].get<double>() >= 0.2);
  CHECK(j["duration_s"].get<double>() < 30);
}

TEST_CASE("the JSON report has the documented fields", "[wrap][json]") {
  Sandbox sb;
  auto path = sb.dir / "run.json";
  auto r = sb.run({"-q", "--interval", "100ms", "--json", path, "--", toy_train_bin(), "0.5"});
  REQUIRE(r.status == 0);
  auto j = json::parse(slurp(path));
  CHECK(j["schema_version"] == 2);
  CHECK(j["greenrun_version"].is_string());
  CHECK(j["status"] == "finished");
  CHECK(j["command"] == json::array({toy_train_bin(), "0.5"}));
  for (auto key : {"started_at", "ended_at"}) {
    std::string t = j[key];
    CHECK(t.size() == 29);
    CHECK(t[10] == 'T');
    CHECK((t[23] == '+' || t[23] == '-'));
  }
  double duration = j["duration_s"];
  CHECK(duration >= 0.5);
  CHECK(duration < 5.0);
  CHECK(j["exit_code"] == 0);
  CHECK(j["signal"].is_null());
  CHECK(j["cpu_time_s"].get<double>() > 0.3);
  CHECK(j["cpu_time_s"].get<double>() <= duration * 1.05 + 0.05);  // one thread
  CHECK(j["peak_rss_bytes"].get<uint64_t>() > 1024 * 1024);
  CHECK(j["scope"] == "process");
  CHECK(j["interval_s"].get<double>() == Approx(0.1));
  CHECK(j["samples"].get<int>() >= 4);
  // Nothing measurable in an empty sysfs: every component is a labelled estimate.
  REQUIRE(j["components"].size() == 2);
  for (const auto& c : j["components"]) {
    CHECK(c["measured"] == false);
    CHECK_FALSE(c["method"].get<std::string>().empty());
    CHECK(c["energy_j_low"].get<double>() <= c["energy_j"].get<double>());
    CHECK(c["energy_j_high"].get<double>() >= c["energy_j"].get<double>());
  }
  CHECK(j["energy_measured"] == "estimated");
  CHECK(j["energy_j"].get<double>() > 0);
  CHECK(j["unused_sources"][0]["reason"].get<std::string>().find("no RAPL") != std::string::npos);
  CHECK(j["unused_sources"][0]["disposition"] == "absent");

  // The timeline: contiguous records whose energies and emissions sum to the totals.
  const json& tl = j["timeline"];
  CHECK(tl["resolution_s"].get<double>() == Approx(0.1));
  CHECK(tl["windows_per_record"] == 1);
  REQUIRE(tl["components"].size() == 2);
  CHECK(tl["components"][0]["name"] == j["components"][0]["name"]);
  CHECK(tl["components"][0]["measured"] == false);
  const json& records = tl["records"];
  REQUIRE(records.size() >= 4);
  double energy = 0, machine = 0, grams = 0, cpu = 0, prev_end = 0;
  for (const auto& rec : records) {
    CHECK(rec["start_s"].get<double>() == Approx(prev_end).margin(1e-9));
    CHECK(rec["end_s"].get<double>() > rec["start_s"].get<double>());
    prev_end = rec["end_s"];
    for (const auto& e : rec["energy_j"]) energy += e.get<double>();
    for (const auto& e : rec["machine_energy_j"]) machine += e.get<double>();
    grams += rec["emissions_g"].get<double>();
    cpu += rec["cpu_s"].get<double>();
    CHECK(rec["intensity_g_per_kwh"].get<double>() == Approx(j["intensity_g_per_kwh"].get<double>()));
    CHECK(rec["measured"][0] == false);
  }
  CHECK(energy == Approx(j["energy_j"].get<double>()).epsilon(1e-9));
  CHECK(machine == Approx(j["machine_energy_j"].get<double>()).epsilon(1e-9));
  CHECK(grams == Approx(j["emissions_g"].get<double>()).epsilon(1e-9));
  CHECK(cpu == Approx(j["cpu_time_s"].get<double>()).margin(0.02));
  CHECK(prev_end == Approx(duration).margin(0.1));  // from the baseline, just before the start
}

TEST_CASE("checkpoints rewrite the JSON while the command runs", "[wrap][json]") {
  Sandbox sb;
  auto path = sb.dir / "cp.json";
  auto bg = start_background(gr({"--checkpoint", "1s", "--interval", "100ms", "--json", path, "--", "sleep", "2.5"}),
                             sb.dir.path(), sb.env());
  int seen_running = 0, last_samples = -1;
  bool grew = false;
  eventually([&] {
    auto text = slurp(path);
    if (text.empty()) return false;
    auto j = json::parse(text);  // never torn: written by rename
    if (j["status"] == "running") {
      ++seen_running;
      int s = j["samples"];
      if (last_samples >= 0 && s > last_samples) grew = true;
      last_samples = s;
    }
    return j["status"] == "finished";
  }, 10);
  CHECK(bg.wait(10) == 0);
  CHECK(seen_running > 0);
  CHECK(grew);
  CHECK(json::parse(slurp(path))["status"] == "finished");
}

TEST_CASE("quiet and summary-file options", "[wrap]") {
  Sandbox sb;
  auto q = sb.run({"-q", "--", "true"});
  CHECK(q.err.empty());
  auto f = sb.run({"--summary-file", sb.dir / "summary.txt", "--", "true"});
  CHECK(f.err.empty());
  CHECK_THAT(slurp(sb.dir / "summary.txt"), Catch::Contains("greenrun: true") && Catch::Contains("exited with status 0"));
}

TEST_CASE("RAPL fixture: a counter that wraps mid-run, DRAM, machine and process scope", "[wrap][rapl]") {
  Sandbox sb;
  const uint64_t range = 262'143'328'850ULL;
  add_powercap_zone(sb.sys, "intel-rapl:0", "package-0", range - 300'000, range);
  add_powercap_zone(sb.sys, "intel-rapl:0:0", "dram", 0, range);
  // A fake counter advancing at 20 W (package) and 2 W (dram) while the command runs.
  std::atomic<bool> stop{false};
  std::thread ticker([&] {
    uint64_t pkg = range - 300'000, dram = 0;
    auto last = std::chrono::steady_clock::now();
    while (!stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      auto now = std::chrono::steady_clock::now();
      double dt = std::chrono::duration<double>(now - last).count();
      last = now;
      pkg = (pkg + static_cast<uint64_t>(20e6 * dt)) % range;
      dram += static_cast<uint64_t>(2e6 * dt);
      set_energy(sb.sys, "intel-rapl:0", pkg);
      set_energy(sb.sys, "intel-rapl:0:0", dram);
    }
  });
  auto path = sb.dir / "rapl.json";
  auto r = sb.run({"--scope", "machine", "--interval", "50ms", "--json", path, "--", "sleep", "1"});
  auto p = sb.run({"--interval", "50ms", "--json", sb.dir / "proc.json", "--", toy_train_bin(), "1"});
  stop = true;
  ticker.join();
  REQUIRE(r.status == 0);
  auto j = json::parse(slurp(path));
  CHECK(j["scope"] == "machine");
  REQUIRE(j["components"].size() == 2);
  CHECK(j["components"][0]["name"] == "cpu");
  CHECK(j["components"][0]["measured"] == true);
  CHECK(j["components"][0]["source"] == "RAPL powercap");
  CHECK(j["components"][1]["name"] == "dram");
  double cpu_j = j["components"][0]["energy_j"], seconds = j["duration_s"];
  CHECK(cpu_j == Approx(20.0 * seconds).epsilon(0.3));  // 20 W across the wrap
  CHECK(j["components"][1]["energy_j"].get<double>() == Approx(2.0 * seconds).epsilon(0.3));
  CHECK(j["energy_j"].get<double>() == Approx(j["machine_energy_j"].get<double>()));
  CHECK_THAT(r.err, Catch::Contains("measured") && Catch::Contains("RAPL powercap: package-0"));

  // Process scope: the busy loop is most of this machine's CPU time, so it gets most of
  // the energy; the machine total is still reported beside it.
  REQUIRE(p.status == 0);
  auto pj = json::parse(slurp(sb.dir / "proc.json"));
  double tree = pj["energy_j"], machine = pj["machine_energy_j"];
  CHECK(machine == Approx(22.0 * pj["duration_s"].get<double>()).epsilon(0.3));
  // Most of it on a quiet machine; on a loaded one (load 13 on 2 cores seen
  // here) the busy loop's share of the CPU time is smaller but never nothing.
  // The exact attribution is tests/accounting_test.cc's.
  CHECK(tree > 0.05 * machine);
  CHECK(tree <= machine + 1e-9);
}

TEST_CASE("permission denied on energy_uj names the fix (run unprivileged)", "[wrap][rapl][privileges]") {
  if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) != 0) {
    WARN("skipped: needs root and setpriv to drop to an unprivileged user");
    return;
  }
  Sandbox sb;
  add_powercap_zone(sb.sys, "intel-rapl:0", "package-0", 123456);
  add_powercap_zone(sb.sys, "intel-rapl:0:0", "dram", 123456);
  for (auto id : {"intel-rapl:0", "intel-rapl:0:0"})
    chmod((sb.sys + "/class/powercap/" + id + "/energy_uj").c_str(), 0400);  // as since Linux 5.10
  auto r = run_proc({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", greenrun_bin(),
                     "--sysfs-root", sb.sys, "--", "true"});
  CHECK(r.status == 0);
  CHECK_THAT(r.err, Catch::Contains("readable by root only"));
  CHECK_THAT(r.err, Catch::Contains("sudo chmod a+r " + sb.sys + "/class/powercap/*/energy_uj"));
  // Never 0 W measured: the CPU figure is an estimate, and says so.
  CHECK_THAT(r.err, !Catch::Contains("measured   RAPL"));
  CHECK_THAT(r.err, Catch::Contains("estimated"));

  SECTION("--no-estimate refuses to start where nothing can be measured, naming the fix") {
    auto n = run_proc({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", greenrun_bin(),
                       "--no-estimate", "--sysfs-root", sb.sys, "--", "true"});
    CHECK(n.status == 125);
    CHECK_THAT(n.err, Catch::Contains("nothing can be measured") && Catch::Contains("sudo chmod a+r"));
  }
}
