#include "commands/options.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include <unistd.h>

#include "config/config_files.h"
#include "config/help.h"
#include "config/option_table.h"
#include "util/dynlib.h"
#include "util/exit_codes.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/privilege.h"
#include "util/units.h"
#include "util/version.h"
#include "util/escape.h"

namespace greenrun {

std::optional<int> parse_signal(const std::string& text) {
  if (text == "stop" || text.empty()) return SIGSTOP;
  if (auto n = parse_u64(text); n && *n >= 1 && *n < 32 && *n != SIGKILL) return static_cast<int>(*n);
  const std::string name = text.rfind("SIG", 0) == 0 ? text.substr(3) : text;
  for (int sig = 1; sig < 32; ++sig)
    if (const char* abbrev = sigabbrev_np(sig); abbrev && name == abbrev && sig != SIGKILL) return sig;
  return std::nullopt;
}

std::optional<double> parse_intensity(const std::string& text) {
  std::string_view t = trim(text);
  for (std::string_view suffix : {"g/kWh", "g/kwh", "g"})
    if (t.size() > suffix.size() && t.substr(t.size() - suffix.size()) == suffix) {
      t.remove_suffix(suffix.size());
      break;
    }
  auto v = parse_double(trim(t));
  if (!v || *v < 0 || *v > 2000) return std::nullopt;
  return v;
}

std::string with_origin(const Options& o, std::string message) {
  for (const auto& [name, from] : o.origins) {
    const std::string flag = "--" + name;
    for (size_t at = message.find(flag); at != std::string::npos; at = message.find(flag, at + 1)) {
      const size_t end = at + flag.size();
      if (end < message.size() && (std::isalnum(static_cast<unsigned char>(message[end])) || message[end] == '-')) continue;
      return message + " (from " + from + ")";
    }
  }
  return message;
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
  return exit_with(kExitGreenrunFailed, "greenrun: " + terminal_text(what) + " (see greenrun --help)\n", true);
}

}  // namespace

namespace {

std::optional<double> watts(const RawSettings& raw, const char* name, std::string& error) {
  const std::string text = raw.get(name);
  if (text.empty()) return std::nullopt;
  auto v = parse_double(text);
  if (!v || !std::isfinite(*v) || *v < 0 || *v > 100000) error = raw.where(name) + ": must be a number of watts in 0..100000, e.g. 65";
  return v;
}

Status convert_budgets(const RawSettings& raw, Options& o) {
  Budgets& b = o.report.budgets;
  if (const auto t = raw.get("max-energy"); !t.empty() && !(b.max_energy_j = parse_energy_j(t)))
    return Status::fail(raw.where("max-energy") + " is not an energy; use e.g. 50kJ, 2Wh (J, kJ, MJ, Wh, kWh)");
  if (const auto t = raw.get("max-emissions"); !t.empty() && !(b.max_emissions_g = parse_mass_g(t)))
    return Status::fail(raw.where("max-emissions") + " is not a mass; use e.g. 20g, 500mg (mg, g, kg, t)");
  if (const auto t = raw.get("max-increase"); !t.empty() && !(b.max_increase_pct = parse_percent(t)))
    return Status::fail(raw.where("max-increase") + " is not a percentage; use e.g. 10%");
  o.report.baseline_path = raw.get("baseline");
  if (b.max_increase_pct && o.report.baseline_path.empty())
    return Status::fail(raw.where("max-increase") + " needs --baseline FILE.json to compare with");
  const std::string action = raw.get("on-budget");
  if (action == "warn") b.action = Budgets::Action::Warn;
  else if (action == "fail") b.action = Budgets::Action::Fail;
  else if (action == "stop") b.action = Budgets::Action::Stop;
  else return Status::fail(raw.where("on-budget") + ": must be warn, fail or stop");
  auto grace = parse_duration(raw.get("grace"));
  if (!grace || *grace > std::chrono::hours(1)) return Status::fail(raw.where("grace") + " is not a duration up to 1h; use e.g. 10s");
  b.grace = *grace;
  return {};
}

bool label_name(const std::string& k) {
  if (k.empty() || (k[0] != '_' && !std::isalpha(static_cast<unsigned char>(k[0])))) return false;
  return std::all_of(k.begin(), k.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

/// Why `--label k=...` cannot be (a name Prometheus or greenrun keeps), or "".
std::string reserved_label(const std::string& k) {
  if (k.rfind("__", 0) == 0) return "names starting with __ are Prometheus's own";
  if (k == "job" || k == "instance") return k + " is set by the scrape and the Pushgateway's grouping";
  // The labels report/metrics.cc writes itself.
  static const char* const kOwn[] = {"component", "measured", "command",   "host",       "scope",     "energy",
                                     "sources",   "region",   "slurm_job", "slurm_step", "slurm_task", "unit",
                                     "method"};
  for (const char* own : kOwn)
    if (k == own) return k + " is one of greenrun's own labels";
  return "";
}

Status convert_monitoring(const RawSettings& raw, Options& o) {
  o.outputs.metrics_path = raw.get("metrics");
  const std::string format = raw.get("metrics-format");
  if (format != "prometheus" && format != "openmetrics") return Status::fail(raw.where("metrics-format") + ": must be prometheus or openmetrics");
  o.outputs.openmetrics = format == "openmetrics";
  o.outputs.pushgateway = raw.get("pushgateway");
  const std::string labels = raw.get("label");
  size_t start = 0;
  while (start < labels.size()) {
    size_t end = labels.find_first_of(",\n", start);
    const std::string item(trim(std::string_view(labels).substr(start, end == std::string::npos ? std::string::npos : end - start)));
    start = end == std::string::npos ? labels.size() : end + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string key = item.substr(0, eq);
    if (eq == std::string::npos || !label_name(key))
      return Status::fail(raw.where("label") + ": '" + item + "' is not KEY=VALUE with KEY a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)");
    if (const std::string why = reserved_label(key); !why.empty())
      return Status::fail(raw.where("label") + ": " + key + ": " + why + "; choose another name (see man greenrun, METRICS)");
    if (std::any_of(o.outputs.labels.begin(), o.outputs.labels.end(), [&](const auto& l) { return l.first == key; }))
      return Status::fail(raw.where("label") + ": " + key + " is given twice; a series holds each label once");
    o.outputs.labels.emplace_back(key, item.substr(eq + 1));
  }
  return {};
}

/// "1000:images", "1": a positive count and an optional name.
std::optional<FunctionalUnit> parse_functional_unit(const std::string& text) {
  const size_t colon = text.find(':');
  auto count = parse_double(text.substr(0, colon));
  if (!count || !std::isfinite(*count) || *count <= 0 || *count > 1e15) return std::nullopt;
  FunctionalUnit u;
  u.count = *count;
  if (colon != std::string::npos) {
    u.name = std::string(trim(std::string_view(text).substr(colon + 1)));
    if (u.name.empty() || u.name.size() > 64 ||
        std::any_of(u.name.begin(), u.name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
      return std::nullopt;
  }
  return u;
}

/// "4", "4y", "5.5 years": years, a quarter to fifty.
std::optional<double> parse_years(std::string text) {
  for (const char* unit : {"years", "year", "y"})
    if (text.size() > std::string(unit).size() && text.compare(text.size() - std::string(unit).size(), std::string::npos, unit) == 0) {
      text.resize(text.size() - std::string(unit).size());
      break;
    }
  auto v = parse_double(std::string(trim(text)));
  if (!v || !std::isfinite(*v) || *v < 0.25 || *v > 50) return std::nullopt;
  return v;
}

Status convert_footprint(const RawSettings& raw, Options& o) {
  o.sources.instance_type = raw.get("instance-type");
  o.footprint.no_embodied = raw.flag("no-embodied");
  if (const auto t = raw.get("embodied-kg"); !t.empty()) {
    auto v = parse_double(t);
    if (!v || !std::isfinite(*v) || *v <= 0 || *v > 1e6) return Status::fail(raw.where("embodied-kg") + ": must be kgCO2e, more than 0 and at most 1000000");
    o.footprint.embodied_kg = v;
  }
  if (const auto t = raw.get("lifetime"); !t.empty() && !(o.footprint.lifetime_years = parse_years(t)))
    return Status::fail(raw.where("lifetime") + ": must be a number of years from 0.25 to 50, e.g. 4 or 5y");
  if (o.footprint.no_embodied && (o.footprint.embodied_kg || o.footprint.lifetime_years))
    return Status::fail(raw.where("no-embodied") + " contradicts " + raw.where(o.footprint.embodied_kg ? "embodied-kg" : "lifetime"));
  if (const auto t = raw.get("functional-unit"); !t.empty() && !(o.footprint.functional_unit = parse_functional_unit(t)))
    return Status::fail(raw.where("functional-unit") + ": must be N or N:NAME with N > 0, e.g. 1000:images");
  if (const auto t = raw.get("wue"); !t.empty()) {
    auto v = parse_double(t);
    if (!v || !std::isfinite(*v) || *v < 0 || *v > 20) return Status::fail(raw.where("wue") + ": must be a number of L/kWh in 0..20");
    o.footprint.wue = v;
  }
  return {};
}

// A duration option; an error names where it came from and the limit.
std::optional<std::chrono::nanoseconds> duration_option(const RawSettings& raw, const char* name,
                                                        std::chrono::nanoseconds most, const char* most_text,
                                                        std::string& error) {
  const std::string text = raw.get(name);
  if (text.empty()) return std::nullopt;
  auto d = parse_duration(text);
  if (!d) error = raw.where(name) + " is not a duration; use e.g. 30s, 15m, 2h";
  else if (*d > most) error = raw.where(name) + " is too long: at most " + most_text;
  return d;
}

// The options of carbon-aware runs (live data, --start-within, --pause-above).
Status convert_carbon_aware(const RawSettings& raw, Options& o) {
  using namespace std::chrono;
  o.grid.intensity_source = raw.get("intensity-source");
  o.grid.require_live_intensity = raw.flag("require-live-intensity");
  std::string error;
  o.grid.intensity_timeout = duration_option(raw, "intensity-timeout", minutes(2), "2m", error).value_or(seconds(15));
  o.grid.intensity_ttl = duration_option(raw, "intensity-ttl", hours(24), "24h", error).value_or(minutes(10));
  o.grid.intensity_poll = duration_option(raw, "intensity-poll", hours(24), "24h", error).value_or(minutes(15));
  o.aware.start_within = duration_option(raw, "start-within", hours(72), "72h", error);
  o.aware.expected_duration = duration_option(raw, "expected-duration", hours(72 * 10), "720h", error);
  o.aware.max_delay = duration_option(raw, "max-delay", hours(24 * 30), "720h", error).value_or(hours(6));
  if (!error.empty()) return Status::fail(error);
  if (o.grid.intensity_timeout < milliseconds(100)) return Status::fail(raw.where("intensity-timeout") + ": must be at least 100ms");
  if (o.grid.intensity_poll < milliseconds(10)) return Status::fail(raw.where("intensity-poll") + ": must be at least 10ms");
  if (o.aware.start_within && !o.aware.expected_duration)
    return Status::fail(std::string("--start-within needs --expected-duration: the plan compares job-long windows"));
  if (const std::string text = raw.get("pause-above"); !text.empty()) {
    o.aware.pause_above = parse_intensity(text);
    if (!o.aware.pause_above) return Status::fail(raw.where("pause-above") + ": must be gCO2e/kWh in 0..2000 (300, 300g)");
  }
  auto sig = parse_signal(raw.get("pause-with"));
  if (!sig) return Status::fail(raw.where("pause-with") + ": must be stop or a signal name (SIGUSR1) or number");
  o.aware.pause_signal = *sig;
  return {};
}

// The options taken as given: paths, names and flags.
void copy_plain_settings(const RawSettings& raw, Options& o) {
  o.outputs.json_path = raw.get("json");
  o.outputs.summary_file = raw.get("summary-file");
  o.outputs.quiet = raw.flag("quiet");
  o.log_file = raw.get("log-file");
  o.sources.sysfs_root = raw.get("sysfs-root");
  o.sources.procfs_root = raw.get("procfs-root");
  o.grid.region = raw.get("region");
  o.grid.cloud = raw.get("cloud");
  o.grid.intensity_file = raw.get("intensity-file");
  o.grid.compare = raw.get("compare");
  o.outputs.csv_path = raw.get("csv");
  o.outputs.step_summary = raw.flag("no-step-summary") ? "" : raw.get("step-summary");
  o.outputs.html_path = raw.get("html");
  o.outputs.live = raw.flag("live");
  o.outputs.project = raw.get("project");
  o.outputs.experiment_id = raw.get("experiment-id");
  o.estimate.no_estimate = raw.flag("no-estimate");
  o.estimate.cpu_model = raw.get("cpu-model");
  o.sources.nvml_lib = raw.get("nvml-lib");
  o.sources.rocm_lib = raw.get("rocm-lib");
  o.sources.dev_root = raw.get("dev-root");
}

Status check_libraries(const RawSettings& raw) {
  for (const char* lib : {"nvml-lib", "rocm-lib"})
    if (const std::string path = raw.get(lib); path.find('/') != std::string::npos)
      if (auto st = check_trusted_file(path, "the library"); !st) return Status::fail(raw.where(lib) + ": " + st.error());
  return {};
}

// --interval, --checkpoint and --progress.
Status convert_sampling_times(const RawSettings& raw, Options& o) {
  auto iv = parse_duration(raw.get("interval"));
  if (!iv || *iv > std::chrono::minutes(10)) {
    if (iv || is_duration_syntax(raw.get("interval")))
      return Status::fail(raw.where("interval") + " is too long: at most 10m (a RAPL counter can wrap more than once in a longer interval)");
    return Status::fail(raw.where("interval") + " is not a duration; use e.g. 250ms, 2s, 1m");
  }
  if (*iv < std::chrono::milliseconds(1)) return Status::fail(raw.where("interval") + ": must be at least 1ms, e.g. 250ms or 2s");
  o.sampling.interval = *iv;
  auto cp = parse_duration(raw.get("checkpoint"));
  if (!cp || *cp > std::chrono::hours(24)) {
    if (cp || is_duration_syntax(raw.get("checkpoint"))) return Status::fail(raw.where("checkpoint") + " is too long: at most 24h");
    return Status::fail(raw.where("checkpoint") + " is not a duration; use e.g. 30s, 5m");
  }
  if (cp->count() > 0 && *cp < std::chrono::seconds(1)) return Status::fail(raw.where("checkpoint") + ": must be at least 1s (or 0 to disable)");
  o.sampling.checkpoint = *cp;
  if (const auto t = raw.get("progress"); !t.empty()) {
    auto p = parse_duration(t);
    if (!p || *p < std::chrono::seconds(1) || *p > std::chrono::hours(24))
      return Status::fail(raw.where("progress") + ": must be a duration from 1s to 24h, e.g. 10m");
    o.outputs.progress = *p;
  }
  return {};
}

// --scope, --tree, --log-level and --emission-factor: one of a few words each.
Status convert_choices(const RawSettings& raw, Options& o) {
  const std::string scope = raw.get("scope");
  if (scope == "process") o.tree.scope = Scope::Process;
  else if (scope == "machine") o.tree.scope = Scope::Machine;
  else return Status::fail(raw.where("scope") + ": must be process or machine");
  if (const std::string tree = raw.get("tree"); tree == "auto") o.tree.method = TreeMethod::Auto;
  else if (tree == "cgroup") o.tree.method = TreeMethod::Cgroup;
  else if (tree == "proc") o.tree.method = TreeMethod::Proc;
  else return Status::fail(raw.where("tree") + ": must be auto, cgroup or proc");
  // -v, or a --log-file alone, is --log-level debug; a level given explicitly wins.
  const auto level = log::parse_level(raw.get("log-level"));
  if (!level) return Status::fail(raw.where("log-level") + ": must be off, debug or trace");
  const bool implied = raw.flag("verbose") || !o.log_file.empty();
  o.log_level = raw.origin.count("log-level") || !implied ? *level : log::Level::Debug;
  const std::string factor = raw.get("emission-factor");
  if (factor == "life-cycle" || factor == "lifecycle") o.grid.emission_factor = Factor::Lifecycle;
  else if (factor == "direct") o.grid.emission_factor = Factor::Direct;
  else return Status::fail(raw.where("emission-factor") + ": must be lifecycle or direct");
  return {};
}

// --intensity, then the estimate's power figures (--cpu-tdp and the like).
Status convert_intensity_and_watts(const RawSettings& raw, Options& o) {
  if (const std::string text = raw.get("intensity"); !text.empty()) {
    auto v = parse_double(text);
    if (!v || !std::isfinite(*v) || *v < 0 || *v > 2000) return Status::fail(raw.where("intensity") + ": must be a number of gCO2e/kWh in 0..2000");
    o.grid.intensity = *v;
  }
  std::string error;
  o.estimate.cpu_tdp_w = watts(raw, "cpu-tdp", error);
  o.estimate.cpu_idle_w = watts(raw, "cpu-idle-w", error);
  o.estimate.cpu_max_w = watts(raw, "cpu-max-w", error);
  o.estimate.ram_w_per_gb = watts(raw, "ram-w-per-gb", error);
  o.estimate.gpu_tdp_w = watts(raw, "gpu-tdp", error);
  if (!error.empty()) return Status::fail(error);
  return {};
}

// --cpu-idle-w not above --cpu-max-w, then --pue.
Status check_idle_and_pue(const RawSettings& raw, Options& o) {
  if (o.estimate.cpu_idle_w && o.estimate.cpu_max_w && *o.estimate.cpu_idle_w > *o.estimate.cpu_max_w) return Status::fail(raw.where("cpu-idle-w") + " must not exceed " + raw.where("cpu-max-w"));
  if (const std::string text = raw.get("pue"); !text.empty()) {
    auto v = parse_double(text);
    if (!v || !std::isfinite(*v) || *v < 1.0 || *v > 3.0) return Status::fail(raw.where("pue") + ": must be a number between 1.0 and 3.0");
    o.grid.pue = *v;
  }
  return {};
}

}  // namespace

// The checks run in this order, so that of several mistakes the same one is named first.
Status convert_settings(const RawSettings& raw, Options& o) {
  copy_plain_settings(raw, o);
  if (auto st = check_libraries(raw); !st) return st;
  if (auto st = convert_sampling_times(raw, o); !st) return st;
  if (auto st = convert_footprint(raw, o); !st) return st;
  if (auto st = convert_choices(raw, o); !st) return st;
  if (auto st = convert_intensity_and_watts(raw, o); !st) return st;
  if (auto st = convert_budgets(raw, o); !st) return st;
  if (auto st = convert_monitoring(raw, o); !st) return st;
  if (auto st = check_idle_and_pue(raw, o); !st) return st;
  return convert_carbon_aware(raw, o);
}

namespace {

// An option given with an empty value on the command line is a mistake
// (an unset shell variable), never "use the default".
Status empty_value(const RawSettings& raw) {
  for (const auto& spec : option_table())
    if (spec.value && raw.values.count(spec.name) && raw.given(spec.name) &&
        raw.values.at(spec.name).empty())
      return Status::fail(std::string("--") + spec.name + " was given an empty value; give a " + spec.value + " or leave the option out");
  return {};
}

}  // namespace

Result<Options> subcommand_options(const RawSettings& raw) {
  using R = Result<Options>;
  Options o;
  if (auto st = empty_value(raw); !st) return R::fail(st.error());
  if (auto st = convert_settings(raw, o); !st) return R::fail(st.error());
  return o;
}

namespace {

// One parse. With `every_option` false, only the options `args` mention are
// registered with CLI11 (see parse_cli).
ParsedCli parse_once(const std::vector<std::string>& args, const EnvLookup& env, const std::string& system_config,
                     bool every_option) {
  CLI::App app{"", "greenrun"};
  set_main_help(app);
  app.prefix_command();
  bool version = false;
  app.add_flag("-V,--version", version, "Print the version and the energy sources built in")->group(kHelpGroups[0]);
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
  if (version) {
    ParsedCli r;
    r.action = ParsedCli::Action::Version;
    return r;
  }
  if (auto st = empty_value(raw); !st) return usage_error(st.error());

  // Settings not on the command line come from the environment, then the config files.
  Options o;
  auto layers = apply_config(raw, env, system_config);
  if (!layers) return usage_error(layers.error());
  if (!layers->files.empty()) o.config_path = layers->files.back().path;
  o.grid.credentials = std::move(layers->credentials);
  o.config_warnings = std::move(layers->warnings);
  o.ignored_privileged = drop_privileged_overrides(raw);
  o.outputs.github_actions = env("GITHUB_ACTIONS").value_or("") == "true";

  auto rest = app.remaining();
  if (!rest.empty() && rest.front() == "--") rest.erase(rest.begin());
  else if (!rest.empty() && rest.front().size() > 1 && rest.front()[0] == '-')
    return usage_error("unknown option " + rest.front());
  if (rest.empty()) return usage_error("no command given: greenrun [OPTIONS] -- COMMAND [ARGS...]");
  o.command = rest;
  if (auto st = convert_settings(raw, o); !st) return usage_error(st.error());
  for (const auto& [name, from] : raw.origin)
    if (from.rfind("--", 0) != 0) o.origins[name] = raw.where(name);
  ParsedCli r;
  r.options = std::move(o);
  return r;
}

}  // namespace

ParsedCli parse_cli(const std::vector<std::string>& args, const EnvLookup& env, const std::string& system_config) {
  // CLI11 compares each option it registers with every one registered before:
  // the whole table costs more than the rest of greenrun's start-up. A run
  // registers only the options its command line mentions; help, --version
  // and every error come from a second parse with all of them, so that what
  // they print is unchanged.
  ParsedCli r = parse_once(args, env, system_config, false);
  if (r.action == ParsedCli::Action::Exit) r = parse_once(args, env, system_config, true);
  return r;
}

}  // namespace greenrun
