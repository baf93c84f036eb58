#include "sensors/msr_rapl.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "util/fs.h"

namespace greenrun {

namespace {

bool is_intel(const CpuDescription& cpu) { return cpu.vendor == "GenuineIntel"; }
bool is_amd(const CpuDescription& cpu) { return cpu.vendor == "AuthenticAMD" || cpu.vendor == "HygonGenuine"; }

bool read_msr(int fd, uint32_t address, uint64_t& value) {
  return ::pread(fd, &value, sizeof value, static_cast<off_t>(address)) == static_cast<ssize_t>(sizeof value);
}

// One CPU per package, from the topology files (cpu 0 alone when they are missing).
std::vector<int> one_cpu_per_package(const std::string& sysfs_root) {
  std::map<std::string, int> first;
  for (const auto& name : list_dir(sysfs_root + "/devices/system/cpu")) {
    if (name.rfind("cpu", 0) != 0 || name.size() < 4 || !std::isdigit(static_cast<unsigned char>(name[3]))) continue;
    int cpu = std::atoi(name.c_str() + 3);
    auto pkg = read_line(sysfs_root + "/devices/system/cpu/" + name + "/topology/physical_package_id");
    if (!pkg) continue;
    auto it = first.find(*pkg);
    if (it == first.end() || cpu < it->second) first[*pkg] = cpu;
  }
  std::vector<int> out;
  for (const auto& [pkg, cpu] : first) out.push_back(cpu);
  std::sort(out.begin(), out.end());
  if (out.empty()) out.push_back(0);
  return out;
}

const char kSource[] = "RAPL MSR";

/// The MSR device of one package, closed when its last counter goes; nullptr
/// (with the finding) where it cannot be opened.
std::shared_ptr<const int> open_msr(const std::string& path, size_t pkg, const std::string& self_exe,
                                    std::vector<Finding>& findings) {
  int raw_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw_fd < 0) {
    int err = errno;
    Finding f{kSource, "package " + std::to_string(pkg), path, Disposition::Unreadable, "cannot open: " + errno_text(err), ""};
    if (err == ENOENT || err == ENXIO) {
      f.disposition = Disposition::Absent;
      f.reason = "no MSR device (the msr module is not loaded)";
      f.fix = "sudo modprobe msr";
    } else if (err == EACCES || err == EPERM) {
      f.reason = "reading MSRs needs CAP_SYS_RAWIO";
      f.fix = "sudo setcap cap_sys_rawio,cap_dac_read_search+ep " + self_exe;
    }
    findings.push_back(std::move(f));
    return nullptr;
  }
  return std::shared_ptr<const int>(new int(raw_fd), [](const int* p) {
    ::close(*p);
    delete p;
  });
}

struct Domain {
  const char* name;
  ComponentKind kind;
  uint32_t address;
  const char* note;
};

/// The energy registers of package `pkg` to try, read through its device `fd`.
std::vector<Domain> package_domains(int fd, bool intel, size_t pkg) {
  std::vector<Domain> domains;
  if (intel) {
    uint64_t v = 0;
    // psys is platform-wide: read it once.
    if (pkg == 0 && read_msr(fd, msr::kIntelPsysEnergy, v) && v != 0)
      domains.push_back({"psys", ComponentKind::Platform, msr::kIntelPsysEnergy, "whole platform (psys)"});
    domains.push_back({"package", ComponentKind::Cpu, msr::kIntelPkgEnergy, "CPU package"});
    if (read_msr(fd, msr::kIntelDramEnergy, v))
      domains.push_back({"dram", ComponentKind::Dram, msr::kIntelDramEnergy, "memory (DRAM), counted beside package"});
  } else {
    domains.push_back({"package", ComponentKind::Cpu, msr::kAmdPkgEnergy, "CPU package"});
  }
  return domains;
}

Channel domain_channel(const Domain& d, size_t pkg, const std::string& path) {
  Channel ch;
  ch.component.kind = d.kind;
  ch.label = std::string(d.name) + " " + std::to_string(pkg);
  ch.source = kSource;
  ch.counter = true;
  ch.update_s = kRaplUpdateS;
  char addr[16];
  std::snprintf(addr, sizeof addr, "0x%X", d.address);
  ch.origin = path + " @ " + addr;
  ch.note = std::string(d.note) + ", energy register " + addr;
  return ch;
}

}  // namespace

double msr_joules_per_unit(uint64_t unit_register, const CpuDescription& cpu, const std::string& domain) {
  const unsigned esu = static_cast<unsigned>((unit_register >> 8) & 0x1F);
  if (is_intel(cpu) && cpu.family == 6) {
    const int m = cpu.model_id;
    // Server parts count DRAM in fixed 15.3 uJ units (2^-16 J): Haswell-EP, Broadwell-EP/DE,
    // Skylake-SP, Ice Lake-SP/D, Xeon Phi.
    if (domain == "dram" && (m == 0x3F || m == 0x4F || m == 0x56 || m == 0x55 || m == 0x6A || m == 0x6C ||
                             m == 0x57 || m == 0x85))
      return std::ldexp(1.0, -16);
    if (domain == "psys" && m == 0x8F) return 1.0;  // Sapphire Rapids: psys in joules
    // Atom (Silvermont): energy = 2^ESU microjoules.
    if (m == 0x37 || m == 0x4A || m == 0x4D || m == 0x5A || m == 0x5D) return std::ldexp(1.0, static_cast<int>(esu)) * 1e-6;
  }
  return std::ldexp(1.0, -static_cast<int>(esu));
}

std::unique_ptr<MsrRaplSource> MsrRaplSource::open(const std::string& dev_root, const std::string& sysfs_root,
                                                   const CpuDescription& cpu, const std::string& self_exe,
                                                   std::vector<Finding>& findings) {
  if (!is_intel(cpu) && !is_amd(cpu)) {
    findings.push_back({kSource, "", dev_root + "/cpu/0/msr", Disposition::Absent, "no RAPL registers on this CPU (" +
                        (cpu.vendor.empty() ? std::string("not x86") : cpu.vendor) + ")", ""});
    return nullptr;
  }
  auto src = std::unique_ptr<MsrRaplSource>(new MsrRaplSource());
  const bool intel = is_intel(cpu);
  const auto cpus = one_cpu_per_package(sysfs_root);
  for (size_t pkg = 0; pkg < cpus.size(); ++pkg) {
    const std::string path = dev_root + "/cpu/" + std::to_string(cpus[pkg]) + "/msr";
    auto fd = open_msr(path, pkg, self_exe, findings);
    if (!fd) continue;
    uint64_t units = 0;
    if (!read_msr(*fd, intel ? msr::kIntelPowerUnit : msr::kAmdPowerUnit, units)) {
      findings.push_back({kSource, "package " + std::to_string(pkg), path, Disposition::Unreadable,
                          "cannot read the power-unit register: " + errno_text(errno), ""});
      continue;
    }
    for (const auto& d : package_domains(*fd, intel, pkg)) {
      uint64_t v = 0;
      if (!read_msr(*fd, d.address, v)) continue;
      MsrCounter c;
      c.fd = fd;
      c.address = d.address;
      c.joules_per_unit = msr_joules_per_unit(units, cpu, d.name);
      src->add(domain_channel(d, pkg, path), std::move(c));
    }
  }
  if (src->channels_.empty()) return nullptr;
  return src;
}

std::vector<std::string> MsrRaplSource::notes() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < state_.size(); ++i) state_[i].check.note("RAPL " + channels_[i].label, out);
  return out;
}

void MsrRaplSource::read(const SampleContext& ctx, std::vector<ChannelReading>& out) {
  out.assign(state_.size(), {});
  for (size_t i = 0; i < state_.size(); ++i) {
    MsrCounter& c = state_[i];
    uint64_t v = 0;
    if (!read_msr(*c.fd, c.address, v)) continue;
    const auto raw = static_cast<uint32_t>(v & 0xFFFFFFFFu);
    if (!c.primed) c.first_t = ctx.now;
    // The status register is 32 bits: unsigned subtraction wraps exactly once.
    const double step = c.primed ? static_cast<double>(static_cast<uint32_t>(raw - c.last)) * c.joules_per_unit : 0.0;
    const double dt = c.primed ? std::chrono::duration<double>(ctx.now - c.last_t).count() : 0.0;
    c.last = raw;
    c.last_t = ctx.now;
    c.primed = true;
    if (!c.check.plausible(step, dt)) {
      c.check.reject(step, dt, std::chrono::duration<double>(ctx.now - c.first_t).count());
      continue;
    }
    c.energy_j += step;
    out[i] = {c.energy_j, true, std::nullopt};
  }
}

}  // namespace greenrun
