#pragma once
// Beyond the operational emissions: the hardware's manufacturing share of the
// run (embodied), the Software Carbon Intensity score (ISO/IEC 21031:2024)
// and water. Each is reported beside the emissions, never added to them.

#include <optional>
#include <string>
#include <vector>

#include "carbon/carbon.h"
#include "carbon/functional_unit.h"
#include "sensors/hardware.h"
#include "sensors/hardware_data.h"

namespace greenrun {

struct FootprintOptions;  // carbon/carbon_options.h

/// A piece of hardware whose manufacturing emissions the run shares.
struct EmbodiedPart {
  std::string what;          // "server", "aws m5.xlarge: 4 of its server's 96 vCPUs", "2 GPUs"
  bool gpu = false;          // shared by the GPUs' energy, else by the whole machine's
  double kg = 0;             // the whole piece's manufacturing emissions, kgCO2e
  double lifetime_h = 0;     // spread linearly over this
  double machine_share = 1;  // the part of the piece that is this machine (a VM's vCPUs over its host's)
  std::string source;
};

/// Fixed for a run: which hardware, its figures and the range.
struct EmbodiedSettings {
  std::vector<EmbodiedPart> parts;
  /// Each GPU the report has, unless the parts already hold them (a cloud instance's figure does).
  std::optional<EmbodiedDefault> gpu_default;
  std::optional<double> lifetime_h;  // --lifetime: replaces every part's
  std::string basis;                 // instance, default, given
  double low_factor = 1, high_factor = 1;
  int logical_cpus = 1;              // for the command's share where no energy was measured
};

/// What the options and the machine say; nullopt with --no-embodied.
std::optional<EmbodiedSettings> resolve_embodied(const FootprintOptions& o, const Hardware& hw,
                                                 const std::optional<CloudInstance>& instance,
                                                 const std::vector<EmbodiedDefault>& defaults);

/// What the run used of the machine.
struct EmbodiedUse {
  double duration_s = 0;
  double machine_share = 1;  // the command's share of the machine's energy (1 in machine scope)
  double gpu_share = 1;      // of the GPUs' energy
  int gpus = 0;              // GPU components in the report
};

struct EmbodiedPartReport {
  EmbodiedPart part;
  double command_share = 1;
  double emissions_g = 0;
};

struct EmbodiedReport {
  std::vector<EmbodiedPartReport> parts;
  double emissions_g = 0, low_g = 0, high_g = 0;
  std::string basis;
  double duration_s = 0;
};

/// g = kg x 1000 x machine share x duration / lifetime x the command's share, per part.
EmbodiedReport compute_embodied(const EmbodiedSettings& s, const EmbodiedUse& use);

/// SCI = (E x I + M) / R: E the energy at the meter (x PUE), I the grid
/// intensity, M the embodied share, R the functional units.
struct SciReport {
  FunctionalUnit unit;
  bool unit_counted = false;  // R is what the command counted (greenrun count), not --functional-unit
  double e_kwh = 0, i_g_per_kwh = 0;
  double o_g = 0;  // E x I: the run's operational emissions
  double m_g = 0;
  bool m_included = true;  // false with --no-embodied (then not an SCI score by the standard)
  double per_unit_g = 0;
};

SciReport compute_sci(const CarbonReport& carbon, const EmbodiedReport* embodied, const FunctionalUnit& unit);

/// Water at the facility: the IT energy x WUE (The Green Grid's WUE is site
/// water over IT energy), where a WUE is known.
struct WaterReport {
  double energy_kwh = 0;  // IT energy, before PUE
  std::optional<double> wue_l_per_kwh, liters;
  std::string source;     // where the WUE came from, or why it is unknown
};

WaterReport compute_water(double energy_kwh, std::optional<double> wue);

/// Everything the three need besides the report, fixed for a run.
struct FootprintSettings {
  std::optional<EmbodiedSettings> embodied;
  std::optional<FunctionalUnit> unit;
  std::optional<double> wue;
  std::string instance;  // the resolved --instance-type ("aws m5.xlarge"), shown in the report
};

}  // namespace greenrun
