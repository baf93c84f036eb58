// greenrun on a cluster: a real single-node Slurm (munged, slurmctld, slurmd
// started by tests/cluster/slurm on loopback), per-rank output paths, one
// meter per node for the machine-level counters, and the merged job total.

#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cluster/slurm.h"
#include "helpers.h"

using namespace greenrun;
using namespace greenrun::test;
using nlohmann::json;

namespace {


// Starts the cluster in `dir`; stops it (by PID) when done.
struct Slurm {
  std::string dir, conf, why;
  explicit Slurm(std::string d) : dir(std::move(d)) {
    auto r = run_proc({source_dir() + "/tests/cluster/slurm", "start", dir}, ProcOptions{"", {}, 60});
    if (r.status == 0) conf = r.out.substr(0, r.out.find('\n'));
    else why = r.err;
  }
  ~Slurm() { run_proc({source_dir() + "/tests/cluster/slurm", "stop", dir}); }
};

}  // namespace

TEST_CASE("Slurm: the step's ranks are read from srun's environment", "[slurm]") {
  auto step = slurm_step(env_of({{"SLURM_JOB_ID", "4242"}, {"SLURM_STEP_ID", "3"}, {"SLURM_PROCID", "5"},
                                 {"SLURM_LOCALID", "1"}, {"SLURM_NODEID", "2"}, {"SLURM_JOB_NUM_NODES", "4"},
                                 {"SLURMD_NODENAME", "gpu07"}, {"CUDA_VISIBLE_DEVICES", "1"}}));
  REQUIRE(step);
  CHECK(step->job_id == "4242");
  CHECK(step->task == 5);
  CHECK(step->local_task == 1);
  CHECK(step->node == 2);
  CHECK(step->nodes == 4);
  CHECK(step->gpus == "1");
  CHECK_FALSE(slurm_step(env_of({{"PATH", "/bin"}})));
}

TEST_CASE("output paths take %j %s %t %n %h %p placeholders, and an unknown one is refused", "[slurm]") {
  SlurmStep s;
  s.job_id = "77";
  s.step_id = "0";
  s.task = 3;
  s.node = 1;
  CHECK(*expand_placeholders("out/%j.%s/rank%t-node%n-%h-%p-100%%.json", s, "gpu07", 1234) ==
        "out/77.0/rank3-node1-gpu07-1234-100%.json");
  CHECK(*expand_placeholders("r%t.json", std::nullopt, "h", 1) == "r.json");  // outside Slurm
  auto bad = expand_placeholders("r%x.json", s, "h", 1);
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error(), Catch::Contains("unknown placeholder %x"));
  CHECK_FALSE(expand_placeholders("r%", s, "h", 1));

  TempDir dir;
  make_dirs(dir / "sys");
  auto r = run_proc({greenrun_bin(), "--json", dir / "r%q.json", "--", "touch", dir / "ran"},
                    ProcOptions{"", {{"GREENRUN_SYSFS_ROOT", dir / "sys"}}, 30});
  CHECK(r.status == 125);
  // One line naming the option and the placeholder, ending as every usage error does.
  CHECK_THAT(r.err, Catch::StartsWith("greenrun: --json") && Catch::Contains("unknown placeholder %q") &&
                        Catch::EndsWith(" (see greenrun --help)\n"));
  CHECK_FALSE(std::filesystem::exists(dir / "ran"));
}

TEST_CASE("Slurm: one meter per node, and the ranks add up to the node's energy once", "[slurm][cluster]") {
  TempDir dir;
  Slurm slurm(dir / "slurm");
  if (slurm.conf.empty()) SKIP_UNLESS_CI("a single-node Slurm would not start here: " << slurm.why);
  FakeRapl rapl(dir / "sys", 20.0);  // the node's package: 20 W whoever asks
  make_dirs(dir / "out");
  ProcOptions opt;
  opt.env = {{"SLURM_CONF", slurm.conf}, {"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
  opt.timeout_s = 120;
  auto r = run_proc({"srun", "-n", "4", "-O", "--chdir", dir.path(), greenrun_bin(), "-q", "--interval", "100ms",
                     "--scope", "machine", "--json", dir / "out/%t.json", "--", toy_train_bin(), "1.5"},
                    opt);
  INFO(r.err);
  REQUIRE(r.status == 0);
  std::vector<std::string> files;
  double machine_sum = 0, longest = 0;
  int meters = 0;
  for (int t = 0; t < 4; ++t) {
    const std::string f = dir / ("out/" + std::to_string(t) + ".json");
    REQUIRE(std::filesystem::exists(f));  // one report per rank: %t expanded
    auto j = json::parse(slurp(f));
    REQUIRE(j.contains("slurm"));
    CHECK(j["slurm"]["task"] == t);
    const std::string role = j["slurm"]["role"];
    if (role != "rank") ++meters;
    machine_sum += j["machine_energy_j"].get<double>();
    longest = std::max(longest, j["duration_s"].get<double>());
    files.push_back(f);
  }
  CHECK(meters >= 1);
  // The node drew 20 W: its ranks' reports add up to that once (not 80 W).
  CHECK(machine_sum == Approx(20.0 * longest).epsilon(0.35));
  std::vector<std::string> argv = {greenrun_bin(), "report", "--json", dir / "job.json"};
  argv.insert(argv.end(), files.begin(), files.end());
  auto merged = run_proc(argv);
  REQUIRE(merged.status == 0);
  auto job = json::parse(slurp(dir / "job.json"));
  CHECK(job["total"]["machine_energy_j"].get<double>() == Approx(machine_sum));
  REQUIRE(job["nodes"].size() == 1);
  CHECK(job["nodes"][0]["reports"] == 4);
  CHECK_THAT(merged.out, Catch::Contains("machines: "));
}

namespace {

/// Every option that names a file greenrun writes, with an extension for it.
const std::vector<std::pair<std::string, std::string>> kOutputOptions = {
    {"--json", "json"},         {"--csv", "csv"},   {"--html", "html"},        {"--metrics", "prom"},
    {"--summary-file", "txt"}, {"--step-summary", "md"}, {"--log-file", "log"}};

std::string host_name() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

}  // namespace

TEST_CASE("every output option takes the placeholders", "[slurm][outputs]") {
  for (const auto& [option, ext] : kOutputOptions) {
    DYNAMIC_SECTION(option) {
      TempDir dir;
      make_dirs(dir / "sys");
      auto r = run_proc({greenrun_bin(), option, dir / ("p-%h-%p." + ext), "--", "true"},
                        ProcOptions{"", {{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""}}, 30});
      INFO(r.err);
      REQUIRE(r.status == 0);
      std::vector<std::string> made;
      for (const auto& e : std::filesystem::directory_iterator(dir.path()))
        if (e.path().filename() != "sys") made.push_back(e.path().filename());
      REQUIRE(made.size() == 1);
      CHECK_THAT(made[0], Catch::StartsWith("p-" + host_name() + "-") && Catch::EndsWith("." + ext));
      CHECK(made[0].find('%') == std::string::npos);
    }
  }
}

TEST_CASE("an expanded value with '/', '..' or a control character is refused for every output option", "[slurm][outputs][security]") {
  const std::vector<std::string> hostile = {"../../escaped", "a/b", "..", "77\nx", "77\x1b[2J"};
  for (const auto& [option, ext] : kOutputOptions)
    for (const auto& job : hostile) {
      DYNAMIC_SECTION(option << " with SLURM_JOB_ID " << job.size() << " bytes") {
        TempDir dir;
        make_dirs(dir / "sys");
        make_dirs(dir / "a/b/out");
        auto r = run_proc({greenrun_bin(), option, dir / ("a/b/out/%j." + ext), "--", "touch", dir / "ran"},
                          ProcOptions{"",
                                      {{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""},
                                       {"SLURM_JOB_ID", job}, {"SLURM_PROCID", "0"}},
                                      30});
        INFO(r.err);
        CHECK(r.status == 125);
        CHECK_FALSE(std::filesystem::exists(dir / "ran"));
        CHECK_THAT(r.err, Catch::StartsWith("greenrun: " + option + " ") &&
                              Catch::Contains("SLURM_JOB_ID") && Catch::Contains("cannot be part of a file name"));
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);  // the value's newline is shown escaped
        CHECK(r.err.find('\x1b') == std::string::npos);
        for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path()))
          CHECK((e.is_directory() || e.path().parent_path() == dir / "sys"));  // no file written anywhere
      }
    }
  SECTION("the host name too (%h), in a UTS namespace of its own") {
    if (geteuid() != 0 || access("/usr/bin/unshare", X_OK) != 0) {
      WARN("skipped: needs root and unshare to set a hostile host name");
      return;
    }
    TempDir dir;
    make_dirs(dir / "sys");
    // hostname(1) refuses such a name; the kernel takes it (sethostname(2)).
    auto r = run_proc({"/usr/bin/unshare", "--uts", "python3", "-c",
                       "import os, socket, sys; socket.sethostname('..evil'); os.execv(sys.argv[1], sys.argv[1:])", greenrun_bin(),
                       "--json", dir / "r-%h.json", "--", "touch", dir / "ran"},
                      ProcOptions{"", {{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""}}, 30});
    INFO(r.err);
    CHECK(r.status == 125);
    CHECK_THAT(r.err, Catch::Contains("the host name '..evil'"));
    CHECK_FALSE(std::filesystem::exists(dir / "ran"));
  }
  SECTION("outside a file name the job id is fine: the node lock is not made with it") {
    auto bad = NodeElection::open(slurm_step(env_of({{"SLURM_JOB_ID", "../../x"}, {"SLURM_PROCID", "0"}})));
    CHECK(bad.leading());
    CHECK_THAT(bad.problem(), Catch::Contains("no node lock"));
  }
}

TEST_CASE("the node lock: one rank leads, the next takes over when it ends, under TMPDIR by node where /dev/shm is missing", "[slurm]") {
  TempDir dir;
  const auto env = env_of({{"SLURM_JOB_ID", "4242"}, {"SLURM_STEP_ID", "7"}, {"SLURM_PROCID", "0"}, {"SLURM_NODEID", "3"},
                           {"TMPDIR", dir.path()}});
  const auto step = slurm_step(env);
  REQUIRE(step);
  const std::string no_shm = dir / "no-such-shm";
  auto first = NodeElection::open(step, env, no_shm);
  CHECK(first.problem().empty());
  CHECK(first.try_lead());
  // Under TMPDIR (not /tmp or /dev/shm), named for the node: nodes may share a TMPDIR.
  const std::string lock = dir / ("greenrun-" + std::to_string(::geteuid()) + "-job4242-step7-node3/node.lock");
  CHECK(std::filesystem::exists(lock));
  {
    const auto other_node = env_of({{"SLURM_JOB_ID", "4242"}, {"SLURM_STEP_ID", "7"}, {"SLURM_PROCID", "1"},
                                    {"SLURM_NODEID", "4"}, {"TMPDIR", dir.path()}});
    auto elsewhere = NodeElection::open(slurm_step(other_node), other_node, no_shm);
    CHECK(elsewhere.try_lead());  // another node's meter, though the first leads on its node
  }
  {
    auto second = NodeElection::open(step, env, no_shm);
    CHECK_FALSE(second.try_lead());
    first = NodeElection();  // the leading rank ends
    CHECK(second.try_lead());
  }
}
