#include "config/option_table.h"

#include <CLI/CLI.hpp>

#include "util/privilege.h"
#include "util/url.h"

namespace greenrun {

const std::vector<OptionSpec>& option_table() {
  static const std::vector<OptionSpec> table = {
      // General
      {"config", "--config", "FILE", "GREENRUN_CONFIG", false, "General",
       "Read settings from FILE instead of ~/.config/greenrun/config (see greenrun config)", nullptr},
      // Output
      {"json", "-j,--json", "FILE", nullptr, false, "Output", "Write a JSON report to FILE (checkpointed while running; - for stdout)", nullptr},
      {"checkpoint", "--checkpoint", "DURATION", nullptr, true, "Output",
       "Rewrite the --json and --html files this often while the command runs (0: never)", "60s"},
      {"summary-file", "--summary-file", "FILE", nullptr, false, "Output", "Write the summary to FILE instead of stderr", nullptr},
      {"quiet", "-q,--quiet", nullptr, nullptr, false, "Output", "No summary", nullptr},
      {"verbose", "-v,--verbose", nullptr, nullptr, false, "Output", "Diagnostics on stderr (--log-level debug)", nullptr},
      {"log-level", "--log-level", "LEVEL", "GREENRUN_LOG_LEVEL", true, "Output",
       "Diagnostics: off, debug (probe, data files, tree method, checkpoints) or trace (also every tick)", "off"},
      {"log-file", "--log-file", "FILE", "GREENRUN_LOG_FILE", true, "Output", "Append diagnostics to FILE instead of stderr (--log-level debug unless given)",
       nullptr},
      {"csv", "--csv", "FILE", "GREENRUN_CSV", true, "Output", "Append a row to FILE in CodeCarbon's emissions.csv layout", nullptr},
      {"step-summary", "--step-summary", "FILE", "GITHUB_STEP_SUMMARY", true, "Output",
       "Append the report as Markdown to FILE (GitHub Actions' job page by default)", nullptr},
      {"no-step-summary", "--no-step-summary", nullptr, nullptr, true, "Output", "No Markdown step summary", nullptr},
      {"html", "--html", "FILE", nullptr, false, "Output",
       "Write the report as one self-contained HTML page with charts to FILE", nullptr},
      {"live", "--live", nullptr, nullptr, true, "Output",
       "A status line on stderr while the command runs (a terminal only)", nullptr},
      {"progress", "--progress", "DURATION", "GREENRUN_PROGRESS", true, "Output",
       "A plain status line on stderr this often, for logs: 10m", nullptr},
      {"project", "--project", "NAME", "GREENRUN_PROJECT", true, "Output", "project_name in the CSV row", "greenrun"},
      {"experiment-id", "--experiment-id", "ID", nullptr, false, "Output", "experiment_id in the CSV row", nullptr},
      // Sampling
      {"interval", "-i,--interval", "DURATION", "GREENRUN_INTERVAL", true, "Sampling",
       "Sampling interval: 250ms, 2s, 1m (minimum 1ms)", "1s"},
      {"scope", "--scope", "SCOPE", "GREENRUN_SCOPE", true, "Sampling",
       "process: the command's share of the machine; machine: all of it", "process"},
      {"tree", "--tree", "METHOD", "GREENRUN_TREE", true, "Sampling",
       "How the command's processes are followed: auto (a cgroup where possible, else /proc), cgroup, proc", "auto"},
      // Monitoring
      {"metrics", "--metrics", "FILE", "GREENRUN_METRICS", true, "Monitoring",
       "Write Prometheus metrics to FILE at every checkpoint and at the end", nullptr},
      {"metrics-format", "--metrics-format", "FORMAT", nullptr, true, "Monitoring", "prometheus (text 0.0.4) or openmetrics",
       "prometheus"},
      {"pushgateway", "--pushgateway", "URL", "GREENRUN_PUSHGATEWAY", true, "Monitoring",
       "Push the metrics to a Prometheus Pushgateway (http://host:9091)", nullptr},
      {"label", "--label", "KEY=VALUE", "GREENRUN_LABELS", true, "Monitoring",
       "A label for the metrics and the push's grouping key (repeat, or comma-separate)", nullptr},
      // CI
      {"max-energy", "--max-energy", "ENERGY", "GREENRUN_MAX_ENERGY", true, "CI",
       "Energy budget for the command: 50kJ, 2Wh (J, kJ, MJ, Wh, kWh)", nullptr},
      {"max-emissions", "--max-emissions", "MASS", "GREENRUN_MAX_EMISSIONS", true, "CI",
       "Emissions budget: 20g, 500mg (mg, g, kg, t)", nullptr},
      {"max-increase", "--max-increase", "PERCENT", "GREENRUN_MAX_INCREASE", true, "CI",
       "Most the energy may grow over --baseline: 10%", nullptr},
      {"on-budget", "--on-budget", "ACTION", "GREENRUN_ON_BUDGET", true, "CI",
       "warn, fail (exit 100 when the command succeeded) or stop (end the command)", "fail"},
      {"grace", "--grace", "DURATION", nullptr, true, "CI", "With --on-budget stop: SIGTERM, then SIGKILL after this", "10s"},
      {"baseline", "--baseline", "FILE", "GREENRUN_BASELINE", true, "CI",
       "A previous greenrun JSON report: show the change against it", nullptr},
      // Grid
      {"region", "-r,--region", "ZONE", "GREENRUN_REGION", true, "Grid",
       "Grid: zone id (US-CAL-CISO), country code (FR, FRA) or name", nullptr},
      {"cloud", "--cloud", "PROVIDER:REGION", "GREENRUN_CLOUD", true, "Grid",
       "Cloud region (aws:us-east-1, gcp:europe-west9, azure:westeurope)", nullptr},
      {"intensity", "--intensity", "G_PER_KWH", "GREENRUN_INTENSITY", true, "Grid",
       "Grid intensity in gCO2e/kWh (overrides the region's figure)", nullptr},
      {"intensity-file", "--intensity-file", "FILE", "GREENRUN_INTENSITY_FILE", true, "Grid",
       "Hourly intensity: CSV timestamp,g_per_kwh or a JSON array", nullptr},
      {"pue", "--pue", "RATIO", "GREENRUN_PUE", true, "Grid",
       "Power usage effectiveness of the facility (default 1.0; the provider's with --cloud)", nullptr},
      {"emission-factor", "--emission-factor", "FACTOR", "GREENRUN_EMISSION_FACTOR", true, "Grid",
       "lifecycle or direct", "lifecycle"},
      {"compare", "--compare", "ZONES", "GREENRUN_COMPARE", true, "Grid",
       "Regions to compare with, comma-separated (none: no table)", nullptr},
      // Carbon-aware
      {"intensity-source", "--intensity-source", "NAME[:WHERE]", "GREENRUN_INTENSITY_SOURCE", true, "Carbon-aware",
       "Live grid data: electricitymaps[:ZONE], watttime:REGION, uk[:POSTCODE] or file (--intensity-file)", nullptr},
      {"require-live-intensity", "--require-live-intensity", nullptr, nullptr, true, "Carbon-aware",
       "Fail (125) before the command starts when the provider gives no data", nullptr},
      {"intensity-timeout", "--intensity-timeout", "DURATION", "GREENRUN_INTENSITY_TIMEOUT", true, "Carbon-aware",
       "Longest wait for a provider, retries included", "15s"},
      {"intensity-ttl", "--intensity-ttl", "DURATION", "GREENRUN_INTENSITY_TTL", true, "Carbon-aware",
       "Reuse a provider's answer this long (0: no cache)", "10m"},
      {"intensity-poll", "--intensity-poll", "DURATION", "GREENRUN_INTENSITY_POLL", true, "Carbon-aware",
       "Check the intensity this often while the command runs", "15m"},
      {"start-within", "--start-within", "DURATION", nullptr, false, "Carbon-aware",
       "Wait for the cleanest start within DURATION (needs --expected-duration)", nullptr},
      {"expected-duration", "--expected-duration", "DURATION", nullptr, false, "Carbon-aware",
       "How long the command is expected to run, for --start-within", nullptr},
      {"pause-above", "--pause-above", "G_PER_KWH", nullptr, true, "Carbon-aware",
       "Pause the command while the grid is above this intensity (300, 300g)", nullptr},
      {"max-delay", "--max-delay", "DURATION", nullptr, true, "Carbon-aware", "Most time spent paused in all", "6h"},
      {"pause-with", "--pause-with", "stop|SIGNAL", nullptr, true, "Carbon-aware",
       "stop: SIGSTOP the process group; SIGNAL: send it (SIGCONT resumes)", "stop"},
      // Footprint
      {"instance-type", "--instance-type", "TYPE", "GREENRUN_INSTANCE_TYPE", true, "Footprint",
       "Cloud instance type (m5.xlarge; with --cloud): embodied figure and AWS per-instance power; auto: from DMI", nullptr},
      {"embodied-kg", "--embodied-kg", "KG", "GREENRUN_EMBODIED_KG", true, "Footprint",
       "Manufacturing emissions of this machine in kgCO2e, instead of the data's", nullptr},
      {"lifetime", "--lifetime", "YEARS", "GREENRUN_LIFETIME", true, "Footprint",
       "Years the hardware's manufacturing emissions are spread over, instead of the data's", nullptr},
      {"no-embodied", "--no-embodied", nullptr, nullptr, true, "Footprint", "No embodied (manufacturing) emissions", nullptr},
      {"functional-unit", "--functional-unit", "N[:NAME]", "GREENRUN_FUNCTIONAL_UNIT", true, "Footprint",
       "Show the SCI score per this much work: 1000:images", nullptr},
      {"wue", "--wue", "L_PER_KWH", "GREENRUN_WUE", true, "Footprint",
       "Water usage effectiveness of the facility in L/kWh (the provider's published figure): report water", nullptr},
      // Estimation
      {"no-estimate", "--no-estimate", nullptr, nullptr, true, "Estimation",
       "Measured figures only; fail (125) where nothing can be measured", nullptr},
      {"cpu-tdp", "--cpu-tdp", "WATTS", nullptr, true, "Estimation", "TDP of one CPU package in W, for the estimate", nullptr},
      {"cpu-model", "--cpu-model", "MODEL", nullptr, true, "Estimation", "CPU model to look up instead of /proc/cpuinfo's", nullptr},
      {"cpu-idle-w", "--cpu-idle-w", "WATTS", nullptr, true, "Estimation", "Whole-machine CPU power at idle in W, for the estimate", nullptr},
      {"cpu-max-w", "--cpu-max-w", "WATTS", nullptr, true, "Estimation", "Whole-machine CPU power at full load in W, for the estimate", nullptr},
      {"ram-w-per-gb", "--ram-w-per-gb", "WATTS", nullptr, true, "Estimation", "Memory power in W per GB in use (default 0.3725)", nullptr},
      {"gpu-tdp", "--gpu-tdp", "WATTS", nullptr, true, "Estimation", "TDP in W of a GPU whose power cannot be read", nullptr},
      // Sources
      {"nvml-lib", "--nvml-lib", "FILE", "GREENRUN_NVML_LIB", true, "Sources", "NVML library to load instead of libnvidia-ml.so.1", nullptr},
      {"rocm-lib", "--rocm-lib", "FILE", "GREENRUN_ROCM_LIB", true, "Sources", "ROCm SMI library to load instead of librocm_smi64.so", nullptr},
      // Testing
      {"dev-root", "--dev-root", "DIR", "GREENRUN_DEV_ROOT", false, "Testing", "Read MSR devices under DIR instead of /dev", "/dev"},
      {"sysfs-root", "--sysfs-root", "DIR", "GREENRUN_SYSFS_ROOT", false, "Testing", "Read DIR instead of /sys (tests, unusual systems)", "/sys"},
      {"procfs-root", "--procfs-root", "DIR", "GREENRUN_PROCFS_ROOT", false, "Testing",
       "Read machine-wide files from DIR instead of /proc (tests, unusual systems)", "/proc"},
  };
  return table;
}

const OptionSpec* find_option(std::string_view name) {
  for (const auto& o : option_table())
    if (name == o.name) return &o;
  return nullptr;
}

std::string RawSettings::get(const std::string& name) const {
  if (auto it = values.find(name); it != values.end() && origin.count(name)) return it->second;
  const OptionSpec* spec = find_option(name);
  return spec && spec->fallback ? spec->fallback : "";
}

bool RawSettings::flag(const std::string& name) const {
  auto it = flags.find(name);
  return it != flags.end() && it->second;
}

std::string RawSettings::where(const std::string& name) const {
  auto it = origin.find(name);
  const OptionSpec* spec = find_option(name);
  const bool is_flag = spec && !spec->value;
  // A URL's user name or password (refused anyway) is never repeated in a message.
  const std::string value = is_flag ? (flag(name) ? "true" : "false") : without_userinfo(get(name));
  if (it == origin.end() || it->second.rfind("--", 0) == 0) return "--" + name + (is_flag ? "" : " " + value);
  if (spec && spec->env && it->second == spec->env) return it->second + "=" + value;
  return it->second + ": " + name + " = " + value;
}

bool RawSettings::given(const std::string& name) const {
  auto it = options.find(name);
  return it != options.end() && it->second->count() > 0;
}

std::vector<std::string> drop_privileged_overrides(RawSettings& raw) {
  std::vector<std::string> ignored;
  if (!running_privileged()) return ignored;
  for (const char* name : kTrustedKeys) {
    auto it = raw.origin.find(name);
    if (it == raw.origin.end()) continue;
    ignored.push_back(it->second);
    raw.origin.erase(it);
    raw.values.erase(name);
  }
  return ignored;
}

namespace {

void add_option(CLI::App& app, RawSettings& raw, const OptionSpec& spec) {
  if (!spec.value) {
    raw.options[spec.name] = app.add_flag(spec.flags, raw.flags[spec.name], spec.help)->group(spec.group);
    return;
  }
  std::string help = spec.help;
  if (spec.env) help += " [env " + std::string(spec.env) + "]";
  auto* opt = app.add_option(spec.flags, raw.values[spec.name], help)->type_name(spec.value)->group(spec.group);
  if (spec.fallback) opt->default_str(spec.fallback);
  if (std::string(spec.name) == "label") opt->multi_option_policy(CLI::MultiOptionPolicy::Join)->delimiter(',');
  raw.options[spec.name] = opt;
}

// Whether `arg` names one of `spec`'s flags: "--name", "--name=...", or a
// short flag among the letters of "-xyz" (combined flags, or -xVALUE).
bool mentions(std::string_view arg, const OptionSpec& spec) {
  if (arg.size() < 2 || arg[0] != '-') return false;
  std::string_view flags = spec.flags;
  while (!flags.empty()) {
    auto comma = flags.find(',');
    std::string_view flag = flags.substr(0, comma);
    flags = comma == std::string_view::npos ? std::string_view() : flags.substr(comma + 1);
    if (flag.substr(0, 2) == "--") {
      if (arg.substr(0, 2) == "--" && arg.substr(2, arg.find('=') - 2) == flag.substr(2)) return true;
    } else if (flag.size() == 2 && arg[1] != '-' && arg.find(flag[1], 1) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

void add_table_options(CLI::App& app, RawSettings& raw, const std::vector<std::string>& names) {
  for (const auto& spec : option_table())
    if (names.empty() || std::find(names.begin(), names.end(), spec.name) != names.end()) add_option(app, raw, spec);
}

void add_mentioned_options(CLI::App& app, RawSettings& raw, const std::vector<std::string>& args) {
  for (const auto& spec : option_table()) {
    if (std::any_of(args.begin(), args.end(), [&](const std::string& a) { return mentions(a, spec); })) {
      add_option(app, raw, spec);
    } else if (spec.value) {
      raw.values[spec.name];
    } else {
      raw.flags[spec.name];
    }
  }
}

namespace {

// The value of `name` in the strongest file that has it, with its origin.
const std::pair<std::string, int>* from_files(const std::vector<ConfigFile>& files, const std::string& name,
                                              std::string& origin) {
  for (auto f = files.rbegin(); f != files.rend(); ++f)
    if (auto it = f->values.find(name); it != f->values.end()) {
      origin = f->path + " line " + std::to_string(it->second.second);
      return &it->second;
    }
  return nullptr;
}

Status fill_flag(RawSettings& raw, const OptionSpec& spec, const std::vector<ConfigFile>& files) {
  if (raw.given(spec.name)) {
    raw.origin[spec.name] = std::string("--") + spec.name;
    return {};
  }
  std::string origin;
  const auto* v = spec.config ? from_files(files, spec.name, origin) : nullptr;
  if (!v) return {};
  auto b = parse_bool(v->first);
  if (!b) return Status::fail(origin + ": " + spec.name + " = " + v->first + ": must be true or false (or yes/no, on/off, 1/0)");
  raw.flags[spec.name] = *b;
  raw.origin[spec.name] = origin;
  return {};
}

}  // namespace

Status fill_from_environment(RawSettings& raw, const EnvLookup& env,
                                                 const std::vector<ConfigFile>& files) {
  for (const auto& spec : option_table()) {
    if (!spec.value) {
      if (!raw.flags.count(spec.name)) continue;
      if (auto st = fill_flag(raw, spec, files); !st) return st;
      continue;
    }
    if (!raw.values.count(spec.name)) continue;  // not an option of this app
    if (raw.given(spec.name)) {
      raw.origin[spec.name] = std::string("--") + spec.name;
      continue;
    }
    if (spec.env)
      if (auto v = env(spec.env); v && !v->empty()) {
        raw.values[spec.name] = *v;
        raw.origin[spec.name] = spec.env;
        continue;
      }
    std::string origin;
    if (const auto* v = spec.config ? from_files(files, spec.name, origin) : nullptr) {
      raw.values[spec.name] = v->first;
      raw.origin[spec.name] = origin;
    }
  }
  return {};
}

}  // namespace greenrun
