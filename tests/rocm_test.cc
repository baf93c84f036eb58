// AMD GPUs through the real dlopen/ROCm SMI code against a fake
// librocm_smi64.so built by the test suite (tests/fakes/fake_rocm.c).

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "helpers.h"
#include "sensors/rocm_source.h"

using namespace greenrun::test;
using nlohmann::json;

namespace {

struct Box {
  TempDir dir;
  std::string sys = dir / "sys";
  Box() { make_dirs(sys); }
  ProcResult run(const std::string& config, std::vector<std::string> extra = {}, const std::string& cmd_s = "1") {
    write_file(dir / "rocm.conf", config);
    std::vector<std::string> argv = {greenrun_bin(), "--scope", "machine", "--interval", "100ms", "--json", dir / "r.json"};
    if (extra.empty()) argv.insert(argv.end(), {"--rocm-lib", FAKE_ROCM_LIB});
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {"--", "sleep", cmd_s});
    ProcOptions opt;
    opt.env = {{"GREENRUN_SYSFS_ROOT", sys}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}, {"FAKE_ROCM_CONFIG", dir / "rocm.conf"}};
    return run_proc(argv, opt);
  }
  json report() const { return json::parse(slurp(dir / "r.json")); }
};


}  // namespace

TEST_CASE("ROCm SMI: energy counters per GPU, power integrated where there is none", "[rocm]") {
  Box b;
  REQUIRE(b.run("count=2\ngpu0.power_w=500\ngpu1.power_w=250\ngpu1.energy=0\n").status == 0);
  auto j = b.report();
  double t = j["duration_s"];
  const json* g0 = component(j, "gpu0");
  const json* g1 = component(j, "gpu1");
  REQUIRE(g0);
  REQUIRE(g1);
  CHECK((*g0)["source"] == "ROCm SMI energy counter");
  CHECK((*g0)["energy_j"].get<double>() == Approx(500 * t).epsilon(0.15));
  CHECK((*g1)["source"] == "ROCm SMI power (integrated)");
  CHECK((*g1)["energy_j"].get<double>() == Approx(250 * t).epsilon(0.15));
}

TEST_CASE("ROCm SMI: an MI250's silent GCD is not counted twice", "[rocm]") {
  Box b;
  REQUIRE(b.run("count=2\ngpu0.power_w=560\ngpu1.zero=1\n").status == 0);
  auto j = b.report();
  CHECK(component(j, "gpu0"));
  CHECK_FALSE(component(j, "gpu1"));
  bool noted = false;
  for (const auto& u : j["unused_sources"])
    if (u["what"] == "GPU 1") noted = u["reason"].get<std::string>().find("MI250") != std::string::npos;
  CHECK(noted);
}

TEST_CASE("ROCm SMI: a counter that disagrees with power x time is replaced, with a note", "[rocm]") {
  Box b;
  REQUIRE(b.run("count=1\ngpu0.power_w=200\ngpu0.energy_scale=10\n", {}, "1.6").status == 0);
  auto j = b.report();
  const json* g0 = component(j, "gpu0");
  REQUIRE(g0);
  CHECK((*g0)["energy_j"].get<double>() == Approx(200 * j["duration_s"].get<double>()).epsilon(0.2));
  REQUIRE(j["notes"].size() == 1);
  CHECK_THAT(j["notes"][0].get<std::string>(), Catch::Contains("disagreed"));
}

TEST_CASE("ROCm SMI preferred over amdgpu hwmon, and a missing library is a note", "[rocm][hwmon]") {
  Box b;
  write_file(b.sys + "/class/hwmon/hwmon0/name", "amdgpu\n");
  write_file(b.sys + "/class/hwmon/hwmon0/power1_average", "300000000\n");
  REQUIRE(b.run("count=1\ngpu0.power_w=500\n").status == 0);
  auto j = b.report();
  CHECK((*component(j, "gpu0"))["source"] == "ROCm SMI energy counter");
  CHECK_FALSE(component(j, "gpu1"));

  auto missing = b.run("", {"--rocm-lib", b.dir / "librocm_smi64.so"});
  CHECK(missing.status == 0);
  CHECK_THAT(missing.err, Catch::Contains("ROCm SMI library not found"));
  CHECK((*component(b.report(), "gpu0"))["source"] == "hwmon amdgpu power (integrated)");
}

TEST_CASE("ROCm SMI read(): counter x resolution after the power check, exact", "[rocm][direct]") {
  using namespace greenrun;
  TempDir dir;
  write_file(dir / "rocm.conf", "count=1\ngpu0.count=1000\ngpu0.resolution=10\ngpu0.power_w=100\n");
  ::setenv("FAKE_ROCM_CONFIG", (dir / "rocm.conf").c_str(), 1);
  RocmOptions o;
  o.lib = FAKE_ROCM_LIB;
  std::vector<Finding> findings;
  auto src = RocmSource::open(o, findings);
  REQUIRE(src);
  auto at = [&](double t_s) {
    SampleContext ctx;
    ctx.now = std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(t_s)));
    std::vector<ChannelReading> out;
    src->read(ctx, out);
    REQUIRE(out.size() == 1);
    return out[0].energy_j;
  };
  CHECK(at(0) == 0);
  // The first second: power x time (100 W x 1 s = 100 J) counts while the
  // counter is checked against it; 10,000,000 counts x 10 uJ = 100 J agree.
  write_file(dir / "rocm.conf", "count=1\ngpu0.count=10001000\ngpu0.resolution=10\ngpu0.power_w=100\n");
  CHECK(at(1) == Approx(100));  // and from now on the counter counts
  write_file(dir / "rocm.conf", "count=1\ngpu0.count=15001000\ngpu0.resolution=10\ngpu0.power_w=100\n");
  CHECK(at(1.5) == Approx(150));  // +5,000,000 x 10 uJ
  ::unsetenv("FAKE_ROCM_CONFIG");
}
