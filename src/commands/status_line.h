#pragma once
// What greenrun shows while the command runs: --live, one status line kept on
// the terminal's last row, and --progress, a plain line every interval for
// logs. Both are drawn on greenrun's main thread from figures the sampler
// keeps cheaply (Sampler::energy_so_far); nothing here runs on the sampler.

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>

#include "commands/options.h"

namespace greenrun {

/// The run's total as projected now (sampling/projection.h), priced.
struct ProjectedTotal {
  double fraction = 0, energy_j = 0;
  std::optional<double> emissions_g;
  std::chrono::system_clock::time_point ends_at{};
  std::string method;  // progress, expected-duration
};

/// The figures of one status line.
struct Progress {
  double elapsed_s = 0;
  std::optional<double> power_w;  // over the last few seconds; nullopt before two readings
  double energy_j = 0;
  std::optional<double> emissions_g;
  std::string kind;  // measured, estimated, partly estimated
  std::optional<ProjectedTotal> projected;
  std::chrono::system_clock::time_point now{};  // for the end's date
};

/// "1 min 05 s  34.9 W now  2.26 kJ  0.105 g CO2e  estimated", then with a
/// projection "; 25% done, projected 9.04 kJ, 0.420 g CO2e, ends ~14:20".
std::string progress_text(const Progress& p);

/// Power over a sliding window of energy readings: the sampler's energy moves
/// in steps of one window, so one second's difference would jump.
class PowerMeter {
 public:
  explicit PowerMeter(double span_s = 5) : span_s_(span_s) {}
  /// Adds a reading (seconds since the start, joules so far) and returns the
  /// power over the readings kept.
  std::optional<double> add(double t_s, double energy_j);

 private:
  double span_s_;
  std::deque<std::pair<double, double>> readings_;
};

/// The --live line: the terminal's last row is taken out of the scroll region,
/// so the command's output scrolls above it and is never overwritten; the line
/// is redrawn there in place (cursor saved and restored around each redraw)
/// and the row given back, cleared, before the summary.
///
/// It never blocks greenrun's main thread (which forwards signals): it writes
/// through a descriptor of its own for the terminal, opened O_NONBLOCK (the
/// command's standard error keeps its flags). A terminal that takes nothing
/// (stopped with Ctrl-S, a reader that stopped reading) costs frames: what a
/// frame could not write is finished before the next one is drawn, and the
/// frames in between are dropped.
class LiveLine {
 public:
  /// Why --live cannot work on `fd` here, or "" when it can: not a terminal,
  /// TERM unset or dumb, a terminal too small, one that cannot be opened again
  /// without blocking.
  static std::string unusable(int fd, const EnvLookup& env);
  /// Takes the last row of the terminal on `fd` (check unusable() first).
  LiveLine(int fd, const EnvLookup& env);
  ~LiveLine() { close(); }
  LiveLine(const LiveLine&) = delete;
  LiveLine& operator=(const LiveLine&) = delete;

  void draw(const std::string& text);
  /// Clears the line and restores the whole screen as the scroll region,
  /// waiting at most kCloseWaitMs for a terminal that takes nothing. Idempotent.
  void close();
  /// Frames dropped because the terminal took nothing.
  uint64_t dropped() const { return dropped_; }

  static constexpr int kCloseWaitMs = 1000;

 private:
  void reserve_last_row();
  void give_back_row();
  /// Queues `s` and writes what the terminal takes now; false when the
  /// terminal is gone (the line is closed then).
  bool send(const std::string& s);
  bool flush();

  int fd_;        // the terminal as the command shares it: window size only
  int out_ = -1;  // the same terminal, opened non-blocking for greenrun alone
  bool color_;
  bool open_ = false;
  int rows_ = 0, cols_ = 0;
  std::string pending_;  // a frame's bytes the terminal has not taken yet
  uint64_t dropped_ = 0;
};

}  // namespace greenrun
