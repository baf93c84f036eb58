#include "sampling/accounting.h"

#include <algorithm>

namespace greenrun {

namespace {
constexpr double kMinPeakWindowS = 0.05;
}  // namespace

double cpu_share(double tree_cpu_s, double machine_busy_s) {
  if (tree_cpu_s <= 0) return 0;
  if (machine_busy_s <= 0) return 1;
  return std::min(1.0, tree_cpu_s / machine_busy_s);
}

Accounting::Accounting(std::vector<Channel> channels, IntensityFn intensity)
    : channels_(std::move(channels)),
      totals_(channels_.size()),
      intensity_(std::move(intensity)),
      win_machine_j_(channels_.size()),
      win_direct_tree_j_(channels_.size()),
      win_direct_machine_j_(channels_.size()) {}

void Accounting::add(const Interval& iv) {
  if (!win_open_) {
    win_start_ = iv.end - std::chrono::duration_cast<std::chrono::system_clock::duration>(
                              std::chrono::duration<double>(iv.dt_s));
    win_open_ = true;
  }
  win_end_ = iv.end;
  win_dt_ += iv.dt_s;
  win_tree_cpu_ += iv.tree_cpu_s;
  win_machine_cpu_ += iv.machine_busy_s;
  duration_s_ += iv.dt_s;
  for (size_t c = 0; c < channels_.size(); ++c) {
    auto e = c < iv.energy_j.size() ? iv.energy_j[c] : std::nullopt;
    if (!e) {
      ++totals_[c].missing;
      continue;
    }
    ++totals_[c].intervals;
    auto share = c < iv.share.size() ? iv.share[c] : std::nullopt;
    if (share) {
      win_direct_tree_j_[c] += *e * std::clamp(*share, 0.0, 1.0);
      win_direct_machine_j_[c] += *e;
    } else {
      win_machine_j_[c] += *e;
    }
  }
  if (iv.close_window) close_window();
}

void Accounting::flush() {
  if (win_open_) close_window();
}

void Accounting::close_window() {
  double share = cpu_share(win_tree_cpu_, win_machine_cpu_);
  double intensity = intensity_ ? intensity_(win_start_, win_end_) : 0.0;
  double machine_j = 0, tree_j = 0;
  for (size_t c = 0; c < channels_.size(); ++c) {
    double m = win_machine_j_[c] + win_direct_machine_j_[c];
    double t = win_machine_j_[c] * share + win_direct_tree_j_[c];
    totals_[c].machine_j += m;
    totals_[c].tree_j += t;
    // g = J / 3.6e6 J/kWh x g/kWh
    totals_[c].machine_g += m / 3.6e6 * intensity;
    totals_[c].tree_g += t / 3.6e6 * intensity;
    machine_j += m;
    tree_j += t;
    win_machine_j_[c] = win_direct_tree_j_[c] = win_direct_machine_j_[c] = 0;
  }
  // Peaks over windows of at least 50 ms: a shorter one (the last window of a
  // run can be a millisecond long, and a millisecond says nothing about power)
  // is pooled with the window before it. No energy escapes the peaks that way,
  // so the peak is never below the run's average: /proc/PID/stat counts CPU in
  // 10 ms ticks, and a short command's CPU time often appears only when it is
  // reaped, in that last window.
  if (win_dt_ > 0) {
    double dt = win_dt_, mj = machine_j, tj = tree_j;
    if (win_dt_ < kMinPeakWindowS && last_dt_ > 0) {
      dt += last_dt_;
      mj += last_machine_j_;
      tj += last_tree_j_;
    }
    peak_machine_w_ = std::max(peak_machine_w_, mj / dt);
    peak_tree_w_ = std::max(peak_tree_w_, tj / dt);
    last_dt_ = dt;
    last_machine_j_ = mj;
    last_tree_j_ = tj;
  }
  win_dt_ = win_tree_cpu_ = win_machine_cpu_ = 0;
  win_open_ = false;
}

}  // namespace greenrun
