// libFuzzer target: --intensity-file contents (CSV or JSON) and timestamps.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "carbon/intensity.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto profile = greenrun::parse_intensity_text(text, "fuzz");
  if (profile) {
    const auto& steps = profile->data();
    if (!steps.empty()) (void)profile->average(steps.front().from, steps.back().from + std::chrono::hours(1));
  }
  (void)greenrun::parse_timestamp_checked(text.substr(0, 64));
  return 0;
}
