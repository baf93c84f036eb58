#pragma once
// What the user asked of the energy sources and of the estimate; commands/options.cc
// fills it from the option table. A source sees only these.

#include <optional>
#include <string>

namespace greenrun {

/// Where the sources read: roots, vendor libraries and device files (unusual installs, tests).
struct SourceOptions {
  std::string sysfs_root = "/sys";    // --sysfs-root
  std::string procfs_root = "/proc";  // --procfs-root
  std::string dev_root = "/dev";      // --dev-root: MSR device files
  std::string nvml_lib;               // --nvml-lib
  std::string rocm_lib;               // --rocm-lib
  std::string instance_type;          // --instance-type m5.xlarge, or "auto" (DMI)
};

/// The estimate where nothing can be measured (--no-estimate, --cpu-tdp, ...).
struct EstimateOptions {
  bool no_estimate = false;
  std::optional<double> cpu_tdp_w, cpu_idle_w, cpu_max_w, ram_w_per_gb, gpu_tdp_w;
  std::string cpu_model;
};

}  // namespace greenrun
