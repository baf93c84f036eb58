#include "util/units.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "util/fs.h"

namespace greenrun {

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  std::string number(text.substr(0, i));
  std::string_view unit = text.substr(i);
  if (number.empty() || number == "." || number.find('.') != number.rfind('.')) return std::nullopt;
  char* end = nullptr;
  double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(value) || value < 0) return std::nullopt;
  double ns_per_unit;
  if (unit.empty() || unit == "s") ns_per_unit = 1e9;
  else if (unit == "ms") ns_per_unit = 1e6;
  else if (unit == "us") ns_per_unit = 1e3;
  else if (unit == "m" || unit == "min") ns_per_unit = 60e9;
  else if (unit == "h") ns_per_unit = 3600e9;
  else return std::nullopt;
  double ns = value * ns_per_unit;
  if (ns > 1e18) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(ns)));
}

namespace {

// A finite, non-negative number followed by one of `units` (factor to the base unit).
std::optional<double> with_unit(std::string_view text, std::initializer_list<std::pair<const char*, double>> units) {
  text = trim(text);
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  auto number = parse_double(text.substr(0, i));
  if (!number || *number < 0) return std::nullopt;
  const std::string_view unit = trim(text.substr(i));
  for (const auto& [name, factor] : units)
    if (unit == name) return *number * factor;
  return std::nullopt;
}

}  // namespace

std::optional<double> parse_energy_j(std::string_view text) {
  return with_unit(text, {{"J", 1}, {"kJ", 1e3}, {"MJ", 1e6}, {"Wh", 3600}, {"kWh", 3.6e6}});
}

std::optional<double> parse_mass_g(std::string_view text) {
  return with_unit(text, {{"mg", 1e-3}, {"g", 1}, {"kg", 1e3}, {"t", 1e6}});
}

std::optional<double> parse_percent(std::string_view text) { return with_unit(text, {{"%", 1}, {"", 1}}); }

bool is_duration_syntax(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return false;
  std::string_view unit = text.substr(i);
  return unit.empty() || unit == "s" || unit == "ms" || unit == "us" || unit == "m" || unit == "min" || unit == "h";
}

std::string significant(double value, int digits) {
  if (!std::isfinite(value)) return "n/a";
  if (value == 0) return "0";
  int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(value))));
  int decimals = digits - 1 - magnitude;
  if (decimals < 0) decimals = 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  // Rounding can add a digit (9.996 -> "10.00"): redo with one decimal fewer.
  std::string s = buf;
  if (decimals > 0) {
    double rounded = std::strtod(buf, nullptr);
    if (rounded != 0 && static_cast<int>(std::floor(std::log10(std::fabs(rounded)))) > magnitude) {
      std::snprintf(buf, sizeof buf, "%.*f", decimals - 1, value);
      s = buf;
    }
  }
  return s;
}

std::string format_energy(double j) {
  if (std::fabs(j) < 3600.0) return significant(j) + " J";
  if (std::fabs(j) < 3.6e6) return significant(j / 3600.0) + " Wh";
  if (std::fabs(j) < 3.6e9) return significant(j / 3.6e6) + " kWh";
  return significant(j / 3.6e9) + " MWh";
}

std::string format_power(double w) {
  if (w != 0 && std::fabs(w) < 1.0) return significant(w * 1000.0) + " mW";
  if (std::fabs(w) < 1000.0) return significant(w) + " W";
  return significant(w / 1000.0) + " kW";
}

std::string format_seconds(double s) {
  if (s < 1.0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f s", s);
    return buf;
  }
  if (s < 60.0) return significant(s) + " s";
  auto total = static_cast<long long>(std::llround(s));
  long long h = total / 3600, m = (total % 3600) / 60, sec = total % 60;
  char buf[64];
  if (h > 0) std::snprintf(buf, sizeof buf, "%lld h %02lld min %02lld s", h, m, sec);
  else std::snprintf(buf, sizeof buf, "%lld min %02lld s", m, sec);
  return buf;
}

std::string format_bytes(double b) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (std::fabs(b) >= 1024.0 && u < 5) {
    b /= 1024.0;
    ++u;
  }
  if (u == 0) return std::to_string(static_cast<long long>(b)) + " B";
  return significant(b) + " " + units[u];
}

std::string format_mass_g(double g) {
  if (g == 0) return "0 g";
  if (std::fabs(g) < 1e-3) return significant(g * 1e6) + " \u00b5g";
  if (std::fabs(g) < 1.0) return significant(g * 1e3) + " mg";
  if (std::fabs(g) < 1000.0) return significant(g) + " g";
  if (std::fabs(g) < 1e6) return significant(g / 1000.0) + " kg";
  return significant(g / 1e6) + " t";
}

std::string format_volume_l(double liters) {
  if (liters == 0) return "0 L";
  if (std::fabs(liters) < 1e-3) return significant(liters * 1e6) + " \u00b5L";
  if (std::fabs(liters) < 1.0) return significant(liters * 1e3) + " mL";
  if (std::fabs(liters) < 1000.0) return significant(liters) + " L";
  return significant(liters / 1000.0) + " m\u00b3";
}

namespace {
std::string rfc3339(std::chrono::system_clock::time_point t, bool utc) {
  using namespace std::chrono;
  auto since = t.time_since_epoch();
  auto secs = duration_cast<seconds>(since);
  auto ms = duration_cast<milliseconds>(since - secs).count();
  if (ms < 0) {
    ms += 1000;
    secs -= seconds(1);
  }
  std::time_t tt = secs.count();
  std::tm tm{};
  if (utc) gmtime_r(&tt, &tm);
  else localtime_r(&tt, &tm);
  char date[40];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  long off = utc ? 0 : tm.tm_gmtoff;
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  char buf[128];  // room for any date strftime can write and two longs
  std::snprintf(buf, sizeof buf, "%s.%03lld%c%02ld:%02ld", date, static_cast<long long>(ms), sign, off / 3600,
                (off % 3600) / 60);
  return buf;
}
}  // namespace

std::string format_rfc3339(std::chrono::system_clock::time_point t) { return rfc3339(t, false); }

std::string format_local_clock(std::chrono::system_clock::time_point t, std::chrono::system_clock::time_point now) {
  auto local = [](std::chrono::system_clock::time_point at) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(at);
    std::tm tm{};
    localtime_r(&tt, &tm);
    return tm;
  };
  const std::tm when = local(t), today = local(now);
  const bool same_day = when.tm_year == today.tm_year && when.tm_yday == today.tm_yday;
  char buf[32];
  std::strftime(buf, sizeof buf, same_day ? "%H:%M" : "%Y-%m-%d %H:%M", &when);
  return buf;
}

std::string format_done(double fraction) { return significant(100 * std::clamp(fraction, 0.0, 1.0), 2) + "%"; }

}  // namespace greenrun
