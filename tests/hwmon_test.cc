// hwmon sensors through greenrun's real probing, selection and reading code,
// on fixture trees: amdgpu, i915, xe, amd_energy and NVIDIA Grace.

#include <catch2/catch.hpp>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "helpers.h"
#include "sensors/hwmon_source.h"

using namespace greenrun;
using namespace greenrun::test;
using nlohmann::json;

namespace {

struct Box {
  TempDir dir;
  std::string sys = dir / "sys";
  std::vector<std::unique_ptr<FakeCounter>> counters;
  Box() { make_dirs(sys + "/class/hwmon"); }
  std::string hwmon(int n, const std::string& name, const std::string& pci = "") {
    std::string d = sys + "/class/hwmon/hwmon" + std::to_string(n);
    write_file(d + "/name", name + "\n");
    if (!pci.empty()) {
      make_dirs(sys + "/devices/pci0000:00/" + pci);
      REQUIRE(symlink(("../../devices/pci0000:00/" + pci).c_str(), (d + "/device").c_str()) == 0);
    }
    return d;
  }
  void advancing(const std::string& path, double per_s) { counters.push_back(std::make_unique<FakeCounter>(path, per_s, 5'000'000)); }
  json run(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {greenrun_bin(), "-q", "--scope", "machine", "--interval", "100ms", "--json",
                                     dir / "h.json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {"--", "sleep", "1"});
    ProcOptions opt;
    opt.env = {{"GREENRUN_SYSFS_ROOT", sys}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}, {"FAKE_NVML_CONFIG", dir / "nvml.conf"}};
    auto r = run_proc(argv, opt);
    if (r.status != 0) FAIL(r.err);
    return json::parse(slurp(dir / "h.json"));
  }
};


double energy(const json& j, const std::string& name) {
  const json* c = component(j, name);
  if (!c) FAIL("no component " << name << " in " << j["components"].dump());
  return (*c)["energy_j"].get<double>();
}

}  // namespace

TEST_CASE("an amdgpu card: power1_average integrated over the run", "[hwmon]") {
  Box b;
  auto d = b.hwmon(0, "amdgpu", "0000:c1:00.0");
  write_file(d + "/power1_average", "150000000\n");  // 150 W in microwatts
  auto j = b.run();
  const json* g = component(j, "gpu0");
  REQUIRE(g);
  CHECK((*g)["source"] == "hwmon amdgpu power (integrated)");
  CHECK((*g)["measured"] == true);
  CHECK((*g)["detail"][0]["label"] == "AMD GPU 0000:c1:00.0");
  CHECK(energy(j, "gpu0") == Approx(150 * j["duration_s"].get<double>()).epsilon(0.15));

  SECTION("power1_input is preferred where the kernel has it") {
    write_file(d + "/power1_input", "50000000\n");
    auto k = b.run();
    CHECK(energy(k, "gpu0") == Approx(50 * k["duration_s"].get<double>()).epsilon(0.15));
  }
}

TEST_CASE("Intel GPUs: i915 and xe card energy counters, GT-level hwmons left out", "[hwmon]") {
  Box b;
  b.advancing(b.hwmon(0, "i915", "0000:00:02.0") + "/energy1_input", 12e6);  // 12 W
  b.advancing(b.hwmon(1, "i915_gt0") + "/energy1_input", 9e6);
  b.advancing(b.hwmon(2, "xe", "0000:03:00.0") + "/energy1_input", 30e6);
  auto j = b.run();
  double t = j["duration_s"];
  CHECK((*component(j, "gpu0"))["source"] == "hwmon i915 energy counter");
  CHECK(energy(j, "gpu0") == Approx(12 * t).epsilon(0.2));
  CHECK((*component(j, "gpu1"))["source"] == "hwmon xe energy counter");
  CHECK(energy(j, "gpu1") == Approx(30 * t).epsilon(0.2));
  CHECK_FALSE(component(j, "gpu2"));
}

TEST_CASE("xe: the card's energy1 where labelled so, else the package's energy2, never both", "[hwmon]") {
  // Kernel 6.8 on: energy1_input is the card, energy2_input the package, on
  // the parts that have each (xe_hwmon.c): DG2 and PVC the package only,
  // Battlemage both. Arc, Flex and Max GPUs were skipped.
  Box b;
  auto dg2 = b.hwmon(0, "xe", "0000:03:00.0");
  write_file(dg2 + "/energy2_label", "pkg\n");
  b.advancing(dg2 + "/energy2_input", 25e6);
  auto bmg = b.hwmon(1, "xe", "0000:04:00.0");
  write_file(bmg + "/energy1_label", "card\n");
  b.advancing(bmg + "/energy1_input", 40e6);
  write_file(bmg + "/energy2_label", "pkg\n");
  b.advancing(bmg + "/energy2_input", 30e6);
  auto j = b.run();
  double t = j["duration_s"];
  const json* g0 = component(j, "gpu0");
  const json* g1 = component(j, "gpu1");
  REQUIRE(g0);
  REQUIRE(g1);
  CHECK((*g0)["detail"][0]["origin"] == dg2 + "/energy2_input");
  CHECK(energy(j, "gpu0") == Approx(25 * t).epsilon(0.2));
  REQUIRE((*g1)["detail"].size() == 1);
  CHECK((*g1)["detail"][0]["origin"] == bmg + "/energy1_input");
  CHECK(energy(j, "gpu1") == Approx(40 * t).epsilon(0.2));
  CHECK_FALSE(component(j, "gpu2"));
}

TEST_CASE("an APU's amdgpu sensor includes the CPU: not added to a measured CPU package", "[hwmon]") {
  // "On APUs this includes the CPU" (amdgpu_pm.c); an APU is recognised by
  // its northbridge voltage, in1 labelled vddnb.
  Box b;
  auto d = b.hwmon(0, "amdgpu", "0000:c4:00.0");
  write_file(d + "/in0_label", "vddgfx\n");
  write_file(d + "/in1_label", "vddnb\n");
  write_file(d + "/in1_input", "1003\n");
  write_file(d + "/power1_input", "30000000\n");  // 30 W: the SoC, CPU cores included
  auto alone = b.run();
  CHECK(energy(alone, "gpu0") == Approx(30 * alone["duration_s"].get<double>()).epsilon(0.15));
  CHECK_FALSE(component(alone, "cpu"));  // the CPU is inside that figure: not estimated on top of it
  CHECK(component(alone, "ram"));

  FakeRapl rapl(b.sys, 20);
  auto j = b.run();
  CHECK_FALSE(component(j, "gpu0"));
  CHECK(energy(j, "cpu") == Approx(20 * j["duration_s"].get<double>()).epsilon(0.2));
  bool noted = false;
  for (const auto& u : j["unused_sources"])
    if (u["what"] == "AMD GPU 0000:c4:00.0") noted = u["reason"].get<std::string>().find("APU") != std::string::npos;
  CHECK(noted);

  SECTION("a discrete card (no vddnb) is added") {
    write_file(d + "/in1_label", "vddgfx\n");
    auto k = b.run();
    CHECK(energy(k, "gpu0") == Approx(30 * k["duration_s"].get<double>()).epsilon(0.15));
  }
}

TEST_CASE("amd_energy: socket counters, cores not added, RAPL preferred", "[hwmon]") {
  Box b;
  auto d = b.hwmon(0, "amd_energy");
  write_file(d + "/energy1_label", "Ecore000\n");
  b.advancing(d + "/energy1_input", 5e6);
  write_file(d + "/energy2_label", "Esocket0\n");
  b.advancing(d + "/energy2_input", 90e6);
  write_file(d + "/energy3_label", "Esocket1\n");
  b.advancing(d + "/energy3_input", 60e6);
  auto j = b.run();
  const json* cpu = component(j, "cpu");
  REQUIRE(cpu);
  CHECK((*cpu)["measured"] == true);
  CHECK((*cpu)["detail"].size() == 2);
  CHECK(energy(j, "cpu") == Approx(150 * j["duration_s"].get<double>()).epsilon(0.2));

  SECTION("with RAPL readable, the RAPL package is used instead") {
    FakeRapl rapl(b.sys, 40);
    auto k = b.run();
    CHECK((*component(k, "cpu"))["source"] == "RAPL powercap");
    CHECK(energy(k, "cpu") == Approx(40 * k["duration_s"].get<double>()).epsilon(0.2));
  }
}

TEST_CASE("NVIDIA Grace: Grace socket power, the Module only without NVML GPUs", "[hwmon][nvml]") {
  Box b;
  auto meter = [&](int n, const std::string& info, const std::string& uw) {
    auto d = b.hwmon(n, "power_meter");
    write_file(d + "/device/power1_oem_info", info + "\n");
    write_file(d + "/device/power1_average", uw + "\n");
  };
  meter(0, "Module Power Socket 0", "500000000");
  meter(1, "Grace Power Socket 0", "100000000");
  meter(2, "CPU Power Socket 0", "70000000");
  meter(3, "SysIO Power Socket 0", "20000000");
  auto module = b.run();
  double t = module["duration_s"];
  CHECK(energy(module, "platform") == Approx(500 * t).epsilon(0.15));
  CHECK_FALSE(component(module, "cpu"));  // inside the Module

  write_file(b.dir / "nvml.conf", "count=1\ngpu0.name=NVIDIA GH200 480GB\ngpu0.power_w=300\ngpu0.procs=children\n");
  auto split = b.run({"--nvml-lib", FAKE_NVML_LIB});
  double s = split["duration_s"];
  CHECK_FALSE(component(split, "platform"));  // never the Module with NVML GPU power on top
  CHECK(energy(split, "cpu") == Approx(100 * s).epsilon(0.15));  // Grace, not CPU + SysIO again
  CHECK(energy(split, "gpu0") == Approx(300 * s).epsilon(0.15));
}

TEST_CASE("scan_hwmon reads names and labels, skips what it cannot use", "[hwmon]") {
  Box b;
  write_file(b.hwmon(0, "coretemp") + "/temp1_input", "45000\n");
  write_file(b.hwmon(1, "amdgpu") + "/device/power1_average", "1000000\n");
  write_file(b.hwmon(12, "nvme") + "/temp1_input", "30000\n");
  auto d = b.hwmon(10, "power_meter");
  write_file(d + "/device/power1_average", "1\n");  // no oem_info: cannot tell what it covers
  auto s = scan_hwmon(b.sys);
  REQUIRE(s.size() == 1);
  CHECK(s[0].driver == "amdgpu");
  CHECK(s[0].kind == HwmonSensor::Kind::Power);
  CHECK(s[0].path == b.sys + "/class/hwmon/hwmon1/device/power1_average");
}

TEST_CASE("hwmon read(): energy counters and integrated power, exact", "[hwmon][direct]") {
  Box b;
  auto gpu = b.hwmon(0, "i915", "0000:03:00.0");
  write_file(gpu + "/energy1_input", "1000000\n");
  auto amd = b.hwmon(1, "amdgpu", "0000:c1:00.0");
  write_file(amd + "/power1_average", "100000000\n");  // 100 W in uW
  std::vector<Finding> findings;
  auto src = HwmonSource::open(b.sys, 10, findings);
  REQUIRE(src);
  REQUIRE(src->channels().size() == 2);
  auto at = [&](double t_s) {
    SampleContext ctx;
    ctx.now = std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(t_s)));
    std::vector<ChannelReading> out;
    src->read(ctx, out);
    REQUIRE(out.size() == 2);
    return std::vector<double>{out[0].energy_j, out[1].energy_j};
  };
  CHECK(at(0) == std::vector<double>{0, 0});
  write_file(gpu + "/energy1_input", "3500000\n");
  CHECK(at(2) == std::vector<double>{2.5, 200});
  write_file(amd + "/power1_average", "300000000\n");
  CHECK(at(3) == std::vector<double>{2.5, 400});  // (100 + 300) / 2 W x 1 s
}
