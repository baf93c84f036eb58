#include "carbon/intensity.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include <nlohmann/json.hpp>

#include "util/csv.h"
#include "util/fs.h"
#include "util/input_file.h"
#include "util/units.h"

namespace greenrun {

namespace {

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

namespace {

using Checked = Result<std::chrono::system_clock::time_point>;

// Integer Unix seconds, 0 to the end of year 9999.
Checked epoch_seconds(std::string_view s) {
  auto v = parse_u64(s);
  if (!v) return Checked::fail("'" + std::string(s) + "' is not a whole number of seconds");
  if (*v > kLastTimestampS) return Checked::fail(std::to_string(*v) + " s is after the year 2261");
  return std::chrono::system_clock::time_point(std::chrono::seconds(static_cast<long long>(*v)));
}

// "+02:00", "-05:30", "Z": seconds east of UTC; sets `pos` past it.
std::optional<long> utc_offset(std::string_view s, size_t& pos) {
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
    return 0;
  }
  int oh, om;
  if (pos >= s.size() || (s[pos] != '+' && s[pos] != '-') || !digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() ||
      s[pos + 3] != ':' || !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
    return std::nullopt;
  const long sign = s[pos] == '-' ? -1 : 1;
  pos += 6;
  return sign * (oh * 3600L + om * 60L);
}

}  // namespace

Result<std::chrono::system_clock::time_point> parse_timestamp_checked(std::string_view text) {
  using namespace std::chrono;
  std::string_view s = trim(text);
  if (s.empty()) return Checked::fail("the timestamp is empty");
  if (s[0] == '-') return Checked::fail("'" + std::string(s) + "' is before 1970");
  if (std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return epoch_seconds(s);
  const std::string quoted = "'" + std::string(s) + "'";
  int Y, M, D, h, m, sec;
  if (s.size() < 19 || !digits(s, 0, 4, Y) || s[4] != '-' || !digits(s, 5, 2, M) || s[7] != '-' ||
      !digits(s, 8, 2, D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, m) || s[16] != ':' || !digits(s, 17, 2, sec))
    return Checked::fail(quoted + " is neither RFC 3339 (2024-05-01T13:00:00Z) nor Unix seconds");
  const year_month_day ymd{year{Y}, month{static_cast<unsigned>(M)}, day{static_cast<unsigned>(D)}};
  if (Y < 1970) return Checked::fail(quoted + " is before 1970");
  if (Y > 2261) return Checked::fail(quoted + " is after the year 2261");
  if (!ymd.ok()) return Checked::fail(quoted + " is not a date");
  if (h > 23 || m > 59 || sec > 60) return Checked::fail(quoted + " is not a time of day");
  size_t pos = 19;
  double frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
    if (pos == start || pos - start > 9) return Checked::fail(quoted + " has a malformed fraction of a second");
    frac = parse_double("0." + std::string(s.substr(start, pos - start))).value_or(0);
  }
  // RFC 3339 requires an offset: a bare local time is ambiguous.
  auto offset = utc_offset(s, pos);
  if (!offset) return Checked::fail(quoted + " has no valid UTC offset (Z, +02:00, -05:30)");
  if (pos != s.size()) return Checked::fail(quoted + " has extra characters after the offset");
  const auto t = sys_days(ymd) + hours(h) + minutes(m) + seconds(sec) - seconds(*offset);
  return system_clock::time_point(duration_cast<system_clock::duration>(t.time_since_epoch())) +
         duration_cast<system_clock::duration>(duration<double>(frac));
}

std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view text) {
  auto t = parse_timestamp_checked(text);
  if (!t) return std::nullopt;
  return *t;
}

const char* basis_name(Basis b) {
  switch (b) {
    case Basis::Yearly: return "yearly";
    case Basis::Given: return "given";
    case Basis::File: return "file";
    case Basis::Live: return "live";
    case Basis::Forecast: return "forecast";
    case Basis::Estimated: return "estimated";
  }
  return "yearly";
}

IntensityProfile IntensityProfile::constant(double g_per_kwh, Basis basis) {
  IntensityProfile p;
  p.steps_.push_back({time_point{}, g_per_kwh, basis});
  return p;
}

IntensityProfile IntensityProfile::steps(std::vector<Step> steps) {
  IntensityProfile p;
  p.steps_ = std::move(steps);
  return p;
}

namespace {

// Index of the step in force at t (the first before the first step).
size_t step_at(const std::vector<IntensityProfile::Step>& steps, IntensityProfile::time_point t) {
  auto it = std::upper_bound(steps.begin(), steps.end(), t, [](auto v, const auto& s) { return v < s.from; });
  return it == steps.begin() ? size_t{0} : static_cast<size_t>(it - steps.begin() - 1);
}

}  // namespace

Basis IntensityProfile::basis_at(time_point t) const {
  return steps_.empty() ? Basis::Yearly : steps_[step_at(steps_, t)].basis;
}

BasisSeconds IntensityProfile::coverage(time_point from, time_point to) const {
  BasisSeconds out{};
  if (steps_.empty() || to <= from) return out;
  for (size_t i = step_at(steps_, from); from < to; ++i) {
    const time_point end = i + 1 < steps_.size() ? std::min(std::max(steps_[i + 1].from, from), to) : to;
    out[static_cast<size_t>(steps_[i].basis)] += std::chrono::duration<double>(end - from).count();
    from = end;
  }
  return out;
}

double IntensityProfile::average(time_point from, time_point to) const {
  if (steps_.empty()) return 0;
  if (steps_.size() == 1) return steps_[0].g_per_kwh;
  auto at = [&](time_point t) { return step_at(steps_, t); };
  // Within one step the value is the data's own, not a weighted sum that
  // prints as 33.43999999999999.
  if (to <= from || at(from) == at(to - std::chrono::nanoseconds(1))) return steps_[at(from)].g_per_kwh;
  double weighted = 0;
  time_point cur = from;
  size_t i = at(from);
  while (cur < to) {
    time_point next = i + 1 < steps_.size() ? std::max(steps_[i + 1].from, cur) : to;
    time_point end = std::min(next, to);
    weighted += steps_[i].g_per_kwh * std::chrono::duration<double>(end - cur).count();
    cur = end;
    if (i + 1 < steps_.size()) ++i;
  }
  return weighted / std::chrono::duration<double>(to - from).count();
}

double IntensityProfile::seconds_outside(time_point from, time_point to) const {
  if (steps_.size() <= 1 || to <= from) return 0;
  double out = 0;
  if (from < steps_.front().from) out += std::chrono::duration<double>(std::min(to, steps_.front().from) - from).count();
  // The last value covers one more step length (hourly data: its hour).
  auto last_len = steps_.back().from - steps_[steps_.size() - 2].from;
  auto end = steps_.back().from + last_len;
  if (to > end) out += std::chrono::duration<double>(to - std::max(from, end)).count();
  return out;
}

namespace {

class StepBuilder {
 public:
  // Empty when the entry was taken, else the problem.
  std::string add(std::string_view ts, double value, bool forecast = false) {
    auto t = parse_timestamp_checked(ts);
    if (!t) return "timestamp " + t.error();
    if (!(value >= 0 && value <= 2000)) return "intensity " + significant(value) + " g/kWh is outside 0..2000";
    if (!steps_.empty() && *t <= steps_.back().from) return "timestamps must increase";
    steps_.push_back({*t, value, forecast ? Basis::Forecast : Basis::File});
    return "";
  }
  std::vector<IntensityProfile::Step> take() { return std::move(steps_); }
  bool empty() const { return steps_.empty(); }

 private:
  std::vector<IntensityProfile::Step> steps_;
};

std::string json_timestamp(const nlohmann::json& t) {
  if (t.is_string()) return t.get<std::string>();
  if (t.is_number_unsigned()) return std::to_string(t.get<uint64_t>());
  if (t.is_number_integer()) return std::to_string(t.get<int64_t>());
  return t.dump();
}

// A JSON array of {"timestamp": ..., "g_per_kwh": ...}; errors name the entry.
std::string parse_json_steps(std::string_view body, const std::string& name, StepBuilder& steps) {
  size_t completed = 0;  // entries parsed so far, to name the one a parse error is in
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(body, [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
      if (depth == 1 && event == nlohmann::json::parse_event_t::object_end) ++completed;
      return true;
    });
  } catch (const nlohmann::json::exception& e) {
    return name + " entry " + std::to_string(completed + 1) + ": not valid JSON (" + e.what() + ")";
  }
  if (!j.is_array()) return name + ": expected a JSON array of {\"timestamp\": ..., \"g_per_kwh\": number}";
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& e = j[i];
    const std::string where = name + " entry " + std::to_string(i + 1);
    if (!e.is_object() || !e.contains("timestamp") || !e.contains("g_per_kwh") || !e["g_per_kwh"].is_number())
      return where + ": expected {\"timestamp\": ..., \"g_per_kwh\": number}";
    if (e.contains("forecast") && !e["forecast"].is_boolean()) return where + ": \"forecast\" must be true or false";
    const bool forecast = e.value("forecast", false);
    if (auto err = steps.add(json_timestamp(e["timestamp"]), e["g_per_kwh"].get<double>(), forecast); !err.empty())
      return where + ": " + err;
  }
  return "";
}

// A CSV cell for yes or no; an empty cell is no.
std::optional<bool> parse_flag(std::string_view cell) {
  std::string v(trim(cell));
  for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v.empty() || v == "false" || v == "0" || v == "no") return false;
  if (v == "true" || v == "1" || v == "yes") return true;
  return std::nullopt;
}

// CSV with a header naming `timestamp` and `g_per_kwh`, read row by row.
std::string parse_csv_steps(std::string_view text, const std::string& name, StepBuilder& steps) {
  CsvReader reader(text, name);
  std::vector<std::string_view> fields;
  if (!reader.next(fields)) return reader.error().empty() ? name + ": no data rows" : reader.error();
  int ts_col = -1, v_col = -1, f_col = -1;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (trim(fields[i]) == "timestamp") ts_col = static_cast<int>(i);
    if (trim(fields[i]) == "g_per_kwh") v_col = static_cast<int>(i);
    if (trim(fields[i]) == "forecast") f_col = static_cast<int>(i);
  }
  if (ts_col < 0 || v_col < 0) return name + " line 1: the header must name the columns timestamp and g_per_kwh";
  const size_t width = fields.size();
  while (reader.next(fields)) {
    const std::string where = name + " line " + std::to_string(reader.line());
    if (fields.size() != width)
      return where + ": " + std::to_string(fields.size()) + " fields where the header has " + std::to_string(width);
    const std::string_view value = fields[static_cast<size_t>(v_col)];
    auto v = parse_double(value);
    if (!v) return where + ": g_per_kwh '" + std::string(value) + "' is not a number";
    auto forecast = f_col < 0 ? std::optional<bool>(false) : parse_flag(fields[static_cast<size_t>(f_col)]);
    if (!forecast) return where + ": forecast '" + std::string(fields[static_cast<size_t>(f_col)]) + "' is not true or false";
    if (auto err = steps.add(fields[static_cast<size_t>(ts_col)], *v, *forecast); !err.empty()) return where + ": " + err;
  }
  return reader.error();
}

}  // namespace

Result<IntensityProfile> parse_intensity_text(std::string_view text, const std::string& name) {
  StepBuilder steps;
  const std::string_view body = trim(text);
  const std::string error =
      !body.empty() && body[0] == '[' ? parse_json_steps(body, name, steps) : parse_csv_steps(text, name, steps);
  if (!error.empty()) return Result<IntensityProfile>::fail(error);
  if (steps.empty()) return Result<IntensityProfile>::fail(name + ": no data rows");
  return IntensityProfile::steps(steps.take());
}

Result<IntensityProfile> load_intensity_file(const std::string& path) {
  using R = Result<IntensityProfile>;
  auto text = read_input_file(path, "--intensity-file", kMaxIntensityFileBytes);
  if (!text) return R::fail(text.error());
  return parse_intensity_text(*text, path);
}

}  // namespace greenrun
