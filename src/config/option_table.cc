#include "config/option_table.h"

#include <CLI/CLI.hpp>

#include "util/privilege.h"

namespace greenrun {

const std::vector<OptionSpec>& option_table() {
  static const std::vector<OptionSpec> table = {
      // Sampling
      {"interval", "-i,--interval", "DURATION", "GREENRUN_INTERVAL", true, "Sampling",
       "Sampling interval: 250ms, 2s, 1m (minimum 1ms)", "1s"},
      {"scope", "--scope", "SCOPE", "GREENRUN_SCOPE", true, "Sampling",
       "process: the command's share of the machine; machine: all of it", "process"},
      {"tree", "--tree", "METHOD", "GREENRUN_TREE", true, "Sampling",
       "How the command's processes are followed: auto (a cgroup where possible, else /proc), cgroup, proc", "auto"},
      // Output
      {"json", "-j,--json", "FILE", nullptr, false, "Output", "Write a JSON report to FILE (checkpointed while running; - for stdout)", nullptr},
      {"checkpoint", "--checkpoint", "DURATION", nullptr, false, "Output",
       "Rewrite the --json file this often while the command runs (0: never)", "60s"},
      {"summary-file", "--summary-file", "FILE", nullptr, false, "Output", "Write the summary to FILE instead of stderr", nullptr},
      {"quiet", "-q,--quiet", nullptr, nullptr, false, "Output", "No summary", nullptr},
      {"verbose", "-v,--verbose", nullptr, nullptr, false, "Output", "Diagnostics on stderr (--log-level debug)", nullptr},
      {"log-level", "--log-level", "LEVEL", "GREENRUN_LOG_LEVEL", true, "Output",
       "Diagnostics: off, debug (probe, data files, tree method, checkpoints) or trace (also every tick)", "off"},
      {"log-file", "--log-file", "FILE", "GREENRUN_LOG_FILE", true, "Output", "Append diagnostics to FILE instead of stderr",
       nullptr},
      {"csv", "--csv", "FILE", "GREENRUN_CSV", true, "Output", "Append a row to FILE in CodeCarbon's emissions.csv layout", nullptr},
      {"project", "--project", "NAME", "GREENRUN_PROJECT", true, "Output", "project_name in the CSV row", "greenrun"},
      {"experiment-id", "--experiment-id", "ID", nullptr, false, "Output", "experiment_id in the CSV row", nullptr},
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
      // Estimation
      {"no-estimate", "--no-estimate", nullptr, nullptr, false, "Estimation",
       "Measured figures only; fail (125) where nothing can be measured", nullptr},
      {"cpu-tdp", "--cpu-tdp", "WATTS", nullptr, false, "Estimation", "TDP of one CPU package in W, for the estimate", nullptr},
      {"cpu-model", "--cpu-model", "MODEL", nullptr, false, "Estimation", "CPU model to look up instead of /proc/cpuinfo's", nullptr},
      {"cpu-idle-w", "--cpu-idle-w", "WATTS", nullptr, false, "Estimation", "Whole-machine CPU power at idle in W, for the estimate", nullptr},
      {"cpu-max-w", "--cpu-max-w", "WATTS", nullptr, false, "Estimation", "Whole-machine CPU power at full load in W, for the estimate", nullptr},
      {"ram-w-per-gb", "--ram-w-per-gb", "WATTS", nullptr, false, "Estimation", "Memory power in W per GB in use (default 0.3725)", nullptr},
      {"gpu-tdp", "--gpu-tdp", "WATTS", nullptr, false, "Estimation", "TDP in W of a GPU whose power cannot be read", nullptr},
      // Sources
      {"nvml-lib", "--nvml-lib", "FILE", "GREENRUN_NVML_LIB", false, "Sources", "NVML library to load instead of libnvidia-ml.so.1", nullptr},
      {"rocm-lib", "--rocm-lib", "FILE", "GREENRUN_ROCM_LIB", false, "Sources", "ROCm SMI library to load instead of librocm_smi64.so", nullptr},
      {"dev-root", "--dev-root", "DIR", "GREENRUN_DEV_ROOT", false, "Sources", "Read MSR devices under DIR instead of /dev", "/dev"},
      {"sysfs-root", "--sysfs-root", "DIR", "GREENRUN_SYSFS_ROOT", false, "Sources", "Read DIR instead of /sys (tests, unusual systems)", "/sys"},
      {"procfs-root", "--procfs-root", "DIR", "GREENRUN_PROCFS_ROOT", false, "Sources",
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
  const std::string value = get(name);
  if (it == origin.end() || it->second.rfind("--", 0) == 0) return "--" + name + " " + value;
  if (it->second.rfind("GREENRUN_", 0) == 0) return it->second + "=" + value;
  return it->second + ": " + name + " = " + value;
}

bool RawSettings::given(const std::string& name) const {
  auto it = options.find(name);
  return it != options.end() && it->second->count() > 0;
}

std::vector<std::string> drop_privileged_overrides(RawSettings& raw) {
  std::vector<std::string> ignored;
  if (!running_privileged()) return ignored;
  for (const char* name : {"nvml-lib", "rocm-lib", "sysfs-root", "procfs-root", "dev-root"}) {
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

void fill_from_environment(RawSettings& raw, const EnvLookup& env, const ConfigValues& config,
                           const std::string& config_path) {
  for (const auto& spec : option_table()) {
    if (!spec.value || !raw.values.count(spec.name)) continue;  // a flag, or not an option of this app
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
    if (spec.config)
      if (auto it = config.find(spec.name); it != config.end()) {
        raw.values[spec.name] = it->second.first;
        raw.origin[spec.name] = config_path + " line " + std::to_string(it->second.second);
      }
  }
}

}  // namespace greenrun
