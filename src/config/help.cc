#include "config/help.h"

#include <CLI/CLI.hpp>
#include <memory>
#include <sstream>

namespace greenrun {

namespace {

constexpr size_t kWidth = 100;
constexpr size_t kNameColumn = 36;

/// Breaks `text` at spaces so that no line passes `width`.
std::string wrap(const std::string& text, size_t width) {
  std::istringstream words(text);
  std::string out, line, word;
  while (words >> word) {
    if (word == "[env" && words >> std::ws && !words.eof()) {  // "[env NAME]" stays on one line
      std::string name;
      words >> name;
      word += " " + name;
    }
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  return out + line;
}

constexpr const char* kFooter =
    "greenrun runs COMMAND with its own stdin, stdout and stderr, forwards signals to it, and exits\n"
    "with its status. The report goes to stderr (or --summary-file) and --json. Settings not on the\n"
    "command line come from the environment, then ~/.config/greenrun/config, then\n"
    "/etc/greenrun/config: greenrun config shows each one and where it came from.\n"
    "\n"
    "Subcommands:\n"
    "  sensors                 the energy sources here and how to enable them\n"
    "  regions [QUERY]         grids and cloud regions for --region, --cloud, --compare\n"
    "  report FILES...         several JSON reports in one (--html, --csv, ...)\n"
    "  compare A.json B.json   the change between two runs\n"
    "  mark LABEL              from inside the command: start a phase\n"
    "  plan                    the cleanest start for a job of a given length, from a forecast\n"
    "  config                  every setting's value and where it came from\n"
    "  help [TOPIC]            a subcommand's help or a section of the manual\n"
    "\n"
    "Examples:\n"
    "  greenrun --json run.json -- make -j8\n"
    "      Measure a build; the summary on stderr, the full report in run.json.\n"
    "  greenrun --region DE --max-energy 50kJ --csv emissions.csv -- pytest\n"
    "      In CI: fail (exit 100) when the tests use more than 50 kJ; one CSV row per run.\n"
    "  srun greenrun --cloud aws:eu-west-1 --intensity-source electricitymaps --json 'run-%j-%t.json' \\\n"
    "      -- python train.py\n"
    "      On a Slurm cluster: one report per rank, priced with live grid data.\n"
    "\n"
    "greenrun help TOPIC or man greenrun for the rest; greenrun help topics lists the topics.";

class MainFormatter : public CLI::Formatter {
 public:
  MainFormatter() { column_width(kNameColumn); }

  std::string make_help(const CLI::App* app, std::string, CLI::AppFormatMode) const override {
    std::string out =
        "Usage: greenrun [OPTIONS] [--] COMMAND [ARGS...]\n"
        "       greenrun SUBCOMMAND [ARGS...]\n\n";
    out += app->get_description() + "\n\n";
    for (const std::string& group : app->get_groups()) {
      auto opts = app->get_options([&](const CLI::Option* o) { return o->get_group() == group && o->nonpositional(); });
      if (group.empty() || opts.empty()) continue;
      out += group + ":\n";
      for (const CLI::Option* o : opts) out += make_option(o, false);
      out += "\n";
    }
    return out + app->get_footer() + "\n";
  }

  std::string make_option_desc(const CLI::Option* opt) const override {
    return wrap(opt->get_description(), kWidth - kNameColumn);
  }
};

}  // namespace

void set_main_help(CLI::App& app) {
  app.description("Measure the energy and carbon footprint of a command.");
  app.formatter(std::make_shared<MainFormatter>());
  app.footer(kFooter);
  app.get_help_ptr()->group(kHelpGroups[0]);
}

}  // namespace greenrun
