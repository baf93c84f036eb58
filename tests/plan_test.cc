// The plan algorithm on forecasts with answers worked out by hand: the mean
// of the line through the points over a job-long window, its minimum over
// the starts allowed, ties to the earliest.

#include <catch2/catch.hpp>

#include "carbon/plan.h"

using namespace greenrun;
using namespace std::chrono;

namespace {

const system_clock::time_point t0 = system_clock::time_point(seconds(1714521600));  // 2024-05-01T00:00:00Z

system_clock::time_point at_h(double h) { return t0 + duration_cast<system_clock::duration>(duration<double>(h * 3600)); }

/// Hourly points from t0: values[i] at hour i.
std::vector<ForecastPoint> hourly(const std::vector<double>& values) {
  std::vector<ForecastPoint> p;
  for (size_t i = 0; i < values.size(); ++i) p.push_back({at_h(static_cast<double>(i)), values[i]});
  return p;
}

Plan plan(const std::vector<ForecastPoint>& p, double job_h, double within_h, double now_h = 0) {
  auto r = plan_start(p, {at_h(now_h), duration_cast<nanoseconds>(duration<double>(job_h * 3600)),
                          duration_cast<nanoseconds>(duration<double>(within_h * 3600))});
  REQUIRE(r);
  return *r;
}

double hours_after_t0(system_clock::time_point t) { return duration<double>(t - t0).count() / 3600; }

}  // namespace

TEST_CASE("window mean: trapezoid between points, interpolated at the window's ends", "[plan]") {
  auto p = hourly({100, 300, 300});
  CHECK(*window_mean(p, at_h(0), at_h(1)) == Approx(200));    // (100 + 300) / 2
  // 0.5 h from 200 to 300 (mean 250), then 0.5 h at 300: (125 + 150) / 1 = 275.
  CHECK(*window_mean(p, at_h(0.5), at_h(1.5)) == Approx(275));
  CHECK(*window_mean(p, at_h(1), at_h(2)) == Approx(300));
  CHECK(*window_mean(p, at_h(1.5), at_h(5)) == Approx(300));  // past the last point: the covered part only
  CHECK_FALSE(window_mean(p, at_h(3), at_h(4)));
}

TEST_CASE("flat forecast: start now, no saving", "[plan]") {
  auto r = plan(hourly(std::vector<double>(25, 250)), 2, 24);
  CHECK(r.start == at_h(0));
  CHECK(r.now_g_per_kwh == Approx(250));
  CHECK(r.best_g_per_kwh == Approx(250));
  CHECK(r.saving_percent() == Approx(0).margin(1e-9));
  CHECK_FALSE(r.beyond_horizon);
}

TEST_CASE("a single dip: a one-hour job is best centred on it", "[plan]") {
  // 300 everywhere, 100 at hour 5: the line falls from 300 at 4 h to 100 at
  // 5 h and rises back by 6 h. Centred, [4.5 h, 5.5 h] averages 150 (each
  // half: from 200 to 100, mean 150), the lowest any window reaches.
  std::vector<double> v(13, 300);
  v[5] = 100;
  auto r = plan(hourly(v), 1, 12);
  CHECK(hours_after_t0(r.start) == Approx(4.5).margin(1e-6));
  CHECK(r.best_g_per_kwh == Approx(150));
  CHECK(r.now_g_per_kwh == Approx(300));
  CHECK(r.saving_percent() == Approx(50));
}

TEST_CASE("a dip shorter than the job: every window holding it ties, the earliest wins", "[plan]") {
  // The same dip (a triangle 2 h wide, 200 deep: 200 g/kWh-hours below 300)
  // inside a 3-hour job: any start from 3 h to 4 h holds all of it, mean
  // (900 - 200) / 3 = 233.33; the earliest of those is 3 h.
  std::vector<double> v(13, 300);
  v[5] = 100;
  auto r = plan(hourly(v), 3, 12);
  CHECK(hours_after_t0(r.start) == Approx(3).margin(1e-6));
  CHECK(r.best_g_per_kwh == Approx(700.0 / 3));
}

TEST_CASE("two equal dips: the earlier", "[plan]") {
  std::vector<double> v(13, 300);
  v[3] = 100;
  v[8] = 100;
  auto r = plan(hourly(v), 1, 12);
  CHECK(hours_after_t0(r.start) == Approx(2.5).margin(1e-6));
  CHECK(r.best_g_per_kwh == Approx(150));
}

TEST_CASE("the window bounds the start, and so does the end of the forecast", "[plan]") {
  std::vector<double> v(13, 300);
  v[8] = 100;
  // The dip is at 8 h but the start must come within 3 h: every allowed
  // window is flat at 300 (the line leaves 300 only after 7 h), so they tie
  // and the earliest, now, wins.
  auto bounded = plan(hourly(v), 1, 3);
  CHECK(bounded.best_g_per_kwh == Approx(300));
  CHECK(bounded.start == at_h(0));
  // A window longer than the horizon: 12 h of forecast, a 20 h job: start now,
  // means over the part the forecast covers.
  auto longer = plan(hourly(v), 20, 48);
  CHECK(longer.beyond_horizon);
  CHECK(longer.start == at_h(0));
  CHECK(longer.best_g_per_kwh == longer.now_g_per_kwh);
  // --within longer than the forecast: starts stop where a job still fits.
  auto wide = plan(hourly(v), 1, 100);
  CHECK(hours_after_t0(wide.start) == Approx(7.5).margin(1e-6));
}

TEST_CASE("now between points: the plan starts from now, not from the first point", "[plan]") {
  std::vector<double> v(13, 300);
  v[5] = 100;
  auto r = plan(hourly(v), 1, 12, 0.25);
  CHECK(hours_after_t0(r.start) == Approx(4.5).margin(1e-6));
  CHECK(plan_start(hourly({100}), {at_h(0), hours(1), hours(2)}).error().find("fewer than two") != std::string::npos);
  CHECK(plan_start(hourly({100, 200}), {at_h(3), hours(1), hours(2)}).error().find("ends before now") != std::string::npos);
}

TEST_CASE("schedule lines in local time", "[plan]") {
  // Local time is the test's TZ; compare the fields with localtime_r's.
  const auto t = at_h(14.5) + seconds(7);
  const std::time_t tt = system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "sbatch --begin=%Y-%m-%dT%H:%M:%S", &tm);
  CHECK(sbatch_line(t) == buf);
  std::strftime(buf, sizeof buf, "at -t %Y%m%d%H%M.%S", &tm);
  CHECK(at_line(t) == buf);
  CHECK(cron_line(t) == std::to_string(tm.tm_min) + " " + std::to_string(tm.tm_hour) + " " + std::to_string(tm.tm_mday) +
                            " " + std::to_string(tm.tm_mon + 1) + " *");
}
