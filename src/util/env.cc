#include "util/env.h"

#include <cstdlib>

namespace greenrun {

std::optional<std::string> real_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

}  // namespace greenrun
