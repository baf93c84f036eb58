#pragma once
// Turns per-interval energy deltas into totals: the machine's energy per
// channel, and the command's share of it. Pure arithmetic, no I/O: the
// sampler feeds it, tests drive it directly.

#include <chrono>
#include <functional>
#include <optional>
#include <vector>

#include "sensors/energy_source.h"

namespace greenrun {

struct Interval {
  double dt_s = 0;
  double tree_cpu_s = 0;      // CPU seconds of the command's tree in the interval
  double machine_busy_s = 0;  // CPU seconds of the whole machine in the interval
  std::vector<std::optional<double>> energy_j;  // machine energy per channel; nullopt: no reading
  std::vector<std::optional<double>> share;     // a source's own share for the tree, per channel
  std::chrono::system_clock::time_point end;    // wall-clock end of the interval
  /// The sampler read CPU times at the end of this interval: the window of
  /// intervals since the previous such read is attributed now.
  bool close_window = true;
};

struct ChannelTotals {
  double machine_j = 0;
  double tree_j = 0;
  double machine_g = 0;  // emissions, when an intensity function is set
  double tree_g = 0;
  uint64_t intervals = 0;  // intervals with a reading
  uint64_t missing = 0;    // intervals without one
};

/// The command's share of the machine's CPU time, clamped to [0, 1]. When the
/// machine counter did not move but the tree's did (tick granularity), the
/// tree had the machine to itself.
double cpu_share(double tree_cpu_s, double machine_busy_s);

class Accounting {
 public:
  /// gCO2e/kWh averaged over [from, to): the grid intensity for emissions.
  using IntensityFn =
      std::function<double(std::chrono::system_clock::time_point from, std::chrono::system_clock::time_point to)>;

  /// CPU-time shares are computed per window: the intervals between two reads
  /// of CPU times (Interval::close_window). The sampler reads them at least
  /// 100 ms apart, because /proc's 10 ms tick granularity would make shares
  /// over shorter spans jump between 0 and 1.
  explicit Accounting(std::vector<Channel> channels, IntensityFn intensity = nullptr);

  void add(const Interval& iv);
  /// Attributes a window still open (call once, at the end).
  void flush();

  const std::vector<Channel>& channels() const { return channels_; }
  const std::vector<ChannelTotals>& totals() const { return totals_; }
  double peak_machine_w() const { return peak_machine_w_; }
  double peak_tree_w() const { return peak_tree_w_; }
  double duration_s() const { return duration_s_; }

 private:
  void close_window();

  std::vector<Channel> channels_;
  std::vector<ChannelTotals> totals_;
  IntensityFn intensity_;
  // The open window.
  double win_dt_ = 0, win_tree_cpu_ = 0, win_machine_cpu_ = 0;
  std::vector<double> win_machine_j_;      // per channel, shared by CPU time at close
  std::vector<double> win_direct_tree_j_;  // per channel, already attributed by its source
  std::vector<double> win_direct_machine_j_;
  std::chrono::system_clock::time_point win_start_{}, win_end_{};
  bool win_open_ = false;
  double peak_machine_w_ = 0, peak_tree_w_ = 0, duration_s_ = 0;
  // The last window counted for the peaks (pooled with any short one after it).
  double last_dt_ = 0, last_machine_j_ = 0, last_tree_j_ = 0;
};

}  // namespace greenrun
