#pragma once
// RFC 4180 CSV: enough for greenrun's data files, intensity files and the
// CodeCarbon-compatible output.

#include <deque>
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

/// Reads CSV rows one at a time as views into the text: nothing is copied but
/// quoted fields with doubled quotes, unescaped into a buffer that lives until
/// the next row.
class CsvReader {
 public:
  CsvReader(std::string_view text, std::string name) : text_(text), name_(std::move(name)) {}
  /// The next non-blank row; false at the end or on an error (see error()).
  bool next(std::vector<std::string_view>& fields);
  /// 1-based line where the last row returned starts.
  int line() const { return row_line_; }
  const std::string& error() const { return error_; }

 private:
  std::string_view text_;
  std::string name_;
  size_t pos_ = 0;
  int line_ = 1, row_line_ = 1;
  std::deque<std::string> scratch_;
  std::string error_;
};

/// Parses `text`; `name` is used in errors ("FILE line N: ..."). Every row
/// must have as many fields as the header.
Result<CsvTable> parse_csv(std::string_view text, const std::string& name);

/// A field quoted when it contains a comma, quote or line break.
std::string csv_field(std::string_view value);

}  // namespace greenrun
