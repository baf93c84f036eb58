#pragma once
// hwmon energy and power sensors: AMD GPUs (amdgpu power, integrated), Intel
// GPUs (i915 / xe energy counters), AMD CPUs (amd_energy socket counters) and
// NVIDIA Grace (ACPI power_meter, integrated), read under
// <sysfs>/class/hwmon/hwmonN.

#include <memory>
#include <string>
#include <vector>

#include "sensors/energy_source.h"
#include "util/fs.h"

namespace greenrun {

/// One sensor file greenrun can use, before selection.
struct HwmonSensor {
  enum class Kind { Energy, Power } kind = Kind::Power;
  std::string driver;     // amdgpu, i915, xe, amd_energy, power_meter
  std::string role;       // gpu, cpu, cpu-rail, sysio, module
  std::string label;      // "AMD GPU 0000:c1:00.0", "socket 0", "Grace Power Socket 0"
  std::string path;       // the *_input / *_average file
  int socket = -1;        // Grace and amd_energy
  int read_errno = 0;
};

/// Every usable-looking sensor under <sysfs>/class/hwmon, in hwmon order.
std::vector<HwmonSensor> scan_hwmon(const std::string& sysfs_root);

class HwmonSource : public EnergySource {
 public:
  /// Opens the chosen sensors as channels named `components[i]`.
  HwmonSource(const std::vector<HwmonSensor>& sensors, const std::vector<std::string>& components);
  std::string name() const override { return "hwmon"; }
  const std::vector<Channel>& channels() const override { return channels_; }
  void read(const SampleContext& ctx, std::vector<ChannelReading>& out) override;

 private:
  struct Input {
    HwmonSensor::Kind kind;
    PreadFile file;
    uint64_t first_uj = 0;
    bool primed = false;
    double energy_j = 0;
    double last_w = 0;
    std::chrono::steady_clock::time_point last_t{};
  };
  std::vector<Channel> channels_;
  std::vector<Input> inputs_;
  std::string buf_;
};

}  // namespace greenrun
