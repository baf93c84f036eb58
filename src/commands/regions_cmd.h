#pragma once
// `greenrun regions [QUERY]`: what --region, --cloud and --compare accept.

#include <string>
#include <vector>

#include "commands/options.h"

namespace greenrun {

/// Runs the subcommand with the arguments after "regions"; prints to stdout
/// (errors to stderr) and returns the exit status.
int regions_command(const std::vector<std::string>& args, const EnvLookup& env = real_env);

}  // namespace greenrun
