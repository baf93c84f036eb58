// NVIDIA GPUs through the real dlopen/NVML code against a fake
// libnvidia-ml.so.1 built by the test suite (tests/fakes/fake_nvml.c).

#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "helpers.h"
#include "sensors/nvml_source.h"

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
    std::vector<std::string> argv = {greenrun_bin(), "--interval", "100ms", "--json", dir / "g.json"};
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


const std::string kTwoGpus =
    "count=2\n"
    "gpu0.name=NVIDIA H100 80GB HBM3\ngpu0.uuid=GPU-aaaa1111-0000\ngpu0.power_w=300\ngpu0.procs=children\n"
    "gpu1.name=NVIDIA A100-SXM4-80GB\ngpu1.uuid=GPU-bbbb2222-0000\ngpu1.power_w=200\ngpu1.procs=other\n";

}  // namespace

TEST_CASE("CUDA_VISIBLE_DEVICES: indices, UUIDs and prefixes, up to the first invalid entry", "[nvml]") {
  std::vector<std::string> uuids = {"GPU-aaaa1111-0000", "GPU-bbbb2222-0000", "GPU-bbbb3333-0000"};
  CHECK_FALSE(visible_gpus(std::nullopt, uuids));
  CHECK(visible_gpus(std::string("1,0"), uuids) == std::vector<int>{1, 0});
  CHECK(visible_gpus(std::string("GPU-bbbb3333-0000"), uuids) == std::vector<int>{2});
  CHECK(visible_gpus(std::string("aaaa"), uuids) == std::vector<int>{0});
  CHECK(visible_gpus(std::string("0,7,1"), uuids) == std::vector<int>{0});  // 7 is invalid: stop there
  CHECK(visible_gpus(std::string("bbbb"), uuids) == std::vector<int>{});    // ambiguous prefix
  CHECK(visible_gpus(std::string(""), uuids) == std::vector<int>{});
  CHECK(visible_gpus(std::string("-1"), uuids) == std::vector<int>{});
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
  // gpu0 runs only the command's process: all of it; gpu1 only another's: none.
  CHECK((*g0)["energy_j"].get<double>() == Approx((*g0)["machine_energy_j"].get<double>()).epsilon(0.15));
  CHECK((*g1)["energy_j"].get<double>() == 0);
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
  REQUIRE(j["notes"].size() == 1);
  CHECK_THAT(j["notes"][0].get<std::string>(), Catch::Contains("gpu0") && Catch::Contains("was lost"));
  CHECK_THAT(r.err, Catch::Contains("GPU is lost"));
}

TEST_CASE("a shared GPU: the command's share of SM utilisation, MIG by process count", "[nvml]") {
  GpuBox b;
  b.configure("count=1\ngpu0.power_w=400\ngpu0.procs=children+other\ngpu0.sm_children=60\ngpu0.sm_other=20\n");
  REQUIRE(b.run({"-q", "--", "sleep", "1"}).status == 0);
  auto j = b.report();
  const json* g0 = component(j, "gpu0");
  CHECK((*g0)["energy_j"].get<double>() / (*g0)["machine_energy_j"].get<double>() == Approx(0.75).epsilon(0.15));

  b.configure("count=1\ngpu0.power_w=400\ngpu0.procs=children+other\ngpu0.mig=1\n");
  REQUIRE(b.run({"-q", "--", "sleep", "1"}).status == 0);
  auto m = b.report();
  const json* mg = component(m, "gpu0");
  CHECK((*mg)["energy_j"].get<double>() / (*mg)["machine_energy_j"].get<double>() == Approx(0.5).epsilon(0.15));
}

TEST_CASE("CUDA_VISIBLE_DEVICES: GPUs the command cannot see are not its own", "[nvml]") {
  GpuBox b;
  b.configure("count=2\ngpu0.power_w=300\ngpu0.procs=children\ngpu0.uuid=GPU-aaaa\ngpu1.power_w=300\ngpu1.procs=children\ngpu1.uuid=GPU-bbbb\n");
  REQUIRE(b.run({"-q", "--", "sleep", "0.6"}, {{"CUDA_VISIBLE_DEVICES", "GPU-bbbb"}}).status == 0);
  auto j = b.report();
  CHECK((*component(j, "gpu0"))["energy_j"].get<double>() == 0);
  CHECK((*component(j, "gpu1"))["energy_j"].get<double>() > 0);
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

// NVML's read() called directly, on a fake clock: exact joules.
struct DirectNvml {
  TempDir dir;
  std::unique_ptr<NvmlSource> src;
  std::vector<Finding> findings;
  explicit DirectNvml(const std::string& config) {
    write_file(dir / "nvml.conf", config);
    ::setenv("FAKE_NVML_CONFIG", (dir / "nvml.conf").c_str(), 1);
    NvmlOptions o;
    o.lib = FAKE_NVML_LIB;
    o.max_gap_s = 10;
    src = NvmlSource::open(o, findings);
  }
  ~DirectNvml() { ::unsetenv("FAKE_NVML_CONFIG"); }
  void set(const std::string& config) { write_file(dir / "nvml.conf", config); }
  ChannelReading read_at(double t_s) {
    SampleContext ctx;
    ctx.now = std::chrono::steady_clock::time_point(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(t_s)));
    std::vector<ChannelReading> out;
    src->read(ctx, out);
    REQUIRE(out.size() == 1);
    return out[0];
  }
};

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
