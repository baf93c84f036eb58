#pragma once
// AMD GPUs through ROCm SMI (librocm_smi64.so, loaded with dlopen): the
// energy counter where it works, average power integrated where it does not.

#include <memory>
#include <string>
#include <vector>

#include "util/dynlib.h"
#include "sensors/energy_source.h"

namespace greenrun {

struct RocmOptions {
  std::string lib;  // --rocm-lib / GREENRUN_ROCM_LIB; "" = the usual names
  int first_gpu_index = 0;
  bool quiet_if_missing = true;  // no AMD GPU on the PCI bus
};

class RocmSource : public EnergySource {
 public:
  static std::unique_ptr<RocmSource> open(const RocmOptions& o, std::vector<Finding>& findings);
  ~RocmSource() override;
  std::string name() const override { return "ROCm SMI"; }
  const std::vector<Channel>& channels() const override { return channels_; }
  void read(const SampleContext& ctx, std::vector<ChannelReading>& out) override;

  struct Api;

 private:
  struct Gpu {
    uint32_t index = 0;
    bool counter = true;
    uint64_t first = 0;
    float resolution_uj = 0;
    bool primed = false;
    double energy_j = 0;
    double last_w = 0;
    std::chrono::steady_clock::time_point last_t{};
    bool checked = false;  // counter sanity-checked against power x time
    double check_s = 0;
    double base_j = 0;  // energy before the counter took over
  };
  RocmSource();
  DynLib lib_;
  std::unique_ptr<Api> api_;
  std::vector<Gpu> gpus_;
  std::vector<Channel> channels_;
  std::vector<std::string> notes_;

 public:
  std::vector<std::string> notes() const override { return notes_; }
};

}  // namespace greenrun
