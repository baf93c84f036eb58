#pragma once
// What every subcommand (report, compare, plan, regions, sensors, config)
// does with its command line before its own work.

#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace greenrun {

/// Parses a subcommand's arguments with `app`. Returns the exit status when the
/// subcommand should stop here (help printed: 0; a usage error printed: 2).
std::optional<int> parse_subcommand(CLI::App& app, const std::vector<std::string>& args, const std::string& name);

}  // namespace greenrun
