#pragma once
// Every option of `greenrun [OPTIONS] -- COMMAND` in one table: its flags, the
// value it takes, its environment variable and config-file key, its help
// line. The command line, the environment, the config file, --help and the
// subcommands all read it; nothing repeats a lookup.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_files.h"
#include "util/result.h"

namespace CLI {
class App;
class Option;
}

namespace greenrun {

struct OptionSpec {
  const char* name;     // long name without dashes: "region"
  const char* flags;    // as CLI11 takes them: "-r,--region"
  const char* value;    // what it takes, for --help ("ZONE"); nullptr: a flag
  const char* env;      // "GREENRUN_REGION", or nullptr
  bool config;          // settable in the config file, under its name
  const char* group;    // --help group, in the order of kHelpGroups
  const char* help;
  const char* fallback; // the default shown in --help, or nullptr
};

const std::vector<OptionSpec>& option_table();
const OptionSpec* find_option(std::string_view name);

/// Option values by name as given, and where each came from.
struct RawSettings {
  std::map<std::string, std::string> values;
  std::map<std::string, bool> flags;
  /// "--region", "GREENRUN_REGION", "/home/me/.config/greenrun/config line 3"
  std::map<std::string, std::string> origin;
  /// The value of an option, or its default ("" without one).
  std::string get(const std::string& name) const;
  bool flag(const std::string& name) const;
  /// Where a value came from, for error messages: "--interval 0", "GREENRUN_INTERVAL=0".
  std::string where(const std::string& name) const;
  /// Whether the option was on the command line (once parsed).
  bool given(const std::string& name) const;
  /// The options add_table_options made, by name: asking CLI11 by name
  /// searches every option, and greenrun asks once per option at each start.
  std::map<std::string, const CLI::Option*> options;
};

/// Adds the named options (every one when `names` is empty) to `app`, bound to `raw`.
void add_table_options(CLI::App& app, RawSettings& raw, const std::vector<std::string>& names = {});
/// Every option of the table is one of `raw`'s (the environment and the config
/// file set it), but only those whose flags appear in `args` ("--name",
/// "--name=...", "-x" and each letter of "-xyz") are added to `app`.
void add_mentioned_options(CLI::App& app, RawSettings& raw, const std::vector<std::string>& args);

/// With raised privileges (running_privileged()), the options that name a
/// library to load or a root to read (--nvml-lib, --rocm-lib, --sysfs-root,
/// --procfs-root, --dev-root, and their variables) are set back to their
/// defaults. Returns where each ignored value came from, for one message.
std::vector<std::string> drop_privileged_overrides(RawSettings& raw);

/// Every option add_table_options added to `raw` and not given on the command
/// line takes its environment variable, else its value in the last of `files`
/// that has it (the user file over the system file); a flag settable in a file
/// takes a boolean there. Records every origin; an error names file, line, key.
Status fill_from_environment(RawSettings& raw, const EnvLookup& env,
                                                 const std::vector<ConfigFile>& files = {});

}  // namespace greenrun
