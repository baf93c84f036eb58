#include "util/csv.h"

#include <algorithm>
#include <utility>

#include "util/fs.h"

namespace greenrun {

int CsvTable::column(std::string_view name) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

bool CsvReader::next(std::vector<std::string_view>& fields) {
  fields.clear();
  scratch_.clear();
  while (pos_ < text_.size()) {
    row_line_ = line_;
    // A blank line is skipped.
    if (text_[pos_] == '\n' || text_[pos_] == '\r') {
      if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
      ++pos_;
      ++line_;
      continue;
    }
    for (;;) {
      if (pos_ < text_.size() && text_[pos_] == '"') {
        size_t start = ++pos_;
        bool escaped = false;
        for (;;) {
          size_t q = text_.find('"', pos_);
          if (q == std::string_view::npos) {
            error_ = name_ + " line " + std::to_string(row_line_) + ": unterminated quoted field";
            pos_ = text_.size();
            return false;
          }
          line_ += static_cast<int>(std::count(text_.begin() + static_cast<long>(pos_), text_.begin() + static_cast<long>(q), '\n'));
          if (q + 1 < text_.size() && text_[q + 1] == '"') {
            escaped = true;
            pos_ = q + 2;
            continue;
          }
          std::string_view raw = text_.substr(start, q - start);
          if (escaped) {
            std::string unescaped;
            for (size_t i = 0; i < raw.size(); ++i) {
              unescaped.push_back(raw[i]);
              if (raw[i] == '"') ++i;
            }
            scratch_.push_back(std::move(unescaped));  // a deque: earlier views stay valid
            fields.push_back(scratch_.back());
          } else {
            fields.push_back(raw);
          }
          pos_ = q + 1;
          break;
        }
      } else {
        size_t end = text_.find_first_of(",\r\n", pos_);
        if (end == std::string_view::npos) end = text_.size();
        fields.push_back(text_.substr(pos_, end - pos_));
        pos_ = end;
      }
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '\r') ++pos_;
      if (pos_ < text_.size() && text_[pos_] == '\n') {
        ++pos_;
        ++line_;
      }
      break;
    }
    if (!fields.empty() && fields.front().size() >= 3 && row_line_ == 1 && fields.front().substr(0, 3) == "\xEF\xBB\xBF")
      fields.front().remove_prefix(3);
    return true;
  }
  return false;
}

DataRows::DataRows(std::string path, std::initializer_list<const char*> columns, std::string& text)
    : path_(std::move(path)), text_(text) {
  if (read_file(path_, text_) != 0) {
    error_ = "cannot read " + path_ + "; reinstall greenrun or set GREENRUN_DATA_DIR to its share directory";
    return;
  }
  reader_.emplace(text_, path_);
  std::vector<std::string_view> header;
  if (!reader_->next(header)) {
    error_ = reader_->error().empty() ? path_ + ": empty file, expected a header line" : reader_->error();
    return;
  }
  for (const char* c : columns) {
    auto it = std::find(header.begin(), header.end(), c);
    if (it == header.end()) {
      error_ = path_ + ": missing column " + c;
      return;
    }
    index_.push_back(static_cast<size_t>(it - header.begin()));
  }
  width_ = header.size();
  ok_ = true;
}

bool DataRows::next() {
  if (!ok_ || !reader_->next(fields_)) {
    if (ok_ && !reader_->error().empty()) error_ = reader_->error();
    return false;
  }
  if (fields_.size() != width_) {
    fail(std::to_string(fields_.size()) + " fields, expected " + std::to_string(width_));
    return false;
  }
  return true;
}

std::optional<double> DataRows::number(size_t i, const char* name) {
  std::string_view v = (*this)[i];
  if (v.empty()) return std::nullopt;
  auto d = parse_double(v);
  if (!d) fail(std::string(name) + " '" + std::string(v) + "' is not a number");
  return d;
}

int DataRows::year(size_t i, const char* name) {
  auto v = number(i, name);
  if (!v) return 0;
  auto y = whole_in_range(v, 1900, 2200);
  if (!y) fail(std::string(name) + " '" + std::string((*this)[i]) + "' is not a year");
  return y.value_or(0);
}

void DataRows::fail(const std::string& problem) {
  error_ = path_ + " line " + std::to_string(reader_->line()) + ": " + problem;
  ok_ = false;
}

Result<CsvTable> parse_csv(std::string_view text, const std::string& name) {
  CsvTable table;
  CsvReader reader(text, name);
  std::vector<std::string_view> fields;
  while (reader.next(fields)) {
    if (table.header.empty()) {
      table.header.assign(fields.begin(), fields.end());
      continue;
    }
    if (fields.size() != table.header.size())
      return Result<CsvTable>::fail(name + " line " + std::to_string(reader.line()) + ": " + std::to_string(fields.size()) +
                                    " fields, expected " + std::to_string(table.header.size()));
    table.rows.emplace_back(fields.begin(), fields.end());
    table.lines.push_back(reader.line());
  }
  if (!reader.error().empty()) return Result<CsvTable>::fail(reader.error());
  if (table.header.empty()) return Result<CsvTable>::fail(name + ": empty file, expected a header line");
  return table;
}

std::string csv_field(std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += "\"\"";
    else out += c;
  }
  return out + "\"";
}

}  // namespace greenrun
