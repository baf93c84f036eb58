// RAPL through perf_event (sysfs layout real, the system call faked with
// files) and through MSR device files (sparse files standing in for
// /dev/cpu/N/msr, read with the real pread code).

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <map>

#include "helpers.h"
#include "sensors/msr_rapl.h"
#include "sensors/perf_rapl.h"
#include "sensors/selection.h"

using namespace greenrun;
using namespace greenrun::test;

namespace {

// perf_event_open stand-in: each (config, cpu) is a file holding a u64 count.
class FakePerf : public PerfOps {
 public:
  explicit FakePerf(std::string dir) : dir_(std::move(dir)) {}
  int open(uint32_t type, uint64_t config, int cpu) override {
    opened.push_back({type, config, cpu});
    if (deny) return -EACCES;
    std::string path = file(config, cpu);
    set(config, cpu, 0);
    return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  std::optional<uint64_t> read(int fd) override {
    uint64_t v;
    if (::pread(fd, &v, sizeof v, 0) != sizeof v) return std::nullopt;
    return v;
  }
  void close(int fd) override { ::close(fd); }
  void set(uint64_t config, int cpu, uint64_t count) {
    int fd = ::open(file(config, cpu).c_str(), O_WRONLY | O_CREAT, 0644);
    REQUIRE(::pwrite(fd, &count, sizeof count, 0) == sizeof count);
    ::close(fd);
  }
  struct Call {
    uint32_t type;
    uint64_t config;
    int cpu;
  };
  std::vector<Call> opened;
  bool deny = false;

 private:
  std::string file(uint64_t config, int cpu) { return dir_ + "/perf-" + std::to_string(config) + "-" + std::to_string(cpu); }
  std::string dir_;
};

void perf_pmu(const std::string& sys, bool psys) {
  const std::string d = sys + "/bus/event_source/devices/power";
  write_file(d + "/type", "23\n");
  write_file(d + "/cpumask", "0,4\n");
  write_file(d + "/events/energy-cores", "event=0x01\n");
  write_file(d + "/events/energy-pkg", "event=0x02\n");
  write_file(d + "/events/energy-pkg.scale", "2.3283064365386962890625e-10\n");
  write_file(d + "/events/energy-pkg.unit", "Joules\n");
  write_file(d + "/events/energy-ram", "event=0x03\n");
  write_file(d + "/events/energy-ram.scale", "2.3283064365386962890625e-10\n");
  if (psys) write_file(d + "/events/energy-psys", "event=0x05\n");
}

std::vector<double> read_all(EnergySource& s) {
  std::vector<ChannelReading> r;
  s.read(SampleContext{}, r);
  std::vector<double> out;
  for (const auto& x : r) out.push_back(x.ok ? x.energy_j : -1);
  return out;
}

void write_msr(const std::string& dev, int cpu, uint32_t address, uint64_t value) {
  std::string path = dev + "/cpu/" + std::to_string(cpu) + "/msr";
  make_dirs(dev + "/cpu/" + std::to_string(cpu));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, &value, sizeof value, static_cast<off_t>(address)) == sizeof value);
  ::close(fd);
}

}  // namespace

TEST_CASE("perf: cpulists and event strings", "[perf]") {
  CHECK(parse_cpulist("0,64\n") == std::vector<int>{0, 64});
  CHECK(parse_cpulist("0-3,8") == std::vector<int>{0, 1, 2, 3, 8});
  CHECK(parse_cpulist("") == std::vector<int>{});
  CHECK(parse_perf_event("event=0x02\n") == 2u);
  CHECK(parse_perf_event("event=5") == 5u);
  CHECK_FALSE(parse_perf_event("umask=0x1"));
}

TEST_CASE("perf: energy-pkg and energy-ram on one CPU per package, counts x scale", "[perf]") {
  TempDir dir;
  perf_pmu(dir / "sys", false);
  auto fake = std::make_shared<FakePerf>(dir.path());
  std::vector<Finding> findings;
  auto src = PerfRaplSource::open(dir / "sys", fake, "/usr/bin/greenrun", findings);
  REQUIRE(src);
  REQUIRE(src->channels().size() == 4);
  CHECK(src->channels()[0].component.kind == ComponentKind::Cpu);
  CHECK(src->channels()[2].component.kind == ComponentKind::Dram);
  for (const auto& c : fake->opened) {
    CHECK(c.type == 23);
    CHECK((c.cpu == 0 || c.cpu == 4));
    CHECK(c.config != 1);  // energy-cores is inside the package: never opened
  }
  read_all(*src);
  const double unit = std::ldexp(1.0, -32);
  fake->set(2, 0, static_cast<uint64_t>(10.0 / unit));  // 10 J on package 0
  fake->set(2, 4, static_cast<uint64_t>(20.0 / unit));
  fake->set(3, 0, static_cast<uint64_t>(1.0 / unit));
  auto e = read_all(*src);
  CHECK(e[0] == Approx(10));
  CHECK(e[1] == Approx(20));
  CHECK(e[2] == Approx(1));
  CHECK(e[3] == Approx(0));
}

TEST_CASE("perf: psys instead of package and dram (the selection rule), and permission denied names setcap", "[perf]") {
  TempDir dir;
  perf_pmu(dir / "sys", true);
  auto fake = std::make_shared<FakePerf>(dir.path());
  std::vector<Finding> findings;
  std::vector<std::unique_ptr<EnergySource>> sources;
  sources.push_back(PerfRaplSource::open(dir / "sys", fake, "/opt/bin/greenrun", findings));
  REQUIRE(sources[0]);
  CHECK(sources[0]->channels().size() == 6);  // psys, pkg and ram on two packages
  select_channels(sources, findings);
  REQUIRE(sources.size() == 1);
  REQUIRE(sources[0]->channels().size() == 2);
  for (const auto& c : sources[0]->channels()) CHECK(c.component.kind == ComponentKind::Platform);
  auto covered = std::count_if(findings.begin(), findings.end(), [](auto& f) {
    return f.disposition == Disposition::Covered && f.reason.find("covered by psys") != std::string::npos;
  });
  CHECK(covered == 4);
  auto e = read_all(*sources[0]);  // the dropped counters are closed, the kept ones still read
  CHECK(e.size() == 2);

  TempDir denied_dir;
  perf_pmu(denied_dir / "sys", false);
  auto denied = std::make_shared<FakePerf>(denied_dir.path());
  denied->deny = true;
  std::vector<Finding> why;
  CHECK_FALSE(PerfRaplSource::open(denied_dir / "sys", denied, "/opt/bin/greenrun", why));
  REQUIRE_FALSE(why.empty());
  CHECK(why[0].fix == "sudo setcap cap_perfmon+ep /opt/bin/greenrun");
  CHECK_THAT(why[0].reason, Catch::Contains("perf_event_paranoid"));
}

TEST_CASE("perf: the real system call on a PMU type the kernel does not have fails cleanly", "[perf]") {
  TempDir dir;
  perf_pmu(dir / "sys", false);
  write_file(dir / "sys/bus/event_source/devices/power/type", "999999\n");
  std::vector<Finding> findings;
  CHECK_FALSE(PerfRaplSource::open(dir / "sys", real_perf_ops(), "greenrun", findings));
  REQUIRE_FALSE(findings.empty());
  CHECK_FALSE(findings[0].used());
  CHECK(findings[0].disposition == Disposition::Unreadable);
}

TEST_CASE("MSR: Intel units, server DRAM quirk, one CPU per package, 32-bit wrap", "[msr]") {
  TempDir dir;
  const std::string dev = dir / "dev", sys = dir / "sys";
  for (auto [cpu, pkg] : {std::pair{0, 0}, {1, 0}, {2, 1}, {3, 1}}) {
    write_file(sys + "/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/physical_package_id",
               std::to_string(pkg) + "\n");
  }
  for (int cpu : {0, 2}) {
    write_msr(dev, cpu, msr::kIntelPowerUnit, 0xA0E03);  // ESU 14: 61.035 uJ
    write_msr(dev, cpu, msr::kIntelPkgEnergy, 0xFFFFFF00u);
    write_msr(dev, cpu, msr::kIntelDramEnergy, 1000);
  }
  CpuDescription cpu;
  cpu.vendor = "GenuineIntel";
  cpu.family = 6;
  cpu.model_id = 0x55;  // Skylake-SP: DRAM in 2^-16 J units
  std::vector<Finding> findings;
  auto src = MsrRaplSource::open(dev, sys, cpu, "greenrun", findings);
  REQUIRE(src);
  REQUIRE(src->channels().size() == 4);  // package + dram for packages 0 and 1 (CPUs 0 and 2)
  CHECK(src->channels()[0].origin == dev + "/cpu/0/msr @ 0x611");
  CHECK(src->channels()[2].origin == dev + "/cpu/2/msr @ 0x611");
  read_all(*src);
  write_msr(dev, 0, msr::kIntelPkgEnergy, 0x100);  // wrapped: 0x100 + 0x100 units later
  write_msr(dev, 0, msr::kIntelDramEnergy, 1000 + 65536);
  auto e = read_all(*src);
  CHECK(e[0] == Approx(0x200 * std::ldexp(1.0, -14)));
  CHECK(e[1] == Approx(1.0));  // 65536 x 2^-16 J
}

TEST_CASE("MSR: AMD registers, and what is missing", "[msr]") {
  TempDir dir;
  const std::string dev = dir / "dev";
  write_msr(dev, 0, msr::kAmdPowerUnit, 0x10 << 8);  // ESU 16
  write_msr(dev, 0, msr::kAmdPkgEnergy, 5);
  CpuDescription amd;
  amd.vendor = "AuthenticAMD";
  std::vector<Finding> findings;
  auto src = MsrRaplSource::open(dev, dir / "sys", amd, "greenrun", findings);
  REQUIRE(src);
  REQUIRE(src->channels().size() == 1);
  read_all(*src);
  write_msr(dev, 0, msr::kAmdPkgEnergy, 5 + 65536 * 3);
  CHECK(read_all(*src)[0] == Approx(3.0));

  std::vector<Finding> none;
  CHECK_FALSE(MsrRaplSource::open(dir / "nodev", dir / "sys", amd, "greenrun", none));
  REQUIRE_FALSE(none.empty());
  CHECK(none[0].fix == "sudo modprobe msr");
  CpuDescription arm;
  std::vector<Finding> arm_findings;
  CHECK_FALSE(MsrRaplSource::open(dev, dir / "sys", arm, "greenrun", arm_findings));
}

TEST_CASE("MSR unit quirks: Atom microjoules, Sapphire Rapids psys", "[msr]") {
  CpuDescription atom{"", "GenuineIntel", "", "", 6, 0x4D};
  CHECK(msr_joules_per_unit(0x0500, atom, "package") == Approx(32e-6));
  CpuDescription spr{"", "GenuineIntel", "", "", 6, 0x8F};
  CHECK(msr_joules_per_unit(0x0E00, spr, "psys") == 1.0);
  CHECK(msr_joules_per_unit(0x0E00, spr, "package") == Approx(std::ldexp(1.0, -14)));
}
