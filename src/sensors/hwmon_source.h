#pragma once
// hwmon energy and power sensors: AMD GPUs (amdgpu power, integrated), Intel
// GPUs (i915 / xe energy counters), AMD CPUs (amd_energy socket counters) and
// NVIDIA Grace (ACPI power_meter, integrated), read under
// <sysfs>/class/hwmon/hwmonN.

#include <memory>
#include <string>
#include <vector>

#include "sensors/energy_source.h"
#include "sensors/power_integrator.h"
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
  bool includes_cpu = false;  // an APU's amdgpu sensor: the whole SoC
};

/// Every usable-looking sensor under <sysfs>/class/hwmon, in hwmon order.
std::vector<HwmonSensor> scan_hwmon(const std::string& sysfs_root);

struct HwmonInput {
  HwmonSensor::Kind kind = HwmonSensor::Kind::Power;
  PreadFile file;
  uint64_t first_uj = 0;
  bool primed = false;
  double counted_j = 0;  // energy counters
  PowerIntegrator power;  // power sensors
};

class HwmonSource : public ChannelTable<HwmonInput> {
 public:
  /// Every readable sensor of scan_hwmon() as a channel (the selection rules
  /// decide which are used); unreadable ones become findings with the fix.
  /// nullptr when none is readable.
  static std::unique_ptr<HwmonSource> open(const std::string& sysfs_root, double max_gap_s, std::vector<Finding>& findings);
  void read(const SampleContext& ctx, std::vector<ChannelReading>& out) override;
  std::vector<std::string> notes() const override;

 private:
  std::string buf_;
};

}  // namespace greenrun
