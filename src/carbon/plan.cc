#include "carbon/plan.h"

#include <algorithm>
#include <cmath>
#include <ctime>

namespace greenrun {

namespace {

using clock = std::chrono::system_clock;

double seconds_between(clock::time_point a, clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

clock::time_point plus(clock::time_point t, double s) {
  return t + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(s));
}

/// The line through the points at `t` (within their span).
double interpolate(const std::vector<ForecastPoint>& p, clock::time_point t) {
  auto it = std::upper_bound(p.begin(), p.end(), t, [](clock::time_point v, const ForecastPoint& q) { return v < q.at; });
  if (it == p.begin()) return p.front().g_per_kwh;
  if (it == p.end()) return p.back().g_per_kwh;
  const ForecastPoint& a = *(it - 1);
  const ForecastPoint& b = *it;
  const double f = seconds_between(a.at, t) / seconds_between(a.at, b.at);
  return a.g_per_kwh + f * (b.g_per_kwh - a.g_per_kwh);
}

std::string local(clock::time_point t, const char* format) {
  const std::time_t tt = clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

/// Between two neighbouring candidates no window edge crosses a point, so
/// the mean's slope, the curve at the window's end minus at its start, is
/// linear there: where it turns from falling to rising lies a minimum that
/// no grid of steps would hit exactly (a V-shaped dip is best centred).
void add_interior_minima(const std::vector<ForecastPoint>& p, clock::duration job, std::vector<clock::time_point>& starts) {
  const size_t n = starts.size();
  for (size_t i = 0; i + 1 < n; ++i) {
    const clock::time_point a = starts[i], b = starts[i + 1];
    const double ha = interpolate(p, a + job) - interpolate(p, a), hb = interpolate(p, b + job) - interpolate(p, b);
    if (ha < 0 && hb > 0) {
      // To the second: forecasts are, and a start line (at, sbatch) is.
      const clock::time_point root = plus(a, seconds_between(a, b) * -ha / (hb - ha));
      const auto whole = std::chrono::round<std::chrono::seconds>(root.time_since_epoch());
      starts.push_back(std::clamp(clock::time_point(whole), a, b));
    }
  }
  std::sort(starts.begin(), starts.end());
}

}  // namespace

std::optional<double> window_mean(const std::vector<ForecastPoint>& points, clock::time_point from, clock::time_point to) {
  if (points.empty()) return std::nullopt;
  const clock::time_point lo = std::max(from, points.front().at), hi = std::min(to, points.back().at);
  if (lo > hi) return std::nullopt;
  if (lo == hi) return interpolate(points, lo);
  double area = 0;
  auto it = std::upper_bound(points.begin(), points.end(), lo, [](clock::time_point v, const ForecastPoint& q) { return v < q.at; });
  for (size_t i = static_cast<size_t>(it - points.begin()) - 1; i + 1 < points.size() && points[i].at < hi; ++i) {
    const clock::time_point s = std::max(points[i].at, lo), e = std::min(points[i + 1].at, hi);
    if (e > s) area += seconds_between(s, e) * (interpolate(points, s) + interpolate(points, e)) / 2;
  }
  return area / seconds_between(lo, hi);
}

Result<Plan> plan_start(const std::vector<ForecastPoint>& points, const PlanRequest& req) {
  using R = Result<Plan>;
  if (points.size() < 2) return R::fail("the forecast has fewer than two points: nothing to compare");
  if (points.back().at <= req.now) return R::fail("the forecast ends before now: no future data");
  const double job_s = std::chrono::duration<double>(req.duration).count();
  const auto job = std::chrono::duration_cast<clock::duration>(req.duration);
  Plan plan;
  plan.start = req.now;
  plan.now_g_per_kwh = window_mean(points, req.now, req.now + job).value_or(0);
  plan.best_g_per_kwh = plan.now_g_per_kwh;
  const clock::time_point lo = std::max(req.now, points.front().at);
  const clock::time_point hi = std::min(req.now + std::chrono::duration_cast<clock::duration>(req.within), points.back().at - job);
  if (hi < lo) {
    plan.beyond_horizon = true;
    return plan;
  }
  const double step_s = std::clamp(job_s / 12, 1.0, 300.0);
  std::vector<clock::time_point> starts;
  for (double k = 0;; ++k) {
    const clock::time_point t = plus(lo, k * step_s);
    if (t > hi) break;
    starts.push_back(t);
  }
  starts.push_back(hi);
  for (const auto& p : points)
    for (const clock::time_point t : {p.at, p.at - job})
      if (t >= lo && t <= hi) starts.push_back(t);
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  add_interior_minima(points, job, starts);
  bool first = true;
  for (const clock::time_point s : starts) {
    const double mean = *window_mean(points, s, s + job);
    // Ties (within rounding) keep the earlier start.
    if (first || mean < plan.best_g_per_kwh - 1e-9 * std::max(1.0, std::fabs(plan.best_g_per_kwh))) {
      plan.start = s;
      plan.best_g_per_kwh = mean;
      first = false;
    }
  }
  return plan;
}

std::vector<ForecastPoint> forecast_points(const std::vector<IntensityProfile::Step>& steps) {
  std::vector<ForecastPoint> out;
  out.reserve(steps.size());
  for (const auto& s : steps) out.push_back({s.from, s.g_per_kwh});
  return out;
}

std::string sbatch_line(clock::time_point t) { return "sbatch --begin=" + local(t, "%Y-%m-%dT%H:%M:%S"); }

std::string at_line(clock::time_point t) { return "at -t " + local(t, "%Y%m%d%H%M.%S"); }

std::string cron_line(clock::time_point t) {
  const std::time_t tt = clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  return std::to_string(tm.tm_min) + " " + std::to_string(tm.tm_hour) + " " + std::to_string(tm.tm_mday) + " " +
         std::to_string(tm.tm_mon + 1) + " *";
}

}  // namespace greenrun
