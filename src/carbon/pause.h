#pragma once
// --pause-above: the command's process group is paused while the grid is
// dirtier than a threshold and resumed when it is cleaner again, when the
// delay budget is spent, when a signal must reach the command, or when it
// exits. Decisions happen on greenrun's main thread, at the poll deadlines.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "process/watchdog.h"

namespace greenrun {

struct PauseSpan {
  std::chrono::system_clock::time_point from, to;
  double intensity_g_per_kwh = 0;  // when the pause began
  std::string resumed_because;     // below the threshold, delay budget spent, a signal, the command exited
};

class Pauser {
 public:
  using steady = std::chrono::steady_clock;
  /// `signal`: SIGSTOP, or the user's signal (then SIGCONT resumes as well).
  Pauser(double threshold_g_per_kwh, std::chrono::nanoseconds budget, int signal, Watchdog& watchdog)
      : threshold_(threshold_g_per_kwh), budget_(budget), signal_(signal), watchdog_(watchdog) {}

  void attach(pid_t pgid);
  /// A poll: `g_per_kwh` is the live or forecast figure now (nullopt: none,
  /// and greenrun never pauses on a yearly figure). Returns when the pause
  /// must end at the latest (the budget), or time_point::max().
  steady::time_point check(std::optional<double> g_per_kwh, steady::time_point now,
                           std::chrono::system_clock::time_point wall);
  /// Resumes if paused.
  void resume(const std::string& because, steady::time_point now, std::chrono::system_clock::time_point wall);

  bool paused() const { return paused_; }
  double threshold() const { return threshold_; }
  std::chrono::nanoseconds budget() const { return budget_; }
  int signal() const { return signal_; }
  const std::vector<PauseSpan>& spans() const { return spans_; }

 private:
  std::chrono::nanoseconds used(steady::time_point now) const;

  double threshold_;
  std::chrono::nanoseconds budget_;
  int signal_;
  Watchdog& watchdog_;
  pid_t pgid_ = 0;
  bool paused_ = false;
  steady::time_point since_{};
  std::chrono::nanoseconds used_{0};
  std::vector<PauseSpan> spans_;
};

}  // namespace greenrun
