#pragma once
// Command-line parsing as a pure function: argv and an environment lookup in,
// Options (or a message and an exit status) out.

#include <chrono>
#include <csignal>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/emission_factor.h"
#include "util/env.h"
#include "util/log.h"
#include "util/result.h"

namespace greenrun {

enum class Scope { Process, Machine };
/// How the command's process tree is followed (--tree).
enum class TreeMethod { Auto, Cgroup, Proc };

/// --max-energy, --max-emissions, --max-increase and what to do when one is exceeded.
struct Budgets {
  std::optional<double> max_energy_j, max_emissions_g, max_increase_pct;
  enum class Action { Warn, Fail, Stop } action = Action::Fail;
  std::chrono::nanoseconds grace{std::chrono::seconds(10)};  // SIGTERM, then SIGKILL after this (stop)
  bool any() const { return max_energy_j || max_emissions_g || max_increase_pct; }
};

/// --functional-unit N[:name]: what the SCI score is per (1000 images, 1 request).
struct FunctionalUnit {
  double count = 1;
  std::string name = "unit";
};

struct Options {
  std::vector<std::string> command;
  std::chrono::nanoseconds interval{std::chrono::seconds(1)};
  std::chrono::nanoseconds checkpoint{std::chrono::seconds(60)};
  Scope scope = Scope::Process;
  std::string json_path;
  std::string summary_file;
  bool quiet = false;
  TreeMethod tree = TreeMethod::Auto;
  log::Level log_level = log::Level::Off;  // --log-level; -v: Debug
  std::string log_file;                     // --log-file; "": stderr
  std::string sysfs_root = "/sys";
  std::string procfs_root = "/proc";

  // Carbon accounting. Each of these comes from the command line, else the
  // environment (GREENRUN_REGION, ...), else the config file.
  std::string region;
  std::string cloud;
  std::optional<double> intensity;  // gCO2e/kWh
  std::optional<double> pue;
  Factor emission_factor = Factor::Lifecycle;
  std::string intensity_file;
  std::string compare;  // comma-separated; "none" hides the table; empty: defaults
  std::string csv_path;
  std::string step_summary;        // Markdown appended here (GITHUB_STEP_SUMMARY by default)
  std::string html_path;           // --html: the report as one self-contained page
  bool live = false;               // --live: a status line on a terminal's stderr
  std::chrono::nanoseconds progress{0};  // --progress: a plain status line this often (0: never)
  Budgets budgets;
  std::string metrics_path;        // --metrics: Prometheus text (or OpenMetrics)
  bool openmetrics = false;
  std::string pushgateway;         // --pushgateway URL
  std::vector<std::pair<std::string, std::string>> labels;  // --label k=v
  std::string baseline_path;       // --baseline: a previous greenrun JSON report
  bool github_actions = false;     // GITHUB_ACTIONS=true: workflow commands on stderr

  // Carbon-aware runs: live grid data, the cleanest start, pauses.
  std::string intensity_source;  // NAME[:LOCATION]; empty: no provider, no network
  bool require_live_intensity = false;
  std::chrono::nanoseconds intensity_timeout{std::chrono::seconds(15)};
  std::chrono::nanoseconds intensity_ttl{std::chrono::minutes(10)};
  std::chrono::nanoseconds intensity_poll{std::chrono::minutes(15)};
  std::optional<std::chrono::nanoseconds> start_within;
  std::optional<std::chrono::nanoseconds> expected_duration;
  std::optional<double> pause_above;  // gCO2e/kWh
  std::chrono::nanoseconds max_delay{std::chrono::hours(6)};
  int pause_signal = SIGSTOP;  // or the user's --pause-with signal

  std::string project = "greenrun";
  std::string experiment_id;
  std::string config_path;  // the user's config file read (--config, GREENRUN_CONFIG, ~/.config), if any
  /// Where each setting not given on the command line came from, by option
  /// name: "GREENRUN_CSV=/x.csv", "/etc/greenrun/config line 3: csv = /x.csv".
  std::map<std::string, std::string> origins;
  /// Grid providers' credentials from a config file, by environment variable
  /// (the environment wins); never printed, written or logged.
  std::map<std::string, std::string> credentials;
  /// Overrides ignored because greenrun runs with raised privileges ("--nvml-lib", "GREENRUN_SYSFS_ROOT").
  std::vector<std::string> ignored_privileged;
  /// What the config files say twice ("FILE line 7: csv is also set on line 3; ..."), for warnings.
  std::vector<std::string> config_warnings;

  // Beyond operational emissions: the hardware's manufacturing share, SCI, water.
  std::string instance_type;             // --instance-type m5.xlarge, or "auto" (DMI)
  bool no_embodied = false;
  std::optional<double> embodied_kg;     // the machine's manufacturing emissions
  std::optional<double> lifetime_years;  // instead of the data's lifetimes
  std::optional<FunctionalUnit> functional_unit;
  std::optional<double> wue;             // L/kWh

  // Estimation where nothing can be measured.
  bool no_estimate = false;
  std::optional<double> cpu_tdp_w, cpu_idle_w, cpu_max_w, ram_w_per_gb, gpu_tdp_w;
  std::string cpu_model;

  // Vendor libraries and device files (unusual installs, tests).
  std::string nvml_lib;  // --nvml-lib, GREENRUN_NVML_LIB
  std::string rocm_lib;  // --rocm-lib, GREENRUN_ROCM_LIB
  std::string dev_root = "/dev";  // --dev-root, GREENRUN_DEV_ROOT: MSR device files
};

/// What main() should do after parsing.
struct ParsedCli {
  enum class Action { Run, Exit, Version } action = Action::Run;  // Version: print version_text()
  Options options;
  int exit_code = 0;      // with Action::Exit
  std::string message;    // with Action::Exit: text for stdout (help, version) or stderr (errors)
  bool message_is_error = false;
};


/// The system-wide config file, beneath the user's.
inline constexpr const char* kSystemConfigPath = "/etc/greenrun/config";

/// `system_config`: the system file (a fixture in tests).
ParsedCli parse_cli(const std::vector<std::string>& args, const EnvLookup& env = real_env,
                    const std::string& system_config = kSystemConfigPath);

/// "stop" (SIGSTOP), "SIGUSR1", "USR1" or a number: the signal, or nullopt.
std::optional<int> parse_signal(const std::string& text);
/// "300", "300g", "300g/kWh": gCO2e/kWh in 0..2000, or nullopt.
std::optional<double> parse_intensity(const std::string& text);

/// The user's config file: $GREENRUN_CONFIG (set but empty: none), else
/// $XDG_CONFIG_HOME/greenrun/config, else ~/.config/greenrun/config. "" when
/// none of them exists.
std::string config_file_path(const EnvLookup& env);

/// `message` naming an option ("cannot write --csv file ...") with where that
/// option's value came from appended when it was not the command line.
std::string with_origin(const Options& o, std::string message);

/// A credential a provider needs: its environment variable, else a config file's.
std::string credential(const Options& o, const EnvLookup& env, const char* env_var);

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
