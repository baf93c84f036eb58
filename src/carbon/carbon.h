#pragma once
// Emissions of a run and "the same run elsewhere": energy x PUE x intensity,
// comparisons with other grids, and everyday equivalents.

#include <optional>
#include <string>
#include <vector>

#include "carbon/carbon_data.h"
#include "carbon/factor.h"
#include "carbon/intensity.h"
#include "carbon/provider.h"
#include "carbon/region.h"
#include "sampling/timeline.h"
#include "util/env.h"

namespace greenrun {

struct GridOptions;  // carbon/carbon_options.h

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
  bool show_comparisons = true;
  std::optional<LiveSource> live;            // --intensity-source
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

/// One timeline record's emissions.
struct RecordCarbon {
  double intensity_g_per_kwh = 0;  // average over the record's span
  Basis basis = Basis::Yearly;     // what priced most of the span
  double emissions_g = 0;          // per the report's scope, PUE included
  double machine_emissions_g = 0;
};

struct CarbonReport {
  CarbonSettings settings;
  double energy_kwh = 0;              // per the report's scope, before PUE
  double intensity_g_per_kwh = 0;     // the energy-weighted average over the run
  double emissions_g = 0;             // per scope, PUE included: the sum over the records
  double machine_emissions_g = 0;
  std::vector<RecordCarbon> records;  // one per timeline record
  double seconds_outside_file = 0;    // run time not covered by --intensity-file
  BasisSeconds seconds_by_basis{};    // the records' time, by what priced it
  std::vector<Comparison> comparisons;
  std::vector<EquivalentValue> equivalents;
};

/// The grids shown when --compare is not given (a spread of well-known ones).
inline constexpr const char* kDefaultCompare = "NO,FR,DE,US,CN,IN,PL";

/// Everything of the grid options that decides the emissions, resolved and checked:
/// an unknown region, a bad --compare entry or a malformed intensity file is
/// an error here, before the command starts.
Result<CarbonSettings> resolve_carbon_settings(const GridOptions& o, const CarbonData& data, const EnvLookup& env,
                                               const std::string& zoneinfo_dir = "/usr/share/zoneinfo");

/// Emissions of every timeline record: its energy x PUE x the intensity over
/// its span (`origin` is the wall-clock time of the timeline's offset 0).
/// `machine`: the headline scope is the whole machine.
std::vector<RecordCarbon> record_emissions(const Timeline& timeline, std::chrono::system_clock::time_point origin,
                                           const IntensityProfile& profile, double pue, bool machine);

/// A projected run's emissions: `so_far_g` priced already, and `remaining_j`
/// still to come x PUE x the intensity averaged over [from, to) (the
/// provider's forecast where the profile holds one; its last value beyond).
double projected_emissions_g(const CarbonSettings& settings, double so_far_g, double remaining_j,
                             std::chrono::system_clock::time_point from, std::chrono::system_clock::time_point to);

/// The run's emissions, computed from its timeline (the one computation every
/// output uses), the same energy on other grids, and equivalents.
/// `started`..`ended` is the command's run, for the intensity shown before
/// any window closed.
CarbonReport build_carbon_report(const CarbonData& data, const CarbonSettings& settings, const Timeline& timeline,
                                 std::chrono::system_clock::time_point origin, bool machine,
                                 std::chrono::system_clock::time_point started,
                                 std::chrono::system_clock::time_point ended);

/// Empty, or why the run's figure and the comparisons (yearly averages of
/// the location's factor) are not like for like: marginal live figures, or
/// live figures of the other factor, priced some of the run.
std::string comparison_caveat(const CarbonReport& c);

}  // namespace greenrun
