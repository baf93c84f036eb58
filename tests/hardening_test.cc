// The failures an adversarial pass found, end to end against the real
// binary: planted files, hostile values, broken pipes, signals, full disks.

#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "helpers.h"

using namespace greenrun::test;
using nlohmann::json;

namespace {

struct Sandbox {
  TempDir dir;
  std::string sys = dir / "sys";
  Sandbox() { make_dirs(sys); }
  std::map<std::string, std::string> env() const {
    return {{"GREENRUN_SYSFS_ROOT", sys}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
  }
  ProcResult run(std::vector<std::string> args, std::map<std::string, std::string> extra = {}) const {
    args.insert(args.begin(), greenrun_bin());
    ProcOptions opt;
    opt.env = env();
    for (auto& [k, v] : extra) opt.env[k] = v;
    opt.timeout_s = 60;
    return run_proc(args, opt);
  }
  bool ran() const { return std::ifstream(dir / "ran").good(); }
  std::vector<std::string> touch() const { return {"touch", dir / "ran"}; }
};

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

size_t lines_in(const std::string& path) {
  auto text = slurp(path);
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("a report path planted as another user's symlink stops the run before the command", "[hardening][security]") {
  if (geteuid() != 0) SKIP_TEST("needs root to plant a link owned by another user");
  Sandbox sb;
  const std::string shared = sb.dir / "shared";
  make_dirs(shared);
  ::chmod(shared.c_str(), 01777);
  write_file(sb.dir / "victim", "precious\n");
  REQUIRE(symlink((sb.dir / "victim").c_str(), (shared + "/report.json").c_str()) == 0);
  REQUIRE(lchown((shared + "/report.json").c_str(), 65534, 65534) == 0);
  auto r = sb.run(std::vector<std::string>{"-q", "--json", shared + "/report.json", "--"} + sb.touch());
  CHECK(r.status == 125);
  CHECK_FALSE(sb.ran());
  CHECK_THAT(r.err, Catch::Contains("symbolic link owned by another user"));
  CHECK(slurp(sb.dir / "victim") == "precious\n");
  // Every option that names a file greenrun writes.
  for (const std::string option : {"--csv", "--summary-file", "--step-summary", "--metrics", "--html", "--log-file"}) {
    const std::string link = shared + "/out" + option;
    REQUIRE(symlink((sb.dir / "victim").c_str(), link.c_str()) == 0);
    REQUIRE(lchown(link.c_str(), 65534, 65534) == 0);
    std::filesystem::remove(sb.dir / "ran");
    auto o = sb.run(std::vector<std::string>{option, link, "--"} + sb.touch());
    INFO(option << ": " << o.err);
    CHECK(o.status == 125);
    CHECK_FALSE(sb.ran());
    CHECK(slurp(sb.dir / "victim") == "precious\n");
  }
}

TEST_CASE("NaN and infinity are refused wherever a number is read", "[hardening][inputs]") {
  Sandbox sb;
  for (auto args : std::vector<std::vector<std::string>>{{"--intensity", "nan"},
                                                         {"--pue", "nan"},
                                                         {"--cpu-tdp", "inf"},
                                                         {"--cpu-idle-w", "NaN"},
                                                         {"--ram-w-per-gb", "-inf"},
                                                         {"--gpu-tdp", "nan"}}) {
    auto r = sb.run(args + std::vector<std::string>{"--"} + sb.touch());
    CHECK(r.status == 125);
    CHECK_THAT(r.err, Catch::Contains(args[0]));
  }
  CHECK_FALSE(sb.ran());
  auto env = sb.run(std::vector<std::string>{"--"} + sb.touch(), {{"GREENRUN_INTENSITY", "nan"}});
  CHECK(env.status == 125);
  CHECK_THAT(env.err, Catch::Contains("GREENRUN_INTENSITY=nan"));
  write_file(sb.dir / "config", "pue = nan\n");
  auto config = sb.run(std::vector<std::string>{"--"} + sb.touch(), {{"GREENRUN_CONFIG", sb.dir / "config"}});
  CHECK(config.status == 125);
  CHECK_THAT(config.err, Catch::Contains(sb.dir / "config line 1"));
  CHECK_FALSE(sb.ran());

  SECTION("a nan in a shipped data file names the file and the line") {
    std::filesystem::copy(source_dir() + "/share", sb.dir / "share", std::filesystem::copy_options::recursive);
    auto pue = slurp(sb.dir / "share/intensity/pue.csv");
    auto second_line = pue.find('\n') + 1;
    auto comma = pue.find(',', second_line);
    auto next = pue.find_first_of(",\n", comma + 1);
    pue.replace(comma + 1, next - comma - 1, "nan");
    write_file(sb.dir / "share/intensity/pue.csv", pue);
    auto r = sb.run(std::vector<std::string>{"--region", "FR", "--"} + sb.touch(), {{"GREENRUN_DATA_DIR", sb.dir / "share"}});
    CHECK(r.status == 125);
    CHECK_THAT(r.err, Catch::Contains("pue.csv line 2"));
    CHECK_FALSE(sb.ran());
  }
}

TEST_CASE("bytes that are not UTF-8 never cost the command's status or the report", "[hardening][json]") {
  Sandbox sb;
  const std::string bad = "caf\xe9-\xff";
  auto r = sb.run({"--json", sb.dir / "r.json", "--cpu-model", bad, "--", "sh", "-c", "exit 7", bad},
                  {{"TZ", "Europe/\xff"}});
  CHECK(r.status == 7);
  auto j = json::parse(slurp(sb.dir / "r.json"));
  CHECK(j["status"] == "finished");
  CHECK(j["exit_code"] == 7);
  CHECK(j["command"][3] == "caf\xef\xbf\xbd-\xef\xbf\xbd");  // U+FFFD for each invalid byte
}

TEST_CASE("a closed stdout pipe never stops the command from running", "[hardening][signals]") {
  Sandbox sb;
  // `| true`: the reader is gone before greenrun writes anything.
  auto r = run_proc({"bash", "-c", "sleep 0.2 | true; " + greenrun_bin() + " --json /dev/stdout -- touch " + sb.dir / "ran" +
                                       " | true; echo \"status=${PIPESTATUS[0]}\" >&2"},
                    ProcOptions{"", sb.env(), 30});
  CHECK(sb.ran());
  CHECK_THAT(r.err, Catch::Contains("status=0"));
}

TEST_CASE("signals greenrun used to die of are forwarded, and greenrun reports", "[hardening][signals]") {
  Sandbox sb;
  for (int sig : {SIGALRM, SIGVTALRM, SIGXCPU, SIGSEGV, SIGRTMIN + 3}) {
    const std::string name = std::to_string(sig);
    auto bg = start_background({greenrun_bin(), "--json", sb.dir / "s.json", "--", "sh", "-c",
                                "trap 'exit 3' " + name + "; echo > " + sb.dir / "ready" + "; while :; do sleep 0.02; done"},
                               sb.dir.path(), sb.env());
    REQUIRE(eventually([&] { return std::ifstream(sb.dir / "ready").good(); }));
    std::filesystem::remove(sb.dir / "ready");
    REQUIRE(kill(bg.pid, sig) == 0);
    CHECK(bg.wait(10) == 3);
    CHECK_THAT(bg.err(), Catch::Contains("exited with status 3"));
    CHECK(json::parse(slurp(sb.dir / "s.json"))["status"] == "finished");
  }
}

TEST_CASE("a signal sent to greenrun's whole process group reaches the command once", "[hardening][signals]") {
  Sandbox sb;
  const std::string log = sb.dir / "got";
  // greenrun in a process group of its own, as a shell job is.
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    reset_signals();
    for (auto& [k, v] : sb.env()) setenv(k.c_str(), v.c_str(), 1);
    execl(greenrun_bin().c_str(), greenrun_bin().c_str(), "-q", "--", "sh", "-c",
          ("trap 'echo usr1 >> " + log + "' USR1; trap 'exit 0' TERM; echo > " + sb.dir / "ready" +
           "; while :; do sleep 0.01; done")
              .c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  setpgid(pid, pid);
  REQUIRE(eventually([&] { return std::ifstream(sb.dir / "ready").good(); }));
  for (size_t i = 1; i <= 100; ++i) {
    REQUIRE(kill(-pid, SIGUSR1) == 0);  // kill -USR1 -- -PGID
    REQUIRE(eventually([&] { return lines_in(log) >= i; }, 5));
  }
  timespec settle{0, 200'000'000};
  nanosleep(&settle, nullptr);
  CHECK(lines_in(log) == 100);  // not 200
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a full filesystem stops the run before the command, and a torn CSV row is taken back", "[hardening][fs]") {
  if (geteuid() != 0) SKIP_TEST("needs root to mount a small tmpfs");
  Sandbox sb;
  const std::string disk = sb.dir / "disk";
  make_dirs(disk);
  if (mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=64k") != 0) SKIP_TEST("cannot mount a tmpfs here: " << strerror(errno));
  struct Unmount {
    std::string path;
    ~Unmount() { umount2(path.c_str(), MNT_DETACH); }
  } unmount{disk};
  write_file(disk + "/old.json", "{\"from\": \"an earlier run\"}\n");
  {
    std::ofstream fill(disk + "/fill", std::ios::binary);
    std::string block(4096, 'x');
    while (fill.write(block.data(), static_cast<std::streamsize>(block.size())) && fill.flush()) {
    }
  }
  auto full = sb.run(std::vector<std::string>{"-q", "--json", disk + "/old.json", "--"} + sb.touch());
  CHECK(full.status == 125);
  CHECK_FALSE(sb.ran());
  CHECK_THAT(full.err, Catch::Contains("No space left"));

  // A file 50 bytes short of a page, on a disk with no page left: the row
  // starts to be written and cannot end.
  std::filesystem::remove(disk + "/fill");
  std::filesystem::remove(disk + "/old.json");
  auto header = run_proc({greenrun_bin(), "-q", "--region", "FR", "--csv", "/dev/stdout", "--", "true"}, ProcOptions{"", sb.env(), 30});
  std::string first = header.out;  // the header and one row
  while (first.size() < 4046) first += std::string(std::min<size_t>(99, 4045 - first.size()), 'r') + "\n";
  REQUIRE(first.size() == 4046);
  write_file(disk + "/e.csv", first);
  {
    std::ofstream fill(disk + "/fill", std::ios::binary);
    std::string block(512, 'x');
    while (fill.write(block.data(), static_cast<std::streamsize>(block.size())) && fill.flush()) {
    }
  }
  auto torn = sb.run({"-q", "--region", "FR", "--csv", disk + "/e.csv", "--", "true"});
  CHECK(torn.status == 0);  // the command's status
  CHECK_THAT(torn.err, Catch::Contains("cannot append"));
  CHECK(slurp(disk + "/e.csv") == first);  // no torn row left to glue the next one to
}

TEST_CASE("with file capabilities, user-named libraries and roots are ignored and the command gets no capability", "[hardening][security]") {
  if (geteuid() != 0) SKIP_TEST("needs root to set file capabilities");
  if (access("/usr/sbin/setcap", X_OK) != 0) SKIP_UNLESS_CI("setcap is not installed (libcap2-bin)");
  TempDir dir;
  // Laid out as an install: a privileged greenrun reads only the data beside it.
  const std::string bin = dir / "bin/greenrun";
  std::filesystem::create_directories(dir / "bin");
  std::filesystem::create_directories(dir / "share");
  std::filesystem::copy_file(greenrun_bin(), bin);
  std::filesystem::copy(std::string(SOURCE_DIR) + "/share", dir / "share/greenrun", std::filesystem::copy_options::recursive);
  ::chmod(dir.path().c_str(), 0777);
  if (run_proc({"/usr/sbin/setcap", "cap_perfmon+ep", bin}).status != 0)
    SKIP_TEST("this filesystem does not keep file capabilities");
  write_file(dir / "nvml.conf", "count=1\ngpu0.power_w=300\n");
  ProcOptions opt;
  opt.env = {{"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}, {"FAKE_NVML_CONFIG", dir / "nvml.conf"},
             {"GREENRUN_DEV_ROOT", dir.path()}};
  auto r = run_proc({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin, "-q", "--nvml-lib",
                     FAKE_NVML_LIB, "--json", dir / "r.json", "--", "sh", "-c", "grep ^Cap /proc/self/status > " + dir / "caps"},
                    opt);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.err, Catch::Contains("raised privileges") && Catch::Contains("--nvml-lib") &&
                        Catch::Contains("GREENRUN_DEV_ROOT"));
  auto j = json::parse(slurp(dir / "r.json"));
  CHECK_FALSE(component(j, "gpu0"));  // the user's library was never loaded
  auto caps = slurp(dir / "caps");
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapAmb"})
    CHECK_THAT(caps, Catch::Contains(std::string(set) + ":\t0000000000000000"));

  // The same library from the user's config file is ignored too, and help does not start man.
  write_file(dir / "config", std::string("nvml-lib = ") + FAKE_NVML_LIB + "\n");
  ::chmod((dir / "config").c_str(), 0644);
  auto c = run_proc({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin, "-q", "--config",
                     dir / "config", "--json", dir / "c.json", "--", "true"},
                    opt);
  REQUIRE(c.status == 0);
  CHECK_THAT(c.err, Catch::Contains("raised privileges") && Catch::Contains(dir / "config line 1"));
  CHECK_FALSE(component(json::parse(slurp(dir / "c.json")), "gpu0"));
  auto h = run_proc({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin, "help", "signals"}, opt);
  CHECK(h.status == 2);
  CHECK_THAT(h.err, Catch::Contains("raised privileges") && Catch::Contains("man greenrun"));
}

TEST_CASE("processes that lived between two ticks are counted when greenrun reaps them", "[hardening][tree]") {
  Sandbox sb;
  // No tick during the run (10 s interval): the command and the orphaned
  // `sleep` are seen only when greenrun reaps them.
  const std::vector<std::string> args = {"-q", "--interval", "10s", "--json", sb.dir / "p.json", "--", "sh", "-c",
                                         "sh -c 'sleep 0.1 &'; sleep 0.3"};
  auto r = sb.run(args);
  REQUIRE(r.status == 0);
  auto j = json::parse(slurp(sb.dir / "p.json"));
  if (j["processes_counted_by"] == "samples") {
    CHECK(j["processes"] == 2);
    return;
  }
  // As root the kernel's fork events count every start: both shells and both sleeps.
  CHECK(j["processes_counted_by"] == "proc connector");
  CHECK(j["processes"] == 4);
  if (access("/usr/bin/setpriv", X_OK) != 0) return;
  ::chmod(sb.dir.path().c_str(), 0777);
  std::filesystem::remove(sb.dir / "p.json");  // root's: nobody may not replace it
  std::vector<std::string> argv = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", greenrun_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcOptions opt;
  opt.env = sb.env();
  REQUIRE(run_proc(argv, opt).status == 0);
  j = json::parse(slurp(sb.dir / "p.json"));
  CHECK(j["processes_counted_by"] == "samples");
  CHECK(j["processes"] == 2);  // the two greenrun reaped, seen as zombies
}

TEST_CASE("each way a command or a value can be wrong gets its own one-line message", "[hardening][inputs]") {
  Sandbox sb;
  write_file(sb.dir / "script.sh", "#!/usr/bin/no-such-interpreter\necho hi\n");
  ::chmod((sb.dir / "script.sh").c_str(), 0755);
  write_file(sb.dir / "plain.txt", "not a program\n");
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string says;
  };
  for (const auto& c : std::vector<Case>{
           {{"--", "/nonexistent"}, 127, "'/nonexistent': no such file"},
           {{"--", "greenrun-no-such-command"}, 127, "not found in PATH"},
           {{"--", sb.dir / "script.sh"}, 127, "its interpreter /usr/bin/no-such-interpreter"},
           {{"--", sb.dir.path()}, 126, "is a directory"},
           {{"--", sb.dir / "plain.txt"}, 126, "is not executable (chmod +x"},
           {{"--interval", "999999h", "--", "true"}, 125, "--interval 999999h is too long"},
           {{"--interval", "0.5ms", "--", "true"}, 125, "at least 1ms, e.g. 250ms"},
           {{"--checkpoint", "soon", "--", "true"}, 125, "--checkpoint soon is not a duration"},
           {{"--json", "", "--", "true"}, 125, "--json was given an empty value"},
           {{"--region", "", "--", "true"}, 125, "--region was given an empty value"},
       }) {
    auto r = sb.run(c.args);
    INFO(r.err);
    CHECK(r.status == c.status);
    CHECK_THAT(r.err, Catch::Contains(c.says));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  auto env = sb.run({"--", "true"}, {{"GREENRUN_INTERVAL", "fast"}});
  CHECK(env.status == 125);
  CHECK_THAT(env.err, Catch::Contains("GREENRUN_INTERVAL=fast is not a duration"));
}

TEST_CASE("an idle command's energy is close to zero, whatever runs beside it", "[hardening][attribution]") {
  Sandbox sb;
  for (bool busy_beside : {false, true}) {
    pid_t busy = -1;
    if (busy_beside) {
      busy = fork();
      if (busy == 0) execl("/bin/sh", "sh", "-c", "while :; do :; done", static_cast<char*>(nullptr));
    }
    auto r = sb.run({"-q", "--json", sb.dir / "idle.json", "--", "sleep", "2.5"});
    if (busy > 0) {
      kill(busy, SIGKILL);
      waitpid(busy, nullptr, 0);
    }
    REQUIRE(r.status == 0);
    auto j = json::parse(slurp(sb.dir / "idle.json"));
    INFO("busy beside: " << busy_beside << ", timeline: " << j["timeline"]["records"].dump());
    // sleep uses about a millisecond of CPU: at a few watts per busy core,
    // millijoules; what else runs (other tests, here) moves the machine's
    // energy, never the command's share beyond a sliver of it.
    const double machine = j["machine_energy_j"].get<double>();
    CHECK(machine > 1.0);  // while the machine drew its watts
    // Under a sanitizer greenrun's own child, between its fork and the exec,
    // is slower, and that child is already the command's.
    const double share = sanitized() ? 0.03 : 0.01;
    CHECK(j["energy_j"].get<double>() < std::max(0.02, share * machine));
  }
}

TEST_CASE("1 ms sampling with checkpoints, signals, marks and orphans (the TSan build runs it too)", "[hardening][threads]") {
  Sandbox sb;
  const std::string script = "trap 'echo usr1 >> " + sb.dir / "got" + "' USR1; "
                             "for i in 1 2 3 4 5; do (sleep 0.2 &) ; echo step$i > \"$GREENRUN_MARK\"; sleep 0.3; done; "
                             "exit 0";  // USR1 goes to the command's whole group: a sleep it ends is no failure
  auto bg = start_background({greenrun_bin(), "--interval", "1ms", "--checkpoint", "1s", "--json", sb.dir / "t.json",
                              "--", "sh", "-c", script},
                             sb.dir.path(), sb.env());
  for (int i = 0; i < 5; ++i) {
    timespec ts{0, 250'000'000};
    nanosleep(&ts, nullptr);
    kill(bg.pid, SIGUSR1);
  }
  REQUIRE(bg.wait(30) == 0);
  INFO(bg.err());
  auto j = json::parse(slurp(sb.dir / "t.json"));
  CHECK(j["status"] == "finished");
  CHECK(j["phases"].size() == 6);
  CHECK(j["samples"].get<int>() > 500);
  CHECK(j["processes"].get<int>() >= 6);  // the command and five orphans at least
  CHECK(lines_in(sb.dir / "got") == 5);
}
