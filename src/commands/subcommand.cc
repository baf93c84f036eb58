#include "commands/subcommand.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "util/exit_codes.h"
#include "util/escape.h"

namespace greenrun {

std::optional<int> parse_subcommand(CLI::App& app, const std::vector<std::string>& args, const std::string& name) {
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "greenrun %s: %s (see greenrun %s --help)\n", name.c_str(), terminal_text(e.what()).c_str(), name.c_str());
    return kExitUsage;
  }
  return std::nullopt;
}

}  // namespace greenrun
