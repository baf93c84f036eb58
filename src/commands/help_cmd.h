#pragma once
// `greenrun help [TOPIC]`: --help, a subcommand's --help, or a section of the
// manual (man greenrun) by its heading.

#include <functional>
#include <string>
#include <vector>

namespace greenrun {

/// The subcommands `greenrun help NAME` shows the --help of.
inline constexpr const char* kHelpSubcommands[] = {"sensors", "regions", "report", "compare", "mark", "count", "progress", "plan", "config"};

/// Runs the subcommand; `subcommand_help(name)` prints that subcommand's
/// --help and returns its status. An unknown topic lists the topics (exit 2).
int help_command(const std::vector<std::string>& args, const std::function<int(const std::string&)>& subcommand_help);

/// A section of rendered man output by its topic ("exit-status": EXIT STATUS;
/// "json": JSON REPORT): the heading and its text, or "" when none matches.
std::string man_section(const std::string& rendered, const std::string& topic);
/// The topics of rendered man output: each heading, lower case, words joined by '-'.
std::vector<std::string> man_topics(const std::string& rendered);

}  // namespace greenrun
