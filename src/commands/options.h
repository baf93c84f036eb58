#pragma once
// Command-line parsing as a pure function: argv and an environment lookup in,
// Options (or a message and an exit status) out.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "carbon/carbon_options.h"
#include "config/config_files.h"
#include "outputs/output_options.h"
#include "process/tree_options.h"
#include "report/report_options.h"
#include "sampling/sampling_options.h"
#include "sensors/source_options.h"
#include "util/env.h"
#include "util/log.h"
#include "util/result.h"

namespace greenrun {

/// Everything the command line, the environment and the config files asked
/// for, by concern: each part is declared by the folder it concerns and seen
/// by that folder alone (a source gets `sources` and `estimate`, a sink
/// `outputs`). One conversion fills them all: convert_settings.
struct Options {
  std::vector<std::string> command;
  SamplingOptions sampling;     // sampling/sampling_options.h
  TreeOptions tree;             // process/tree_options.h
  SourceOptions sources;        // sensors/source_options.h
  EstimateOptions estimate;     // sensors/source_options.h
  GridOptions grid;             // carbon/carbon_options.h
  CarbonAwareOptions aware;     // carbon/carbon_options.h
  FootprintOptions footprint;   // carbon/carbon_options.h
  ReportOptions report;         // report/report_options.h
  OutputOptions outputs;        // outputs/output_options.h

  log::Level log_level = log::Level::Off;  // --log-level; -v: Debug
  std::string log_file;                     // --log-file; "": stderr
  std::string config_path;  // the user's config file read (--config, GREENRUN_CONFIG, ~/.config), if any
  /// Where each setting not given on the command line came from, by option
  /// name: "GREENRUN_CSV=/x.csv", "/etc/greenrun/config line 3: csv = /x.csv".
  std::map<std::string, std::string> origins;
  /// Overrides ignored because greenrun runs with raised privileges ("--nvml-lib", "GREENRUN_SYSFS_ROOT").
  std::vector<std::string> ignored_privileged;
  /// What the config files say twice ("FILE line 7: csv is also set on line 3; ..."), for warnings.
  std::vector<std::string> config_warnings;
};

/// What main() should do after parsing.
struct ParsedCli {
  enum class Action { Run, Exit, Version } action = Action::Run;  // Version: print version_text()
  Options options;
  int exit_code = 0;      // with Action::Exit
  std::string message;    // with Action::Exit: text for stdout (help, version) or stderr (errors)
  bool message_is_error = false;
};


/// `system_config`: the system file (a fixture in tests).
ParsedCli parse_cli(const std::vector<std::string>& args, const EnvLookup& env = real_env,
                    const std::string& system_config = kSystemConfigPath);

/// "stop" (SIGSTOP), "SIGUSR1", "USR1" or a number: the signal, or nullopt.
std::optional<int> parse_signal(const std::string& text);
/// "300", "300g", "300g/kWh": gCO2e/kWh in 0..2000, or nullopt.
std::optional<double> parse_intensity(const std::string& text);

/// `message` naming an option ("cannot write --csv file ...") with where that
/// option's value came from appended when it was not the command line.
std::string with_origin(const Options& o, std::string message);

}  // namespace greenrun

namespace CLI {
class App;
}

namespace greenrun {

struct RawSettings;
/// The raw strings, checked and converted into `o`; an error names where the value came from.
Status convert_settings(const RawSettings& raw, Options& o);

/// A subcommand's options from the table (those `raw` holds, filled from its
/// command line, the environment and the config files), checked and
/// converted by the run's own code: an empty value or a bad value is refused
/// with the run's message (exit 125). Output paths keep their placeholders
/// (commands/output_paths.h expands them).
Result<Options> subcommand_options(const RawSettings& raw);

}  // namespace greenrun
