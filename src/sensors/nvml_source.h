#pragma once
// NVIDIA GPUs through NVML, loaded with dlopen (no header, no build-time
// dependency): the total-energy counter where the GPU has one (Volta and
// newer), its power integrated where not, and TDP x utilisation (an estimate)
// where it reports neither. Each GPU is attributed to the command by its
// running compute processes.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/dynlib.h"
#include "sensors/energy_source.h"
#include "sensors/power_integrator.h"

namespace greenrun {

class HardwareData;

struct NvmlOptions {
  std::string lib;  // --nvml-lib / GREENRUN_NVML_LIB; "" = libnvidia-ml.so.1, libnvidia-ml.so
  std::optional<std::string> cuda_visible_devices;
  /// Under Slurm (SLURM_JOB_ID set): the GPUs allocated to the step
  /// (SLURM_STEP_GPUS, else SLURM_JOB_GPUS) and which variable said so.
  std::optional<std::string> slurm_gpus;
  std::string slurm_gpus_variable;
  std::optional<double> gpu_tdp_w;         // --gpu-tdp, for a GPU that reports no power
  const HardwareData* hardware = nullptr;  // GPU TDP table
  bool quiet_if_missing = true;            // no NVIDIA device on the PCI bus: a missing library is no news
  bool allow_estimate = true;              // false with --no-estimate
  double max_gap_s = 10;                   // integrated power: see PowerIntegrator
  /// greenrun's own /proc: its PID namespace says whether NVML's pids (the
  /// host's) can be matched to the command's. Tests give a fixture.
  std::string proc_root = "/proc";
};

/// What CUDA_VISIBLE_DEVICES says about one GPU.
enum class Visibility { Visible, Hidden, Unknown };

struct CudaVisibility {
  std::vector<Visibility> gpus;  // by NVML index
  std::string unresolved;        // the entry greenrun could not resolve, if any
  bool listed = false;           // CUDA_VISIBLE_DEVICES was set: a Visible GPU was given to the command
};

/// The NVML index of the GPU that holds the MIG device `uuid` (MIG-<uuid>);
/// nullopt when NVML cannot tell.
using MigParent = std::function<std::optional<int>(const std::string& uuid)>;

/// What CUDA_VISIBLE_DEVICES lets the command use: indices, (prefixes of) GPU
/// UUIDs and MIG devices (MIG-<uuid> through `mig_parent`, the legacy
/// MIG-GPU-<uuid>/<gi>/<ci> by the GPU UUID before the first '/'), up to the
/// first invalid entry as CUDA does. From an entry greenrun cannot resolve on,
/// the GPUs not listed before it are Unknown, never Hidden. Unset: all Visible.
CudaVisibility cuda_visibility(const std::optional<std::string>& env, const std::vector<std::string>& uuids,
                               const MigParent& mig_parent);

struct nvmlDevice_st;  // NVML's opaque device

/// One GPU as the source reads it (complete here: ChannelTable holds them by value).
struct NvmlGpu {
  nvmlDevice_st* handle = nullptr;
  unsigned int index = 0;
  std::string name, uuid;
  enum class Mode { Counter, Power, Estimate } mode = Mode::Counter;
  Visibility visibility = Visibility::Visible;
  bool mig = false;
  bool lost = false;
  bool error_noted = false;
  double tdp_w = 0;
  unsigned long long start_mj = 0;  // the counter when this segment began
  double base_j = 0;                // energy before it (a driver reload restarts the counter)
  double energy_j = 0;
  PowerIntegrator power;
  unsigned long long util_ts = 0;        // the newest utilisation sample seen
  std::optional<double> util_share;      // the command's part of the SM utilisation in the last samples
  unsigned int util_room = 16;           // samples the last utilisation call had room for
  std::optional<double> util_now;        // the device's utilisation, read at most once a second (the CSV's column)
  std::chrono::steady_clock::time_point util_at{};  // when util_now was read
  std::optional<double> share;
  /// Why all its energy is the command's whatever runs on it (allocated to
  /// the Slurm step); "" when not.
  std::string allocated;
  bool exclusive = false;  // exclusive-process compute mode: one process at a time
  /// The compute processes at the last read of the list and at the one
  /// before: a window's share is taken from both, its start and its end.
  std::vector<unsigned int> pids, pids_before;
  bool listed = false;
  std::chrono::steady_clock::time_point listed_at{};
  unsigned int list_room = 16;  // entries the buffer has room for
  std::vector<unsigned char> list_buffer;
};

class NvmlSource : public ChannelTable<NvmlGpu> {
 public:
  static std::unique_ptr<NvmlSource> open(const NvmlOptions& o, std::vector<Finding>& findings);
  ~NvmlSource() override;

  void read(const SampleContext& ctx, std::vector<ChannelReading>& out) override;
  std::vector<std::string> notes() const override;
  /// A GPU's share is found from the processes running on it.
  bool uses_tree_pids() const override { return true; }
  /// A frozen energy counter: power integrated instead, where NVML reads it.
  std::string replace_frozen(size_t i) override;

  /// The process list is read at most this often, and whenever the command's tree changed.
  static constexpr double kListEveryS = 1.0;
  /// The device's utilisation (for the CSV) is read at most this often where the energy does not need it.
  static constexpr double kUtilEveryS = 1.0;
  std::optional<double> utilisation_percent(size_t i) const override {
    return i < state_.size() ? state_[i].util_now : std::nullopt;
  }

  struct Api;  // the NVML function table

 private:
  NvmlSource();
  void apply_visibility(const CudaVisibility& v);
  void apply_allocation(const NvmlOptions& o, const CudaVisibility& v);
  /// Whether the command's tree differs from the previous read's (a member exited or started).
  bool note_tree(const std::vector<int>& pids);
  std::optional<double> share_of(NvmlGpu& g, const SampleContext& ctx, bool tree_changed);
  bool refresh_pids(NvmlGpu& g, const SampleContext& ctx, bool tree_changed);
  std::optional<std::vector<unsigned int>> running_pids(NvmlGpu& g);
  std::optional<double> utilisation_share(NvmlGpu& g, const std::vector<unsigned int>& mine);
  void refresh_utilisation(NvmlGpu& g, std::chrono::steady_clock::time_point now);
  void degrade(size_t i, int rc, const char* what, const SampleContext& ctx);

  DynLib lib_;
  std::unique_ptr<Api> api_;
  std::vector<std::string> notes_;
  std::chrono::steady_clock::time_point opened_;
  /// NVML's pids are the host's: they are the tree's only in the initial PID namespace.
  bool host_pids_ = true;
  /// The command's tree (sorted) at the previous read and at this one.
  std::vector<int> tree_before_, tree_now_;
};

}  // namespace greenrun
