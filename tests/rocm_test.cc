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

TEST_CASE("ROCm SMI: an MI250's secondary die is not counted twice, nor as a measured 0 J", "[rocm]") {
  // The real library fails the power call and counts 0 on the secondary GCD
  // (rocm_smi_lib #160, rocm_smi.py's checkIfSecondaryDie); older kernels
  // reported 0 W. The primary die reports the package, both dies included.
  for (const std::string form : {"gpu1.secondary=1", "gpu1.zero=1"}) {
    INFO(form);
    Box b;
    REQUIRE(b.run("count=2\ngpu0.power_w=560\n" + form + "\n").status == 0);
    auto j = b.report();
    CHECK(component(j, "gpu0"));
    CHECK_FALSE(component(j, "gpu1"));
    bool noted = false;
    for (const auto& u : j["unused_sources"])
      if (u["what"] == "GPU 1") noted = u["reason"].get<std::string>().find("MI250") != std::string::npos;
    CHECK(noted);
  }
}

TEST_CASE("ROCm SMI: a counter that restarts mid-run is rebased, with a note", "[rocm]") {
  Box b;
  REQUIRE(b.run("count=1\ngpu0.power_w=200\ngpu0.reset_after=1.2\n", {}, "2").status == 0);
  auto j = b.report();
  const json* g0 = component(j, "gpu0");
  REQUIRE(g0);
  CHECK((*g0)["source"] == "ROCm SMI energy counter");
  CHECK((*g0)["energy_j"].get<double>() == Approx(200 * j["duration_s"].get<double>()).epsilon(0.2));
  REQUIRE(j["notes"].size() == 1);
  CHECK_THAT(j["notes"][0].get<std::string>(), Catch::Contains("went back"));
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

namespace {

// ROCm SMI's read() called directly, on a fake clock: exact joules.
struct DirectRocm {
  TempDir dir;
  std::unique_ptr<greenrun::RocmSource> src;
  std::vector<greenrun::Finding> findings;
  explicit DirectRocm(const std::string& config, const std::string& lib = FAKE_ROCM_LIB) {
    set(config);
    ::setenv("FAKE_ROCM_CONFIG", (dir / "rocm.conf").c_str(), 1);
    greenrun::RocmOptions o;
    o.lib = lib;
    src = greenrun::RocmSource::open(o, findings);
  }
  ~DirectRocm() { ::unsetenv("FAKE_ROCM_CONFIG"); }
  void set(const std::string& config) { write_file(dir / "rocm.conf", config); }
  double at(double t_s) {
    greenrun::SampleContext ctx;
    ctx.now = std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(t_s)));
    std::vector<greenrun::ChannelReading> out;
    src->read(ctx, out);
    REQUIRE(out.size() == 1);
    return out[0].energy_j;
  }
};

}  // namespace

TEST_CASE("ROCm SMI read(): counter x resolution after the power check, exact", "[rocm][direct]") {
  DirectRocm r("count=1\ngpu0.count=1000\ngpu0.resolution=10\ngpu0.power_w=100\n");
  REQUIRE(r.src);
  CHECK(r.at(0) == 0);
  // The first second: power x time (100 W x 1 s = 100 J) counts while the
  // counter is checked against it; 10,000,000 counts x 10 uJ = 100 J agree.
  r.set("count=1\ngpu0.count=10001000\ngpu0.resolution=10\ngpu0.power_w=100\n");
  CHECK(r.at(1) == Approx(100));  // and from now on the counter counts
  r.set("count=1\ngpu0.count=15001000\ngpu0.resolution=10\ngpu0.power_w=100\n");
  CHECK(r.at(1.5) == Approx(150));  // +5,000,000 x 10 uJ
  CHECK(r.src->notes().empty());
}

TEST_CASE("ROCm SMI read(): a counter that goes back is rebased, never underflows", "[rocm][direct]") {
  // A driver reload or GPU reset restarts the counter: count - first was ~2.8e14 J.
  DirectRocm r("count=1\ngpu0.count=1000\ngpu0.resolution=10\ngpu0.power_w=100\n");
  REQUIRE(r.src);
  CHECK(r.at(0) == 0);
  r.set("count=1\ngpu0.count=10001000\ngpu0.resolution=10\ngpu0.power_w=100\n");
  CHECK(r.at(1) == Approx(100));
  r.set("count=1\ngpu0.count=500\ngpu0.resolution=10\ngpu0.power_w=100\n");
  CHECK(r.at(2) == Approx(100));  // the interval of the reset is not known
  r.set("count=1\ngpu0.count=5000500\ngpu0.resolution=10\ngpu0.power_w=100\n");
  CHECK(r.at(2.5) == Approx(150));  // +5,000,000 x 10 uJ from the new value
  REQUIRE(r.src->notes().size() == 1);
  CHECK_THAT(r.src->notes()[0], Catch::Contains("gpu0") && Catch::Contains("went back"));
}

TEST_CASE("ROCm SMI read(): on MI300 (current power only) a stalled counter is caught", "[rocm][direct]") {
  // rsmi_dev_power_ave_get fails on MI300; rsmi_dev_power_get reads current
  // power. Without it the counter went unchecked and a stalled one (rocm_smi_lib
  // #180) made a "measured" 0 J.
  DirectRocm r("count=1\ngpu0.count=1000\ngpu0.resolution=10\ngpu0.power_w=100\ngpu0.current=1\ngpu0.average=0\n");
  REQUIRE(r.src);
  CHECK(r.at(0) == 0);
  CHECK(r.at(1) == Approx(100));
  CHECK(r.at(2) == Approx(200));  // power x time from now on
  REQUIRE(r.src->notes().size() == 1);
  CHECK_THAT(r.src->notes()[0], Catch::Contains("disagreed"));
}

TEST_CASE("ROCm SMI read(): before ROCm 6.0, average power through rsmi_dev_power_ave_get", "[rocm][direct]") {
  DirectRocm r("count=1\ngpu0.energy=0\ngpu0.power_w=100\n", FAKE_ROCM_5_LIB);
  REQUIRE(r.src);
  CHECK(r.at(0) == 0);
  CHECK(r.at(2) == Approx(200));
}

TEST_CASE("ROCm SMI: an energy counter that freezes mid-run gives way to power, its frozen span included", "[rocm][frozen]") {
  // It agreed with power x time for its first second, then stopped.
  Box b;
  REQUIRE(b.run("count=1\ngpu0.power_w=400\ngpu0.frozen_after=1.2\n", {}, "3").status == 0);
  auto j = b.report();
  const json* g0 = component(j, "gpu0");
  REQUIRE(g0);
  CHECK((*g0)["energy_j"].get<double>() == Approx(400 * j["duration_s"].get<double>()).epsilon(0.15));
  bool noted = false;
  for (const auto& n : j["notes"]) noted = noted || n.get<std::string>().find("stopped advancing") != std::string::npos;
  CHECK(noted);
}
