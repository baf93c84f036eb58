#pragma once
// The whole of `greenrun [OPTIONS] -- COMMAND`: check outputs, probe sources,
// start and wait for the command, report. Returns greenrun's exit status.

#include "commands/options.h"
#include "process/child.h"

namespace greenrun {

/// `block` was taken before the options were parsed (see SignalBlock); `env`
/// is read for everything the environment decides (the command itself gets
/// the process environment, less the credentials).
int run_command(Options o, const SignalBlock& block, const EnvLookup& env = real_env);

}  // namespace greenrun
