#pragma once
// The whole of `greenrun [OPTIONS] -- COMMAND`: check outputs, probe sources,
// start and wait for the command, report. Returns greenrun's exit status.

#include "config/options.h"
#include "process/child.h"

namespace greenrun {

/// `block` was taken before the options were parsed (see SignalBlock).
int run_command(Options o, const SignalBlock& block);

}  // namespace greenrun
