#pragma once
// An energy counter's step is believed only if the power it implies is
// possible. A counter that steps back a little (5,001,000,000 ->
// 5,000,999,000 uJ) looks like a wrap of almost the whole range: 72.8 Wh in a
// second, 262 kW from a 2-vCPU VM. Such a step is a glitch: the interval is
// skipped, the report says so, and the rest of the run is kept.

#include <string>
#include <vector>

#include "util/units.h"

namespace greenrun {

class StepCheck {
 public:
  /// `max_w`: the most the domain can draw; steps up to twice that pass.
  explicit StepCheck(double max_w = kDefaultMaxW) : max_w_(max_w) {}

  /// Whether `joules` over `dt_s` is believable (always, without a span).
  bool plausible(double joules, double dt_s) const { return dt_s <= 0 || joules <= 2 * max_w_ * dt_s + 1.0; }

  /// Records a rejected step for the report: the first one, and a count.
  void reject(double joules, double dt_s, double at_s) {
    if (rejected_++ == 0) first_ = format_energy(joules) + " in " + format_seconds(dt_s) + " (" +
                                  format_power(joules / dt_s) + ") after " + format_seconds(at_s);
  }
  void note(const std::string& what, std::vector<std::string>& notes) const {
    if (rejected_ == 0) return;
    notes.push_back(what + ": " + std::to_string(rejected_) + (rejected_ == 1 ? " counter step" : " counter steps") +
                    " beyond any possible power were skipped as glitches (the first: " + first_ + ")");
  }

  /// No CPU package, DRAM or platform domain draws 2 kW.
  static constexpr double kDefaultMaxW = 2000;

 private:
  double max_w_;
  unsigned rejected_ = 0;
  std::string first_;
};

}  // namespace greenrun
