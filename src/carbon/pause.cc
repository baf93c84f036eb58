#include "carbon/pause.h"

#include <csignal>

namespace greenrun {

void Pauser::attach(pid_t pgid) {
  pgid_ = pgid;
  watchdog_.watch(pgid);
}

std::chrono::nanoseconds Pauser::used(steady::time_point now) const {
  return used_ + (paused_ ? std::chrono::duration_cast<std::chrono::nanoseconds>(now - since_) : std::chrono::nanoseconds(0));
}

Pauser::steady::time_point Pauser::check(std::optional<double> g_per_kwh, steady::time_point now,
                                         std::chrono::system_clock::time_point wall) {
  if (pgid_ <= 0) return steady::time_point::max();
  const bool spent = used(now) >= budget_;
  if (paused_ && (spent || !g_per_kwh || *g_per_kwh <= threshold_))
    resume(spent ? "the delay budget (--max-delay) was spent" : !g_per_kwh ? "no live figure" : "below the threshold", now, wall);
  else if (paused_ && signal_ == SIGSTOP)
    ::kill(-pgid_, SIGSTOP);  // still dirty: stopped again if Ctrl-Z and fg continued it meanwhile
  else if (!paused_ && !spent && g_per_kwh && *g_per_kwh > threshold_) {
    // The watchdog first: from the moment the group stops, greenrun's death must continue it.
    watchdog_.paused();
    ::kill(-pgid_, signal_);
    paused_ = true;
    since_ = now;
    spans_.push_back({wall, wall, *g_per_kwh, ""});
  }
  return paused_ ? now + (budget_ - used(now)) : steady::time_point::max();
}

void Pauser::resume(const std::string& because, steady::time_point now, std::chrono::system_clock::time_point wall) {
  if (!paused_) return;
  ::kill(-pgid_, SIGCONT);
  watchdog_.resumed();
  paused_ = false;
  used_ += std::chrono::duration_cast<std::chrono::nanoseconds>(now - since_);
  spans_.back().to = wall;
  spans_.back().resumed_because = because;
}

}  // namespace greenrun
