#pragma once
// `greenrun sensors`: every energy source found, what it covers, whether it
// can be read and if not why, and the command that fixes the permission.

#include <string>
#include <vector>

#include "commands/options.h"

namespace greenrun {

int sensors_command(const std::vector<std::string>& args, const EnvLookup& env = real_env);

}  // namespace greenrun
