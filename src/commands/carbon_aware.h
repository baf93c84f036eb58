#pragma once
// The carbon-aware parts of `greenrun -- COMMAND`: the provider's feed
// (--intensity-source), the plan and the wait (--start-within), the pauses
// (--pause-above). run.cc calls it at fixed points: before the command
// starts, right after, at poll deadlines on the main thread, when a signal is
// forwarded, after the command exits, and when a report is assembled.

#include <chrono>
#include <memory>
#include <optional>

#include "carbon/carbon.h"
#include "carbon/live.h"
#include "carbon/pause.h"
#include "commands/options.h"
#include "process/watchdog.h"
#include "report/report.h"

namespace greenrun {

class CarbonAware {
 public:
  using steady = std::chrono::steady_clock;
  using wall = std::chrono::system_clock;

  /// Whether the options ask for live data, a planned start or pauses.
  static bool wanted(const Options& o);
  /// The provider, resolved before the command starts: an unknown provider,
  /// a missing location or forecast is an error (125); missing credentials are not.
  static Result<std::unique_ptr<CarbonAware>> make(const Options& o, CarbonSettings& carbon, const EnvLookup& env);

  /// With --pause-above, the watchdog: before any thread starts and before
  /// greenrun becomes a subreaper.
  void start_watchdog();
  /// Before the command: --start-within plans, prints and waits;
  /// --require-live-intensity fetches or fails; otherwise only the cache is
  /// read. Returns greenrun's exit status when the command must not start
  /// (125, or 128+N for a signal during the wait).
  std::optional<int> before_start();
  /// Right after the spawn: a fetch the cache could not serve starts now, on its own thread.
  void started(pid_t pgid);
  steady::time_point first_poll() const;
  /// At a poll deadline: takes new data, pauses or resumes; returns the next deadline.
  steady::time_point poll();
  /// A signal was forwarded to the command: a paused command must run to receive it.
  void forwarded(int sig);
  /// After the command exited: resume what is paused, wait for the fetch,
  /// and fetch the history of the hours the run took.
  void finished(wall::time_point origin, wall::time_point ended);
  /// The schedule and pauses for the report.
  void fill(RunReport& r) const;

 private:
  CarbonAware(const Options& o, CarbonSettings& carbon, std::unique_ptr<IntensityFeed> feed)
      : o_(o), carbon_(carbon), feed_(std::move(feed)) {}
  /// The carbon settings' profile from what the feed holds.
  void reprice();
  bool network() const;
  IntensityFeed::Want want() const;
  std::optional<int> plan_and_wait();

  const Options& o_;
  CarbonSettings& carbon_;
  std::unique_ptr<IntensityFeed> feed_;
  std::unique_ptr<Watchdog> watchdog_;
  std::unique_ptr<Pauser> pauser_;
  std::optional<ScheduleReport> schedule_;
  bool pausing_ = true;  // false once a signal for the command arrived
};

/// Waits until `start` (steady clock), counting down on a terminal (stderr)
/// or with a line every 10 minutes otherwise. Returns 0, or the signal that
/// ended the wait (any whose default action ends a process: see
/// wait_for_signal; the run's SignalBlock must be held).
int wait_until(std::chrono::steady_clock::time_point start, std::chrono::system_clock::time_point planned, bool quiet);

}  // namespace greenrun
