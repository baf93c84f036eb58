// libFuzzer target: grid-intensity providers' answers (Electricity Maps,
// WattTime, UK Carbon Intensity), as a response body would reach them, then
// merged into the run's live series and its profile. The first byte picks
// the provider (a WattTime latest or forecast).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "carbon/live.h"
#include "carbon/provider.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return 0;
  greenrun::Result<greenrun::IntensitySeries> series = [&] {
    switch (data[0] % 4) {
      case 0: return greenrun::parse_electricitymaps(j);
      case 1: return greenrun::parse_watttime(j, false);
      case 2: return greenrun::parse_watttime(j, true);
      default: return greenrun::parse_uk_carbon_intensity(j);
    }
  }();
  if (!series) return 0;
  greenrun::LiveSeries live;
  live.merge(*series);
  for (const auto& step : series->steps) {
    (void)live.at(step.from);
    (void)live.next_change(step.from);
  }
  const auto profile = live.profile(400.0);
  if (!series->steps.empty())
    (void)profile.average(series->steps.front().from, series->steps.back().from + std::chrono::hours(1));
  (void)live.points();
  return 0;
}
