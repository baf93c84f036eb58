#pragma once
// The whole of `greenrun [OPTIONS] -- COMMAND`: check outputs, probe sources,
// start and wait for the command, report. Returns greenrun's exit status.

#include <memory>
#include <vector>

#include "energy_source.h"
#include "options.h"

namespace greenrun {

/// Every energy source usable with these options, and what was found unusable.
std::vector<std::unique_ptr<EnergySource>> probe_sources(const Options& o, std::vector<Finding>& findings);

int run_command(const Options& o);

}  // namespace greenrun
