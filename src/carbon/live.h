#pragma once
// A run's live intensity: what the provider answered (latest, forecast,
// history), merged into one IntensityProfile with the yearly figure wherever
// no answer covers the time. Requests run on a fetch thread of their own or,
// when a plan needs them before the command starts, on the caller's; never
// on the sampler's. The first failure ends the requests of the run: one note,
// the yearly figure, no further delay.

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "carbon/provider.h"

namespace greenrun {

/// Provider steps, merged: a live (or estimated) figure is never replaced by a
/// forecast of the same time.
class LiveSeries {
 public:
  using time_point = std::chrono::system_clock::time_point;
  void merge(const IntensitySeries& s);
  /// The live or forecast figure in force at `t`, if any.
  std::optional<double> at(time_point t) const;
  /// The first time after `t` at which the figure changes (a slot starts or ends).
  std::optional<time_point> next_change(time_point t) const;
  /// Steps over all time: the provider's slots, `yearly` everywhere else.
  IntensityProfile profile(double yearly) const;
  /// The slots as points (their start and figure), for the plan.
  std::vector<IntensityProfile::Step> points() const;

 private:
  struct Slot {
    time_point to;
    double g_per_kwh;
    Basis basis;
  };
  std::map<time_point, Slot> slots_;
};

class IntensityFeed {
 public:
  using time_point = std::chrono::system_clock::time_point;
  explicit IntensityFeed(std::unique_ptr<IntensityProvider> provider);
  ~IntensityFeed();
  IntensityFeed(const IntensityFeed&) = delete;
  IntensityFeed& operator=(const IntensityFeed&) = delete;

  enum class Want { Latest, Forecast };
  /// A fetch on this thread (a plan needs it now); the cache first.
  Status fetch(Want want, time_point now, FetchMode mode = FetchMode::Network);
  /// Starts a fetch on its own thread unless one runs or the feed is down.
  void fetch_async(Want want, time_point now);
  /// Takes a finished background fetch (never waits). True when data arrived.
  bool collect();
  /// Whether a background fetch is under way (not yet collected).
  bool fetching() const { return pending_.valid(); }
  /// Waits for a background fetch until `deadline`, then takes it.
  void settle(std::chrono::steady_clock::time_point deadline);
  /// History over [from, to] on this thread (after the run), ending by
  /// `deadline` (name resolution included); not asked while a background
  /// fetch still runs.
  void fetch_history(time_point from, time_point to, std::chrono::steady_clock::time_point deadline);

  const LiveSeries& series() const { return series_; }
  bool covers(time_point t) const { return series_.at(t).has_value(); }
  /// The provider, how it answered, and why not (for the report).
  LiveSource source() const;

 private:
  Result<IntensitySeries> request(Want want, time_point now, FetchMode mode);
  void take(const Result<IntensitySeries>& r, FetchMode mode);

  std::unique_ptr<IntensityProvider> provider_;
  LiveSeries series_;
  std::future<Result<IntensitySeries>> pending_;
  bool down_ = false;
  bool answered_ = false;
  std::string problem_;
  static constexpr size_t kMaxNotes = 10;
  std::vector<std::string> notes_;  // what the answers said of themselves, once each
};

}  // namespace greenrun
