#pragma once
// RAPL through the powercap sysfs class: every zone under
// <sysfs>/class/powercap that has an energy_uj file, whatever its control type
// (intel-rapl, intel-rapl-mmio, TPMI), de-duplicated by (domain, package).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sensors/energy_source.h"
#include "sensors/plausibility.h"
#include "util/fs.h"

namespace greenrun {

struct PowercapZone {
  std::string dir;           // <sysfs>/class/powercap/intel-rapl:0:1
  std::string id;            // intel-rapl:0:1
  std::string control_type;  // intel-rapl
  std::string name;          // dram
  std::string domain;        // package, core, uncore, dram, psys
  std::string package;       // the package this zone belongs to ("package-0"; psys zones: their own name)
  uint64_t max_energy_range_uj = 0;
  int read_errno = 0;        // errno of reading energy_uj, 0 if readable
  bool duplicate = false;    // same (domain, package) as a zone of a preferred control type
};

/// Every zone with an energy counter, in preference order, duplicates marked.
std::vector<PowercapZone> scan_powercap(const std::string& sysfs_root);

/// Delta of a counter that wraps at `max_range` (0 = range unknown: a
/// decrease is then not correctable and yields nullopt).
std::optional<uint64_t> counter_delta(uint64_t prev, uint64_t cur, uint64_t max_range);

struct PowercapCounter {
  PreadFile file;
  uint64_t max_range_uj = 0;
  uint64_t last_raw = 0;
  uint64_t total_uj = 0;
  bool primed = false;
  std::chrono::steady_clock::time_point last_t{}, first_t{};
  StepCheck check;
};

class RaplPowercapSource : public ChannelTable<PowercapCounter> {
 public:
  /// Opens every readable package, dram and psys zone (core and uncore never,
  /// being inside package; the selection rules choose between psys and the
  /// others). Returns nullptr when no zone is readable; `findings` says what
  /// was found and why it is not used.
  static std::unique_ptr<RaplPowercapSource> open(const std::string& sysfs_root, std::vector<Finding>& findings);

  void read(const SampleContext& ctx, std::vector<ChannelReading>& out) override;
  std::vector<std::string> notes() const override;

 private:
  std::string buf_;
};

}  // namespace greenrun
