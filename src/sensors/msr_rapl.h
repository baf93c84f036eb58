#pragma once
// RAPL read straight from the model-specific registers, /dev/cpu/N/msr (needs
// the msr module and CAP_SYS_RAWIO): the last resort when neither powercap
// nor perf can be read. Intel and AMD register sets, with the unit quirks of
// Intel server DRAM, Atom and Sapphire Rapids psys.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sensors/energy_source.h"
#include "sensors/hardware.h"
#include "sensors/plausibility.h"

namespace greenrun {

namespace msr {
inline constexpr uint32_t kIntelPowerUnit = 0x606, kIntelPkgEnergy = 0x611, kIntelDramEnergy = 0x619,
                          kIntelPsysEnergy = 0x64D;
inline constexpr uint32_t kAmdPowerUnit = 0xC0010299, kAmdPkgEnergy = 0xC001029B;
}  // namespace msr

/// Joules per counter unit for a domain from the power-unit register value
/// (energy status unit in bits 12:8), with the per-model quirks.
double msr_joules_per_unit(uint64_t unit_register, const CpuDescription& cpu, const std::string& domain);

/// One energy-status register; the registers of one package share its device file.
struct MsrCounter {
  std::shared_ptr<const int> fd;  // closed when the last counter of the package goes
  uint32_t address = 0;
  double joules_per_unit = 0;
  uint32_t last = 0;
  bool primed = false;
  double energy_j = 0;
  std::chrono::steady_clock::time_point last_t{}, first_t{};
  StepCheck check;
};

class MsrRaplSource : public ChannelTable<MsrCounter> {
 public:
  /// Opens psys (once), then package and DRAM of every package; the selection
  /// rules choose between psys and the others.
  static std::unique_ptr<MsrRaplSource> open(const std::string& dev_root, const std::string& sysfs_root,
                                             const CpuDescription& cpu, const std::string& self_exe,
                                             std::vector<Finding>& findings);

  void read(const SampleContext& ctx, std::vector<ChannelReading>& out) override;
  std::vector<std::string> notes() const override;
};

}  // namespace greenrun
