// NVIDIA GPUs through the real dlopen/NVML code against a fake
// libnvidia-ml.so.1 built by the test suite (tests/fakes/fake_nvml.c).

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>
#include <nlohmann/json.hpp>

#include "helpers.h"
#include "process/procfs.h"
#include "report/report.h"
#include "sensors/nvml_source.h"
#include "util/csv.h"

using namespace greenrun;
using namespace greenrun::test;
using nlohmann::json;

namespace {

struct GpuBox {
  TempDir dir;
  std::string sys = dir / "sys", config = dir / "nvml.conf";
  GpuBox() { make_dirs(sys); }
  void configure(const std::string& text) { write_file(config, text); }
  ProcResult run(std::vector<std::string> args, std::map<std::string, std::string> env = {}) const {
    std::vector<std::string> argv = {greenrun_bin(), "--json", dir / "g.json"};
    if (std::find(args.begin(), args.end(), "--interval") == args.end()) argv.insert(argv.end(), {"--interval", "100ms"});
    if (!env.count("NO_NVML_FLAG")) argv.insert(argv.end(), {"--nvml-lib", FAKE_NVML_LIB});
    env.erase("NO_NVML_FLAG");
    argv.insert(argv.end(), args.begin(), args.end());
    ProcOptions opt;
    opt.env = {{"GREENRUN_SYSFS_ROOT", sys}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}, {"FAKE_NVML_CONFIG", config}};
    for (auto& [k, v] : env) opt.env[k] = v;
    return run_proc(argv, opt);
  }
  json report() const { return json::parse(slurp(dir / "g.json")); }
};


/// The fake reports the pids of the /proc it reads, as the real driver does on
/// the host. greenrun matches them to the command's only in the initial PID
/// namespace; where the tests run in a container it shares GPUs by CPU time,
/// as it must with a real driver there, and per-process shares are not checked.
bool pids_matched() { return in_initial_pid_namespace("/proc"); }

const std::string kTwoGpus =
    "count=2\n"
    "gpu0.name=NVIDIA H100 80GB HBM3\ngpu0.uuid=GPU-aaaa1111-0000\ngpu0.power_w=300\ngpu0.procs=children\n"
    "gpu1.name=NVIDIA A100-SXM4-80GB\ngpu1.uuid=GPU-bbbb2222-0000\ngpu1.power_w=200\ngpu1.procs=other\n";

}  // namespace

TEST_CASE("CUDA_VISIBLE_DEVICES: indices, UUIDs, prefixes and MIG devices, up to the first invalid entry", "[nvml]") {
  std::vector<std::string> uuids = {"GPU-aaaa1111-0000", "GPU-bbbb2222-0000", "GPU-bbbb3333-0000"};
  auto mig_parent = [](const std::string& uuid) -> std::optional<int> {
    if (uuid == "MIG-a65afc88-50b5-5ccf-b0a8-f93b3247ae9e") return 2;
    return std::nullopt;
  };
  constexpr auto V = Visibility::Visible, H = Visibility::Hidden, U = Visibility::Unknown;
  auto gpus = [&](std::optional<std::string> env) { return cuda_visibility(env, uuids, mig_parent).gpus; };
  using Vs = std::vector<Visibility>;
  CHECK(gpus(std::nullopt) == Vs{V, V, V});
  CHECK(gpus("1,0") == Vs{V, V, H});
  CHECK(gpus("GPU-bbbb3333-0000") == Vs{H, H, V});
  CHECK(gpus("aaaa") == Vs{V, H, H});
  CHECK(gpus("0,7,1") == Vs{V, H, H});  // 7 is invalid: stop there
  CHECK(gpus("bbbb") == Vs{H, H, H});   // ambiguous prefix
  CHECK(gpus("") == Vs{H, H, H});
  CHECK(gpus("-1") == Vs{H, H, H});
  CHECK(gpus("MIG-a65afc88-50b5-5ccf-b0a8-f93b3247ae9e") == Vs{H, H, V});
  CHECK(gpus("MIG-GPU-bbbb2222-0000/7/0") == Vs{H, V, H});  // the legacy form, by its GPU's UUID
  // What greenrun cannot resolve may still be valid to CUDA: unknown, never hidden.
  CHECK(gpus("0,MIG-ffffffff-50b5-5ccf-b0a8-f93b3247ae9e,1") == Vs{V, U, U});
  CHECK(gpus("MIG-GPU-cccc4444-0000/1/0") == Vs{U, U, U});
  CHECK(gpus("MIG-GPU-aaaa1111-0000") == Vs{U, U, U});  // no instance ids
  CHECK(cuda_visibility("MIG-x", uuids, mig_parent).unresolved == "MIG-x");
}

TEST_CASE("two GPUs: per-GPU measured energy, attributed by their running processes", "[nvml]") {
  GpuBox b;
  b.configure(kTwoGpus);
  auto r = b.run({"--", "sleep", "1"});
  REQUIRE(r.status == 0);
  auto j = b.report();
  const json* g0 = component(j, "gpu0");
  const json* g1 = component(j, "gpu1");
  REQUIRE(g0);
  REQUIRE(g1);
  double t = j["duration_s"];
  CHECK((*g0)["measured"] == true);
  CHECK((*g0)["source"] == "NVML energy counter");
  CHECK((*g0)["detail"][0]["label"] == "NVIDIA H100 80GB HBM3");
  CHECK((*g0)["detail"][0]["origin"] == "GPU-aaaa1111-0000");
  CHECK((*g0)["machine_energy_j"].get<double>() == Approx(300 * t).epsilon(0.15));
  CHECK((*g1)["machine_energy_j"].get<double>() == Approx(200 * t).epsilon(0.15));
  if (pids_matched()) {
    // gpu0 runs only the command's process: all of it; gpu1 only another's: none.
    CHECK((*g0)["energy_j"].get<double>() == Approx((*g0)["machine_energy_j"].get<double>()).epsilon(0.15));
    CHECK((*g1)["energy_j"].get<double>() == 0);
  }
  CHECK_THAT(r.err, Catch::Contains("gpu0") && Catch::Contains("measured   NVML energy counter: NVIDIA H100"));
}

TEST_CASE("a GPU without an energy counter: power integrated, never 0", "[nvml]") {
  GpuBox b;
  b.configure("count=1\ngpu0.name=Tesla P100-PCIE-16GB\ngpu0.energy=0\ngpu0.power_w=150\ngpu0.procs=children\n");
  REQUIRE(b.run({"-q", "--", "sleep", "1"}).status == 0);
  auto j = b.report();
  const json* g0 = component(j, "gpu0");
  REQUIRE(g0);
  CHECK((*g0)["source"] == "NVML power (integrated)");
  CHECK((*g0)["measured"] == true);
  CHECK((*g0)["machine_energy_j"].get<double>() == Approx(150 * j["duration_s"].get<double>()).epsilon(0.2));
}

TEST_CASE("a GPU with no power reading at all: TDP x utilisation, labelled an estimate", "[nvml]") {
  GpuBox b;
  b.configure("count=1\ngpu0.name=Tesla T4\ngpu0.energy=0\ngpu0.power=0\ngpu0.util=50\ngpu0.procs=children\n");
  REQUIRE(b.run({"-q", "--", "sleep", "1"}).status == 0);
  auto j = b.report();
  const json* g0 = component(j, "gpu0");
  REQUIRE(g0);
  CHECK((*g0)["measured"] == false);
  CHECK_THAT((*g0)["method"].get<std::string>(), Catch::Contains("70 W TDP") && Catch::Contains("utilisation"));
  CHECK((*g0)["machine_energy_j"].get<double>() == Approx(35 * j["duration_s"].get<double>()).epsilon(0.2));

  SECTION("not with --no-estimate") {
    auto r = b.run({"-q", "--no-estimate", "--", "true"});
    CHECK(r.status == 125);  // nothing else is measurable in this sandbox
  }
}

TEST_CASE("a GPU lost mid-run degrades that GPU only, with a note", "[nvml]") {
  GpuBox b;
  b.configure(kTwoGpus + "gpu0.lost_after=0.5\n");
  auto r = b.run({"--", "sleep", "1.5"});
  REQUIRE(r.status == 0);
  auto j = b.report();
  double g0 = (*component(j, "gpu0"))["machine_energy_j"], g1 = (*component(j, "gpu1"))["machine_energy_j"];
  CHECK(g0 == Approx(300 * 0.5).epsilon(0.35));   // until it was lost
  CHECK(g1 == Approx(200 * j["duration_s"].get<double>()).epsilon(0.15));  // the other GPU carries on
  // (In a container the report also says that GPUs are shared by CPU time.)
  REQUIRE(j["notes"].size() == (pids_matched() ? 1 : 2));
  CHECK_THAT(j["notes"].back().get<std::string>(), Catch::Contains("gpu0") && Catch::Contains("was lost"));
  CHECK_THAT(r.err, Catch::Contains("GPU is lost"));
}

TEST_CASE("a shared GPU: the command's share of SM utilisation, MIG by process count", "[nvml]") {
  GpuBox b;
  b.configure("count=1\ngpu0.power_w=400\ngpu0.procs=children+other\ngpu0.sm_children=60\ngpu0.sm_other=20\n");
  REQUIRE(b.run({"-q", "--", "sleep", "1"}).status == 0);
  auto j = b.report();
  const json* g0 = component(j, "gpu0");
  if (pids_matched()) {
    CHECK((*g0)["energy_j"].get<double>() / (*g0)["machine_energy_j"].get<double>() == Approx(0.75).epsilon(0.15));
  }

  b.configure("count=1\ngpu0.power_w=400\ngpu0.procs=children+other\ngpu0.mig=1\n");
  REQUIRE(b.run({"-q", "--", "sleep", "1"}).status == 0);
  auto m = b.report();
  const json* mg = component(m, "gpu0");
  if (pids_matched()) {
    CHECK((*mg)["energy_j"].get<double>() / (*mg)["machine_energy_j"].get<double>() == Approx(0.5).epsilon(0.15));
  }
}

TEST_CASE("a 535.43 driver with 30 processes on the GPU: the run completes, the share is right", "[nvml]") {
  // The command's process and 29 others at 2 % SM each: half the SM time is the command's.
  GpuBox b;
  b.configure("count=1\ngpu0.power_w=300\ngpu0.procs=children+other\ngpu0.others=29\ngpu0.sm_children=58\ngpu0.sm_other=2\n");
  auto r = b.run({"-q", "--nvml-lib", FAKE_NVML_535_43_LIB, "--", "sleep", "1"}, {{"NO_NVML_FLAG", "1"}});
  REQUIRE(r.status == 0);
  auto j = b.report();
  const json* g0 = component(j, "gpu0");
  REQUIRE(g0);
  CHECK((*g0)["machine_energy_j"].get<double>() == Approx(300 * j["duration_s"].get<double>()).epsilon(0.15));
  if (pids_matched()) {
    CHECK((*g0)["energy_j"].get<double>() / (*g0)["machine_energy_j"].get<double>() == Approx(0.5).epsilon(0.15));
  }
}

TEST_CASE("CUDA_VISIBLE_DEVICES: GPUs the command cannot see are not its own", "[nvml]") {
  GpuBox b;
  b.configure("count=2\ngpu0.power_w=300\ngpu0.procs=children\ngpu0.uuid=GPU-aaaa\ngpu1.power_w=300\ngpu1.procs=children\ngpu1.uuid=GPU-bbbb\n");
  REQUIRE(b.run({"-q", "--", "sleep", "0.6"}, {{"CUDA_VISIBLE_DEVICES", "GPU-bbbb"}}).status == 0);
  auto j = b.report();
  CHECK((*component(j, "gpu0"))["energy_j"].get<double>() == 0);
  if (pids_matched()) {
    CHECK((*component(j, "gpu1"))["energy_j"].get<double>() > 0);
  }
  CHECK_THAT((*component(j, "gpu0"))["detail"][0]["origin"].get<std::string>(), Catch::Contains("not in CUDA_VISIBLE_DEVICES"));
}

TEST_CASE("NVML found by its soname, and a missing library is a note, not an error", "[nvml]") {
  GpuBox b;
  b.configure(kTwoGpus);
  auto lib_dir = std::filesystem::path(FAKE_NVML_LIB).parent_path().string();
  auto found = b.run({"-q", "--", "true"}, {{"NO_NVML_FLAG", "1"}, {"LD_LIBRARY_PATH", lib_dir}});
  REQUIRE(found.status == 0);
  CHECK(component(b.report(), "gpu1"));

  auto missing = b.run({"--nvml-lib", b.dir / "libnvidia-ml.so.1", "--", "true"}, {{"NO_NVML_FLAG", "1"}});
  CHECK(missing.status == 0);
  CHECK_THAT(missing.err, Catch::Contains("NVML library not found"));
  CHECK_FALSE(component(b.report(), "gpu0"));

  b.configure("count=1\ninit=9\n");
  auto no_driver = b.run({"--", "true"});
  CHECK(no_driver.status == 0);
  CHECK_THAT(no_driver.err, Catch::Contains("nvmlInit failed") && Catch::Contains("driver is not loaded"));
}

namespace {

std::string proc_fixture(const TempDir& dir, const std::string& ns_link, const std::string& nspid);

// NVML's read() called directly, on a fake clock: exact joules. greenrun's
// own /proc entries come from a fixture (the initial PID namespace unless a
// test says otherwise), so that the result does not depend on where the
// tests run.
struct DirectNvml {
  TempDir dir;
  std::unique_ptr<NvmlSource> src;
  std::vector<Finding> findings;
  explicit DirectNvml(const std::string& config, NvmlOptions o = {}) {
    write_file(dir / "nvml.conf", config);
    ::setenv("FAKE_NVML_CONFIG", (dir / "nvml.conf").c_str(), 1);
    if (o.lib.empty()) o.lib = FAKE_NVML_LIB;
    if (o.proc_root == "/proc") o.proc_root = proc_fixture(dir, "pid:[4026531836]", "4242");
    o.max_gap_s = 10;
    src = NvmlSource::open(o, findings);
  }
  ~DirectNvml() { ::unsetenv("FAKE_NVML_CONFIG"); }
  void set(const std::string& config) { write_file(dir / "nvml.conf", config); }
  std::vector<ChannelReading> read_all(double t_s, std::vector<int> tree_pids = {}) {
    SampleContext ctx;
    ctx.now = std::chrono::steady_clock::time_point(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(t_s)));
    ctx.tree_pids = std::move(tree_pids);
    std::vector<ChannelReading> out;
    src->read(ctx, out);
    return out;
  }
  ChannelReading read_at(double t_s, std::vector<int> tree_pids = {}) {
    auto out = read_all(t_s, std::move(tree_pids));
    REQUIRE(out.size() == 1);
    return out[0];
  }
};

/// greenrun's own /proc/self as a fixture: its PID namespace link and NSpid line.
std::string proc_fixture(const TempDir& dir, const std::string& ns_link, const std::string& nspid) {
  const std::string root = dir / "proc";
  write_file(root + "/self/status", "Name:\tgreenrun\nTgid:\t7\nNSpid:\t" + nspid + "\nNSsid:\t1\n");
  make_dirs(root + "/self/ns");
  if (!ns_link.empty()) REQUIRE(symlink(ns_link.c_str(), (root + "/self/ns/pid").c_str()) == 0);
  return root;
}

/// "pid:smUtil" for pids first..last.
std::string pid_list(int first, int last, int sm) {
  std::string out;
  for (int p = first; p <= last; ++p) out += (out.empty() ? "" : ",") + std::to_string(p) + ":" + std::to_string(sm);
  return out;
}

std::vector<int> pid_range(int first, int last) {
  std::vector<int> out;
  for (int p = first; p <= last; ++p) out.push_back(p);
  return out;
}

}  // namespace

TEST_CASE("NVML read(): the energy counter from its first reading, in joules", "[nvml][direct]") {
  DirectNvml n("count=1\ngpu0.energy_mj=5000000\ngpu0.procs=none\n");
  REQUIRE(n.src);
  CHECK(n.read_at(0).energy_j == 0);
  n.set("count=1\ngpu0.energy_mj=5250500\ngpu0.procs=none\n");
  auto r = n.read_at(1);
  CHECK(r.ok);
  CHECK(r.energy_j == 250.5);
  REQUIRE(r.tree_share);
  CHECK(*r.tree_share == 0);  // nothing runs on it: its idle power is not the command's
  n.set("count=1\ngpu0.energy_mj=1000\ngpu0.procs=none\n");  // driver reload: the counter restarts
  CHECK(n.read_at(2).energy_j == 250.5);
  n.set("count=1\ngpu0.energy_mj=101000\ngpu0.procs=none\n");
  CHECK(n.read_at(3).energy_j == 350.5);
}

TEST_CASE("NVML read(): power integrated by the trapezoid, a long gap not bridged", "[nvml][direct]") {
  DirectNvml n("count=1\ngpu0.energy=0\ngpu0.power_w=150\ngpu0.procs=none\n");
  REQUIRE(n.src);
  CHECK(n.read_at(0).energy_j == 0);
  CHECK(n.read_at(2).energy_j == 300);  // 150 W x 2 s
  n.set("count=1\ngpu0.energy=0\ngpu0.power_w=250\ngpu0.procs=none\n");
  CHECK(n.read_at(3).energy_j == 500);  // (150 + 250) / 2 x 1 s
  CHECK(n.read_at(33).energy_j == 500);  // 30 s without a reading: not guessed
  CHECK(n.read_at(34).energy_j == 750);
  REQUIRE(n.src->notes().size() == 1);
  CHECK_THAT(n.src->notes()[0], Catch::Contains("30.0 s between power readings") && Catch::Contains("not counted"));
}

TEST_CASE("a GPU NVML cannot use beside an AMD GPU: two components, never merged", "[nvml][rocm]") {
  // NVML numbered its channels by NVML index and ROCm continued from NVML's
  // channel count: with NVIDIA GPU 0 unusable, NVIDIA GPU 1 and the AMD GPU
  // were both "gpu1" and their energy was summed into one component.
  GpuBox b;
  b.configure("count=2\ngpu0.name=NVIDIA Mystery\ngpu0.energy=0\ngpu0.power=0\ngpu1.name=NVIDIA H100 80GB HBM3\ngpu1.power_w=300\ngpu1.procs=children\n");
  write_file(b.dir / "rocm.conf", "count=1\ngpu0.power_w=100\n");
  auto r = b.run({"--rocm-lib", FAKE_ROCM_LIB, "--scope", "machine", "--", "sleep", "1"},
                 {{"FAKE_ROCM_CONFIG", b.dir / "rocm.conf"}});
  REQUIRE(r.status == 0);
  auto j = b.report();
  REQUIRE(j["components"].size() == 4);  // cpu and ram estimated, two GPUs
  const json* nv = component(j, "gpu0");
  const json* amd = component(j, "gpu1");
  REQUIRE(nv);
  REQUIRE(amd);
  CHECK((*nv)["detail"].size() == 1);
  CHECK((*nv)["source"] == "NVML energy counter");
  CHECK((*nv)["detail"][0]["label"] == "NVIDIA H100 80GB HBM3");
  CHECK((*amd)["detail"].size() == 1);
  CHECK((*amd)["source"] == "ROCm SMI energy counter");
  const double t = j["duration_s"];
  CHECK((*nv)["energy_j"].get<double>() == Approx(300 * t).epsilon(0.2));
  CHECK((*amd)["energy_j"].get<double>() == Approx(100 * t).epsilon(0.2));
}

TEST_CASE("NVML 535.43 to 535.86: 32-byte process entries, 30 processes on one GPU", "[nvml][direct]") {
  // Those drivers' _v3 writes 32-byte entries (and export
  // nvmlDeviceGetConfComputeMemSizeInfo but not the detail list): read with
  // a 24-byte stride every pid after the first was garbage, and 30 entries
  // overran a buffer sized for 24-byte ones.
  const std::string config = "count=1\ngpu0.energy_mj=1000\ngpu0.sample_us=1000\ngpu0.pids=" +
                             pid_list(5001, 5010, 20) + "," + pid_list(5011, 5030, 5) + "\n";
  for (const char* lib : {FAKE_NVML_535_43_LIB, FAKE_NVML_LIB}) {
    NvmlOptions o;
    o.lib = lib;
    DirectNvml n(config, o);
    REQUIRE(n.src);
    auto r = n.read_at(0, pid_range(5001, 5010));
    REQUIRE(r.tree_share);
    CHECK(*r.tree_share == Approx(200.0 / 300));  // ten processes at 20 % SM against twenty at 5 %
    // Every pid read right: the command's processes alone are all of it.
    n.set("count=1\ngpu0.energy_mj=1000\ngpu0.pids=" + pid_list(5001, 5030, 0) + "\n");
    auto all = n.read_at(1, pid_range(5001, 5030));
    REQUIRE(all.tree_share);
    CHECK(*all.tree_share == 1);
  }
}

TEST_CASE("NVML before _v3 (R470): the _v2 process list, never the 16-byte unversioned one", "[nvml][direct]") {
  NvmlOptions o;
  o.lib = FAKE_NVML_R470_LIB;
  DirectNvml n("count=1\ngpu0.energy_mj=1000\ngpu0.sample_us=1000\ngpu0.pids=5001:30,5002:10\n", o);
  REQUIRE(n.src);
  auto r = n.read_at(0, {5001});
  REQUIRE(r.tree_share);
  CHECK(*r.tree_share == Approx(0.75));
}

TEST_CASE("NVML: a process list that fails on its second call is an unknown share, not 0", "[nvml][direct]") {
  DirectNvml n("count=1\ngpu0.energy_mj=1000\ngpu0.pids=5001:50\ngpu0.fill_rc=999\n");
  REQUIRE(n.src);
  CHECK_FALSE(n.read_at(0, {5001}).tree_share);
}

TEST_CASE("NVML process utilisation: only new, non-zero samples, and the last share holds between them", "[nvml][direct]") {
  // The driver samples more slowly than greenrun reads: between its samples
  // NVML answers NOT_FOUND, which is no reason to fall back to process count.
  DirectNvml n("count=1\ngpu0.energy_mj=1000\ngpu0.pids=5001:60,6001:20\ngpu0.sample_us=1000\n");
  REQUIRE(n.src);
  CHECK(n.read_at(0, {5001}).tree_share.value_or(-1) == Approx(0.75));
  CHECK(n.read_at(0.1, {5001}).tree_share.value_or(-1) == Approx(0.75));  // no sample newer than 1000 us
  // The command's process goes idle: only the other one has a sample.
  n.set("count=1\ngpu0.energy_mj=1000\ngpu0.pids=5001:0,6001:20\ngpu0.sample_us=2000\n");
  CHECK(n.read_at(0.2, {5001}).tree_share.value_or(-1) == 0);
  n.set("count=1\ngpu0.energy_mj=1000\ngpu0.pids=5001:45,6001:15\ngpu0.sample_us=3000\n");
  CHECK(n.read_at(0.3, {5001}).tree_share.value_or(-1) == Approx(0.75));
}

TEST_CASE("NVML: MIG devices in CUDA_VISIBLE_DEVICES make their GPU visible, unresolved ones unknown", "[nvml][direct]") {
  // Both GPUs run the command's process 5001; only the GPU that holds the
  // listed MIG device is the command's. greenrun made "MIG-..." into
  // "GPU-MIG-...", matched nothing and hid both GPUs.
  const std::string config =
      "count=2\n"
      "gpu0.uuid=GPU-5c89852c-d268-c3f3-1b07-005d5ae1dc3f\ngpu0.mig=1\n"
      "gpu0.mig_uuid=MIG-a65afc88-50b5-5ccf-b0a8-f93b3247ae9e\ngpu0.energy_mj=1000\ngpu0.pids=5001:0\n"
      "gpu1.uuid=GPU-bbbb2222-0000\ngpu1.energy_mj=1000\ngpu1.pids=5001:0\n";
  auto shares = [&](const std::string& env) {
    NvmlOptions o;
    o.cuda_visible_devices = env;
    DirectNvml n(config, o);
    REQUIRE(n.src);
    auto out = n.read_all(0, {5001});
    REQUIRE(out.size() == 2);
    return std::make_tuple(out[0].tree_share, out[1].tree_share, n.src->notes());
  };
  for (const std::string env : {"MIG-a65afc88-50b5-5ccf-b0a8-f93b3247ae9e", "MIG-GPU-5c89852c-d268-c3f3-1b07-005d5ae1dc3f/7/0"}) {
    auto [g0, g1, notes] = shares(env);
    INFO(env);
    CHECK(g0.value_or(-1) == 1);
    CHECK(g1.value_or(-1) == 0);
  }
  // A MIG device NVML does not know: not "invisible", but unknown (CPU-time share), with a note.
  auto [g0, g1, notes] = shares("MIG-ffffffff-50b5-5ccf-b0a8-f93b3247ae9e");
  CHECK_FALSE(g0);
  CHECK_FALSE(g1);
  REQUIRE(notes.size() == 1);
  CHECK_THAT(notes[0], Catch::Contains("MIG-ffffffff-50b5-5ccf-b0a8-f93b3247ae9e") && Catch::Contains("CPU time"));
}

TEST_CASE("NVML in a container: host PIDs cannot be matched, so shared by CPU time with a note", "[nvml][direct]") {
  // The driver ignores PID namespaces: the command's process is 7 here and
  // 40007 to NVML. Matched against the tree, the GPU was never the command's.
  const std::string config = "count=1\ngpu0.energy_mj=1000\ngpu0.pids=40007:50\n";
  auto check = [&](const std::string& ns_link, const std::string& nspid) {
    TempDir fixture;
    NvmlOptions o;
    o.proc_root = proc_fixture(fixture, ns_link, nspid);
    DirectNvml n(config, o);
    REQUIRE(n.src);
    CHECK_FALSE(n.read_at(0, {7}).tree_share);
    REQUIRE(n.src->notes().size() == 1);
    CHECK_THAT(n.src->notes()[0], Catch::Contains("PID namespace") && Catch::Contains("CPU time"));
  };
  SECTION("a container with its own /proc: a namespace other than the initial one") { check("pid:[4026532513]", "7"); }
  SECTION("no namespace link, but two NSpid entries") { check("", "40007\t7"); }
  SECTION("in the initial namespace, NVML's pids are the tree's") {
    DirectNvml n(config);
    CHECK(n.read_at(0, {40007}).tree_share.value_or(-1) == 1);
    CHECK(n.src->notes().empty());
  }
}

TEST_CASE("NVML: a process that exits just before a tick keeps the window it ran in", "[nvml][direct]") {
  // The command on 1 of 30 processes: the share came from the list read at
  // the window's end, so a process gone by then lost the whole window
  // (3.35 J instead of 6.67 J in 1 of 6 runs). The window's start counts too,
  // and an exit in the tree makes the list be read again at once.
  const std::string others = pid_list(6001, 6029, 0);
  DirectNvml n("count=1\ngpu0.energy_mj=1000\ngpu0.pids=5001:0," + others + "\n");
  REQUIRE(n.src);
  CHECK(n.read_at(0, {5001}).tree_share.value_or(-1) == Approx(1.0 / 30));
  n.set("count=1\ngpu0.energy_mj=1000\ngpu0.pids=" + others + "\n");  // 5001 exits
  CHECK(n.read_at(0.1, {}).tree_share.value_or(-1) == Approx(1.0 / 30));
  CHECK(n.read_at(0.2, {}).tree_share.value_or(-1) == 0);  // after its window: nothing of it
}

TEST_CASE("NVML: a GPU allocated to the Slurm step, or in exclusive-process mode, is all the command's", "[nvml]") {
  // Idle included: on a cluster the user is accountable for the GPU they hold.
  GpuBox b;
  b.configure("count=2\ngpu0.power_w=300\ngpu0.procs=none\ngpu1.power_w=200\ngpu1.procs=none\n");
  auto r = b.run({"--", "sleep", "1"}, {{"SLURM_JOB_ID", "77"}, {"SLURM_STEP_GPUS", "1"}, {"CUDA_VISIBLE_DEVICES", "1"}});
  REQUIRE(r.status == 0);
  auto j = b.report();
  const json* g0 = component(j, "gpu0");
  const json* g1 = component(j, "gpu1");
  REQUIRE(g0);
  REQUIRE(g1);
  CHECK((*g0)["energy_j"].get<double>() == 0);  // not allocated, not visible
  CHECK((*g1)["machine_energy_j"].get<double>() == Approx(200 * j["duration_s"].get<double>()).epsilon(0.15));
  CHECK((*g1)["energy_j"].get<double>() == Approx((*g1)["machine_energy_j"].get<double>()));
  bool said = false;
  for (const auto& note : j["notes"])
    said = said || (note.get<std::string>().find("gpu1") != std::string::npos &&
                    note.get<std::string>().find("SLURM_STEP_GPUS") != std::string::npos);
  CHECK(said);

  SECTION("CUDA_VISIBLE_DEVICES that does not match the allocation: today's rule") {
    auto m = b.run({"--", "sleep", "0.5"}, {{"SLURM_JOB_ID", "77"}, {"SLURM_STEP_GPUS", "0,1"}, {"CUDA_VISIBLE_DEVICES", "1"}});
    REQUIRE(m.status == 0);
    CHECK((*component(b.report(), "gpu1"))["energy_j"].get<double>() == 0);  // nothing runs on it
  }
  SECTION("exclusive-process compute mode") {
    b.configure("count=2\ngpu0.power_w=300\ngpu0.procs=none\ngpu0.compute_mode=3\ngpu1.power_w=200\ngpu1.procs=other\ngpu1.compute_mode=3\n");
    REQUIRE(b.run({"--", "sleep", "1"}).status == 0);
    auto k = b.report();
    const json* e0 = component(k, "gpu0");
    REQUIRE(e0);
    CHECK((*e0)["energy_j"].get<double>() == Approx((*e0)["machine_energy_j"].get<double>()));
    CHECK((*e0)["energy_j"].get<double>() > 0);
    CHECK((*component(k, "gpu1"))["energy_j"].get<double>() == 0);  // another process holds it
    bool noted = false;
    for (const auto& note : k["notes"]) noted = noted || note.get<std::string>().find("exclusive") != std::string::npos;
    CHECK(noted);
  }
}

TEST_CASE("NVML's counter moves in 100 ms steps: no timeline record finer than it can resolve", "[nvml][resolution]") {
  // At 50 ms half the ticks see no step, at 250 ms they see two or three (a
  // 240/360 W sawtooth at a steady 300 W): aliasing, not power.
  for (const char* interval : {"50ms", "250ms"}) {
    INFO(interval);
    GpuBox b;
    b.configure("count=1\ngpu0.power_w=300\ngpu0.procs=children\n");
    std::vector<std::string> argv = {"--interval", interval, "--", "sleep", "3.2"};
    REQUIRE(b.run(argv).status == 0);
    auto j = b.report();
    const json& t = j["timeline"];
    size_t gpu = 0;
    for (size_t c = 0; c < t["components"].size(); ++c)
      if (t["components"][c]["name"] == "gpu0") gpu = c;
    REQUIRE(t["components"][gpu]["name"] == "gpu0");
    REQUIRE(t["components"][gpu].contains("resolution_s"));
    CHECK(t["components"][gpu]["resolution_s"].get<double>() >= 0.1 - 1e-9);
    CHECK(t["components"][gpu]["update_period_s"].get<double>() == Approx(0.1).epsilon(0.2));
    CHECK(t["resolution_s"].get<double>() >= t["components"][gpu]["resolution_s"].get<double>() - 1e-9);
    REQUIRE(t["records"].size() >= 2);
    for (const auto& rec : t["records"]) {
      const double span = rec["end_s"].get<double>() - rec["start_s"].get<double>();
      INFO("record " << rec["start_s"] << " to " << rec["end_s"]);
      CHECK(span >= 0.1 - 1e-9);
      CHECK(rec["machine_energy_j"][gpu].get<double>() / span == Approx(300).epsilon(0.15));
    }
    // Read back (greenrun report) and shown on the page.
    auto back = run_report_from_json(j, "g.json");
    REQUIRE(back);
    const json again = to_json(*back);
    CHECK(again["timeline"]["components"] == t["components"]);
    REQUIRE(run_proc({greenrun_bin(), "report", b.dir / "g.json", "--html", b.dir / "g.html"}).status == 0);
    // About a second per drawn record, as the ticks fell (0.999 s or 1.00 s): not an exact text.
    const std::string page = slurp(b.dir / "g.html");
    const size_t at = page.find("Resolution per component: gpu0 ");
    REQUIRE(at != std::string::npos);
    CHECK(std::stod(page.substr(at + 31, 5)) == Approx(1.0).epsilon(0.05));
    CHECK_THAT(page, Catch::Contains(" s (its counter moves every 0."));
  }
}

namespace {

/// The fake's call counts: "function count" lines.
std::map<std::string, long> nvml_calls(const std::string& path) {
  std::map<std::string, long> out;
  std::istringstream in(slurp(path));
  std::string name;
  long n = 0;
  while (in >> name >> n) out[name] = n;
  return out;
}

long total(const std::map<std::string, long>& calls) {
  long sum = 0;
  for (const auto& [name, n] : calls) sum += n;
  return sum;
}

}  // namespace

TEST_CASE("NVML calls per tick: the energy every tick, process lists at most once a second", "[nvml][cost]") {
  // 3.0 to 3.5 calls per GPU per tick at 100 ms (the process query twice per
  // tick, size then fetch). The steady state is the difference of a long and
  // a short run, start-up calls cancelled out.
  GpuBox b;
  b.configure("count=1\ngpu0.power_w=300\ngpu0.procs=children\n");
  auto calls_for = [&](const char* seconds) {
    const std::string file = b.dir / (std::string("calls-") + seconds);
    REQUIRE(b.run({"-q", "--", "sleep", seconds}, {{"FAKE_NVML_CALLS", file}}).status == 0);
    return std::make_pair(total(nvml_calls(file)), b.report()["samples"].get<long>());
  };
  auto [short_calls, short_samples] = calls_for("0.5");
  auto [long_calls, long_samples] = calls_for("3");
  REQUIRE(long_samples > short_samples + 10);
  const double per_tick = static_cast<double>(long_calls - short_calls) / static_cast<double>(long_samples - short_samples);
  INFO("calls per tick: " << per_tick);
  CHECK(per_tick <= 1.5);
  CHECK(per_tick >= 1.0);  // the energy is still read every tick
}

TEST_CASE("NVML: a process query that costs 2 ms keeps the sampler under 0.5 ms per tick", "[nvml][cost]") {
  GpuBox b;
  auto per_tick = [&](const std::string& burn) {
    b.configure("count=1\ngpu0.power_w=300\ngpu0.procs=children\ngpu0.procs_burn_ms=" + burn + "\n");
    REQUIRE(b.run({"-q", "--", "sleep", "5"}).status == 0);
    auto j = b.report();
    return j["overhead"]["sampler_cpu_s"].get<double>() / j["samples"].get<double>();
  };
  const double burning = per_tick("2"), free = per_tick("0");
  INFO("sampler CPU per tick: " << burning * 1e3 << " ms with a 2 ms query, " << free * 1e3 << " ms without");
  // The query's part, bounded whatever the load: 4.2 ms per tick when it was
  // made twice per tick. The whole figure also holds greenrun's own reads of
  // /proc and its cgroup, which a loaded machine (or a sanitizer) slows.
  CHECK(burning - free < 0.5e-3);
  if (!sanitized() && burning >= 0.5e-3) WARN("the whole sampler over 0.5 ms per tick here: " << burning * 1e3 << " ms");
}

TEST_CASE("NVML: an energy counter that stops moving gives way to the power reading", "[nvml][frozen]") {
  GpuBox b;
  b.configure("count=1\ngpu0.power_w=300\ngpu0.procs=children\ngpu0.frozen_after=1\n");
  // Frozen means still while the machine works: a busy command, not an idle
  // machine's background (an idle machine under a sanitizer saw too little).
  auto r = b.run({"--", toy_train_bin(), "3.5"});
  REQUIRE(r.status == 0);
  auto j = b.report();
  const json* g0 = component(j, "gpu0");
  REQUIRE(g0);
  const double t = j["duration_s"];
  // The counter's first second, then power from the moment the freeze was
  // seen (a second later): all but about a second of the run.
  CHECK((*g0)["machine_energy_j"].get<double>() > 300 * (t - 1.5));
  CHECK((*g0)["machine_energy_j"].get<double>() < 300 * t * 1.05);
  CHECK((*g0)["measured"] == true);
  bool noted = false;
  for (const auto& n : j["notes"])
    noted = noted || (n.get<std::string>().find("stopped advancing") != std::string::npos &&
                      n.get<std::string>().find("power reading") != std::string::npos);
  CHECK(noted);
}

TEST_CASE("the CSV's gpu_utilization_percent is the mean utilisation NVML read", "[nvml][csv]") {
  // Estimated from TDP x utilisation (read every tick), and measured by the
  // counter (the utilisation read once a second for this column alone).
  for (const char* reading : {"gpu0.energy=0\ngpu0.power=0\n", ""}) {
    INFO(reading);
    GpuBox b;
    b.configure(std::string("count=1\ngpu0.name=Tesla T4\n") + reading + "gpu0.util=40\ngpu0.procs=children\n");
    REQUIRE(b.run({"-q", "--csv", b.dir / "e.csv", "--", "sleep", "1.5"}).status == 0);
    auto t = parse_csv(slurp(b.dir / "e.csv"), "e.csv");
    REQUIRE(t);
    REQUIRE(t->rows.size() == 1);
    CHECK(std::stod(t->rows[0][static_cast<size_t>(t->column("gpu_utilization_percent"))]) == Approx(40));
    CHECK(t->rows[0][static_cast<size_t>(t->column("gpu_count"))] == "1");
  }
}
