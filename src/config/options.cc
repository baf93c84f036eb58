#include "config/options.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "sensors/source_table.h"
#include "util/exit_codes.h"
#include "util/fs.h"
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

ParsedCli parse_cli(const std::vector<std::string>& args, const EnvLookup& env) {
  CLI::App app{"greenrun [OPTIONS] [--] COMMAND [ARGS...]\n\nMeasure the energy and carbon footprint of a command.", "greenrun"};
  app.footer(
      "greenrun runs COMMAND with its own stdin, stdout and stderr, forwards signals to it, and\n"
      "exits with its status. The report goes to stderr (or --summary-file) and --json.\n"
      "Also: greenrun sensors (the energy sources here and how to enable them),\n"
      "      greenrun regions [QUERY] (grids and cloud regions for --region, --cloud, --compare).\n"
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
  std::string intensity, pue;
  app.add_option("-r,--region", o.region, "Grid: zone id (US-CAL-CISO), country code (FR, FRA) or name");
  app.add_option("--cloud", o.cloud, "Cloud region PROVIDER:REGION (aws:us-east-1, gcp:europe-west9, azure:westeurope)");
  app.add_option("--intensity", intensity, "Grid intensity in gCO2e/kWh (overrides the region's figure)");
  app.add_option("--intensity-file", o.intensity_file, "Hourly intensity: CSV timestamp,g_per_kwh or a JSON array");
  app.add_option("--pue", pue, "Power usage effectiveness of the facility (default 1.0; the provider's with --cloud)");
  app.add_option("--emission-factor", o.emission_factor, "lifecycle (default) or direct")->capture_default_str();
  app.add_option("--compare", o.compare, "Regions to compare with, comma-separated (none: no table)");
  app.add_option("--csv", o.csv_path, "Append a row to FILE in CodeCarbon's emissions.csv layout");
  app.add_option("--project", o.project, "project_name in the CSV row")->capture_default_str();
  app.add_option("--experiment-id", o.experiment_id, "experiment_id in the CSV row");
  std::string cpu_tdp, cpu_idle, cpu_max, ram_w, gpu_tdp;
  app.add_flag("--no-estimate", o.no_estimate, "Measured figures only; fail (125) where nothing can be measured");
  app.add_option("--cpu-tdp", cpu_tdp, "TDP of one CPU package in W, for the estimate");
  app.add_option("--cpu-model", o.cpu_model, "CPU model to look up instead of /proc/cpuinfo's");
  app.add_option("--cpu-idle-w", cpu_idle, "Whole-machine CPU power at idle in W, for the estimate");
  app.add_option("--cpu-max-w", cpu_max, "Whole-machine CPU power at full load in W, for the estimate");
  app.add_option("--ram-w-per-gb", ram_w, "Memory power in W per GB in use (default 0.3725)");
  app.add_option("--gpu-tdp", gpu_tdp, "TDP in W of a GPU whose power cannot be read");
  app.add_option("--nvml-lib", o.nvml_lib, "NVML library to load instead of libnvidia-ml.so.1");
  app.add_option("--rocm-lib", o.rocm_lib, "ROCm SMI library to load instead of librocm_smi64.so");
  app.add_option("--dev-root", o.dev_root, "Read MSR devices under DIR instead of /dev (tests, unusual systems)");
  app.add_option("--sysfs-root", o.sysfs_root, "Read DIR instead of /sys (tests, unusual systems)");
  app.add_option("--procfs-root", o.procfs_root,
                 "Read machine-wide files from DIR instead of /proc (tests, unusual systems)");

  if (auto v = env("GREENRUN_SYSFS_ROOT")) o.sysfs_root = *v;
  if (auto v = env("GREENRUN_PROCFS_ROOT")) o.procfs_root = *v;
  if (auto v = env("GREENRUN_NVML_LIB")) o.nvml_lib = *v;
  if (auto v = env("GREENRUN_ROCM_LIB")) o.rocm_lib = *v;
  if (auto v = env("GREENRUN_DEV_ROOT")) o.dev_root = *v;

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return exit_with(0, app.help(), false);
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  if (version) return exit_with(0, version_text(), false);

  // Settings not on the command line come from the environment, then the config file.
  std::map<std::string, std::pair<std::string, int>> config;
  o.config_path = config_file_path(env);
  if (!o.config_path.empty()) {
    auto text = read_file(o.config_path);
    if (!text) return usage_error("cannot read the config file " + o.config_path);
    int line_no = 0;
    size_t pos = 0;
    while (pos <= text->size()) {
      size_t nl = text->find('\n', pos);
      std::string line(trim(std::string_view(*text).substr(pos, nl == std::string::npos ? std::string::npos : nl - pos)));
      pos = nl == std::string::npos ? text->size() + 1 : nl + 1;
      ++line_no;
      if (line.empty() || line[0] == '#' || line[0] == ';' || line[0] == '[') continue;
      auto eq = line.find('=');
      std::string where = o.config_path + " line " + std::to_string(line_no);
      if (eq == std::string::npos) return usage_error(where + ": expected key = value");
      std::string key(trim(std::string_view(line).substr(0, eq)));
      std::string value(trim(std::string_view(line).substr(eq + 1)));
      if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
        value = value.substr(1, value.size() - 2);
      static const char* kKeys[] = {"region", "cloud", "intensity", "pue", "emission-factor", "compare", "project",
                                    "interval", "scope", "csv", "intensity-file"};
      if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys))
        return usage_error(where + ": unknown setting '" + key + "'");
      config[key] = {value, line_no};
    }
  }
  auto fill = [&](const char* option, const char* env_name, const char* key, std::string& target) {
    if (app.count(option) > 0) return;
    if (auto v = env(env_name); v && !v->empty()) target = *v;
    else if (auto it = config.find(key); it != config.end()) target = it->second.first;
  };
  fill("--region", "GREENRUN_REGION", "region", o.region);
  fill("--cloud", "GREENRUN_CLOUD", "cloud", o.cloud);
  fill("--intensity", "GREENRUN_INTENSITY", "intensity", intensity);
  fill("--pue", "GREENRUN_PUE", "pue", pue);
  fill("--emission-factor", "GREENRUN_EMISSION_FACTOR", "emission-factor", o.emission_factor);
  fill("--compare", "GREENRUN_COMPARE", "compare", o.compare);
  fill("--project", "GREENRUN_PROJECT", "project", o.project);
  fill("--interval", "GREENRUN_INTERVAL", "interval", interval);
  fill("--scope", "GREENRUN_SCOPE", "scope", scope);
  fill("--csv", "GREENRUN_CSV", "csv", o.csv_path);
  fill("--intensity-file", "GREENRUN_INTENSITY_FILE", "intensity-file", o.intensity_file);

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
  if (o.emission_factor == "life-cycle" || o.emission_factor == "lifecycle") o.emission_factor = "lifecycle";
  else if (o.emission_factor != "direct")
    return usage_error("--emission-factor must be lifecycle or direct, not " + o.emission_factor);
  if (!intensity.empty()) {
    auto v = parse_double(intensity);
    if (!v || *v < 0 || *v > 2000) return usage_error("--intensity " + intensity + " must be a number of gCO2e/kWh in 0..2000");
    o.intensity = *v;
  }
  struct Watts {
    const char* flag;
    const std::string& text;
    std::optional<double>& target;
  };
  for (Watts wv : {Watts{"--cpu-tdp", cpu_tdp, o.cpu_tdp_w}, Watts{"--cpu-idle-w", cpu_idle, o.cpu_idle_w},
                   Watts{"--cpu-max-w", cpu_max, o.cpu_max_w}, Watts{"--ram-w-per-gb", ram_w, o.ram_w_per_gb},
                   Watts{"--gpu-tdp", gpu_tdp, o.gpu_tdp_w}}) {
    if (wv.text.empty()) continue;
    auto v = parse_double(wv.text);
    if (!v || *v < 0 || *v > 100000) return usage_error(std::string(wv.flag) + " " + wv.text + " must be a number of watts");
    wv.target = *v;
  }
  if (o.cpu_idle_w && o.cpu_max_w && *o.cpu_idle_w > *o.cpu_max_w)
    return usage_error("--cpu-idle-w must not exceed --cpu-max-w");
  if (!pue.empty()) {
    auto v = parse_double(pue);
    if (!v || *v < 1.0 || *v > 3.0) return usage_error("--pue " + pue + " must be a number between 1.0 and 3.0");
    o.pue = *v;
  }
  ParsedCli r;
  r.options = std::move(o);
  return r;
}

}  // namespace greenrun
