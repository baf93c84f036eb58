#pragma once
// Energy from power readings, for every source that reads watts (hwmon power,
// NVML power or utilisation, ROCm SMI average power): the trapezoid between
// consecutive good readings.

#include <chrono>
#include <string>
#include <vector>

namespace greenrun {

class PowerIntegrator {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  /// Readings further apart than `max_gap_s` (a device that stopped answering
  /// for a while) are not bridged: that span counts in skipped_s() instead of
  /// being guessed.
  explicit PowerIntegrator(double max_gap_s = kDefaultMaxGapS) : max_gap_s_(max_gap_s) {}

  /// A reading of `watts` at `t`. A failed reading is simply not added: the
  /// next good one bridges the gap if it is short enough.
  void add(time_point t, double watts);
  /// Forgets the last reading: the next one starts a new integration (after
  /// a device reset, or when switching method).
  void restart() { primed_ = false; }

  double energy_j() const { return energy_j_; }
  /// Seconds between readings that were too far apart to integrate.
  double skipped_s() const { return skipped_s_; }
  bool primed() const { return primed_; }

  /// Ten seconds, or five sampling intervals when the sampler is slower.
  static constexpr double kDefaultMaxGapS = 10.0;
  static double max_gap_for_interval(double interval_s) { return interval_s * 5 > kDefaultMaxGapS ? interval_s * 5 : kDefaultMaxGapS; }

 private:
  double max_gap_s_;
  bool primed_ = false;
  double last_w_ = 0;
  time_point last_t_{};
  double energy_j_ = 0;
  double skipped_s_ = 0;
};

/// Adds a report note when `p` left readings unbridged.
void note_gaps(const PowerIntegrator& p, const std::string& component, std::vector<std::string>& notes);

inline void PowerIntegrator::add(time_point t, double watts) {
  if (primed_) {
    const double dt = std::chrono::duration<double>(t - last_t_).count();
    if (dt > max_gap_s_) skipped_s_ += dt;
    else if (dt > 0) energy_j_ += (last_w_ + watts) / 2.0 * dt;
  }
  primed_ = true;
  last_w_ = watts;
  last_t_ = t;
}

}  // namespace greenrun
