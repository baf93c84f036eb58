#include "sampling/counter_watch.h"

#include <algorithm>

namespace greenrun {

double CounterWatch::frozen_after_s() const { return std::max(kFrozenAfterS, kStepsPerRecord * update_s()); }

bool CounterWatch::observe(double t_s, double energy_j, double machine_busy_s) {
  if (!primed_) {
    primed_ = true;
    last_energy_j_ = energy_j;
    last_read_s_ = last_move_s_ = t_s;
    return false;
  }
  last_read_s_ = t_s;
  if (frozen_) return false;
  if (moves_ > 0) ++reads_;
  if (energy_j != last_energy_j_) {
    if (moves_ == 0) first_move_s_ = t_s;
    // Reads that saw no change between moves (one in ten or more: a late
    // tick can find a fast counter unchanged): the counter moves more slowly
    // than it is read, and the moves' spacing is its update period.
    if (still_between_) ++still_reads_;
    ++moves_;
    if (moves_ >= 2 && still_reads_ * 10 >= reads_)
      learned_update_s_ = (t_s - first_move_s_) / static_cast<double>(moves_ - 1);
    last_energy_j_ = energy_j;
    last_move_s_ = t_s;
    busy_since_move_s_ = 0;
    still_between_ = false;
    return false;
  }
  still_between_ = moves_ > 0;
  busy_since_move_s_ += machine_busy_s;
  if (unmoved_s() + 1e-9 < frozen_after_s() || busy_since_move_s_ < kBusyCpuS) return false;
  frozen_ = true;
  return true;
}

}  // namespace greenrun
