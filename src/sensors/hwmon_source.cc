#include "sensors/hwmon_source.h"

#include <climits>
#include <cstdlib>
#include <unistd.h>

#include <algorithm>

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
      out.push_back({HwmonSensor::Kind::Power, driver, "gpu", "AMD GPU " + (pci.empty() ? e : pci), p, -1, readable(p)});
    } else if (driver == "i915" || driver == "xe") {
      // Device-level card energy; the GT-level hwmons (i915_gtN) are inside it.
      std::string p = find(dir, "energy1_input");
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

HwmonSource::HwmonSource(const std::vector<HwmonSensor>& sensors, const std::vector<std::string>& components) {
  for (size_t i = 0; i < sensors.size(); ++i) {
    const auto& s = sensors[i];
    Input in;
    in.kind = s.kind;
    if (in.file.open(s.path) != 0) continue;
    Channel ch;
    ch.component = components[i];
    ch.label = s.label;
    ch.origin = s.path;
    ch.source = s.kind == HwmonSensor::Kind::Energy ? "hwmon " + s.driver + " energy counter"
                                                    : "hwmon " + s.driver + " power (integrated)";
    channels_.push_back(std::move(ch));
    inputs_.push_back(std::move(in));
  }
}

void HwmonSource::read(const SampleContext& ctx, std::vector<ChannelReading>& out) {
  out.assign(inputs_.size(), {});
  for (size_t i = 0; i < inputs_.size(); ++i) {
    Input& in = inputs_[i];
    if (in.file.read(buf_) != 0) continue;
    auto v = parse_u64(buf_);
    if (!v) continue;
    if (in.kind == HwmonSensor::Kind::Energy) {
      // 64-bit microjoule counters (amd_energy accumulates in the driver).
      if (!in.primed) in.first_uj = *v;
      if (*v < in.first_uj) in.first_uj = *v - static_cast<uint64_t>(in.energy_j * 1e6);  // driver reload
      in.energy_j = static_cast<double>(*v - in.first_uj) / 1e6;
    } else {
      double w = static_cast<double>(*v) / 1e6;  // microwatts
      if (in.primed) in.energy_j += (in.last_w + w) / 2.0 * std::chrono::duration<double>(ctx.now - in.last_t).count();
      in.last_w = w;
      in.last_t = ctx.now;
    }
    in.primed = true;
    out[i] = {in.energy_j, true, std::nullopt};
  }
}

}  // namespace greenrun
