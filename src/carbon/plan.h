#pragma once
// The cleanest start for a job: the forecast integrated over a job-long
// window (trapezoid between points, interpolated at the window's ends), slid
// over the horizon, the lowest mean taken (ties: the earliest), as cats does
// with the UK forecast and the Green Software Foundation's carbon-aware SDK
// with its "optimal data points".

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "carbon/intensity.h"
#include "util/result.h"

namespace greenrun {

struct ForecastPoint {
  std::chrono::system_clock::time_point at;
  double g_per_kwh;
};

/// Mean of the line through `points` over [from, to] (trapezoid rule,
/// interpolated at both ends), over the part the points cover; nullopt when
/// they cover none of it.
std::optional<double> window_mean(const std::vector<ForecastPoint>& points, std::chrono::system_clock::time_point from,
                                  std::chrono::system_clock::time_point to);

struct PlanRequest {
  std::chrono::system_clock::time_point now;
  std::chrono::nanoseconds duration;  // the job's
  std::chrono::nanoseconds within;    // latest start: now + within
};

struct Plan {
  std::chrono::system_clock::time_point start;  // the best start
  double now_g_per_kwh = 0;                     // mean over [now, now + duration]
  double best_g_per_kwh = 0;                    // mean over [start, start + duration]
  /// The forecast ends before a job started now would: the means cover only
  /// the forecast part, and the job starts now.
  bool beyond_horizon = false;
  double saving_percent() const { return now_g_per_kwh > 0 ? 100.0 * (now_g_per_kwh - best_g_per_kwh) / now_g_per_kwh : 0; }
};

/// Candidate starts: every `step` from now (5 minutes, finer for short jobs:
/// a twelfth of the job, at least 1 s), every forecast point and every point
/// minus the duration (where a window's edge meets a change), and the exact
/// minima between them, up to min(now + within, the last point - duration).
/// Errors: fewer than two points, or none after now.
Result<Plan> plan_start(const std::vector<ForecastPoint>& points, const PlanRequest& req);

/// Points from provider or file steps (each step's start and figure).
std::vector<ForecastPoint> forecast_points(const std::vector<IntensityProfile::Step>& steps);

/// The lines that schedule a start, in local time:
/// "sbatch --begin=2024-05-01T12:30:00", "at -t 202405011230.00", cron "30 12 1 5 *".
std::string sbatch_line(std::chrono::system_clock::time_point t);
std::string at_line(std::chrono::system_clock::time_point t);
std::string cron_line(std::chrono::system_clock::time_point t);

}  // namespace greenrun
