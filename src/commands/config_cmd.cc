#include "commands/config_cmd.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>

#include "commands/output_paths.h"
#include "commands/subcommand.h"
#include "config/config_files.h"
#include "config/option_table.h"
#include "util/exit_codes.h"
#include "util/url.h"
#include "util/escape.h"

namespace greenrun {

namespace {

struct Line {
  std::string name, value, origin;
};

std::string shown_value(const RawSettings& raw, const OptionSpec& spec) {
  if (!spec.value) return raw.flag(spec.name) ? "true" : "false";
  const std::string v = without_userinfo(raw.get(spec.name));
  return v.empty() ? "-" : v;
}

std::string format(const std::vector<Line>& lines) {
  size_t name_w = 0, value_w = 0;
  for (const auto& l : lines) {
    name_w = std::max(name_w, l.name.size());
    value_w = std::max(value_w, std::min<size_t>(l.value.size(), 40));
  }
  std::string out;
  for (const auto& l : lines) {
    std::string row = l.name + std::string(name_w + 2 - l.name.size(), ' ') + l.value;
    row += std::string(l.value.size() < value_w + 2 ? value_w + 2 - l.value.size() : 1, ' ') + l.origin;
    out += row + "\n";
  }
  return out;
}

std::string files_line(const ConfigLayers& layers) {
  std::string out = "config files (weakest first):";
  if (layers.files.empty()) return out + " none\n";
  for (size_t i = 0; i < layers.files.size(); ++i) out += (i ? ", " : " ") + layers.files[i].path;
  return out + "\n";
}

}  // namespace

Result<std::string> config_listing(RawSettings& raw, const EnvLookup& env, const std::string& system_config) {
  auto layers = apply_config(raw, env, system_config);
  if (!layers) return Result<std::string>::fail(layers.error());
  drop_privileged_overrides(raw);
  if (auto checked = checked_subcommand_options(raw, env); !checked) return Result<std::string>::fail(checked.error());
  std::vector<Line> lines = {{"SETTING", "VALUE", "FROM"}};
  for (const auto& spec : option_table()) {
    auto origin = raw.origin.find(spec.name);
    lines.push_back({spec.name, shown_value(raw, spec), origin == raw.origin.end() ? "default" : origin->second});
  }
  for (const auto& s : secret_table()) {
    auto origin = layers->credential_origin.find(s.key);
    const bool set = origin != layers->credential_origin.end();
    lines.push_back({s.key, set ? "(set)" : "-", set ? origin->second : "default"});
  }
  std::string warnings;
  for (const auto& w : layers->warnings) warnings += "warning: " + w + "\n";
  return files_line(*layers) + warnings + format(lines);
}

int config_command(const std::vector<std::string>& args, const EnvLookup& env, const std::string& system_config) {
  CLI::App app{"greenrun config [OPTIONS]: every setting's value and where it came from (the command line, "
               "the environment, a config file's line, the default); takes a run's options",
               "greenrun config"};
  RawSettings raw;
  add_table_options(app, raw);
  if (auto done = parse_subcommand(app, args, "config")) return *done;
  auto listing = config_listing(raw, env, system_config);
  if (!listing) {
    std::fprintf(stderr, "greenrun config: %s\n", terminal_text(listing.error()).c_str());
    return kExitGreenrunFailed;
  }
  std::fputs(listing->c_str(), stdout);
  return 0;
}

}  // namespace greenrun
