#pragma once
// Turns per-interval energy deltas into windows: the machine's energy per
// channel, and the command's share of it, appended to the run's timeline.
// Pure arithmetic, no I/O and nothing about carbon: the sampler feeds it,
// tests drive it directly.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sampling/projection.h"
#include "sampling/timeline.h"
#include "sensors/energy_source.h"

namespace greenrun {

struct Interval {
  double end_s = 0;           // offset of the interval's end from the start of sampling
  double dt_s = 0;
  double tree_cpu_s = 0;      // CPU seconds of the command's tree in the interval
  double machine_busy_s = 0;  // CPU seconds of the whole machine in the interval
  double machine_capacity_s = 0;  // CPU seconds it had (busy + idle); 0 when unknown
  uint64_t tree_rss_bytes = 0;  // the tree's resident memory at the end
  /// Per channel (the standby channels after the others): machine energy;
  /// nullopt: no reading.
  std::vector<std::optional<double>> energy_j;
  std::vector<std::optional<double>> share;     // a source's own share for the tree, per channel
  std::vector<std::optional<double>> utilisation_percent;  // what the source read, per channel (GPUs)
  /// The sampler read CPU times at the end of this interval: the window of
  /// intervals since the previous such read is attributed now (once it is
  /// as long as Accounting::set_min_window_s asks).
  bool close_window = true;
};

struct ChannelTotals {
  double machine_j = 0;
  double tree_j = 0;
  uint64_t intervals = 0;  // intervals with a reading
  uint64_t missing = 0;    // intervals without one
  /// Utilisation the source read (0..100), times the seconds it covers.
  double utilisation_pct_s = 0, utilisation_s = 0;
};

/// The command's share of the machine's CPU time, clamped to [0, 1].
/// /proc/stat counts the machine's CPU in clock ticks, one per CPU at a time
/// (`resolution_s`), while the tree's CPU time of a reaped process is exact:
/// where the machine's busy time is below that resolution its share cannot be
/// measured, and the tree's CPU time is compared with the window's capacity
/// instead. (Otherwise `sleep` would get the whole idle machine's energy of a
/// last window in which it used one millisecond.) Without a capacity, a tree
/// that used CPU when the machine counter did not move had the machine to itself.
double cpu_share(double tree_cpu_s, double machine_busy_s, double machine_capacity_s = 0, double resolution_s = 0);

/// Whether a standby channel of kind `standby` (the estimate's CPU or memory)
/// stands in for a frozen counter of kind `frozen` (psys: for both).
bool stands_in(ComponentKind standby, ComponentKind frozen);

/// The report's components in order of first appearance, and each channel's component.
std::vector<TimelineComponent> timeline_components(const std::vector<Channel>& channels,
                                                   std::vector<size_t>* channel_component = nullptr);

/// A span of the run between two marks, and the energy attributed in it.
struct Phase {
  std::string name;
  double start_s = 0, end_s = 0;  // offsets; end_s grows until the next mark
  double tree_j = 0, machine_j = 0;
  /// What the command counted in it, per unit of Accounting::units() (0 past the end).
  std::vector<double> counts;
};

/// What the command counted (greenrun count), in one unit, over the run.
struct UnitCount {
  std::string unit;
  double count = 0;
};

class Accounting {
 public:
  /// CPU-time shares are computed per window: the intervals between two reads
  /// of CPU times (Interval::close_window). The sampler reads them at least
  /// 100 ms apart, because /proc's 10 ms tick granularity would make shares
  /// over shorter spans jump between 0 and 1. `timeline_capacity` 0: the default.
  /// `cpu_resolution_s`: one clock tick per CPU (see cpu_share).
  /// `standby`: channels counted only from the moment a counter they stand
  /// in for freezes (see freeze()); their intervals come after the others'.
  explicit Accounting(std::vector<Channel> channels, size_t timeline_capacity = 0, double cpu_resolution_s = 0,
                      std::vector<Channel> standby = {});

  void add(const Interval& iv);
  /// Attributes a window still open (call once, at the end). One shorter
  /// than the minimum window joins the last record.
  void flush();
  /// Windows close only once they are this long (counters that move in
  /// steps: see CounterWatch::min_record_s); 0: at every close_window.
  void set_min_window_s(double s) { min_window_s_ = s; }
  double min_window_s() const { return min_window_s_; }
  /// Channel `c`'s counter stopped moving at offset `since_s` (it never
  /// moved at all if `ever_moved` is false: then it leaves the report). From
  /// then on the standby channels that stand in for it count, for its share
  /// of its kind (one of two packages: half the CPU estimate), the records
  /// since `since_s` included. Returns those standby channels.
  std::vector<size_t> freeze(size_t c, double since_s, bool ever_moved);
  /// The channels the report shows and their totals: a counter that never
  /// moved and standby channels never called upon are left out.
  void published(std::vector<Channel>& channels, std::vector<ChannelTotals>& totals) const;
  /// A mark at `at_s` (an offset, non-decreasing) starts phase `name`. A
  /// window a mark falls in is split between the phases by time.
  void mark(double at_s, std::string name);
  /// The phases so far: empty until the first mark.
  const std::vector<Phase>& phases() const { return phases_; }
  /// Whether this run counts the machine-level energy (the machine figures of
  /// channels not bound to it): under Slurm one rank per node does, so that
  /// the ranks' machine figures add up to the node's once. From the next window on.
  void set_counts_node(bool counts) { counts_node_ = counts; }
  /// Seconds of the run during which it counted them.
  double node_counted_s() const { return node_counted_s_; }
  /// At most this many phases are kept; later marks join the last (noted).
  static constexpr size_t kMaxPhases = 100000;
  uint64_t marks_dropped() const { return marks_dropped_; }
  /// `n` more `unit`s done: counted in the run and in the phase the marks so
  /// far put it in (the last mark's, read or not yet reached by a window).
  /// Never dropped: past kMaxUnits units, a new one is counted as "other".
  void count(const std::string& unit, double n);
  const std::vector<UnitCount>& units() const { return units_; }
  static constexpr size_t kMaxUnits = 8;
  uint64_t units_merged() const { return units_merged_; }
  /// The energy used by the end of each window, thinned (append_bounded).
  const std::vector<EnergyPoint>& energy_curve() const { return curve_; }

  /// Every channel, the standby ones last.
  const std::vector<Channel>& channels() const { return channels_; }
  const std::vector<ChannelTotals>& totals() const { return totals_; }
  const Timeline& timeline() const { return timeline_; }
  double peak_machine_w() const { return peak_machine_w_; }
  double peak_tree_w() const { return peak_tree_w_; }
  double duration_s() const { return duration_s_; }

 private:
  void close_window(bool join_last);
  /// Shares the open window's energy by CPU time into window_, shadow_window_
  /// and the totals; returns the window's machine and tree joules.
  std::pair<double, double> attribute_window(double share);
  void record_window(bool join_last);
  void update_peaks(double machine_j, double tree_j);
  /// The timeline's components from the published channels (kept energy, new ones at 0 J).
  void relayout();
  /// Adds `fraction` of standby channel `c`'s energy in the records since `since_s`.
  void backfill(size_t c, double fraction, double since_s);
  void credit_phases(double start_s, double end_s, double tree_j, double machine_j);
  bool standby(size_t c) const { return c >= active_; }
  /// The published channels in report order: a standby channel where the
  /// first counter it stands in for is.
  std::vector<size_t> published_order() const;

  std::vector<Channel> channels_;
  size_t active_ = 0;                 // channels before the standby ones
  std::vector<size_t> component_of_;  // per channel, its timeline component (npos: not published)
  std::vector<bool> published_;       // in the report and the timeline
  std::vector<double> fraction_;      // the part of a standby channel's energy that counts
  std::vector<bool> frozen_;
  std::vector<size_t> stands_for_;  // per standby channel, the first frozen channel it stands in for
  // The standby channels' windows in full, laid out as the timeline (same
  // capacity, same appends, so record i of one is record i of the other).
  Timeline shadow_;
  Window shadow_window_;
  std::vector<size_t> shadow_of_;  // per standby channel, its shadow component
  double min_window_s_ = 0;
  std::vector<ChannelTotals> totals_;
  Timeline timeline_;
  // The open window.
  double win_dt_ = 0, win_tree_cpu_ = 0, win_machine_cpu_ = 0, win_capacity_ = 0;
  double cpu_resolution_s_ = 0;
  std::vector<double> win_machine_j_;      // per channel, shared by CPU time at close
  std::vector<double> win_direct_tree_j_;  // per channel, already attributed by its source
  std::vector<double> win_direct_machine_j_;
  uint64_t win_missing_ = 0;  // per component bit
  Window window_;             // reused: no allocation per window
  double win_start_s_ = 0;
  bool win_open_ = false;
  double peak_machine_w_ = 0, peak_tree_w_ = 0, duration_s_ = 0;
  void split_into_phases(double start_s, double end_s, double tree_j, double machine_j);
  std::vector<Phase> phases_;
  // The windows closed before the first mark arrived: the first phase, once
  // there is one (a mark can arrive windows after the command wrote it).
  Phase unmarked_{"(before the first mark)", 0, 0, 0, 0, {}};
  std::vector<Phase> pending_marks_;  // not yet reached by a closed window: start_s is the mark's time
  uint64_t marks_dropped_ = 0;
  std::vector<UnitCount> units_;
  uint64_t units_merged_ = 0;
  std::vector<EnergyPoint> curve_{EnergyPoint{}};
  double curve_tree_j_ = 0, curve_machine_j_ = 0;
  bool counts_node_ = true;
  double node_counted_s_ = 0;
  // The last window counted for the peaks (pooled with any short one after it).
  double last_dt_ = 0, last_machine_j_ = 0, last_tree_j_ = 0;
};

}  // namespace greenrun
