#pragma once
// The interface every energy source implements: RAPL, NVML, hwmon and the
// estimator alike. A source owns no thread and never sleeps; the sampler calls
// read() once per tick.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace greenrun {

/// What part of the machine a report component is. Components are typed so
/// that two GPUs never share a name by accident: the probe assigns GPU indices
/// (gpu0, gpu1, ...) once every source has been selected.
enum class ComponentKind { Cpu, Dram, Platform, Ram, Gpu };

struct Component {
  ComponentKind kind = ComponentKind::Cpu;
  int index = 0;  // GPUs only; 0 for the others
  /// Report vocabulary: cpu, dram, platform, ram, gpu0, gpu1, ...
  std::string name() const;
  bool operator==(const Component& o) const { return kind == o.kind && index == o.index; }
  bool operator<(const Component& o) const { return kind != o.kind ? kind < o.kind : index < o.index; }
};

/// RAPL's energy counters move about every millisecond (AMD documents 1 ms;
/// Intel's update at about the same rate): far finer than any sampling window.
inline constexpr double kRaplUpdateS = 0.001;

/// One physical quantity a source reports, e.g. package-0 of RAPL or GPU 1.
struct Channel {
  Component component;
  /// What this channel is within its component: "package-0", "psys", "NVIDIA H100 80GB HBM3".
  std::string label;
  /// Where the figure comes from: "RAPL powercap", "NVML energy counter", "estimate".
  std::string source;
  /// Path, device or library read, for the report's detail.
  std::string origin;
  /// What the channel covers or how it is read, for `greenrun sensors` ("CPU package", "total-energy counter").
  std::string note;
  bool measured = true;
  /// For estimates: the method in a phrase, and the range as factors of the figure.
  std::string method;
  double low_factor = 1.0;
  double high_factor = 1.0;

  // What the selection rules (sensors/selection.cc) need to know.
  /// GPUs: the vendor ("nvidia", "amd", "intel"); read through the vendor's library or not.
  std::string vendor;
  bool vendor_library = false;
  /// A Grace Hopper Module sensor: the whole module, its GPU included.
  bool includes_gpu = false;
  /// An APU's GPU sensor: it includes the CPU cores on the same die.
  bool includes_cpu = false;
  /// A GPU given to this command alone (listed in CUDA_VISIBLE_DEVICES): its
  /// machine energy is this run's to report even when another rank of a
  /// Slurm step counts the node's machine-level counters.
  bool bound = false;

  /// A cumulative counter read as it is (RAPL, an hwmon energy file, NVML's or
  /// ROCm's energy counter), not power integrated nor an estimate: the sampler
  /// watches whether it moves and learns how often (sampling/counter_watch.h).
  bool counter = false;
  /// How often such a counter is known to move, where that is known
  /// beforehand (RAPL about every millisecond, NVML about every 100 ms); 0: unknown.
  double update_s = 0;
};

/// What the sampler knows about the interval that ends at this read.
struct SampleContext {
  std::chrono::steady_clock::time_point now;
  double dt_s = 0;               // since the previous read (0 for the baseline)
  /// CPU times are read every tick at intervals of 100 ms or more, and every
  /// ~100 ms at shorter ones. When cpu_valid, the fields below cover the
  /// cpu_dt_s seconds since the previous CPU read; otherwise they are 0.
  bool cpu_valid = false;
  double cpu_dt_s = 0;
  double tree_cpu_s = 0;         // CPU seconds used by the command's tree
  double machine_busy_s = 0;     // CPU seconds used by the whole machine
  double machine_capacity_s = 0; // CPU seconds the machine had (busy + idle)
  double tree_rss_bytes = 0;     // resident memory of the tree now
  double machine_used_bytes = 0; // memory in use on the machine now (0 when unknown)
  std::vector<int> tree_pids;    // members of the command's tree now
};

struct ChannelReading {
  /// Energy since the source was opened, in joules; wraps already corrected.
  double energy_j = 0;
  bool ok = false;
  /// The command's share of this interval's energy, when the source knows it
  /// (a GPU running only the command's processes). Otherwise the CPU-time share applies.
  std::optional<double> tree_share;
};

/// What became of something the probe found.
enum class Disposition {
  Used,         // read during the run
  Covered,      // readable, but another channel already counts it (a duplicate, a part of a whole)
  Unreadable,   // present, but this user or this library cannot read it (the fix says how)
  Absent,       // not on this machine (no driver, no counter, no library)
  Unsupported,  // present, but greenrun does not know what it measures
  Frozen,       // a counter that did not advance while the machine worked (a hypervisor's): not counted
};

/// Something the probe found, usable or not: feeds `greenrun sensors` and the
/// summary's notes.
struct Finding {
  std::string source;     // "RAPL powercap"
  std::string what;       // "package-0 (intel-rapl:0)"
  std::string path;
  Disposition disposition = Disposition::Absent;
  std::string reason;     // why not used, or what it covers
  std::string fix;        // the one command that makes it usable, if any
  bool quiet = false;     // normal absence (no NVIDIA driver on a machine without NVIDIA GPUs): not in the summary
  bool used() const { return disposition == Disposition::Used; }
};
const char* disposition_name(Disposition d);  // used, covered, unreadable, absent, unsupported, frozen

class EnergySource {
 public:
  virtual ~EnergySource() = default;
  virtual const std::vector<Channel>& channels() const = 0;
  /// Keeps the channels whose `keep` entry is true, in order, and stops
  /// reading the others (the selection rules decided another source counts them).
  virtual void retain(const std::vector<bool>& keep) = 0;
  /// Sets the component of channel `i` (the probe numbers GPUs).
  virtual void set_component(size_t i, Component c) = 0;
  /// Fills `out` (one entry per channel) with cumulative energies.
  virtual void read(const SampleContext& ctx, std::vector<ChannelReading>& out) = 0;
  /// What went wrong during the run (a GPU lost, a driver error), for the report.
  virtual std::vector<std::string> notes() const { return {}; }
  /// The device utilisation (0..100) channel `i` read at the last read(),
  /// where the source reads one (a GPU's vendor library): averaged over the
  /// run for the CSV's gpu_utilization_percent.
  virtual std::optional<double> utilisation_percent(size_t i) const {
    (void)i;
    return std::nullopt;
  }
  /// Whether read() looks at SampleContext::tree_pids (then the tree reader
  /// lists the members at every read, not only with its slow fields).
  virtual bool uses_tree_pids() const { return false; }
  /// Channels read all along but counted only from the moment a counter they
  /// stand in for freezes (the estimate's CPU and memory where RAPL measures
  /// them). read() fills their readings after those of channels().
  virtual const std::vector<Channel>& standby() const;
  /// Channel `i`'s counter stopped moving: the source may measure it another
  /// way from now on (NVML's and ROCm SMI's power). Returns how, or "" when it cannot.
  virtual std::string replace_frozen(size_t /*i*/) { return ""; }
};

/// Shared by the sources: channels_ plus one parallel vector of per-channel
/// state, filtered together by retain().
template <class State>
class ChannelTable : public EnergySource {
 public:
  const std::vector<Channel>& channels() const override { return channels_; }
  void retain(const std::vector<bool>& keep) override {
    size_t out = 0;
    for (size_t i = 0; i < channels_.size(); ++i) {
      if (i < keep.size() && !keep[i]) continue;
      if (out != i) {
        channels_[out] = std::move(channels_[i]);
        state_[out] = std::move(state_[i]);
      }
      ++out;
    }
    channels_.resize(out);
    state_.erase(state_.begin() + static_cast<std::ptrdiff_t>(out), state_.end());
  }
  void set_component(size_t i, Component c) override { channels_.at(i).component = c; }

 protected:
  void add(Channel ch, State st) {
    channels_.push_back(std::move(ch));
    state_.push_back(std::move(st));
  }
  std::vector<Channel> channels_;
  std::vector<State> state_;
};

}  // namespace greenrun
