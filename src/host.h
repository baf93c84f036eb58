#pragma once
// Facts about the machine that reports need (the CSV's cpu_model, ram_total_size,
// os, ...), read through the --procfs-root seam.

#include <string>

namespace greenrun {

struct HostInfo {
  int cpu_count = 0;         // logical CPUs
  std::string cpu_model;     // "model name" of /proc/cpuinfo ("" when absent, as on many ARM machines)
  double ram_total_bytes = 0;
  std::string os;            // "Linux-6.1.0-18-amd64-x86_64"
};

HostInfo read_host_info(const std::string& procfs_root);

/// A random RFC 4122 version 4 UUID.
std::string random_uuid();

}  // namespace greenrun
