// libFuzzer target: a JSON report given back to greenrun (--baseline,
// greenrun compare, greenrun report), compared and merged.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "report/compare.h"
#include "report/merge.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  auto r = greenrun::read_report(j, "fuzz");
  if (!r) return 0;
  const auto c = greenrun::compare_reports(*r, *r);
  (void)greenrun::format_comparison(c);
  (void)greenrun::comparison_json(c).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  const auto m = greenrun::merge_reports({*r, *r});
  (void)greenrun::format_merged_markdown(m);
  return 0;
}
