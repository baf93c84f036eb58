#pragma once
// RFC 4180 CSV: enough for greenrun's data files, intensity files and the
// CodeCarbon-compatible output.

#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace greenrun {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<int> lines;  // 1-based line where each row starts
  /// Index of a header column, or -1.
  int column(std::string_view name) const;
};

/// Parses `text`; `name` is used in errors ("FILE line N: ..."). Every row
/// must have as many fields as the header.
Result<CsvTable> parse_csv(std::string_view text, const std::string& name);

/// A field quoted when it contains a comma, quote or line break.
std::string csv_field(std::string_view value);

}  // namespace greenrun
