#pragma once
// RFC 4180 CSV: enough for greenrun's data files, intensity files and the
// CodeCarbon-compatible output.

#include <deque>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

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

/// One of greenrun's data files (share/), read row by row as views into its
/// text, with its columns picked by header name. Every error names the file
/// and the line, and status() returns it; `text` is the buffer the
/// file is read into, which files read one after another share (fewer fresh
/// pages touched: this runs before every command starts).
class DataRows {
 public:
  DataRows(std::string path, std::initializer_list<const char*> columns, std::string& text);
  /// The next row; false at the end or on an error.
  bool next();
  /// Field `i` of the columns given to the constructor.
  std::string_view operator[](size_t i) const { return fields_[index_[i]]; }
  std::string str(size_t i) const { return std::string((*this)[i]); }
  /// A number field: empty -> nullopt; garbage -> an error naming the file, line and column.
  std::optional<double> number(size_t i, const char* name);
  /// A year field (1900..2200), 0 when empty; anything else is an error.
  int year(size_t i, const char* name);
  /// Records a problem with the current row: "FILE line N: problem".
  void fail(const std::string& problem);
  bool failed() const { return !error_.empty(); }
  /// The file's problem ("FILE line N: ..."), if any: check it after the rows.
  Status status() const { return error_.empty() ? Status{} : Status::fail(error_); }

 private:
  std::string path_;
  std::string error_;
  std::string& text_;
  std::optional<CsvReader> reader_;
  std::vector<size_t> index_;
  std::vector<std::string_view> fields_;
  size_t width_ = 0;
  bool ok_ = false;
};

/// Parses `text`; `name` is used in errors ("FILE line N: ..."). Every row
/// must have as many fields as the header.
Result<CsvTable> parse_csv(std::string_view text, const std::string& name);

/// A field quoted when it contains a comma, quote or line break.
std::string csv_field(std::string_view value);

}  // namespace greenrun
