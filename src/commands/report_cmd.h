#pragma once
// greenrun report FILES...: several JSON reports into one summary.

#include <string>
#include <vector>

namespace greenrun {

int report_command(const std::vector<std::string>& args);

}  // namespace greenrun
