#include "sensors/hwmon_source.h"

#include <climits>
#include <cstdlib>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace greenrun {

namespace {

// The file exists either in hwmonN/ or in hwmonN/device/ (older drivers).
std::string find(const std::string& dir, const std::string& file) {
  if (path_exists(dir + "/" + file)) return dir + "/" + file;
  if (path_exists(dir + "/device/" + file)) return dir + "/device/" + file;
  return "";
}

std::string pci_address(const std::string& dir) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink((dir + "/device").c_str(), buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string target(buf, static_cast<size_t>(n));
  return target.substr(target.rfind('/') + 1);
}

int readable(const std::string& path) {
  std::string text;
  return read_file(path, text);
}

std::string label_of(const std::string& dir, const std::string& sensor) {
  return std::string(trim(read_line(find(dir, sensor + "_label")).value_or("")));
}

/// amdgpu's power1 is the SoC's: "On APUs this includes the CPU" (amdgpu_pm.c).
/// Only APUs have the northbridge voltage, in1 labelled "vddnb"; the MI300A
/// (GC 9.4.3) does not, and is not recognised.
bool amdgpu_apu(const std::string& dir) { return label_of(dir, "in1") == "vddnb"; }

/// The one energy counter of an i915 or xe hwmon. i915: energy1, the device.
/// xe (6.8 on): energy1 is the card and energy2 the package, each only on the
/// parts that have it (DG2 and PVC: the package; Battlemage: both; labelled
/// "card" and "pkg"), and before 6.8 DG2 and PVC had their package counter in
/// energy1, unlabelled. The card where labelled so, else the first there is.
std::string gpu_energy_file(const std::string& dir) {
  std::string first;
  for (const char* n : {"energy1", "energy2"}) {
    std::string p = find(dir, std::string(n) + "_input");
    if (p.empty()) continue;
    if (label_of(dir, n) == "card") return p;
    if (first.empty()) first = p;
  }
  return first;
}

}  // namespace

std::vector<HwmonSensor> scan_hwmon(const std::string& sysfs_root) {
  std::vector<HwmonSensor> out;
  const std::string base = sysfs_root + "/class/hwmon";
  auto entries = list_dir(base);
  // hwmon10 after hwmon9.
  std::sort(entries.begin(), entries.end(), [](const std::string& a, const std::string& b) {
    return std::atoi(a.c_str() + std::min<size_t>(5, a.size())) < std::atoi(b.c_str() + std::min<size_t>(5, b.size()));
  });
  for (const auto& e : entries) {
    const std::string dir = base + "/" + e;
    std::string driver(trim(read_line(find(dir, "name")).value_or("")));
    if (driver == "amdgpu") {
      // power1_input (instantaneous, Linux >= 6.6) or power1_average: usually only one exists.
      std::string p = find(dir, "power1_input");
      if (p.empty()) p = find(dir, "power1_average");
      if (p.empty()) continue;
      std::string pci = pci_address(dir);
      out.push_back({HwmonSensor::Kind::Power, driver, "gpu", "AMD GPU " + (pci.empty() ? e : pci), p, -1, readable(p),
                     amdgpu_apu(dir)});
    } else if (driver == "i915" || driver == "xe") {
      // Device-level energy; the GT-level hwmons (i915_gtN) are inside it.
      std::string p = gpu_energy_file(dir);
      if (p.empty()) continue;
      std::string pci = pci_address(dir);
      out.push_back({HwmonSensor::Kind::Energy, driver, "gpu", "Intel GPU " + (pci.empty() ? e : pci), p, -1, readable(p)});
    } else if (driver == "amd_energy") {
      for (int i = 1; i < 1024; ++i) {
        std::string label = find(dir, "energy" + std::to_string(i) + "_label");
        if (label.empty()) break;
        std::string text(trim(read_line(label).value_or("")));
        if (text.rfind("Esocket", 0) != 0) continue;  // Ecore%03u are inside their socket
        std::string p = find(dir, "energy" + std::to_string(i) + "_input");
        out.push_back({HwmonSensor::Kind::Energy, driver, "cpu", "socket " + text.substr(7), p,
                       std::atoi(text.c_str() + 7), readable(p)});
      }
    } else if (driver == "power_meter") {
      std::string p = find(dir, "power1_average");
      std::string info(trim(read_line(find(dir, "power1_oem_info")).value_or("")));
      if (p.empty() || info.empty()) continue;
      auto sp = info.rfind("Socket ");
      int socket = sp == std::string::npos ? -1 : std::atoi(info.c_str() + sp + 7);
      std::string role = info.rfind("Module", 0) == 0   ? "module"
                         : info.rfind("Grace", 0) == 0  ? "cpu"
                         : info.rfind("CPU", 0) == 0    ? "cpu-rail"
                         : info.rfind("SysIO", 0) == 0  ? "sysio"
                                                        : "";
      if (role.empty()) continue;
      out.push_back({HwmonSensor::Kind::Power, driver, role, info, p, socket, readable(p)});
    }
  }
  return out;
}

namespace {

Channel hwmon_channel(const HwmonSensor& s) {
  Channel ch;
  ch.label = s.label;
  ch.origin = s.path;
  const bool energy = s.kind == HwmonSensor::Kind::Energy;
  ch.source = "hwmon " + s.driver + (energy ? " energy counter" : " power (integrated)");
  ch.counter = energy;
  if (s.role == "gpu") {
    ch.component.kind = ComponentKind::Gpu;
    ch.vendor = s.driver == "amdgpu" ? "amd" : "intel";
    ch.includes_cpu = s.includes_cpu;
    ch.note = energy ? "GPU energy counter" : s.includes_cpu ? "APU power (GPU and CPU), integrated" : "GPU power, integrated";
  } else if (s.role == "module") {
    ch.component.kind = ComponentKind::Platform;
    ch.includes_gpu = true;
    ch.note = "whole Grace Hopper module (CPU, GPU, memory)";
  } else {
    ch.component.kind = ComponentKind::Cpu;
    ch.note = s.driver == "amd_energy" ? "CPU socket energy counter" : "CPU power, integrated";
  }
  return ch;
}

}  // namespace

std::unique_ptr<HwmonSource> HwmonSource::open(const std::string& sysfs_root, double max_gap_s,
                                               std::vector<Finding>& findings) {
  auto sensors = scan_hwmon(sysfs_root);
  // On Grace, the socket's total includes its CPU rail and SysIO sensors.
  const bool grace_total = std::any_of(sensors.begin(), sensors.end(),
                                       [](auto& s) { return s.role == "cpu" && s.driver == "power_meter"; });
  auto src = std::unique_ptr<HwmonSource>(new HwmonSource());
  for (const auto& s : sensors) {
    Finding f{"hwmon " + s.driver, s.label, s.path, Disposition::Unreadable, "", ""};
    if (s.read_errno == EACCES || s.read_errno == EPERM) {
      f.reason = "not readable by this user (" + errno_text(s.read_errno) + ")";
      f.fix = "sudo chmod a+r " + s.path;
    } else if (s.read_errno != 0) {
      f.reason = "cannot read: " + errno_text(s.read_errno);
    } else if (s.driver == "power_meter" && s.role != "cpu" && s.role != "module" && grace_total) {
      f.disposition = Disposition::Covered;
      f.reason = "inside the Grace Power sensor of its socket";
    } else {
      HwmonInput in;
      in.kind = s.kind;
      in.power = PowerIntegrator(max_gap_s);
      if (int err = in.file.open(s.path); err != 0) {
        f.reason = "cannot open: " + errno_text(err);
      } else {
        src->add(hwmon_channel(s), std::move(in));
        continue;
      }
    }
    findings.push_back(std::move(f));
  }
  if (src->channels_.empty()) return nullptr;
  return src;
}

std::vector<std::string> HwmonSource::notes() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < state_.size(); ++i)
    if (state_[i].kind == HwmonSensor::Kind::Power) note_gaps(state_[i].power, channels_[i].component.name(), out);
  return out;
}

void HwmonSource::read(const SampleContext& ctx, std::vector<ChannelReading>& out) {
  out.assign(state_.size(), {});
  for (size_t i = 0; i < state_.size(); ++i) {
    HwmonInput& in = state_[i];
    if (in.file.read(buf_) != 0) continue;
    auto v = parse_u64(buf_);
    if (!v) continue;
    if (in.kind == HwmonSensor::Kind::Energy) {
      // 64-bit microjoule counters (amd_energy accumulates in the driver).
      if (!in.primed) in.first_uj = *v;
      if (*v < in.first_uj) in.first_uj = *v - static_cast<uint64_t>(in.counted_j * 1e6);  // driver reload
      in.counted_j = static_cast<double>(*v - in.first_uj) / 1e6;
      in.primed = true;
      out[i] = {in.counted_j, true, std::nullopt};
    } else {
      in.power.add(ctx.now, static_cast<double>(*v) / 1e6);  // microwatts
      out[i] = {in.power.energy_j(), true, std::nullopt};
    }
  }
}

}  // namespace greenrun
