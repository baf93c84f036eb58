#pragma once
// The energy sources greenrun knows, in one table: the probe order, what
// `greenrun --version` and `greenrun sensors` list. A new source is one file
// implementing EnergySource plus one row here; which of the channels found is
// read is decided by the selection rules (selection.h), not by the sources.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "sensors/energy_source.h"
#include "sensors/hardware.h"
#include "sensors/hardware_data.h"
#include "sensors/source_options.h"
#include "util/env.h"
#include "util/result.h"

namespace greenrun {

/// What a probe is asked: the user's options for the sources and the
/// estimate, and the two it needs of other concerns.
struct ProbeOptions {
  const SourceOptions& sources;
  const EstimateOptions& estimate;
  std::string cloud;  // --cloud: its provider is --instance-type's
  std::chrono::nanoseconds interval{std::chrono::seconds(1)};  // --interval: the power integrators' longest gap
};

/// What a source's probe may use.
struct ProbeContext {
  const SourceOptions& options;
  const EstimateOptions& estimate;
  const EnvLookup& env;
  const Hardware& hardware;
  const HardwareData& hardware_data;
  std::vector<Finding>& findings;
  std::string self_exe;   // for setcap fixes
  double max_gap_s = 10;  // integrated power: see PowerIntegrator
  const CloudInstance* instance = nullptr;  // --instance-type
  /// Set for the estimate only: the kinds no measured channel covers.
  bool cpu_measured = false, ram_measured = false;
};

struct SourceEntry {
  const char* name;      // "RAPL powercap"
  /// Sources of one group read the same counters by different ways in: only
  /// the first that opens is used and the later ones are not probed.
  const char* group;
  const char* probed;    // how it is found
  const char* measures;  // what it measures
  std::unique_ptr<EnergySource> (*open)(ProbeContext&);
  /// The estimate: opened after selection, for what nothing measures.
  bool fallback = false;
};

/// Every source, in probe order.
const std::vector<SourceEntry>& source_table();

struct Probe {
  std::vector<std::unique_ptr<EnergySource>> sources;
  std::vector<Finding> findings;  // what was found, usable or not, and why
  Hardware hardware;
  /// --instance-type, resolved (the estimate used its power figures where it has them).
  std::optional<CloudInstance> instance;
  /// share/hardware's embodied defaults, for a machine that is no known instance.
  std::vector<EmbodiedDefault> embodied_defaults;
};

/// The cloud instance --instance-type names: the provider from --cloud, else
/// from DMI; "auto" takes the type from DMI's product name (AWS Nitro sets it
/// to the instance type). Nothing is asked of the network. Empty without the option.
Result<std::optional<CloudInstance>> resolve_instance(const ProbeOptions& o, const Hardware& hw, const HardwareData& data);

/// Every energy source usable with these options, measured first, then the
/// estimate for what no measured source covers (unless --no-estimate). Fails
/// with --no-estimate when nothing can be measured.
Result<Probe> probe_sources(const ProbeOptions& o, const std::string& share_dir, const EnvLookup& env = real_env);

/// The sources' names for `greenrun --version`.
std::string source_names();

}  // namespace greenrun
