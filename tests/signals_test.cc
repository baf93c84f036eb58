// Signals while vendor libraries hold threads of their own. The fake NVML and
// ROCm SMI start threads at init that unblock every signal (as a library may):
// a process-directed signal can then be delivered to one of them, where a
// SIGCHLD would be lost and a SIGTERM would kill greenrun by its default action.

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "helpers.h"

using namespace greenrun::test;
using nlohmann::json;

namespace {

double wall_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// A box with one fake GPU of the given vendor: greenrun loads the fake library,
// whose init leaves its threads behind.
struct GpuBox {
  TempDir dir;
  std::string sys = dir / "sys", config = dir / "gpu.conf";
  bool rocm;
  explicit GpuBox(bool amd) : rocm(amd) {
    make_dirs(sys);
    write_file(config, "count=1\ngpu0.power_w=100\ngpu0.procs=none\n");
  }
  std::vector<std::string> argv(std::vector<std::string> args) const {
    std::vector<std::string> a = {greenrun_bin()};
    if (rocm) a.insert(a.end(), {"--rocm-lib", FAKE_ROCM_LIB});
    else a.insert(a.end(), {"--nvml-lib", FAKE_NVML_LIB});
    a.insert(a.end(), args.begin(), args.end());
    return a;
  }
  std::map<std::string, std::string> env() const {
    return {{"GREENRUN_SYSFS_ROOT", sys}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"},
            {rocm ? "FAKE_ROCM_CONFIG" : "FAKE_NVML_CONFIG", config}};
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

TEST_CASE("exit latency with a vendor library's threads: 50 runs with each fake, no lost SIGCHLD", "[signals][gpu]") {
  for (bool amd : {false, true}) {
    DYNAMIC_SECTION((amd ? "ROCm SMI" : "NVML")) {
      GpuBox box(amd);
      const std::string stamp = box.dir / "stamp";
      // The command's last act is writing the time; greenrun has nothing to
      // wake it but the SIGCHLD: a 10 s interval, no checkpoints, no outputs.
      const auto argv = box.argv({"-q", "--interval", "10s", "--checkpoint", "0", "--", "sh", "-c",
                                  "sleep 0.05; date +%s.%N > " + stamp});
      std::vector<double> latency;
      for (int i = 0; i < 50; ++i) {
        ProcOptions opt;
        opt.env = box.env();
        opt.timeout_s = 15;
        auto r = run_proc(argv, opt);
        const double ended = wall_now();
        REQUIRE_FALSE(r.timed_out);
        REQUIRE(r.status == 0);
        latency.push_back(ended - std::stod(slurp(stamp)));
      }
      const double worst = *std::max_element(latency.begin(), latency.end());
      INFO("median " << median(latency) << " s, worst " << worst << " s");
      CHECK(median(latency) < 0.1);
      CHECK(worst < 1.0);
    }
  }
}

TEST_CASE("SIGTERM, SIGINT, SIGHUP and SIGUSR1 to greenrun's pid reach the command once, with a final report",
          "[signals][gpu]") {
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) {
    DYNAMIC_SECTION("signal " << sig) {
      GpuBox box(false);
      const std::string ready = box.dir / "ready", got = box.dir / "got", report = box.dir / "r.json";
      const std::string n = std::to_string(sig);
      // Counts each delivery, waits long enough for a second one to show, then
      // dies of the signal as a command without a handler would.
      const std::string script = "trap 'echo x >> " + got + "' " + n + "; touch " + ready + "; while [ ! -s " + got +
                                 " ]; do sleep 0.02; done; sleep 0.5; trap - " + n + "; kill -" + n + " $$";
      auto bg = start_background(box.argv({"--json", report, "--interval", "100ms", "--", "sh", "-c", script}),
                                 box.dir.path(), box.env());
      REQUIRE(eventually([&] { return std::ifstream(ready).good(); }));
      REQUIRE(kill(bg.pid, sig) == 0);  // greenrun's pid, not its group
      CHECK(bg.wait(10) == 128 + sig);
      CHECK(slurp(got) == "x\n");
      auto j = json::parse(slurp(report));
      CHECK(j["status"] == "finished");
      CHECK(j["signal"] == std::string("SIG") + sigabbrev_np(sig));
    }
  }
}

TEST_CASE("a signal greenrun was given ignored is ignored in the command, SIGCHLD included", "[signals]") {
  GpuBox box(false);
  // SigIgn in /proc/PID/status is a hex mask: bit N-1 for signal N.
  // Not through sh: dash gives up an ignored SIGCHLD at its start.
  const auto argv = box.argv({"-q", "--", "grep", "SigIgn", "/proc/self/status"});
  const std::string out = box.dir / "ign";
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    reset_signals();
    signal(SIGUSR2, SIG_IGN);
    signal(SIGCHLD, SIG_IGN);  // the kernel reaps children itself: greenrun must still see its command's exit
    for (const auto& [k, v] : box.env()) setenv(k.c_str(), v.c_str(), 1);
    const int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0) _exit(126);
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  const std::string line = slurp(out);
  REQUIRE(line.rfind("SigIgn:", 0) == 0);
  const unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
  CHECK((mask >> (SIGUSR2 - 1) & 1) == 1);
  CHECK((mask >> (SIGCHLD - 1) & 1) == 1);
}

TEST_CASE("a flood of marks cannot hold greenrun after the command exits, nor delay a signal", "[signals][marks]") {
  TempDir dir;
  make_dirs(dir / "sys");
  const std::map<std::string, std::string> env = {{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""}};
  SECTION("the command's exit") {
    ProcOptions opt;
    opt.env = env;
    opt.timeout_s = 30;
    // `yes` writes marks for 6 s after the command has exited (0.5 s).
    auto r = run_proc({greenrun_bin(), "-q", "--", "sh", "-c", "timeout 6 yes phase > \"$GREENRUN_MARK\" & sleep 0.5; exit 4"},
                      opt);
    CHECK(r.status == 4);
    CHECK(r.seconds < 4.0);  // 6 s and more when the marks came first
  }
  SECTION("a SIGTERM during the flood") {
    const std::string ready = dir / "ready", got = dir / "got";
    const std::string script = "trap 'echo x >> " + got + "; exit 7' TERM; timeout 8 yes phase > \"$GREENRUN_MARK\" & touch " +
                               ready + "; while :; do sleep 0.02; done";
    auto bg = start_background({greenrun_bin(), "-q", "--", "sh", "-c", script}, dir.path(), env);
    REQUIRE(eventually([&] { return std::ifstream(ready).good(); }));
    usleep(300'000);  // the flood is on
    const double sent = wall_now();
    REQUIRE(kill(bg.pid, SIGTERM) == 0);
    CHECK(bg.wait(20) == 7);
    CHECK(wall_now() - sent < 4.0);
    CHECK(slurp(got) == "x\n");
  }
}
