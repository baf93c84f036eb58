#pragma once
// greenrun compare BASELINE.json RUN.json [--markdown]: the change from one
// finished run to another, as --baseline shows it.

#include <string>
#include <vector>

namespace greenrun {

int compare_command(const std::vector<std::string>& args);

}  // namespace greenrun
