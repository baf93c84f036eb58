// Hardware detection on fixture trees, the CPU matcher on real /proc/cpuinfo
// model strings, and the estimation model's output for fixed inputs.

#include <catch2/catch.hpp>

#include <filesystem>
#include <optional>

#include "sensors/estimate.h"
#include "sensors/hardware.h"
#include "sensors/hardware_data.h"
#include "helpers.h"

using namespace greenrun;
using namespace greenrun::test;

namespace {

const HardwareData& data() {
  static std::optional<HardwareData> d;
  if (!d) {
    auto loaded = HardwareData::load(source_dir() + "/share");
    if (!loaded) FAIL(loaded.error());
    d = *loaded;
  }
  return *d;
}

struct Box {
  TempDir dir;
  std::string sys = dir / "sys", proc = dir / "proc";
  void dmi(const std::string& vendor, const std::string& product, const std::string& asset = "") {
    write_file(sys + "/class/dmi/id/sys_vendor", vendor + "\n");
    write_file(sys + "/class/dmi/id/product_name", product + "\n");
    if (!asset.empty()) write_file(sys + "/class/dmi/id/chassis_asset_tag", asset + "\n");
  }
  void topology(int cpu, int package, int core) {
    std::string t = sys + "/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    write_file(t + "physical_package_id", std::to_string(package) + "\n");
    write_file(t + "core_id", std::to_string(core) + "\n");
  }
  void meminfo(uint64_t kb) { write_file(proc + "/meminfo", "MemTotal:       " + std::to_string(kb) + " kB\nMemAvailable:   1024 kB\n"); }
  Hardware detect() const { return detect_hardware(sys, proc); }
};

std::string x86_cpuinfo(const std::string& model, const std::string& vendor, int sockets, int cores_per_socket,
                        bool hypervisor) {
  std::string s;
  int n = 0;
  for (int p = 0; p < sockets; ++p)
    for (int c = 0; c < cores_per_socket; ++c) {
      s += "processor\t: " + std::to_string(n++) + "\nvendor_id\t: " + vendor + "\nmodel name\t: " + model +
           "\nphysical id\t: " + std::to_string(p) + "\ncore id\t\t: " + std::to_string(c) +
           "\nflags\t\t: fpu vme de pse tsc msr" + (hypervisor ? " hypervisor" : "") + " lahf_lm\n\n";
    }
  return s;
}

}  // namespace

TEST_CASE("an ARM cloud VM without a model name: Graviton2 per-vCPU coefficients", "[hardware][estimate]") {
  Box b;
  std::string cpuinfo;
  for (int i = 0; i < 4; ++i) {
    cpuinfo += "processor\t: " + std::to_string(i) +
               "\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics\n"
               "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n\n";
    b.topology(i, 0, i);
  }
  write_file(b.proc + "/cpuinfo", cpuinfo);
  b.dmi("Amazon EC2", "m6g.xlarge");
  b.meminfo(16 * 1024 * 1024);
  auto hw = b.detect();
  CHECK(hw.cpu.model.empty());
  CHECK(hw.cpu.arm_part == "0xd0c");
  CHECK(hw.cpu.logical == 4);
  CHECK(hw.cpu.cores == 4);
  CHECK(hw.cpu.sockets == 1);
  CHECK(hw.virtual_machine);
  CHECK(hw.cloud == "aws");
  CHECK(hw.mem_total_bytes == Approx(16.0 * 1024 * 1024 * 1024));
  auto m = cpu_power_model(hw, data(), {});
  CHECK(m.basis == "cloud");
  CHECK(m.idle_w == Approx(0.47 * 4));
  CHECK(m.max_w == Approx(1.69 * 4));
  CHECK(cpu_power_w(m, 0.5) == Approx((0.47 + 1.69) / 2 * 4));
  CHECK_THAT(m.method, Catch::Contains("aws_graviton_2") && Catch::Contains("x 4 vCPUs"));
}

TEST_CASE("a two-socket EPYC bare-metal host: TDP x sockets", "[hardware][estimate]") {
  Box b;
  write_file(b.proc + "/cpuinfo", x86_cpuinfo("AMD EPYC 7763 64-Core Processor", "AuthenticAMD", 2, 4, false));
  b.dmi("Dell Inc.", "PowerEdge R7525");
  b.meminfo(512 * 1024 * 1024);
  auto hw = b.detect();
  CHECK(hw.cpu.sockets == 2);
  CHECK(hw.cpu.cores == 8);
  CHECK(hw.cpu.logical == 8);
  CHECK_FALSE(hw.virtual_machine);
  CHECK(hw.cloud.empty());
  auto m = cpu_power_model(hw, data(), {});
  CHECK(m.basis == "tdp");
  CHECK(m.max_w == Approx(2 * 280));
  CHECK(m.idle_w == Approx(2 * 280 * kIdleShare));
  CHECK(cpu_power_w(m, 1.0) == Approx(560));
  CHECK(cpu_power_w(m, 0.0) == Approx(118.4).epsilon(0.001));
  CHECK(m.low_factor < 1);
  CHECK(m.high_factor > 1);
  CHECK_THAT(m.method, Catch::Contains("280 W TDP x 2 sockets"));
}

TEST_CASE("an Azure VM with a Xeon Platinum: the provider's coefficients for its micro-architecture", "[hardware][estimate]") {
  Box b;
  write_file(b.proc + "/cpuinfo", x86_cpuinfo("Intel(R) Xeon(R) Platinum 8272CL CPU @ 2.60GHz", "GenuineIntel", 1, 2, true));
  b.dmi("Microsoft Corporation", "Virtual Machine", "7783-7084-3265-9085-8269-3286-77");
  auto hw = b.detect();
  CHECK(hw.virtual_machine);
  CHECK(hw.cloud == "azure");
  auto m = cpu_power_model(hw, data(), {});
  CHECK(m.basis == "cloud");
  CHECK(m.idle_w == Approx(0.64 * 2));
  CHECK(m.max_w == Approx(3.97 * 2));
  CHECK_THAT(m.method, Catch::Contains("azure cascade_lake"));

  SECTION("an Ice Lake part has no coefficient of its own: the provider's average, said so") {
    Box ice;
    write_file(ice.proc + "/cpuinfo", x86_cpuinfo("Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz", "GenuineIntel", 1, 2, true));
    ice.dmi("Microsoft Corporation", "Virtual Machine", "7783-7084-3265-9085-8269-3286-77");
    auto im = cpu_power_model(ice.detect(), data(), {});
    CHECK(im.basis == "cloud-average");
    CHECK(im.max_w == Approx(3.54 * 2));
    CHECK_THAT(im.method, Catch::Contains("ice_lake") && Catch::Contains("no coefficient of its own"));
  }
  SECTION("plain Hyper-V is a VM but not Azure") {
    Box hv;
    write_file(hv.proc + "/cpuinfo", x86_cpuinfo("Intel(R) Xeon(R) Platinum 8272CL CPU @ 2.60GHz", "GenuineIntel", 1, 2, true));
    hv.dmi("Microsoft Corporation", "Virtual Machine");
    auto h = hv.detect();
    CHECK(h.virtual_machine);
    CHECK(h.cloud.empty());
  }
}

TEST_CASE("unknown CPUs fall back to documented defaults", "[hardware][estimate]") {
  Box vm;
  write_file(vm.proc + "/cpuinfo", x86_cpuinfo("QEMU Virtual CPU version 2.5+", "GenuineIntel", 1, 2, true));
  auto m = cpu_power_model(vm.detect(), data(), {});
  CHECK(m.basis == "cloud-average");
  CHECK_FALSE(m.matched);
  CHECK(m.max_w == Approx(3.5 * 2));

  Box metal;
  write_file(metal.proc + "/cpuinfo", x86_cpuinfo("Some Future CPU 9000", "GenuineIntel", 1, 8, false));
  auto d = cpu_power_model(metal.detect(), data(), {});
  CHECK(d.basis == "default");
  CHECK(d.max_w == Approx(kUnknownCpuWPerCore * 8));
  CHECK(d.low_factor == Approx(0.4));
  CHECK(d.high_factor == Approx(2.0));
  CHECK_THAT(d.method, Catch::Contains("not in the TDP table") && Catch::Contains("--cpu-tdp"));
}

TEST_CASE("overrides: --cpu-tdp, --cpu-model, --cpu-idle-w / --cpu-max-w", "[hardware][estimate]") {
  Box metal;
  write_file(metal.proc + "/cpuinfo", x86_cpuinfo("Some Future CPU 9000", "GenuineIntel", 2, 2, false));
  auto hw = metal.detect();
  EstimateOverrides tdp;
  tdp.cpu_tdp_w = 100;
  CHECK(cpu_power_model(hw, data(), tdp).max_w == Approx(200));
  EstimateOverrides model;
  model.cpu_model = "Intel Xeon Gold 6248";
  CHECK(cpu_power_model(hw, data(), model).max_w == Approx(2 * 150));
  EstimateOverrides watts;
  watts.cpu_idle_w = 40;
  watts.cpu_max_w = 240;
  auto w = cpu_power_model(hw, data(), watts);
  CHECK(cpu_power_w(w, 0.25) == Approx(40 + 0.25 * 200));
  CHECK(w.basis == "user");
}

TEST_CASE("GPUs on the PCI bus, BMC graphics ignored", "[hardware]") {
  Box b;
  auto dev = [&](const std::string& addr, const std::string& cls, const std::string& vendor, const std::string& device) {
    write_file(b.sys + "/bus/pci/devices/" + addr + "/class", cls + "\n");
    write_file(b.sys + "/bus/pci/devices/" + addr + "/vendor", vendor + "\n");
    write_file(b.sys + "/bus/pci/devices/" + addr + "/device", device + "\n");
  };
  dev("0000:3b:00.0", "0x030200", "0x10de", "0x2330");  // NVIDIA 3D controller
  dev("0000:c1:00.0", "0x038000", "0x1002", "0x740f");  // AMD Instinct
  dev("0000:03:00.0", "0x030000", "0x1a03", "0x2000");  // ASPEED BMC VGA
  dev("0000:00:1f.0", "0x060100", "0x8086", "0xa1c8");  // ISA bridge
  auto hw = b.detect();
  REQUIRE(hw.gpus.size() == 2);
  CHECK(hw.gpus[0].vendor == "nvidia");
  CHECK(hw.gpus[1].vendor == "amd");
  CHECK(hw.pci_visible);  // vendor libraries are then loaded only for their vendor's devices

  SECTION("a container that hides the PCI bus: not visible, so every vendor library is tried") {
    Box hidden;
    CHECK_FALSE(hidden.detect().pci_visible);
  }
}

TEST_CASE("CPU model strings from real machines match the TDP table", "[hardware][match]") {
  struct Case {
    const char* model;
    const char* row;   // expected table row, "" for none
    const char* arch;  // expected micro-architecture, "" for none
  };
  // model name lines of /proc/cpuinfo seen on cloud VMs, servers, desktops and laptops.
  const Case corpus[] = {
      {"Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz", "intel xeon platinum 8370c", "ice_lake"},
      {"Intel(R) Xeon(R) Platinum 8272CL CPU @ 2.60GHz", "intel xeon platinum 8272cl", "cascade_lake"},
      {"Intel(R) Xeon(R) Platinum 8175M CPU @ 2.50GHz", "intel xeon platinum 8175m", "skylake"},
      {"Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz", "intel xeon platinum 8259cl", "cascade_lake"},
      {"Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", "intel xeon gold 6248", "cascade_lake"},
      {"Intel(R) Xeon(R) Silver 4110 CPU @ 2.10GHz", "intel xeon silver 4110", "skylake"},
      {"Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", "intel xeon e5-2686 v4", "broadwell"},
      {"Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz", "intel xeon e5-2670", "sandy_bridge"},
      {"Intel(R) Xeon(R) E-2288G CPU @ 3.70GHz", "intel xeon e-2288g", "coffee_lake"},
      {"Intel(R) Xeon(R) CPU @ 2.20GHz", "", ""},
      {"Intel Xeon Processor (Skylake, IBRS)", "", "skylake"},
      {"Intel Xeon Processor (Cascadelake)", "", "cascade_lake"},
      {"AMD EPYC 7763 64-Core Processor", "amd epyc 7763", "zen3"},
      {"AMD EPYC 7R13 Processor", "amd epyc 7r13", "zen3"},
      {"AMD EPYC 7B12", "amd epyc 7b12", "zen2"},
      {"AMD EPYC 9R14 96-Core Processor", "", "zen4"},
      {"AMD EPYC Processor", "", ""},
      {"AMD EPYC-Rome Processor", "", "zen2"},
      {"AMD EPYC", "", ""},
      {"AMD Ryzen 9 5950X 16-Core Processor", "amd ryzen 9 5950x", ""},
      {"AMD Ryzen 7 PRO 4750U with Radeon Graphics", "amd ryzen 7 pro 4750u", ""},
      {"AMD Ryzen Threadripper PRO 5995WX 64-Cores", "amd ryzen threadripper pro 5995wx", ""},
      {"Intel(R) Core(TM) i9-13900K", "intel core i9-13900k", ""},
      {"Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz", "intel core i7-8700", ""},
      {"Intel(R) Core(TM) i5-10210U CPU @ 1.60GHz", "intel core i5-10210u", ""},
      {"QEMU Virtual CPU version 2.5+", "", ""},
      {"Common KVM processor", "", ""},
  };
  for (const auto& c : corpus) {
    INFO(c.model);
    auto row = data().match_cpu(c.model);
    CHECK((row ? row->name : std::string()) == c.row);
    CpuDescription cpu;
    cpu.model = c.model;
    auto arch = data().microarchitecture(cpu);
    CHECK((arch ? arch->name : std::string()) == c.arch);
  }
  CpuDescription graviton3;
  graviton3.arm_implementer = "0x41";
  graviton3.arm_part = "0xd40";
  REQUIRE(data().microarchitecture(graviton3));
  CHECK(data().microarchitecture(graviton3)->name == "neoverse_v1");
}

TEST_CASE("GPU names from NVML and ROCm match the TDP table", "[hardware][match]") {
  auto tdp = [](const char* name) { auto g = data().match_gpu(name); return g ? g->tdp_w : 0.0; };
  CHECK(tdp("NVIDIA H100 80GB HBM3") == 700);
  CHECK(tdp("NVIDIA H100 PCIe") == 350);
  CHECK(tdp("NVIDIA A100-SXM4-80GB") == 400);
  CHECK(tdp("NVIDIA A100-PCIE-40GB") == 250);
  CHECK(tdp("Tesla T4") == 70);
  CHECK(tdp("NVIDIA L4") == 72);
  CHECK(tdp("NVIDIA L40S") == 350);
  CHECK(tdp("NVIDIA GeForce RTX 4090") == 450);
  CHECK(tdp("AMD Instinct MI300X") == 750);
  CHECK(tdp("NVIDIA A10G") == 0);  // not A10, not A100: unknown
  for (const auto& g : data().gpus()) CHECK_FALSE(g.source.empty());
}

TEST_CASE("normalisation and model-number patterns", "[hardware][match]") {
  CHECK(normalise_cpu_name("13th Gen Intel(R) Core(TM) i7-1365U") == "intel core i7-1365u");
  CHECK(normalise_cpu_name("AMD Ryzen 7 PRO 4750U with Radeon Graphics") == "amd ryzen 7 pro 4750u");
  CHECK(normalise_cpu_name("Intel Xeon Processor (Skylake, IBRS)") == "intel xeon");
  CHECK(match_model_pattern("#2##*", "8272cl"));
  CHECK_FALSE(match_model_pattern("#2##*", "8370c"));
  CHECK(match_model_pattern("7??3*", "7r13"));
  CHECK(match_model_pattern("*v4", "e5-2686v4"));
  CHECK_FALSE(match_model_pattern("*v4", "e5-2670"));
}

TEST_CASE("a malformed hardware table is rejected with its name and line", "[hardware]") {
  TempDir dir;
  std::filesystem::copy(source_dir() + "/share/hardware", dir / "hardware");
  const std::string gpus = dir / "hardware/gpu_tdp.csv";
  auto text = slurp(gpus);
  auto second = text.find('\n', text.find('\n') + 1) + 1;  // line 3
  auto comma = text.find(',', second);
  text.replace(comma + 1, text.find(',', comma + 1) - comma - 1, "-5");
  write_file(gpus, text);
  auto bad = HardwareData::load(dir.path());
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error(), Catch::Contains("gpu_tdp.csv line 3: bad TDP"));

  SECTION("a missing column is named") {
    write_file(gpus, "model,source\nA100,x\n");
    auto missing = HardwareData::load(dir.path());
    REQUIRE_FALSE(missing);
    CHECK_THAT(missing.error(), Catch::Contains("gpu_tdp.csv: missing column tdp_w"));
  }
  SECTION("a row with too few fields is named") {
    write_file(gpus, "model,tdp_w,source\nA100,400,x\nH100,700\n");
    auto short_row = HardwareData::load(dir.path());
    REQUIRE_FALSE(short_row);
    CHECK_THAT(short_row.error(), Catch::Contains("gpu_tdp.csv line 3: 2 fields, expected 3"));
  }
  SECTION("the loaded rows are all there") {
    write_file(gpus, "model,tdp_w,source\nA100,400,x\nH100 SXM,700,\"y, z\"\n");
    auto ok = HardwareData::load(dir.path());
    REQUIRE(ok);
    REQUIRE(ok->match_gpu("NVIDIA H100 SXM"));
    CHECK(ok->match_gpu("NVIDIA H100 SXM")->tdp_w == 700);
    CHECK(ok->match_gpu("NVIDIA H100 SXM")->source == "y, z");
  }
}
