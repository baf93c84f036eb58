#pragma once
// Parsing and human formatting of quantities. Units live in names elsewhere
// (energy_j, duration_s); these helpers are the only place that picks a unit
// for display.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace greenrun {

/// "250ms", "2s", "1.5m", "1h", "500us", or a bare number of seconds.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);
/// A number and a known unit, whatever its size: tells "too large" from "not a duration".
bool is_duration_syntax(std::string_view text);

/// "50kJ", "1.5 kWh", "200 J", "3Wh": joules (J, kJ, MJ, Wh, kWh).
std::optional<double> parse_energy_j(std::string_view text);
/// "20g", "500 mg", "1.2kg", "3t": grams (mg, g, kg, t).
std::optional<double> parse_mass_g(std::string_view text);
/// "10%", "10": percent.
std::optional<double> parse_percent(std::string_view text);

/// A number with `digits` significant digits and no exponent ("0.0123", "412", "41200").
std::string significant(double value, int digits = 3);

std::string format_energy(double joules);      // "412 J", "1.23 Wh", "4.56 kWh"
std::string format_power(double watts);        // "850 mW", "34.9 W", "1.20 kW"
std::string format_seconds(double seconds);    // "0.210 s", "2 min 05 s", "1 h 02 min"
std::string format_bytes(double bytes);        // "512 B", "1.23 MiB"
std::string format_mass_g(double grams);       // "412 µg", "41.2 mg", "12.3 g", "1.23 kg", "4.56 t"
std::string format_volume_l(double liters);    // "412 µL", "41.2 mL", "1.23 L", "4.56 m³"

/// RFC 3339 with the local UTC offset and milliseconds: 2026-11-29T14:03:07.123+01:00.
std::string format_rfc3339(std::chrono::system_clock::time_point t);
/// Local wall-clock time to the minute: "14:20" on the day of `now`, else "2026-12-01 14:20".
std::string format_local_clock(std::chrono::system_clock::time_point t, std::chrono::system_clock::time_point now);
/// A fraction done as a percentage: "25%", "2.5%", "0.52%".
std::string format_done(double fraction);

}  // namespace greenrun
