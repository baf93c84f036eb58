#pragma once
// What the machine is, read through the --sysfs-root / --procfs-root seams:
// CPU model and topology, virtual machine or not, cloud provider, memory,
// GPUs on the PCI bus. Feeds the estimator and the CSV.

#include <string>
#include <vector>

namespace greenrun {

struct CpuDescription {
  std::string model;            // "model name" ("" on many ARM machines)
  std::string vendor;           // vendor_id: GenuineIntel, AuthenticAMD; "" on ARM
  std::string arm_implementer;  // "CPU implementer" (0x41 = Arm), ARM only
  std::string arm_part;         // "CPU part" (0xd0c = Neoverse N1), ARM only
  int family = 0, model_id = 0; // x86 "cpu family" and "model" (RAPL unit quirks)
  int logical = 0;              // online logical CPUs (vCPUs in a VM)
  int cores = 0;                // physical cores
  int sockets = 0;
  bool hypervisor_flag = false; // "hypervisor" in the x86 flags
};

struct GpuDevice {
  std::string pci_address;  // 0000:3b:00.0
  std::string vendor;       // nvidia, amd, intel, or the PCI vendor id
};

struct Hardware {
  CpuDescription cpu;
  std::string sys_vendor, product_name;  // DMI, where present
  bool virtual_machine = false;
  std::string virtualization;  // why greenrun thinks so ("hypervisor CPU flag", "DMI: QEMU")
  std::string cloud;           // aws, gcp, azure, or "" when DMI names none
  double mem_total_bytes = 0;
  std::vector<GpuDevice> gpus;
  bool pci_visible = false;  // the PCI bus could be listed (some containers hide it)
  std::string os;              // "Linux-6.1.0-18-amd64-x86_64"
};

Hardware detect_hardware(const std::string& sysfs_root, const std::string& procfs_root);

/// A random RFC 4122 version 4 UUID.
std::string random_uuid();

}  // namespace greenrun
