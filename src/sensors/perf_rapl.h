#pragma once
// RAPL through the perf_event "power" PMU: works without root where
// perf_event_paranoid < 1 or with CAP_PERFMON, and the kernel keeps 64-bit
// counts (no wrap handling in user space). The system call sits behind
// PerfOps so that tests can count with files.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sensors/energy_source.h"

namespace greenrun {

class PerfOps {
 public:
  virtual ~PerfOps() = default;
  /// perf_event_open(type, config) system-wide on `cpu`: a descriptor, or -errno.
  virtual int open(uint32_t type, uint64_t config, int cpu) = 0;
  virtual std::optional<uint64_t> read(int fd) = 0;
  virtual void close(int fd) = 0;
};
std::shared_ptr<PerfOps> real_perf_ops();

/// "0,64", "0-3,8" -> CPUs.
std::vector<int> parse_cpulist(std::string_view text);
/// "event=0x02" (perf's event file syntax) -> 2.
std::optional<uint64_t> parse_perf_event(std::string_view text);

/// One open perf event, closed through the ops that opened it.
struct PerfCounter {
  std::shared_ptr<PerfOps> ops;
  int fd = -1;
  double scale = 0;
  uint64_t first = 0;
  bool primed = false;
  double energy_j = 0;
  PerfCounter() = default;
  PerfCounter(PerfCounter&& o) noexcept { *this = std::move(o); }
  PerfCounter& operator=(PerfCounter&& o) noexcept;
  ~PerfCounter();
};

class PerfRaplSource : public ChannelTable<PerfCounter> {
 public:
  /// Reads <sysfs>/bus/event_source/devices/power/{type,cpumask,events/*} and
  /// opens energy-psys, energy-pkg and energy-ram on one CPU per package (the
  /// selection rules choose between psys and the others). nullptr when none
  /// opens; `findings` says why and how to allow it (`self_exe` for the setcap command).
  static std::unique_ptr<PerfRaplSource> open(const std::string& sysfs_root, std::shared_ptr<PerfOps> ops,
                                              const std::string& self_exe, std::vector<Finding>& findings);

  void read(const SampleContext& ctx, std::vector<ChannelReading>& out) override;
};

}  // namespace greenrun
