#pragma once
// greenrun mark LABEL...: starts a phase of the run greenrun is measuring;
// greenrun count N UNIT and greenrun progress FRACTION tell it what was done.

#include <string>
#include <vector>

#include "commands/options.h"

namespace greenrun {

int mark_command(const std::vector<std::string>& args, const EnvLookup& env = real_env);
int count_command(const std::vector<std::string>& args, const EnvLookup& env = real_env);
int progress_command(const std::vector<std::string>& args, const EnvLookup& env = real_env);

}  // namespace greenrun
