#pragma once
// share/hardware: CPU TDPs, model-number rules for micro-architectures, the
// cloud per-vCPU power coefficients and GPU TDPs (see tools/curate-data), and
// the matching of /proc/cpuinfo model strings against them.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sensors/hardware.h"
#include "util/result.h"

namespace greenrun {

struct CpuTdp {
  std::string name;  // normalised
  double tdp_w = 0;
  int cores = 0, threads = 0;  // 0 when the source does not say
  std::string source;
};

struct Microarch {
  std::string name;  // skylake, zen3, neoverse_n1, ...
  std::string ccf;   // the coefficient row it uses, "" when the table has none
  std::string source;
};

struct CloudCoefficient {
  std::string provider, microarch;
  double min_w = 0, max_w = 0;  // per vCPU
  std::string source;
};

struct GpuTdp {
  std::string model;
  double tdp_w = 0;
  std::string source;
};

/// One cloud instance type (share/hardware/cloud_instances.csv).
struct CloudInstance {
  std::string provider, type;
  int vcpus = 0, platform_vcpus = 0, gpus = 0;
  double memory_gb = 0;
  double embodied_kg = 0;  // the whole platform (server), Cloud Carbon Footprint
  /// AWS: the instance's package and RAM watts at 0, 10, 50 and 100% CPU load
  /// (Teads); empty where the data has none.
  std::vector<double> pkg_w, ram_w;
  std::string source;
};

/// The load points of CloudInstance::pkg_w and ram_w.
inline constexpr double kInstanceLoads[] = {0.0, 0.1, 0.5, 1.0};

/// A default manufacturing figure (share/hardware/embodied_defaults.csv).
struct EmbodiedDefault {
  std::string part;  // server, gpu
  double kg = 0, lifetime_h = 0;
  int threads = 0;   // servers: the hardware threads a VM's vCPUs are a share of
  std::string source;
};

class HardwareData {
 public:
  /// Loads the small tables; the CPU table (5,000 rows) stays raw text and is
  /// searched only when a CPU has to be matched.
  static Result<HardwareData> load(const std::string& share_dir);

  /// The table row for a /proc/cpuinfo model string, or nullptr.
  std::optional<CpuTdp> match_cpu(const std::string& model) const;
  std::optional<Microarch> microarchitecture(const CpuDescription& cpu) const;
  /// The coefficient row for a provider ("" = any) and CCF processor name.
  const CloudCoefficient* coefficient(const std::string& provider, const std::string& ccf) const;
  const GpuTdp* match_gpu(const std::string& name) const;
  const std::vector<GpuTdp>& gpus() const { return gpus_; }
  /// The instance type of a provider (aws, azure, gcp), or an error naming the
  /// closest types. The 1,100-row table is read only here.
  Result<CloudInstance> instance(const std::string& provider, const std::string& type) const;
  const std::vector<EmbodiedDefault>& embodied_defaults() const { return embodied_; }

 private:
  struct Rule {
    std::string kind, pattern;
    Microarch arch;
  };
  std::string cpu_path_, instances_path_;
  std::vector<EmbodiedDefault> embodied_;
  mutable std::string cpu_text_;  // read on the first match that needs it
  std::vector<Rule> rules_;
  std::vector<CloudCoefficient> coefficients_;
  std::vector<GpuTdp> gpus_;
};

/// Lower case; "(R)", "(TM)", "CPU", "Processor", "N-Core", "13th Gen", the
/// clock ("@ 2.20GHz") and "with Radeon Graphics" removed; single spaces.
std::string normalise_cpu_name(std::string_view name);

/// '#' a digit, '?' a letter or digit, '*' at the end any rest; a pattern
/// that starts with '*' matches a token that ends with what follows.
bool match_model_pattern(std::string_view pattern, std::string_view token);

}  // namespace greenrun
