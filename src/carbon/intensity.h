#pragma once
// Grid intensity over time: a constant (a yearly average) or a step function
// read from --intensity-file (hourly data from Electricity Maps, WattTime or a
// national grid, exported offline).

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace greenrun {

/// The end of 2261 in Unix seconds: the last timestamp greenrun takes (its
/// clock counts nanoseconds in 64 bits, which end in April 2262).
inline constexpr uint64_t kLastTimestampS = 9214646399;

/// RFC 3339 ("2024-05-01T13:00:00Z", "...+02:00", fractional seconds allowed)
/// or integer Unix seconds, from 1970 to the end of 2261; a real date and
/// time of day, an offset within +-23:59. The error says what is wrong.
Result<std::chrono::system_clock::time_point> parse_timestamp_checked(std::string_view text);
std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view text);

/// Where a figure came from, kept with every step so that the report can say
/// which windows of a run used live, forecast or yearly data. Estimated: a
/// provider's figure for an hour it estimated rather than measured
/// (Electricity Maps' isEstimated), never called live.
enum class Basis { Yearly, Given, File, Live, Forecast, Estimated };
inline constexpr size_t kBases = 6;
/// "yearly", "given" (--intensity), "file", "live", "forecast", "estimated".
const char* basis_name(Basis b);
/// Seconds of a span per basis, indexed by Basis.
using BasisSeconds = std::array<double, kBases>;

class IntensityProfile {
 public:
  using time_point = std::chrono::system_clock::time_point;
  struct Step {
    time_point from;
    double g_per_kwh;
    Basis basis = Basis::File;
  };

  static IntensityProfile constant(double g_per_kwh, Basis basis = Basis::Yearly);
  /// Each value is in force from its timestamp until the next one; before the
  /// first it is the first value, after the last the last value (steps, not
  /// linear interpolation: hourly grid data are averages over their hour).
  static IntensityProfile steps(std::vector<Step> steps);

  /// Average intensity over [from, to) (the value at `from` when to <= from).
  double average(time_point from, time_point to) const;
  const std::vector<Step>& data() const { return steps_; }
  /// Seconds of [from, to) outside the file's first..last timestamp range.
  double seconds_outside(time_point from, time_point to) const;
  /// Seconds of [from, to) priced by each basis.
  BasisSeconds coverage(time_point from, time_point to) const;
  /// The basis in force at `t`.
  Basis basis_at(time_point t) const;

 private:
  std::vector<Step> steps_;
};

/// The largest --intensity-file greenrun reads: 16 MiB (a year of 5-minute
/// data is about 4 MiB), so that a wrong file cannot cost the start minutes
/// and gigabytes.
inline constexpr uint64_t kMaxIntensityFileBytes = 16u << 20;

/// Reads a CSV with a header naming `timestamp` and `g_per_kwh` columns, or a
/// JSON array of {"timestamp": ..., "g_per_kwh": ...}. Timestamps must
/// increase; every value must lie in 0..2000. An optional `forecast` column
/// (CSV: true/false, 1/0, yes/no; JSON: a boolean) marks forecast values, so
/// that one file can hold what happened and what is expected. Errors name the
/// file and the line or entry.
Result<IntensityProfile> load_intensity_file(const std::string& path);
Result<IntensityProfile> parse_intensity_text(std::string_view text, const std::string& name);

}  // namespace greenrun
