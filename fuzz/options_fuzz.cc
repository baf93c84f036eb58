// libFuzzer target: the command line (arguments split at NUL bytes), the
// environment's values and the config file, through the one option table.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "commands/options.h"
#include "config/option_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  // The first line is a config file's text; then arguments separated by NUL;
  // an argument NAME=VALUE that starts with GREENRUN_ goes to the environment.
  const auto nl = input.find('\n');
  greenrun::ConfigValues config;
  (void)greenrun::parse_config_text(input.substr(0, nl == std::string::npos ? 0 : nl), "fuzz", config);
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  size_t start = nl == std::string::npos ? 0 : nl + 1;
  while (start <= input.size() && args.size() < 64) {
    const size_t end = input.find('\0', start);
    std::string a = input.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (a.rfind("GREENRUN_", 0) == 0 && a.find('=') != std::string::npos) env[a.substr(0, a.find('='))] = a.substr(a.find('=') + 1);
    else args.push_back(a);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  env["GREENRUN_CONFIG"] = "";
  auto lookup = [&](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  (void)greenrun::parse_cli(args, lookup, "");  // no system file: the input alone decides
  return 0;
}
