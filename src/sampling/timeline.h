#pragma once
// The run as a sequence of records, one per closed accounting window: when it
// started and ended, per component the machine's energy and the command's
// share, the tree's CPU time and memory. Bounded: at capacity, neighbouring
// records merge pairwise (the resolution halves, the totals stay exact), so a
// month-long run takes as much memory as a minute-long one.

#include <cstdint>
#include <vector>

#include "sensors/energy_source.h"

namespace greenrun {

struct TimelineComponent {
  Component component;
  bool measured = true;  // measured by a counter or power reading; else estimated
  /// The shortest record this component's energy supports (ten of a stepping
  /// counter's updates, else the sampling window), per window; 0: not known.
  double resolution_s = 0;
  /// How often its counter moves, where learned or known (0: at every read, or no counter).
  double update_s = 0;
};

/// One closed window, as the accounting hands it over.
struct Window {
  double start_s = 0, end_s = 0;   // offsets from the timeline's origin
  double tree_cpu_s = 0;           // CPU seconds of the command's tree in the window
  uint64_t rss_bytes = 0;          // the tree's resident memory at the window's end
  std::vector<double> machine_j;   // per component
  std::vector<double> tree_j;      // per component
  uint64_t missing = 0;            // bit c: component c lacked a reading in some interval
};

class Timeline {
 public:
  /// At most 4,096 records, fewer with many components: the records stay under 1 MiB.
  static constexpr size_t kMaxRecords = 4096;
  static constexpr size_t kBudgetBytes = 1 << 20;
  /// At most 64 components: a record's `missing` holds a bit for each.
  static constexpr size_t kMaxComponents = 64;
  /// The records a timeline of `components` components holds by default.
  static size_t capacity_for(size_t components);
  /// `capacity` 0: the default above.
  explicit Timeline(std::vector<TimelineComponent> components = {}, size_t capacity = 0);

  void append(const Window& w);
  /// Adds `w` to the last record instead of starting one (a window too short
  /// to stand alone: the last of a run whose counters move in steps).
  void extend_last(const Window& w);
  /// The components become `components`; `from[i]` is the index component i
  /// had (its energy is kept), or -1 for a new one (0 J in every record).
  /// Components not named in `from` are dropped with their energy.
  void remap(std::vector<TimelineComponent> components, const std::vector<int>& from);
  /// Adds energy to a record already appended (a counter found frozen: the
  /// estimate covers the records since it last moved).
  void add_energy(size_t record, size_t component, double machine_j, double tree_j);
  void set_component_resolution(size_t component, double resolution_s, double update_s);

  /// A record: the sum of `windows` consecutive windows.
  struct Record {
    double start_s, end_s;
    uint32_t windows;
    double tree_cpu_s;
    uint64_t rss_bytes;  // the largest of its windows
    uint64_t missing;
  };
  size_t size() const { return records_.size(); }
  const Record& record(size_t i) const { return records_[i]; }
  double machine_j(size_t record, size_t component) const { return energy_[(record * n_ + component) * 2]; }
  double tree_j(size_t record, size_t component) const { return energy_[(record * n_ + component) * 2 + 1]; }
  /// Energy of a record per the scope: the command's share or the whole machine.
  double energy_j(size_t record, bool machine) const;

  const std::vector<TimelineComponent>& components() const { return components_; }
  /// Windows per record now: 1 until the first merge, then 2, 4, ...
  uint32_t windows_per_record() const { return per_record_; }
  size_t capacity() const { return capacity_; }
  uint64_t windows() const { return windows_; }
  /// Reading a saved report back: appends `r` as it was written (no merging),
  /// with per component the machine's and the command's joules.
  void restore(const Record& r, const std::vector<double>& machine_j, const std::vector<double>& tree_j,
               uint32_t windows_per_record);
  /// Bytes held, for the memory bound's test.
  size_t memory_bytes() const;

 private:
  void merge_pairs();

  std::vector<TimelineComponent> components_;
  size_t n_;
  size_t capacity_;
  uint32_t per_record_ = 1;
  uint64_t windows_ = 0;
  std::vector<Record> records_;
  std::vector<double> energy_;  // per record, per component: machine, tree
};

}  // namespace greenrun
