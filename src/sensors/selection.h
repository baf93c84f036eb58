#pragma once
// The selection rules, in one place: which of the channels the sources
// opened are read, so that no energy is counted twice (man greenrun, SOURCES).

#include <memory>
#include <vector>

#include "sensors/energy_source.h"

namespace greenrun {

/// Applies the rules to `sources` (in probe order): keeps the channels to
/// read, drops the others through EnergySource::retain, adds a finding for
/// every channel (used, or covered and by what), and numbers the GPUs
/// gpu0, gpu1, ... in that order. Sources left without channels are removed.
///   1. psys (platform) replaces package and DRAM: it includes both.
///   2. A vendor library's GPUs (NVML, ROCm SMI) are not read again through hwmon.
///   3. CPU-side energy (package, DRAM, platform) comes from one source: the
///      first in the table that has it (RAPL before amd_energy or Grace sensors).
///   4. A Grace Hopper Module sensor, which includes its GPU, is used only when
///      no GPU is measured on its own; otherwise the Grace CPU sensors are.
///   5. An APU's GPU sensor, which includes the CPU cores, is not added to a
///      measured CPU package.
/// The sixth rule, measured beats estimated, is the estimate's: it is created
/// afterwards for what no measured channel covers.
void select_channels(std::vector<std::unique_ptr<EnergySource>>& sources, std::vector<Finding>& findings);

}  // namespace greenrun
