#pragma once
// greenrun --version: the version, the energy sources built in, and where the
// data was found (and where greenrun looked).

#include <string>

namespace greenrun {

std::string version_text();

}  // namespace greenrun
