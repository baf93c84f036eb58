#include "sensors/hardware.h"

#include <sys/random.h>
#include <sys/utsname.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <set>

#include "util/fs.h"

namespace greenrun {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void parse_cpuinfo(const std::string& text, CpuDescription& cpu) {
  std::set<std::string> sockets, cores;
  std::string physical_id;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = std::string_view(text).substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string key(trim(line.substr(0, colon)));
    std::string value(trim(line.substr(colon + 1)));
    if (key == "processor") {
      ++cpu.logical;
      physical_id = "0";
    } else if (key == "model name" && cpu.model.empty()) {
      cpu.model = value;
    } else if (key == "cpu family" && cpu.family == 0) {
      cpu.family = std::atoi(value.c_str());
    } else if (key == "model" && cpu.model_id == 0) {
      cpu.model_id = std::atoi(value.c_str());
    } else if (key == "vendor_id" && cpu.vendor.empty()) {
      cpu.vendor = value;
    } else if (key == "CPU implementer" && cpu.arm_implementer.empty()) {
      cpu.arm_implementer = lower(value);
    } else if (key == "CPU part" && cpu.arm_part.empty()) {
      cpu.arm_part = lower(value);
    } else if (key == "physical id") {
      physical_id = value;
      sockets.insert(value);
    } else if (key == "core id") {
      cores.insert(physical_id + ":" + value);
    } else if (key == "flags" && (" " + value + " ").find(" hypervisor ") != std::string::npos) {
      cpu.hypervisor_flag = true;
    }
  }
  cpu.sockets = static_cast<int>(sockets.size());
  cpu.cores = static_cast<int>(cores.size());
}

// ARM cpuinfo has no physical id / core id: the topology files do.
void read_topology(const std::string& sysfs_root, CpuDescription& cpu) {
  std::set<std::string> sockets, cores;
  for (const auto& name : list_dir(sysfs_root + "/devices/system/cpu")) {
    if (name.rfind("cpu", 0) != 0 || name.size() < 4 || !std::isdigit(static_cast<unsigned char>(name[3]))) continue;
    std::string topo = sysfs_root + "/devices/system/cpu/" + name + "/topology/";
    auto pkg = read_line(topo + "physical_package_id");
    auto core = read_line(topo + "core_id");
    if (pkg) sockets.insert(*pkg);
    if (pkg && core) cores.insert(*pkg + ":" + *core);
  }
  if (cpu.sockets == 0) cpu.sockets = sockets.empty() ? 1 : static_cast<int>(sockets.size());
  if (cpu.cores == 0) cpu.cores = cores.empty() ? cpu.logical : static_cast<int>(cores.size());
}

/// aws, gcp or azure where DMI names it (vendor, product, BIOS vendor lower-cased); "" where not.
std::string dmi_cloud(const std::string& vendor, const std::string& product, const std::string& asset,
                      const std::string& bios) {
  // DMI strings the providers document for their VMs.
  if (vendor.find("amazon") != std::string::npos || product.find("amazon ec2") != std::string::npos || bios.find("amazon") != std::string::npos)
    return "aws";
  if (vendor == "google" || product.find("google compute engine") != std::string::npos)
    return "gcp";
  if (vendor == "microsoft corporation" && product == "virtual machine" &&
      asset == "7783-7084-3265-9085-8269-3286-77")
    return "azure";  // the asset tag Azure sets; plain Hyper-V has no such tag
  return "";
}

/// Cloud provider and virtual machine or not, from DMI and the hypervisor CPU flag.
void detect_virtualization(const std::string& sysfs_root, Hardware& h) {
  const std::string dmi = sysfs_root + "/class/dmi/id/";
  h.sys_vendor = std::string(trim(read_line(dmi + "sys_vendor").value_or("")));
  h.product_name = std::string(trim(read_line(dmi + "product_name").value_or("")));
  std::string asset = std::string(trim(read_line(dmi + "chassis_asset_tag").value_or("")));
  std::string bios = lower(std::string(trim(read_line(dmi + "bios_vendor").value_or(""))));
  const std::string vendor = lower(h.sys_vendor), product = lower(h.product_name);
  h.cloud = dmi_cloud(vendor, product, asset, bios);
  static const char* kVirtualVendors[] = {"qemu", "kvm", "vmware", "xen", "innotek", "virtualbox", "parallels",
                                          "bochs", "microsoft corporation", "amazon", "google"};
  for (const char* v : kVirtualVendors)
    if (vendor.find(v) != std::string::npos || (std::string(v) == "kvm" && product.find("kvm") != std::string::npos)) {
      h.virtual_machine = true;
      h.virtualization = "DMI: " + h.sys_vendor + (h.product_name.empty() ? "" : " " + h.product_name);
      break;
    }
  // Bare-metal cloud instances (*.metal) have DMI naming the provider but no hypervisor flag.
  if (h.cpu.hypervisor_flag) {
    h.virtual_machine = true;
    h.virtualization = h.virtualization.empty() ? "the hypervisor CPU flag" : h.virtualization + ", hypervisor CPU flag";
  } else if (!h.cloud.empty() && product.find("metal") != std::string::npos) {
    h.virtual_machine = false;
    h.virtualization.clear();
  }
}

/// MemTotal from meminfo in bytes; 0 where it cannot be read.
double mem_total_bytes(const std::string& procfs_root) {
  if (auto text = read_file(procfs_root + "/meminfo")) {
    auto pos = text->find("MemTotal:");
    if (pos != std::string::npos) {
      auto end = text->find('\n', pos);
      std::string v(trim(std::string_view(*text).substr(pos + 9, end - pos - 9)));
      if (v.size() > 3 && v.substr(v.size() - 3) == " kB") v.resize(v.size() - 3);
      return static_cast<double>(parse_u64(v).value_or(0)) * 1024.0;
    }
  }
  return 0;
}

// Display controllers (PCI class 0x03xx) and processing accelerators (0x12xx).
void list_gpus(const std::string& sysfs_root, Hardware& h) {
  const std::string pci = sysfs_root + "/bus/pci/devices/";
  const auto devices = list_dir(pci);
  h.pci_visible = !devices.empty();
  for (const auto& dev : devices) {
    std::string cls = read_line(pci + dev + "/class").value_or("");
    if (cls.rfind("0x03", 0) != 0 && cls.rfind("0x12", 0) != 0) continue;
    std::string vid = lower(std::string(trim(read_line(pci + dev + "/vendor").value_or(""))));
    std::string vendor_name = vid == "0x10de" ? "nvidia" : vid == "0x1002" ? "amd" : vid == "0x8086" ? "intel" : vid;
    // Server BMC graphics (ASPEED 0x1a03, Matrox 0x102b) are not GPUs anyone computes on.
    if (vid == "0x1a03" || vid == "0x102b" || vid == "0x1234") continue;
    h.gpus.push_back({dev, vendor_name});
  }
}

}  // namespace

Hardware detect_hardware(const std::string& sysfs_root, const std::string& procfs_root) {
  Hardware h;
  if (auto text = read_file(procfs_root + "/cpuinfo")) parse_cpuinfo(*text, h.cpu);
  if (h.cpu.sockets == 0 || h.cpu.cores == 0) read_topology(sysfs_root, h.cpu);
  if (h.cpu.logical == 0) h.cpu.logical = std::max(1, h.cpu.cores);
  detect_virtualization(sysfs_root, h);
  h.mem_total_bytes = mem_total_bytes(procfs_root);
  list_gpus(sysfs_root, h);
  utsname u{};
  if (::uname(&u) == 0) h.os = std::string(u.sysname) + "-" + u.release + "-" + u.machine;
  return h;
}

std::string random_uuid() {
  uint8_t b[16] = {};
  if (::getrandom(b, sizeof b, 0) != static_cast<ssize_t>(sizeof b))
    for (auto& x : b) x = static_cast<uint8_t>(std::rand());
  b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

}  // namespace greenrun
