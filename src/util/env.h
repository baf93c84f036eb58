#pragma once
// The environment as a lookup: the real one, or one a test or a subcommand
// gives, so that no layer reads getenv() behind its caller's back.

#include <functional>
#include <optional>
#include <string>

namespace greenrun {

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
/// The process environment.
std::optional<std::string> real_env(const std::string& name);

}  // namespace greenrun
