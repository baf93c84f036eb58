#pragma once
// The whole of `greenrun [OPTIONS] -- COMMAND`: check outputs, probe sources,
// start and wait for the command, report. Returns greenrun's exit status.

#include <memory>
#include <vector>

#include "energy_source.h"
#include "hardware.h"
#include "result.h"
#include "options.h"

namespace greenrun {

struct Probe {
  std::vector<std::unique_ptr<EnergySource>> sources;
  std::vector<Finding> findings;  // what was found, usable or not, and why
  Hardware hardware;
};

/// Every energy source usable with these options, measured first, then the
/// estimate for what no measured source covers (unless --no-estimate). Fails
/// with --no-estimate when nothing can be measured.
Result<Probe> probe_sources(const Options& o, const std::string& share_dir);

int run_command(const Options& o);

}  // namespace greenrun
