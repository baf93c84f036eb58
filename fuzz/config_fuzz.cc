// libFuzzer target: a whole config file, as read_config_file hands it to the
// parser (many lines: keys set twice, quotes, sections, secrets), then the
// layers merged as a run merges them.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_files.h"
#include "config/option_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  greenrun::ConfigFile file{"fuzz", {}};
  std::vector<std::string> warnings;
  if (!greenrun::parse_config_text(text, file.path, file.values, &warnings)) return 0;
  greenrun::RawSettings raw;
  for (const auto& spec : greenrun::option_table()) {
    if (spec.value) raw.values[spec.name];
    else raw.flags[spec.name];
  }
  auto none = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  (void)greenrun::fill_from_environment(raw, none, {file});
  return 0;
}
