#pragma once
// The interface every energy source implements: RAPL, NVML, hwmon and the
// estimator alike. A source owns no thread and never sleeps; the sampler calls
// read() once per tick.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace greenrun {

/// One physical quantity a source reports, e.g. package-0 of RAPL or GPU 1.
struct Channel {
  /// Report vocabulary: cpu, dram, platform, ram, gpu0, gpu1, ...
  std::string component;
  /// What this channel is within its component: "package-0", "psys", "NVIDIA H100 80GB HBM3".
  std::string label;
  /// Where the figure comes from: "RAPL powercap", "NVML energy counter", "estimate".
  std::string source;
  /// Path, device or library read, for the report's detail.
  std::string origin;
  bool measured = true;
  /// For estimates: the method in a phrase, and the range as factors of the figure.
  std::string method;
  double low_factor = 1.0;
  double high_factor = 1.0;
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

/// Something the probe found, usable or not: feeds `greenrun sensors` and the
/// summary's notes.
struct Finding {
  std::string source;     // "RAPL powercap"
  std::string what;       // "package-0 (intel-rapl:0)"
  std::string path;
  bool usable = false;
  std::string reason;     // why not usable, or what it covers
  std::string fix;        // the one command that makes it usable, if any
  bool quiet = false;     // normal absence (no NVIDIA driver on a machine without NVIDIA GPUs): not in the summary
};

class EnergySource {
 public:
  virtual ~EnergySource() = default;
  virtual std::string name() const = 0;
  virtual const std::vector<Channel>& channels() const = 0;
  /// Fills `out` (one entry per channel) with cumulative energies.
  virtual void read(const SampleContext& ctx, std::vector<ChannelReading>& out) = 0;
  /// What went wrong during the run (a GPU lost, a driver error), for the report.
  virtual std::vector<std::string> notes() const { return {}; }
};

}  // namespace greenrun
