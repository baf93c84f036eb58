// The command's cgroups: the parsers on fixtures, then real runs where this
// machine lets greenrun make groups (root, a writable cgroup file system).

#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <tuple>
#include <nlohmann/json.hpp>

#include "helpers.h"
#include "process/cgroup.h"
#include "process/child.h"
#include "util/fs.h"

using namespace greenrun;
using namespace greenrun::test;
using nlohmann::json;

namespace {

const char* kMountinfo =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "50 23 0:40 / /proc rw,nosuid - proc proc rw\n";

const char* kProcCgroup =
    "9:name=systemd:/\n4:memory:/process_api/d71\n2:cpuacct:/\n1:cpu:/\n0::/\n";

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Why this machine does not let greenrun make the command's groups (CI: root
// and a writable cgroup file system let it), or nothing: the real-run tests skip with it.
std::optional<std::string> no_cgroups_here() {
  auto groups = CommandCgroups::create();
  if (groups) return std::nullopt;
  return "no cgroup for the command here (" + groups.error() + ")";
}

struct Run {
  TempDir dir;
  std::string sys = dir / "sys";
  Run() { make_dirs(sys); }
  ProcResult greenrun(std::vector<std::string> args, double timeout_s = 60) const {
    args.insert(args.begin(), greenrun_bin());
    ProcOptions opt;
    opt.env = {{"GREENRUN_SYSFS_ROOT", sys}};
    opt.timeout_s = timeout_s;
    return run_proc(args, opt);
  }
};

}  // namespace

TEST_CASE("cgroup mounts from mountinfo", "[cgroup]") {
  auto mounts = parse_cgroup_mounts(std::string(kMountinfo) +
                                    "60 31 0:50 /ns /mnt/with\\040space ro,relatime - cgroup2 cgroup2 rw,nsdelegate\n");
  REQUIRE(mounts.size() == 6);
  CHECK(mounts[0].dir == "/sys/fs/cgroup/cpu");
  CHECK_FALSE(mounts[0].v2);
  CHECK(mounts[0].has("cpu"));
  CHECK_FALSE(mounts[0].has("cpuacct"));
  CHECK(mounts[4].v2);
  CHECK_FALSE(mounts[4].read_only);
  CHECK(mounts[5].dir == "/mnt/with space");
  CHECK(mounts[5].root == "/ns");
  CHECK(mounts[5].read_only);
}

TEST_CASE("greenrun's own group in each hierarchy", "[cgroup]") {
  auto mounts = parse_cgroup_mounts(kMountinfo);
  auto own = parse_proc_cgroup(kProcCgroup);
  REQUIRE(own.size() == 5);
  CHECK(own[1].controllers == std::vector<std::string>{"memory"});
  CHECK(own[4].v2);
  CHECK(own_group_dir(mounts[2], own) == "/sys/fs/cgroup/memory/process_api/d71");
  CHECK(own_group_dir(mounts[1], own) == "/sys/fs/cgroup/cpuacct");
  CHECK(own_group_dir(mounts[4], own) == "/sys/fs/cgroup/unified");
  // A cgroup namespace's mount shows its root; a group outside it is not reachable.
  CgroupMount ns;
  ns.v2 = true;
  ns.dir = "/c";
  ns.root = "/jail";
  CHECK(own_group_dir(ns, parse_proc_cgroup("0::/jail/job\n")) == "/c/job");
  CHECK(own_group_dir(ns, parse_proc_cgroup("0::/jailer\n")).empty());
  CHECK(own_group_dir(ns, parse_proc_cgroup("0::/other\n")).empty());
}

TEST_CASE("cgroup counters", "[cgroup]") {
  auto cpu = parse_cgroup_cpu_stat("usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 0\n");
  REQUIRE(cpu);
  CHECK(cpu->usage_us == 1500);
  CHECK(cpu->system_us == 500);
  CHECK_FALSE(parse_cgroup_cpu_stat("usage_usec 1500\n"));
  // v1: exact nanoseconds, split by the sampled user/system ticks.
  auto v1 = parse_cpuacct("4000000\n", "user 30\nsystem 10\n");
  REQUIRE(v1);
  CHECK(v1->usage_us == 4000);
  CHECK(v1->user_us == 3000);
  CHECK(v1->system_us == 1000);
  CHECK(parse_cgroup_resident("cache 5\nrss 1\nmapped_file 2\ntotal_cache 50\ntotal_rss 100\ntotal_mapped_file 20\n", false) == 120u);
  CHECK(parse_cgroup_resident("anon 4096\nfile 8192\nkernel 1\nfile_mapped 1024\n", true) == 5120u);
  CHECK_FALSE(parse_cgroup_resident("anon 4096\n", true));
  std::vector<int> pids;
  parse_cgroup_procs("12\n345\n6\n", pids);
  CHECK(pids == std::vector<int>{12, 345, 6});
  parse_cgroup_procs("", pids);
  CHECK(pids.empty());
}

TEST_CASE("greenrun's group names", "[cgroup]") {
  CHECK(cgroup_owner("greenrun-123") == 123);
  CHECK(cgroup_owner("greenrun-123-2") == 123);
  CHECK(cgroup_owner("greenrun-") == 0);
  CHECK(cgroup_owner("greenrun-12x") == 0);
  CHECK(cgroup_owner("system.slice") == 0);
}

TEST_CASE("hierarchies greenrun must not use are refused with the reason", "[cgroup]") {
  TempDir dir;
  make_dirs(dir / "v2");
  make_dirs(dir / "v1");
  write_file(dir / "self/cgroup", "3:cpu,cpuacct:/\n0::/\n");
  write_file(dir / "self/mountinfo", "41 31 0:38 / " + dir.path() + "/v2 ro,relatime - cgroup2 cgroup2 rw\n" +
                                         "32 31 0:29 / " + dir.path() + "/v1 rw,relatime - cgroup cgroup rw,cpu,cpuacct\n");
  auto groups = CommandCgroups::create({dir / "self"});
  REQUIRE_FALSE(groups);
  CHECK_THAT(groups.error(), Catch::Contains("cgroup v2 (" + dir.path() + "/v2): mounted read-only"));
  CHECK_THAT(groups.error(), Catch::Contains("mounted together with cpu"));
  CHECK(list_dir(dir / "v1").empty());  // nothing made
}

TEST_CASE("the command is born in its cgroup v2 group, with no write to cgroup.procs", "[cgroup]") {
  auto groups = CommandCgroups::create();
  if (!groups || !groups->birth_group()) SKIP_TEST("no cgroup v2 group for the command here");
  SpawnOptions o;
  pthread_sigmask(SIG_SETMASK, nullptr, &o.mask);
  o.sigpipe.sa_handler = SIG_DFL;
  o.cgroup_fds = groups->join_fds();
  std::tie(o.cgroup_dir_join, o.cgroup_dir_fd) = *groups->birth_group();
  auto r = spawn_command({"sleep", "5"}, o);
  REQUIRE(r.pid > 0);
  CHECK(r.cloned_into_cgroup);  // Linux 5.7 and later
  const std::string group = groups->dirs()[o.cgroup_dir_join];
  CHECK_THAT(slurp("/proc/" + std::to_string(r.pid) + "/cgroup"),
             Catch::Contains("0::") && Catch::Contains(group.substr(group.rfind('/'))));
  CHECK(groups->keep_joined(r.join_errors));
  kill(r.pid, SIGKILL);
  waitpid(r.pid, nullptr, 0);
}

TEST_CASE("cgroup CPU time equals the children's getrusage, 500 processes of 5 ms included", "[cgroup][tree]") {
  if (auto why = no_cgroups_here()) SKIP_TEST(*why);
  Run run;
  const std::string report = run.dir / "r.json", cpu_file = run.dir / "cpu";
  auto r = run.greenrun({"-q", "--tree", "cgroup", "--interval", "100ms", "--json", report, "--", tree_workload_bin(),
                         "burst", "500", "5", cpu_file});
  REQUIRE(r.status == 0);
  auto j = json::parse(slurp(report));
  CHECK(j["process_tree"]["method"] == "cgroup");
  const double rusage = std::stod(slurp(cpu_file));
  // 500 x 5 ms of busy wall time, 8 at a time: a few hundred ms of CPU even
  // on a busy machine. The cgroup and getrusage both count the scheduler's
  // run time, so they differ by what the workload does after its getrusage:
  // well under a clock tick.
  CHECK(rusage > 0.2);
  CHECK(j["cpu_time_s"].get<double>() == Approx(rusage).margin(0.01));
  CHECK(j["processes"].get<int>() >= 1);
  for (const auto& dir : j["process_tree"]["cgroups"]) CHECK_FALSE(exists(dir.get<std::string>()));  // removed
}

TEST_CASE("a double-forked daemon's CPU is counted, and its group goes once it has exited", "[cgroup][tree]") {
  if (auto why = no_cgroups_here()) SKIP_TEST(*why);
  Run run;
  const std::string report = run.dir / "d.json", cpu_file = run.dir / "cpu", pid_file = run.dir / "pid";
  auto r = run.greenrun({"-q", "--tree", "cgroup", "--json", report, "--", tree_workload_bin(), "daemon", "300",
                         cpu_file, pid_file});
  REQUIRE(r.status == 0);
  const pid_t daemon = std::stoi(slurp(pid_file));
  auto j = json::parse(slurp(report));
  CHECK(j["process_tree"]["method"] == "cgroup");
  CHECK(j["descendants_running_at_exit"] == 1);
  CHECK(j["cpu_time_s"].get<double>() >= std::stod(slurp(cpu_file)));
  // The daemon still runs in the group: greenrun could not remove it.
  const std::string group = j["process_tree"]["cgroups"][0];
  CHECK(exists(group));
  kill(daemon, SIGKILL);
  REQUIRE(eventually([&] { return slurp(group + "/cgroup.procs").empty(); }));
  // The next greenrun beside it removes the leftover.
  REQUIRE(run.greenrun({"-q", "--", "true"}).status == 0);
  CHECK_FALSE(exists(group));
}

TEST_CASE("a killed greenrun's group is removed by the next run", "[cgroup][signals]") {
  if (auto why = no_cgroups_here()) SKIP_TEST(*why);
  Run run;
  const std::string report = run.dir / "k.json";
  auto bg = start_background({greenrun_bin(), "--tree", "cgroup", "--json", report, "--", "sleep", "0.5"}, run.dir.path(),
                             {{"GREENRUN_SYSFS_ROOT", run.sys}});
  REQUIRE(eventually([&] { return slurp(report).find("cgroups") != std::string::npos; }));
  const std::vector<std::string> groups = json::parse(slurp(report))["process_tree"]["cgroups"];
  REQUIRE_FALSE(groups.empty());
  REQUIRE(eventually([&] { return !slurp(groups[0] + "/cgroup.procs").empty(); }));
  kill(bg.pid, SIGKILL);
  bg.wait(5);
  REQUIRE(eventually([&] { return slurp(groups[0] + "/cgroup.procs").empty(); }));  // sleep ended
  REQUIRE(run.greenrun({"-q", "--", "true"}).status == 0);
  for (const auto& g : groups) CHECK_FALSE(exists(g));
}

TEST_CASE("a read-only cgroup file system: the /proc walk, and why", "[cgroup][tree]") {
  if (auto why = no_cgroups_here()) SKIP_TEST(*why);
  Run run;
  const std::string report = run.dir / "ro.json";
  // A private mount namespace where every cgroup mount is read-only.
  const std::string remount =
      "for m in $(awk '$3 ~ /^cgroup/ {print $2}' /proc/self/mounts); do mount -o remount,bind,ro \"$m\" || exit 99; done; ";
  auto probe = run_proc({"unshare", "-m", "sh", "-c", remount + "exit 0"});
  if (probe.status != 0) SKIP_TEST("cannot make a mount namespace here (" << probe.err << ")");
  ProcOptions opt;
  opt.env = {{"GREENRUN_SYSFS_ROOT", run.sys}};
  auto r = run_proc({"unshare", "-m", "sh", "-c", remount + "exec \"$0\" --json " + report + " -- " +
                                                      tree_workload_bin() + " burst 20 5 " + (run.dir / "cpu"),
                     greenrun_bin()},
                    opt);
  REQUIRE(r.status == 0);
  auto j = json::parse(slurp(report));
  CHECK(j["process_tree"]["method"] == "proc");
  CHECK_THAT(j["process_tree"]["reason"].get<std::string>(), Catch::Contains("mounted read-only"));
  // Every child's CPU time is there (20 x 5 ms); a little more may come from
  // outside the workload's own count (exec and start-up), dearer on a loaded machine.
  const double command_cpu = std::stod(slurp(run.dir / "cpu"));
  CHECK(j["cpu_time_s"].get<double>() >= command_cpu - 0.02);
  CHECK(j["cpu_time_s"].get<double>() <= command_cpu + 0.06);
  CHECK_THAT(r.err, Catch::Contains("process tree  /proc walk: no cgroup:") && Catch::Contains("[measured: /proc, getrusage]"));

  SECTION("greenrun sensors says so too") {
    auto sensors = run_proc({"unshare", "-m", "sh", "-c", remount + "exec \"$0\" sensors --json", greenrun_bin()}, opt);
    REQUIRE(sensors.status == 0);
    auto s = json::parse(sensors.out);
    CHECK(s["process_tree"]["method"] == "proc");
    CHECK_THAT(s["process_tree"]["reason"].get<std::string>(), Catch::Contains("mounted read-only"));
  }
  SECTION("--tree cgroup refuses to run without one") {
    auto forced = run_proc({"unshare", "-m", "sh", "-c", remount + "exec \"$0\" --tree cgroup -- true", greenrun_bin()}, opt);
    CHECK(forced.status == 125);
    CHECK_THAT(forced.err, Catch::Contains("--tree cgroup: ") && Catch::Contains("mounted read-only"));
  }
}
