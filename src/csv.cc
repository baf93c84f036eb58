#include "csv.h"

namespace greenrun {

int CsvTable::column(std::string_view name) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

Result<CsvTable> parse_csv(std::string_view text, const std::string& name) {
  CsvTable table;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, field_started = false, row_has_data = false;
  int line = 1, row_line = 1;
  auto end_field = [&] {
    row.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_row = [&]() -> std::string {
    end_field();
    if (!row_has_data && row.size() == 1 && row[0].empty()) {
      row.clear();
      return "";  // blank line
    }
    if (table.header.empty()) {
      table.header = std::move(row);
      if (!table.header.empty() && table.header[0].rfind("\xEF\xBB\xBF", 0) == 0) table.header[0].erase(0, 3);
    } else {
      if (row.size() != table.header.size())
        return name + " line " + std::to_string(row_line) + ": " + std::to_string(row.size()) + " fields, expected " +
               std::to_string(table.header.size());
      table.rows.push_back(std::move(row));
      table.lines.push_back(row_line);
    }
    row.clear();
    row_has_data = false;
    return "";
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (!quoted && c != '"' && c != ',' && c != '\n' && c != '\r') {
      // The common case: copy the run of plain characters at once.
      size_t end = text.find_first_of(",\r\n\"", i);
      if (end == std::string_view::npos) end = text.size();
      field.append(text.data() + i, end - i);
      field_started = row_has_data = true;
      i = end - 1;
      continue;
    }
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = field_started = row_has_data = true;
    } else if (c == ',') {
      end_field();
      row_has_data = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (auto err = end_row(); !err.empty()) return Result<CsvTable>::fail(err);
      ++line;
      row_line = line;
    } else {
      field.push_back(c);
      field_started = row_has_data = true;
    }
  }
  if (quoted) return Result<CsvTable>::fail(name + " line " + std::to_string(row_line) + ": unterminated quoted field");
  if (field_started || row_has_data || !row.empty())
    if (auto err = end_row(); !err.empty()) return Result<CsvTable>::fail(err);
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
