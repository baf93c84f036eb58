#include "commands/compare_cmd.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands/subcommand.h"
#include "commands/options.h"
#include "report/compare.h"
#include "util/exit_codes.h"
#include "util/escape.h"

namespace greenrun {

int compare_command(const std::vector<std::string>& args) {
  CLI::App app{"greenrun compare BASELINE.json RUN.json: the change from one greenrun report to another",
               "greenrun compare"};
  std::string before_path, after_path;
  bool markdown = false;
  app.add_option("baseline", before_path, "The earlier report (the main branch's, say)")->required()->type_name("FILE");
  app.add_option("run", after_path, "The report to compare with it")->required()->type_name("FILE");
  app.add_flag("--markdown", markdown, "A Markdown table (for a PR comment)");
  if (auto done = parse_subcommand(app, args, "compare")) return *done;
  auto before = load_report(before_path);
  auto after = load_report(after_path);
  for (const auto* r : {&before, &after})
    if (!*r) {
      std::fprintf(stderr, "greenrun compare: %s\n", terminal_text(r->error()).c_str());
      return kExitGreenrunFailed;
    }
  const auto c = compare_reports(*before, *after);
  const std::string text = markdown ? format_comparison_markdown(c) : format_comparison(c);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace greenrun
