#pragma once
// `greenrun plan`: the best start within a window for a job of a given
// length, from a provider's forecast or a file, and the line that schedules it.

#include <string>
#include <vector>

#include "commands/options.h"

namespace greenrun {

int plan_command(const std::vector<std::string>& args, const EnvLookup& env = real_env);

}  // namespace greenrun
