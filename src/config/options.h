#pragma once
// Command-line parsing as a pure function: argv and an environment lookup in,
// Options (or a message and an exit status) out.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "util/log.h"

namespace greenrun {

enum class Scope { Process, Machine };
/// How the command's process tree is followed (--tree).
enum class TreeMethod { Auto, Cgroup, Proc };

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
  std::string emission_factor = "lifecycle";
  std::string intensity_file;
  std::string compare;  // comma-separated; "none" hides the table; empty: defaults
  std::string csv_path;
  std::string project = "greenrun";
  std::string experiment_id;
  std::string config_path;  // the config file read, if any
  /// Overrides ignored because greenrun runs with raised privileges ("--nvml-lib", "GREENRUN_SYSFS_ROOT").
  std::vector<std::string> ignored_privileged;

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
  enum class Action { Run, Exit } action = Action::Run;
  Options options;
  int exit_code = 0;      // with Action::Exit
  std::string message;    // with Action::Exit: text for stdout (help, version) or stderr (errors)
  bool message_is_error = false;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
/// The process environment.
std::optional<std::string> real_env(const std::string& name);

ParsedCli parse_cli(const std::vector<std::string>& args, const EnvLookup& env = real_env);

/// The config file: $GREENRUN_CONFIG, else $XDG_CONFIG_HOME/greenrun/config,
/// else ~/.config/greenrun/config. "" when none of them exists.
std::string config_file_path(const EnvLookup& env);

std::string version_text();

}  // namespace greenrun

namespace CLI {
class App;
}

namespace greenrun {

/// Parses a subcommand's arguments with `app`. Returns the exit status when the
/// subcommand should stop here (help printed: 0; a usage error printed: 2).
std::optional<int> parse_subcommand(CLI::App& app, const std::vector<std::string>& args, const std::string& name);

}  // namespace greenrun
