#include "carbon/intensity.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include <nlohmann/json.hpp>

#include "util/csv.h"
#include "util/fs.h"
#include "util/privilege.h"

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

std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view text) {
  using namespace std::chrono;
  std::string_view s = trim(text);
  if (s.empty()) return std::nullopt;
  bool all_digits = std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (all_digits || (s[0] == '-' && s.size() > 1)) {
    auto v = parse_double(s);
    if (!v || *v != static_cast<double>(static_cast<long long>(*v))) return std::nullopt;
    return system_clock::time_point(seconds(static_cast<long long>(*v)));
  }
  int Y, M, D, h, m, sec;
  if (!digits(s, 0, 4, Y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, M) || s[7] != '-' ||
      !digits(s, 8, 2, D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, m) || s[16] != ':' || !digits(s, 17, 2, sec))
    return std::nullopt;
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return std::nullopt;
  size_t pos = 19;
  double frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
    if (pos == start) return std::nullopt;
    frac = std::stod("0." + std::string(s.substr(start, pos - start)));
  }
  long offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om))
      return std::nullopt;
    offset = (s[pos] == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
    pos += 6;
  } else {
    return std::nullopt;  // RFC 3339 requires an offset: a bare local time is ambiguous
  }
  if (pos != s.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  time_t t = timegm(&tm);
  auto tp = system_clock::time_point(seconds(t - offset));
  return tp + duration_cast<system_clock::duration>(duration<double>(frac));
}

IntensityProfile IntensityProfile::constant(double g_per_kwh) {
  IntensityProfile p;
  p.steps_.push_back({time_point{}, g_per_kwh});
  return p;
}

IntensityProfile IntensityProfile::steps(std::vector<Step> steps) {
  IntensityProfile p;
  p.steps_ = std::move(steps);
  return p;
}

double IntensityProfile::average(time_point from, time_point to) const {
  if (steps_.empty()) return 0;
  if (steps_.size() == 1) return steps_[0].g_per_kwh;
  // Index of the step in force at t.
  auto at = [&](time_point t) {
    auto it = std::upper_bound(steps_.begin(), steps_.end(), t, [](time_point v, const Step& s) { return v < s.from; });
    return it == steps_.begin() ? size_t{0} : static_cast<size_t>(it - steps_.begin() - 1);
  };
  if (to <= from) return steps_[at(from)].g_per_kwh;
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

Result<IntensityProfile> parse_intensity_text(std::string_view text, const std::string& name) {
  using R = Result<IntensityProfile>;
  std::vector<IntensityProfile::Step> steps;
  auto add = [&](const std::string& where, const std::string& ts, double value) -> std::string {
    auto t = parse_timestamp(ts);
    if (!t) return where + ": timestamp '" + ts + "' is neither RFC 3339 with an offset nor Unix seconds";
    if (!(value >= 0 && value <= 2000)) return where + ": intensity " + std::to_string(value) + " is outside 0..2000 g/kWh";
    if (!steps.empty() && *t <= steps.back().from) return where + ": timestamps must increase";
    steps.push_back({*t, value});
    return "";
  };
  std::string_view body = trim(text);
  if (!body.empty() && body[0] == '[') {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& e) {
      return R::fail(name + ": not valid JSON (" + std::string(e.what()) + ")");
    }
    for (size_t i = 0; i < j.size(); ++i) {
      const auto& e = j[i];
      std::string where = name + " entry " + std::to_string(i + 1);
      if (!e.is_object() || !e.contains("timestamp") || !e.contains("g_per_kwh") || !e["g_per_kwh"].is_number())
        return R::fail(where + ": expected {\"timestamp\": ..., \"g_per_kwh\": number}");
      std::string ts = e["timestamp"].is_string() ? e["timestamp"].get<std::string>()
                       : e["timestamp"].is_number_integer() ? std::to_string(e["timestamp"].get<long long>())
                                                            : "";
      if (auto err = add(where, ts, e["g_per_kwh"].get<double>()); !err.empty()) return R::fail(err);
    }
  } else {
    auto table = parse_csv(text, name);
    if (!table) return R::fail(table.error());
    int ts_col = table->column("timestamp"), v_col = table->column("g_per_kwh");
    if (ts_col < 0 || v_col < 0) return R::fail(name + " line 1: the header must name the columns timestamp and g_per_kwh");
    for (size_t i = 0; i < table->rows.size(); ++i) {
      std::string where = name + " line " + std::to_string(table->lines[i]);
      const auto& row = table->rows[i];
      auto v = parse_double(row[static_cast<size_t>(v_col)]);
      if (!v) return R::fail(where + ": g_per_kwh '" + row[static_cast<size_t>(v_col)] + "' is not a number");
      if (auto err = add(where, row[static_cast<size_t>(ts_col)], *v); !err.empty()) return R::fail(err);
    }
  }
  if (steps.empty()) return R::fail(name + ": no data rows");
  return IntensityProfile::steps(std::move(steps));
}

Result<IntensityProfile> load_intensity_file(const std::string& path) {
  std::string text;
  if (running_privileged() && !user_may_read(path))
    return Result<IntensityProfile>::fail("cannot read --intensity-file " + path + ": Permission denied (as its user)");
  if (int err = read_file(path, text); err != 0)
    return Result<IntensityProfile>::fail("cannot read --intensity-file " + path + ": " + errno_text(err));
  return parse_intensity_text(text, path);
}

}  // namespace greenrun
