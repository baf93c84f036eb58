// libFuzzer target: a JSON report given back to greenrun (--baseline,
// greenrun compare, greenrun report), compared, merged, and read back into
// the report model and rendered (greenrun report FILE --html).
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "report/compare.h"
#include "report/merge.h"
#include "report/report.h"

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
  (void)greenrun::format_merged_html(m);
  if (auto run = greenrun::run_report_from_json(j, "fuzz")) {
    (void)greenrun::format_html(*run);
    (void)greenrun::format_summary(*run);
    (void)greenrun::to_json(*run).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }
  return 0;
}
