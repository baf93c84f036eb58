#pragma once
// The whole of `greenrun [OPTIONS] -- COMMAND`: check outputs, probe sources,
// start and wait for the command, report. Returns greenrun's exit status.

#include "config/options.h"

namespace greenrun {

int run_command(const Options& o);

}  // namespace greenrun
