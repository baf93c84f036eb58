#pragma once
// `greenrun config [OPTIONS]`: every setting's effective value and where it
// came from (an option, a variable, a config file's line, the default).

#include <string>
#include <vector>

#include "commands/options.h"
#include "util/result.h"

namespace greenrun {

struct RawSettings;

/// Runs the subcommand with the arguments after "config" (any option of a
/// run); prints to stdout and returns 0, or 125 for a bad file or value.
int config_command(const std::vector<std::string>& args, const EnvLookup& env = real_env,
                   const std::string& system_config = kSystemConfigPath);

/// The listing for `raw` (parsed from the command line, nothing else yet):
/// one setting a line, aligned; credentials as "(set)". Fails as a run would.
Result<std::string> config_listing(RawSettings& raw, const EnvLookup& env, const std::string& system_config);

}  // namespace greenrun
