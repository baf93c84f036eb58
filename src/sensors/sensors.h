#pragma once
// Finding every energy source on the machine and choosing, for each physical
// domain, the one to read (see man greenrun, SOURCES): counters before
// integrated power, never two sources for one domain, psys never with
// package, estimates only for what nothing measures.

#include <memory>
#include <string>
#include <vector>

#include "sensors/energy_source.h"
#include "sensors/hardware.h"
#include "config/options.h"
#include "util/result.h"

namespace greenrun {

struct Probe {
  std::vector<std::unique_ptr<EnergySource>> sources;
  std::vector<Finding> findings;  // what was found, usable or not, and why
  Hardware hardware;
};

/// Every energy source usable with these options, measured first, then the
/// estimate for what no measured source covers (unless --no-estimate). Fails
/// with --no-estimate when nothing can be measured.
Result<Probe> probe_sources(const Options& o, const std::string& share_dir, const EnvLookup& env = real_env);

}  // namespace greenrun
