#pragma once
// AMD GPUs through ROCm SMI (librocm_smi64.so, loaded with dlopen): the
// energy counter where it works, power integrated where it does not.

#include <memory>
#include <string>
#include <vector>

#include "util/dynlib.h"
#include "sensors/energy_source.h"
#include "sensors/power_integrator.h"

namespace greenrun {

struct RocmOptions {
  std::string lib;  // --rocm-lib / GREENRUN_ROCM_LIB; "" = the usual names
  double max_gap_s = 10;  // integrated power: see PowerIntegrator
  bool quiet_if_missing = true;  // no AMD GPU on the PCI bus
};

struct RocmGpu {
  uint32_t index = 0;
  bool counter = true;
  float resolution_uj = 0;
  bool primed = false;
  uint64_t last_count = 0;
  double counted_j = 0;  // the counter's increments since the first read
  double energy_j = 0;
  PowerIntegrator power;
  bool checked = false;  // counter sanity-checked against power x time
  double check_s = 0;
  double base_j = 0;  // energy before the counter took over
  double power_at_move_j = 0;  // the integrated power when the counter last moved
  std::chrono::steady_clock::time_point first_t{}, power_t{};
};

class RocmSource : public ChannelTable<RocmGpu> {
 public:
  static std::unique_ptr<RocmSource> open(const RocmOptions& o, std::vector<Finding>& findings);
  ~RocmSource() override;
  void read(const SampleContext& ctx, std::vector<ChannelReading>& out) override;
  std::vector<std::string> notes() const override;
  /// A frozen energy counter: the power it has integrated all along takes
  /// over from the counter's last move.
  std::string replace_frozen(size_t i) override;

  struct Api;

 private:
  RocmSource();
  void count_energy(size_t i, uint64_t count, bool have_power, double power_j, double dt, const SampleContext& ctx);
  DynLib lib_;
  std::unique_ptr<Api> api_;
  std::vector<std::string> notes_;
};

}  // namespace greenrun
