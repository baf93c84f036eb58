#pragma once
// NVIDIA GPUs through NVML, loaded with dlopen (no header, no build-time
// dependency): the total-energy counter where the GPU has one (Volta and
// newer), its power integrated where not, and TDP x utilisation (an estimate)
// where it reports neither. Each GPU is attributed to the command by its
// running compute processes.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/dynlib.h"
#include "sensors/energy_source.h"

namespace greenrun {

class HardwareData;

struct NvmlOptions {
  std::string lib;  // --nvml-lib / GREENRUN_NVML_LIB; "" = libnvidia-ml.so.1, libnvidia-ml.so
  std::optional<std::string> cuda_visible_devices;
  std::optional<double> gpu_tdp_w;         // --gpu-tdp, for a GPU that reports no power
  const HardwareData* hardware = nullptr;  // GPU TDP table
  bool quiet_if_missing = true;            // no NVIDIA device on the PCI bus: a missing library is no news
  bool allow_estimate = true;              // false with --no-estimate
  double max_gap_s = 10;                   // integrated power: see PowerIntegrator
};

/// Which NVML indices CUDA_VISIBLE_DEVICES lets the command use: indices or
/// (prefixes of) UUIDs, up to the first invalid entry as CUDA does. nullopt:
/// unset, all visible.
std::optional<std::vector<int>> visible_gpus(const std::optional<std::string>& env, const std::vector<std::string>& uuids);

struct NvmlGpu;

class NvmlSource : public ChannelTable<NvmlGpu> {
 public:
  static std::unique_ptr<NvmlSource> open(const NvmlOptions& o, std::vector<Finding>& findings);
  ~NvmlSource() override;

  void read(const SampleContext& ctx, std::vector<ChannelReading>& out) override;
  std::vector<std::string> notes() const override;

  struct Api;  // the NVML function table

 private:
  NvmlSource();
  std::optional<double> share_of(NvmlGpu& g, const SampleContext& ctx);
  void degrade(size_t i, int rc, const char* what, const SampleContext& ctx);

  DynLib lib_;
  std::unique_ptr<Api> api_;
  std::vector<std::string> notes_;
  std::chrono::steady_clock::time_point opened_;
};

}  // namespace greenrun
