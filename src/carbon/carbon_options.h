#pragma once
// What the user asked of the carbon accounting: the grid, live grid data,
// carbon-aware starts and pauses, the footprint beyond operational emissions.
// commands/options.cc fills them from the option table; each comes from the
// command line, else the environment, else the config files.

#include <chrono>
#include <csignal>
#include <map>
#include <optional>
#include <string>

#include "carbon/factor.h"
#include "carbon/functional_unit.h"

namespace greenrun {

/// The grid the energy is priced on, and the live data for it.
struct GridOptions {
  std::string region;
  std::string cloud;
  std::optional<double> intensity;  // gCO2e/kWh
  std::optional<double> pue;
  Factor emission_factor = Factor::Lifecycle;
  std::string intensity_file;
  std::string compare;  // comma-separated; "none" hides the table; empty: defaults

  std::string intensity_source;  // NAME[:LOCATION]; empty: no provider, no network
  bool require_live_intensity = false;
  std::chrono::nanoseconds intensity_timeout{std::chrono::seconds(15)};
  std::chrono::nanoseconds intensity_ttl{std::chrono::minutes(10)};
  std::chrono::nanoseconds intensity_poll{std::chrono::minutes(15)};
  /// Providers' credentials from a config file, by environment variable
  /// (the environment wins); never printed, written or logged.
  std::map<std::string, std::string> credentials;
};

/// Carbon-aware runs: the cleanest start, pauses while the grid is dirty.
struct CarbonAwareOptions {
  std::optional<std::chrono::nanoseconds> start_within;
  std::optional<std::chrono::nanoseconds> expected_duration;
  std::optional<double> pause_above;  // gCO2e/kWh
  std::chrono::nanoseconds max_delay{std::chrono::hours(6)};
  int pause_signal = SIGSTOP;  // or the user's --pause-with signal
};

/// Beyond operational emissions: the hardware's manufacturing share, SCI, water.
struct FootprintOptions {
  bool no_embodied = false;
  std::optional<double> embodied_kg;     // the machine's manufacturing emissions
  std::optional<double> lifetime_years;  // instead of the data's lifetimes
  std::optional<FunctionalUnit> functional_unit;
  std::optional<double> wue;             // L/kWh
};

}  // namespace greenrun
