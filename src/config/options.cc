#include "config/options.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "config/option_table.h"
#include "sensors/source_table.h"
#include "util/exit_codes.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/privilege.h"
#include "util/units.h"
#include "util/version.h"

namespace greenrun {

std::optional<std::string> real_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

std::optional<int> parse_subcommand(CLI::App& app, const std::vector<std::string>& args, const std::string& name) {
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "greenrun %s: %s (see greenrun %s --help)\n", name.c_str(), e.what(), name.c_str());
    return kExitUsage;
  }
  return std::nullopt;
}

std::string config_file_path(const EnvLookup& env) {
  if (auto v = env("GREENRUN_CONFIG"); v && !v->empty()) return *v;
  std::string path;
  if (auto x = env("XDG_CONFIG_HOME"); x && !x->empty()) path = *x + "/greenrun/config";
  else if (auto h = env("HOME"); h && !h->empty()) path = *h + "/.config/greenrun/config";
  return !path.empty() && path_exists(path) ? path : "";
}

std::string version_text() {
  return std::string("greenrun ") + kVersion + "\nenergy sources: " + source_names() + "\n";
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
  return exit_with(kExitGreenrunFailed, "greenrun: " + what + " (see greenrun --help)\n", true);
}

}  // namespace

namespace {

// Reads `key = value` lines; an unknown key or a malformed line is an error
// naming the file and the line.
std::optional<std::string> read_config(const std::string& path, ConfigValues& out) {
  if (running_privileged() && !user_may_read(path)) return "cannot read the config file " + path + ": Permission denied";
  auto text = read_file(path);
  if (!text) return "cannot read the config file " + path;
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text->size()) {
    size_t nl = text->find('\n', pos);
    std::string line(trim(std::string_view(*text).substr(pos, nl == std::string::npos ? std::string::npos : nl - pos)));
    pos = nl == std::string::npos ? text->size() + 1 : nl + 1;
    ++line_no;
    if (line.empty() || line[0] == '#' || line[0] == ';' || line[0] == '[') continue;
    auto eq = line.find('=');
    std::string where = path + " line " + std::to_string(line_no);
    if (eq == std::string::npos) return where + ": expected key = value";
    std::string key(trim(std::string_view(line).substr(0, eq)));
    std::string value(trim(std::string_view(line).substr(eq + 1)));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    const OptionSpec* spec = find_option(key);
    if (!spec || !spec->config) return where + ": unknown setting '" + key + "'";
    out[key] = {value, line_no};
  }
  return std::nullopt;
}

std::optional<double> watts(const RawSettings& raw, const char* name, std::string& error) {
  const std::string text = raw.get(name);
  if (text.empty()) return std::nullopt;
  auto v = parse_double(text);
  if (!v || !std::isfinite(*v) || *v < 0 || *v > 100000) error = raw.where(name) + " must be a number of watts";
  return v;
}

// The raw strings, checked and converted; an error names where the value came from.
std::optional<std::string> convert(const RawSettings& raw, Options& o) {
  o.json_path = raw.get("json");
  o.summary_file = raw.get("summary-file");
  o.quiet = raw.flag("quiet");
  o.log_file = raw.get("log-file");
  o.sysfs_root = raw.get("sysfs-root");
  o.procfs_root = raw.get("procfs-root");
  o.region = raw.get("region");
  o.cloud = raw.get("cloud");
  o.intensity_file = raw.get("intensity-file");
  o.emission_factor = raw.get("emission-factor");
  o.compare = raw.get("compare");
  o.csv_path = raw.get("csv");
  o.project = raw.get("project");
  o.experiment_id = raw.get("experiment-id");
  o.no_estimate = raw.flag("no-estimate");
  o.cpu_model = raw.get("cpu-model");
  o.nvml_lib = raw.get("nvml-lib");
  o.rocm_lib = raw.get("rocm-lib");
  o.dev_root = raw.get("dev-root");

  auto iv = parse_duration(raw.get("interval"));
  if (!iv || *iv > std::chrono::minutes(10)) {
    if (iv || is_duration_syntax(raw.get("interval")))
      return raw.where("interval") + " is too long: at most 10m (a RAPL counter can wrap more than once in a longer interval)";
    return raw.where("interval") + " is not a duration; use e.g. 250ms, 2s, 1m";
  }
  if (*iv < std::chrono::milliseconds(1)) return raw.where("interval") + ": must be at least 1ms, e.g. 250ms or 2s";
  o.interval = *iv;
  auto cp = parse_duration(raw.get("checkpoint"));
  if (!cp || *cp > std::chrono::hours(24)) {
    if (cp || is_duration_syntax(raw.get("checkpoint"))) return raw.where("checkpoint") + " is too long: at most 24h";
    return raw.where("checkpoint") + " is not a duration; use e.g. 30s, 5m";
  }
  if (cp->count() > 0 && *cp < std::chrono::seconds(1)) return raw.where("checkpoint") + ": must be at least 1s (or 0 to disable)";
  o.checkpoint = *cp;
  const std::string scope = raw.get("scope");
  if (scope == "process") o.scope = Scope::Process;
  else if (scope == "machine") o.scope = Scope::Machine;
  else return raw.where("scope") + ": must be process or machine";
  if (const std::string tree = raw.get("tree"); tree == "auto") o.tree = TreeMethod::Auto;
  else if (tree == "cgroup") o.tree = TreeMethod::Cgroup;
  else if (tree == "proc") o.tree = TreeMethod::Proc;
  else return raw.where("tree") + ": must be auto, cgroup or proc";
  // -v is --log-level debug; a level given explicitly wins.
  const auto level = log::parse_level(raw.get("log-level"));
  if (!level) return raw.where("log-level") + ": must be off, debug or trace";
  o.log_level = raw.origin.count("log-level") || !raw.flag("verbose") ? *level : log::Level::Debug;
  if (o.emission_factor == "life-cycle" || o.emission_factor == "lifecycle") o.emission_factor = "lifecycle";
  else if (o.emission_factor != "direct") return raw.where("emission-factor") + ": must be lifecycle or direct";
  if (const std::string text = raw.get("intensity"); !text.empty()) {
    auto v = parse_double(text);
    if (!v || !std::isfinite(*v) || *v < 0 || *v > 2000) return raw.where("intensity") + ": must be a number of gCO2e/kWh in 0..2000";
    o.intensity = *v;
  }
  std::string error;
  o.cpu_tdp_w = watts(raw, "cpu-tdp", error);
  o.cpu_idle_w = watts(raw, "cpu-idle-w", error);
  o.cpu_max_w = watts(raw, "cpu-max-w", error);
  o.ram_w_per_gb = watts(raw, "ram-w-per-gb", error);
  o.gpu_tdp_w = watts(raw, "gpu-tdp", error);
  if (!error.empty()) return error;
  if (o.cpu_idle_w && o.cpu_max_w && *o.cpu_idle_w > *o.cpu_max_w) return std::string("--cpu-idle-w must not exceed --cpu-max-w");
  if (const std::string text = raw.get("pue"); !text.empty()) {
    auto v = parse_double(text);
    if (!v || !std::isfinite(*v) || *v < 1.0 || *v > 3.0) return raw.where("pue") + ": must be a number between 1.0 and 3.0";
    o.pue = *v;
  }
  return std::nullopt;
}

// An option given with an empty value on the command line is a mistake
// (an unset shell variable), never "use the default".
std::optional<std::string> empty_value(const RawSettings& raw) {
  for (const auto& spec : option_table())
    if (spec.value && raw.values.count(spec.name) && raw.given(spec.name) &&
        raw.values.at(spec.name).empty())
      return std::string("--") + spec.name + " was given an empty value; give a " + spec.value + " or leave the option out";
  return std::nullopt;
}

}  // namespace

namespace {

// One parse. With `every_option` false, only the options `args` mention are
// registered with CLI11 (see parse_cli).
ParsedCli parse_once(const std::vector<std::string>& args, const EnvLookup& env, bool every_option) {
  CLI::App app{"greenrun [OPTIONS] [--] COMMAND [ARGS...]\n\nMeasure the energy and carbon footprint of a command.", "greenrun"};
  app.footer(
      "greenrun runs COMMAND with its own stdin, stdout and stderr, forwards signals to it, and\n"
      "exits with its status. The report goes to stderr (or --summary-file) and --json.\n"
      "Also: greenrun sensors (the energy sources here and how to enable them),\n"
      "      greenrun regions [QUERY] (grids and cloud regions for --region, --cloud, --compare).\n"
      "See man greenrun for every figure's source.");
  app.prefix_command();
  bool version = false;
  app.add_flag("-V,--version", version, "Print the version and the energy sources built in");
  RawSettings raw;
  if (every_option) add_table_options(app, raw);
  else add_mentioned_options(app, raw, args);

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return exit_with(0, app.help(), false);
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  if (version) return exit_with(0, version_text(), false);
  if (auto err = empty_value(raw)) return usage_error(*err);

  // Settings not on the command line come from the environment, then the config file.
  Options o;
  ConfigValues config;
  o.config_path = config_file_path(env);
  if (!o.config_path.empty())
    if (auto err = read_config(o.config_path, config)) return usage_error(*err);
  fill_from_environment(raw, env, config, o.config_path);
  o.ignored_privileged = drop_privileged_overrides(raw);

  auto rest = app.remaining();
  if (!rest.empty() && rest.front() == "--") rest.erase(rest.begin());
  else if (!rest.empty() && rest.front().size() > 1 && rest.front()[0] == '-')
    return usage_error("unknown option " + rest.front());
  if (rest.empty()) return usage_error("no command given: greenrun [OPTIONS] -- COMMAND [ARGS...]");
  o.command = rest;
  if (auto err = convert(raw, o)) return usage_error(*err);
  ParsedCli r;
  r.options = std::move(o);
  return r;
}

}  // namespace

ParsedCli parse_cli(const std::vector<std::string>& args, const EnvLookup& env) {
  // CLI11 compares each option it registers with every one registered before:
  // the whole table costs more than the rest of greenrun's start-up. A run
  // registers only the options its command line mentions; help, --version
  // and every error come from a second parse with all of them, so that what
  // they print is unchanged.
  ParsedCli r = parse_once(args, env, false);
  if (r.action == ParsedCli::Action::Exit) r = parse_once(args, env, true);
  return r;
}

}  // namespace greenrun
