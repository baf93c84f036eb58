#include "options.h"

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "units.h"
#include "version.h"

namespace greenrun {

std::optional<std::string> real_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

std::string version_text() {
  return std::string("greenrun ") + kVersion + "\nenergy sources: RAPL powercap\n";
}

namespace {

ParsedCli exit_with(int code, std::string message, bool error) {
  ParsedCli r;
  r.action = ParsedCli::Action::Exit;
  r.exit_code = code;
  r.message = std::move(message);
  r.message_is_error = error;
  return r;
}

ParsedCli usage_error(const std::string& what) {
  return exit_with(125, "greenrun: " + what + " (see greenrun --help)\n", true);
}

}  // namespace

ParsedCli parse_cli(const std::vector<std::string>& args, const EnvLookup& env) {
  CLI::App app{"greenrun [OPTIONS] [--] COMMAND [ARGS...]\n\nMeasure the energy and carbon footprint of a command.", "greenrun"};
  app.footer(
      "greenrun runs COMMAND with its own stdin, stdout and stderr, forwards signals to it, and\n"
      "exits with its status. The report goes to stderr (or --summary-file) and --json.\n"
      "See man greenrun for every figure's source.");
  app.prefix_command();
  Options o;
  std::string interval = "1s", checkpoint = "60s", scope = "process";
  bool version = false;
  app.add_flag("-V,--version", version, "Print the version and the energy sources built in");
  app.add_option("-i,--interval", interval, "Sampling interval: 250ms, 2s, 1m (minimum 1ms)")->capture_default_str();
  app.add_option("--checkpoint", checkpoint, "Rewrite the --json file this often while the command runs")
      ->capture_default_str();
  app.add_option("--scope", scope, "process: the command's share of the machine; machine: all of it")
      ->capture_default_str();
  app.add_option("-j,--json", o.json_path, "Write a JSON report to FILE (checkpointed while running)");
  app.add_option("--summary-file", o.summary_file, "Write the summary to FILE instead of stderr");
  app.add_flag("-q,--quiet", o.quiet, "No summary");
  app.add_flag("-v,--verbose", o.verbose, "Diagnostics on stderr");
  app.add_option("--sysfs-root", o.sysfs_root, "Read DIR instead of /sys (tests, unusual systems)");
  app.add_option("--procfs-root", o.procfs_root,
                 "Read machine-wide files from DIR instead of /proc (tests, unusual systems)");

  if (auto v = env("GREENRUN_SYSFS_ROOT")) o.sysfs_root = *v;
  if (auto v = env("GREENRUN_PROCFS_ROOT")) o.procfs_root = *v;

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return exit_with(0, app.help(), false);
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  if (version) return exit_with(0, version_text(), false);

  auto rest = app.remaining();
  if (!rest.empty() && rest.front() == "--") rest.erase(rest.begin());
  else if (!rest.empty() && rest.front().size() > 1 && rest.front()[0] == '-')
    return usage_error("unknown option " + rest.front());
  if (rest.empty()) return usage_error("no command given: greenrun [OPTIONS] -- COMMAND [ARGS...]");
  o.command = rest;

  auto iv = parse_duration(interval);
  if (!iv) return usage_error("--interval " + interval + " is not a duration; use e.g. 250ms, 2s, 1m");
  if (*iv < std::chrono::milliseconds(1)) return usage_error("--interval must be at least 1ms");
  o.interval = *iv;
  auto cp = parse_duration(checkpoint);
  if (!cp) return usage_error("--checkpoint " + checkpoint + " is not a duration; use e.g. 30s, 5m");
  if (cp->count() > 0 && *cp < std::chrono::seconds(1)) return usage_error("--checkpoint must be at least 1s (or 0 to disable)");
  o.checkpoint = *cp;
  if (scope == "process") o.scope = Scope::Process;
  else if (scope == "machine") o.scope = Scope::Machine;
  else return usage_error("--scope must be process or machine, not " + scope);
  ParsedCli r;
  r.options = std::move(o);
  return r;
}

}  // namespace greenrun
