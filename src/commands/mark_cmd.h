#pragma once
// greenrun mark LABEL...: starts a phase of the run greenrun is measuring.

#include <string>
#include <vector>

#include "config/options.h"

namespace greenrun {

int mark_command(const std::vector<std::string>& args, const EnvLookup& env = real_env);

}  // namespace greenrun
