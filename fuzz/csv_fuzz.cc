// libFuzzer target: the CSV reader every data file and intensity file goes through.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "util/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  greenrun::CsvReader reader(text, "fuzz");
  std::vector<std::string_view> fields;
  size_t rows = 0;
  while (reader.next(fields) && rows < 100000) ++rows;
  (void)greenrun::parse_csv(text, "fuzz");
  for (const auto& f : fields) (void)greenrun::csv_field(f);
  return 0;
}
