#pragma once
// Emissions of a run and "the same run elsewhere": energy x PUE x intensity,
// comparisons with other grids, and everyday equivalents.

#include <optional>
#include <string>
#include <vector>

#include "carbon/carbon_data.h"
#include "carbon/intensity.h"
#include "config/options.h"
#include "carbon/region.h"

namespace greenrun {

/// What the user chose (or greenrun guessed), resolved before the command starts.
struct CarbonSettings {
  Location location;
  double pue = 1.0;
  std::string pue_source = "default (no facility overhead)";
  Factor factor = Factor::Lifecycle;
  std::optional<double> intensity_override;  // --intensity
  std::string intensity_file;                // --intensity-file
  IntensityProfile profile = IntensityProfile::constant(0);
  std::vector<Location> compare;             // --compare, or the default reference grids
  bool compare_given = false;
  bool show_comparisons = true;
};

struct Comparison {
  std::string id, name;
  double g_per_kwh = 0;
  double emissions_g = 0;
  std::string why;  // here, cleanest, dirtiest, world, chosen, cloud
};

struct EquivalentValue {
  std::string id, label, unit, source;
  double value = 0;
};

struct CarbonReport {
  CarbonSettings settings;
  double energy_kwh = 0;              // per the report's scope, before PUE
  double intensity_g_per_kwh = 0;     // the energy-weighted average over the run
  double emissions_g = 0;             // per scope, PUE included
  double machine_emissions_g = 0;
  double seconds_outside_file = 0;    // run time not covered by --intensity-file
  std::vector<Comparison> comparisons;
  std::vector<EquivalentValue> equivalents;
};

/// The grids shown when --compare is not given (a spread of well-known ones).
inline constexpr const char* kDefaultCompare = "NO,FR,DE,US,CN,IN,PL";

/// Everything from Options that decides the emissions, resolved and checked:
/// an unknown region, a bad --compare entry or a malformed intensity file is
/// an error here, before the command starts.
Result<CarbonSettings> resolve_carbon_settings(const Options& o, const CarbonData& data, const EnvLookup& env,
                                               const std::string& zoneinfo_dir = "/usr/share/zoneinfo");

/// `energy_j` is per the report's scope; `raw_g` and `machine_raw_g` are the
/// intensity-weighted emissions before PUE (Accounting's totals).
CarbonReport build_carbon_report(const CarbonData& data, const CarbonSettings& settings, double energy_j,
                                 double raw_g, double machine_raw_g,
                                 std::chrono::system_clock::time_point started,
                                 std::chrono::system_clock::time_point ended);

}  // namespace greenrun
