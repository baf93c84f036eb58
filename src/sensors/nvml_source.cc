#include "sensors/nvml_source.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <map>
#include <span>

#include "process/procfs.h"
#include "util/fs.h"
#include "sensors/hardware_data.h"
#include "sensors/power_integrator.h"
#include "util/units.h"

namespace greenrun {

namespace {

// The few NVML types greenrun needs (see shared/reference/energy-sources.md).
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
constexpr nvmlReturn_t kSuccess = 0, kNotSupported = 3, kInsufficientSize = 7, kGpuIsLost = 15;

/// Bytes per nvmlProcessInfo_t entry as the library writes them. _v2, and _v3
/// on every driver but one range, write the 24-byte v2 struct; 535.43.02 to
/// 535.86.x wrote 32-byte entries from _v3 without a version bump (they added
/// usedGpuCcProtectedMemory; nvidia-settings' nvml.h at 39c3e28e). The pid
/// comes first in every layout.
constexpr size_t kProcessInfoBytes = 24, kProcessInfo535Bytes = 32;

struct ProcessUtilization {  // nvmlProcessUtilizationSample_t
  unsigned int pid;
  unsigned long long timeStamp;
  unsigned int smUtil, memUtil, encUtil, decUtil;
};

struct Utilization {  // nvmlUtilization_t
  unsigned int gpu, memory;
};

bool contains(const std::vector<int>& sorted_pids, unsigned int pid) {
  return std::binary_search(sorted_pids.begin(), sorted_pids.end(), static_cast<int>(pid));
}

constexpr int kExclusiveProcess = 3;  // NVML_COMPUTEMODE_EXCLUSIVE_PROCESS

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string item(trim(rest.substr(0, comma)));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return out;
}

}  // namespace

struct NvmlSource::Api {
  nvmlReturn_t (*init)() = nullptr;
  nvmlReturn_t (*shutdown)() = nullptr;
  nvmlReturn_t (*count)(unsigned int*) = nullptr;
  nvmlReturn_t (*handle)(unsigned int, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*name)(nvmlDevice_t, char*, unsigned int) = nullptr;
  nvmlReturn_t (*uuid)(nvmlDevice_t, char*, unsigned int) = nullptr;
  nvmlReturn_t (*energy)(nvmlDevice_t, unsigned long long*) = nullptr;
  nvmlReturn_t (*power)(nvmlDevice_t, unsigned int*) = nullptr;
  nvmlReturn_t (*processes)(nvmlDevice_t, unsigned int*, void*) = nullptr;
  size_t process_stride = kProcessInfoBytes;
  nvmlReturn_t (*process_util)(nvmlDevice_t, ProcessUtilization*, unsigned int*, unsigned long long) = nullptr;
  nvmlReturn_t (*mig_mode)(nvmlDevice_t, unsigned int*, unsigned int*) = nullptr;
  nvmlReturn_t (*by_uuid)(const char*, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*mig_parent)(nvmlDevice_t, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*utilization)(nvmlDevice_t, Utilization*) = nullptr;
  nvmlReturn_t (*compute_mode)(nvmlDevice_t, int*) = nullptr;
  const char* (*error)(nvmlReturn_t) = nullptr;

  std::string why(nvmlReturn_t rc) const {
    const char* e = error ? error(rc) : nullptr;
    return std::string(e ? e : "NVML error") + " (" + std::to_string(rc) + ")";
  }
};


namespace {

bool all_digits(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

/// The NVML index one CUDA_VISIBLE_DEVICES entry names; -1 for an invalid
/// entry (CUDA ignores it and all after it); nullopt for one greenrun cannot resolve.
std::optional<int> resolve_entry(const std::string& item, const std::vector<std::string>& uuids,
                                 const MigParent& mig_parent) {
  if (all_digits(item)) {
    const int i = std::atoi(item.c_str());
    return i < static_cast<int>(uuids.size()) ? i : -1;
  }
  if (item.rfind("MIG-GPU-", 0) == 0) {  // the legacy MIG-GPU-<uuid>/<gi>/<ci>
    const auto slash = item.find('/');
    const auto it = slash == std::string::npos ? uuids.end()
                                               : std::find(uuids.begin(), uuids.end(), item.substr(4, slash - 4));
    if (it == uuids.end()) return std::nullopt;
    return static_cast<int>(it - uuids.begin());
  }
  if (item.rfind("MIG-", 0) == 0) return mig_parent(item);
  const std::string want = item.rfind("GPU-", 0) == 0 ? item : "GPU-" + item;
  int found = -1;
  for (size_t i = 0; i < uuids.size(); ++i)
    if (uuids[i].rfind(want, 0) == 0) {
      if (found >= 0) return -1;  // an ambiguous prefix is invalid
      found = static_cast<int>(i);
    }
  return found;
}

}  // namespace

CudaVisibility cuda_visibility(const std::optional<std::string>& env, const std::vector<std::string>& uuids,
                               const MigParent& mig_parent) {
  CudaVisibility out{std::vector<Visibility>(uuids.size(), env ? Visibility::Hidden : Visibility::Visible), "",
                     env.has_value()};
  if (!env) return out;
  std::string_view rest = *env;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string item(trim(rest.substr(0, comma)));
    if (item.empty()) break;
    const auto index = resolve_entry(item, uuids, mig_parent);
    if (!index) {
      // CUDA may accept what greenrun cannot read: the GPUs not listed so far may or may not be visible.
      out.unresolved = item;
      std::replace(out.gpus.begin(), out.gpus.end(), Visibility::Hidden, Visibility::Unknown);
      break;
    }
    if (*index < 0) break;  // CUDA ignores everything from the first invalid entry on
    out.gpus[static_cast<size_t>(*index)] = Visibility::Visible;
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return out;
}

namespace {

/// Binds the compute-process list and the stride its entries have. Never the
/// unversioned call: it writes 16-byte v1 entries. The 535.43.02-535.86.x
/// drivers are told apart by what they export, as nvitop does (PR #89, #94):
/// nvmlDeviceGetConfComputeMemSizeInfo arrived with them, and
/// nvmlDeviceGetRunningProcessDetailList, the 32-byte struct's later home, after them.
void bind_process_list(const DynLib& l, NvmlSource::Api& a) {
  if (l.bind(a.processes, {"nvmlDeviceGetComputeRunningProcesses_v3"})) {
    const bool r535_43 = l.symbol({"nvmlDeviceGetConfComputeMemSizeInfo"}) &&
                         !l.symbol({"nvmlDeviceGetRunningProcessDetailList"});
    a.process_stride = r535_43 ? kProcessInfo535Bytes : kProcessInfoBytes;
  } else {
    l.bind(a.processes, {"nvmlDeviceGetComputeRunningProcesses_v2"});
    a.process_stride = kProcessInfoBytes;
  }
}

const char kSource[] = "NVML";

/// libnvidia-ml from --nvml-lib, else its usual names; false (with the finding) where none loads.
bool open_library(DynLib& lib, const NvmlOptions& o, std::vector<Finding>& findings) {
  std::vector<std::string> names = o.lib.empty() ? std::vector<std::string>{"libnvidia-ml.so.1", "libnvidia-ml.so"}
                                                 : std::vector<std::string>{o.lib};
  if (lib.open(names)) return true;
  Finding f{kSource, "NVIDIA GPUs", o.lib.empty() ? "libnvidia-ml.so.1" : o.lib, Disposition::Absent,
            "NVML library not found (" + lib.error() + "); no NVIDIA driver is installed", ""};
  f.quiet = o.quiet_if_missing && o.lib.empty();
  findings.push_back(std::move(f));
  return false;
}

/// Binds every call greenrun uses; false where one of the core calls is missing.
bool bind_api(const DynLib& l, NvmlSource::Api& a) {
  bool core = l.bind(a.init, {"nvmlInit_v2", "nvmlInit"}) && l.bind(a.shutdown, {"nvmlShutdown"}) &&
              l.bind(a.count, {"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"}) &&
              l.bind(a.handle, {"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"});
  l.bind(a.name, {"nvmlDeviceGetName"});
  l.bind(a.uuid, {"nvmlDeviceGetUUID"});
  l.bind(a.energy, {"nvmlDeviceGetTotalEnergyConsumption"});
  l.bind(a.power, {"nvmlDeviceGetPowerUsage"});
  bind_process_list(l, a);
  l.bind(a.process_util, {"nvmlDeviceGetProcessUtilization"});
  l.bind(a.mig_mode, {"nvmlDeviceGetMigMode"});
  l.bind(a.by_uuid, {"nvmlDeviceGetHandleByUUID"});
  l.bind(a.mig_parent, {"nvmlDeviceGetDeviceHandleFromMigDeviceHandle"});
  l.bind(a.utilization, {"nvmlDeviceGetUtilizationRates"});
  l.bind(a.compute_mode, {"nvmlDeviceGetComputeMode"});
  l.bind(a.error, {"nvmlErrorString"});
  return core;
}

/// nvmlInit, then the GPU count; nullopt (with the finding) where either fails or there is no GPU.
std::optional<unsigned int> start_nvml(NvmlSource::Api& a, const std::string& path, std::vector<Finding>& findings) {
  if (int rc = a.init(); rc != kSuccess) {
    a.shutdown = nullptr;  // nothing to shut down
    findings.push_back({kSource, "NVIDIA GPUs", path, rc == 9 ? Disposition::Absent : Disposition::Unreadable, "nvmlInit failed: " + a.why(rc) +
                        (rc == 9 ? " (the NVIDIA driver is not loaded)" : ""), ""});
    return std::nullopt;
  }
  unsigned int count = 0;
  if (int rc = a.count(&count); rc != kSuccess || count == 0) {
    findings.push_back({kSource, "NVIDIA GPUs", path, rc != kSuccess ? Disposition::Unreadable : Disposition::Absent,
                        rc != kSuccess ? "cannot count GPUs: " + a.why(rc) : "NVML sees no GPU", ""});
    return std::nullopt;
  }
  return count;
}

/// Name, UUID, MIG mode and compute mode of a GPU with a handle.
void read_identity(const NvmlSource::Api& a, NvmlGpu& g) {
  char buf[96] = {};
  if (a.name && a.name(g.handle, buf, sizeof buf) == kSuccess) g.name = buf;
  std::memset(buf, 0, sizeof buf);
  if (a.uuid && a.uuid(g.handle, buf, sizeof buf) == kSuccess) g.uuid = buf;
  if (g.name.empty()) g.name = "NVIDIA GPU " + std::to_string(g.index);
  unsigned int cur = 0, pending = 0;
  g.mig = a.mig_mode && a.mig_mode(g.handle, &cur, &pending) == kSuccess && cur == 1;
  int compute = 0;
  g.exclusive = a.compute_mode && a.compute_mode(g.handle, &compute) == kSuccess && compute == kExclusiveProcess;
}

/// How the GPU's energy is read: its counter, its power integrated, or TDP x
/// utilisation; f.reason says which. False where none can be (f says why);
/// `row` is the TDP table's row where it was looked up.
bool choose_mode(const NvmlSource::Api& a, const NvmlOptions& o, NvmlGpu& g, Finding& f, const GpuTdp*& row) {
  unsigned long long mj = 0;
  unsigned int mw = 0;
  int erc = a.energy ? a.energy(g.handle, &mj) : kNotSupported;
  int prc = a.power ? a.power(g.handle, &mw) : kNotSupported;
  if (erc == kSuccess) {
    g.mode = NvmlGpu::Mode::Counter;
    g.start_mj = mj;
    f.reason = "total-energy counter";
  } else if (prc == kSuccess) {
    // Older GPUs (before Volta) and some vGPUs have no energy counter: integrate power, never report 0.
    g.mode = NvmlGpu::Mode::Power;
    f.reason = "power integrated over time (no energy counter: " + a.why(erc) + ")";
  } else {
    row = o.hardware ? o.hardware->match_gpu(g.name) : nullptr;
    g.tdp_w = o.gpu_tdp_w.value_or(row ? row->tdp_w : 0);
    if (!o.allow_estimate) {
      f.reason = "reports neither energy nor power (" + a.why(prc) + "); not estimated (--no-estimate)";
      return false;
    }
    if (g.tdp_w <= 0 || !a.utilization) {
      f.reason = "reports neither energy nor power (" + a.why(prc) + ") and its TDP is unknown";
      f.fix = "give --gpu-tdp W to estimate it from utilisation";
      return false;
    }
    g.mode = NvmlGpu::Mode::Estimate;
    f.reason = "no energy or power reading (" + a.why(prc) + "): estimated from TDP x utilisation";
  }
  return true;
}

/// The channel of a GPU read as choose_mode decided, `note` its finding's reason.
Channel gpu_channel(const NvmlGpu& g, const std::string& note, const NvmlOptions& o, const GpuTdp* row) {
  Channel ch;
  ch.component.kind = ComponentKind::Gpu;
  ch.vendor = "nvidia";
  ch.vendor_library = true;
  ch.note = note;
  ch.label = g.name;
  ch.origin = g.uuid.empty() ? "NVML index " + std::to_string(g.index) : g.uuid;
  if (g.mode == NvmlGpu::Mode::Estimate) {
    ch.source = "estimate";
    ch.measured = false;
    char tdp[32];
    std::snprintf(tdp, sizeof tdp, "%g", g.tdp_w);
    ch.method = "GPU model: " + std::string(tdp) + " W TDP (" +
                (o.gpu_tdp_w ? std::string("--gpu-tdp") : row ? row->model + ", " + row->source : std::string("")) +
                ") x NVML utilisation";
    ch.low_factor = 0.5;
    ch.high_factor = 1.2;
  } else {
    ch.source = g.mode == NvmlGpu::Mode::Counter ? "NVML energy counter" : "NVML power (integrated)";
    ch.counter = g.mode == NvmlGpu::Mode::Counter;
    ch.update_s = ch.counter ? 0.1 : 0;  // about every 100 ms (Yang et al., arXiv 2312.02741; seen on an H200)
  }
  return ch;
}

/// The channel of a GPU with a handle and its identity read; nullopt (with the
/// finding) where its energy can be neither read nor estimated.
std::optional<Channel> open_gpu(const NvmlSource::Api& a, const NvmlOptions& o, NvmlGpu& g, const std::string& path,
                                std::vector<Finding>& findings) {
  const GpuTdp* row = nullptr;
  Finding f{kSource, "GPU " + std::to_string(g.index) + " " + g.name + (g.uuid.empty() ? "" : " (" + g.uuid + ")"), path,
            Disposition::Unreadable, "", ""};
  if (!choose_mode(a, o, g, f, row)) {
    findings.push_back(std::move(f));
    return std::nullopt;
  }
  if (g.mig) f.reason += "; MIG enabled: power is per board, shared by process count";
  return gpu_channel(g, f.reason, o, row);
}

/// The NVML index of the GPU holding a MIG device, from the GPUs' handles by index.
MigParent mig_parent_of(const NvmlSource::Api& a, const std::vector<nvmlDevice_t>& handles) {
  return [&a, &handles](const std::string& uuid) -> std::optional<int> {
    nvmlDevice_t mig = nullptr, parent = nullptr;
    if (!a.by_uuid || !a.mig_parent || a.by_uuid(uuid.c_str(), &mig) != kSuccess || a.mig_parent(mig, &parent) != kSuccess)
      return std::nullopt;
    auto it = std::find(handles.begin(), handles.end(), parent);
    return it == handles.end() ? std::nullopt : std::optional<int>(static_cast<int>(it - handles.begin()));
  };
}

}  // namespace

NvmlSource::NvmlSource() : api_(std::make_unique<Api>()) {}

NvmlSource::~NvmlSource() {
  if (api_ && api_->shutdown) api_->shutdown();
}

std::unique_ptr<NvmlSource> NvmlSource::open(const NvmlOptions& o, std::vector<Finding>& findings) {
  auto src = std::unique_ptr<NvmlSource>(new NvmlSource());
  if (!open_library(src->lib_, o, findings)) return nullptr;
  Api& a = *src->api_;
  const DynLib& l = src->lib_;
  if (!bind_api(l, a)) {
    findings.push_back({kSource, "NVIDIA GPUs", l.path(), Disposition::Unsupported, "the NVML library lacks nvmlInit_v2 or device calls", ""});
    return nullptr;
  }
  const auto count = start_nvml(a, l.path(), findings);
  if (!count) return nullptr;
  src->opened_ = std::chrono::steady_clock::now();
  std::vector<std::string> uuids;
  std::vector<nvmlDevice_t> handles(*count, nullptr);
  for (unsigned int i = 0; i < *count; ++i) {
    NvmlGpu g;
    g.index = i;
    g.power = PowerIntegrator(o.max_gap_s);
    if (int rc = a.handle(i, &g.handle); rc != kSuccess) {
      findings.push_back({kSource, "GPU " + std::to_string(i), l.path(), Disposition::Unreadable, "no handle: " + a.why(rc), ""});
      uuids.emplace_back();
      continue;
    }
    read_identity(a, g);
    uuids.push_back(g.uuid);
    handles[i] = g.handle;
    if (auto ch = open_gpu(a, o, g, l.path(), findings)) src->add(std::move(*ch), std::move(g));
  }
  if (src->state_.empty()) return nullptr;
  const CudaVisibility visibility = cuda_visibility(o.cuda_visible_devices, uuids, mig_parent_of(a, handles));
  src->apply_visibility(visibility);
  src->apply_allocation(o, visibility);
  src->host_pids_ = in_initial_pid_namespace(o.proc_root);
  if (!src->host_pids_)
    src->notes_.push_back(
        "greenrun runs in a PID namespace of its own (a container): NVML reports the host's process ids, which "
        "cannot be matched to the command's from here, so GPUs running any process are shared by CPU time "
        "(run the container with --pid=host to attribute them by process)");
  return src;
}

void NvmlSource::apply_visibility(const CudaVisibility& v) {
  for (size_t k = 0; k < state_.size(); ++k) {
    NvmlGpu& g = state_[k];
    g.visibility = v.gpus.at(g.index);
    channels_[k].bound = v.listed && g.visibility == Visibility::Visible;
    if (g.visibility == Visibility::Hidden) channels_[k].origin += "; not in CUDA_VISIBLE_DEVICES";
    if (g.visibility == Visibility::Unknown) channels_[k].origin += "; CUDA_VISIBLE_DEVICES not resolved";
  }
  if (!v.unresolved.empty())
    notes_.push_back("CUDA_VISIBLE_DEVICES entry " + v.unresolved +
                     " could not be resolved to a GPU: the GPUs it may name are shared by CPU time");
}

// Under Slurm the GPUs of the step are its own: nobody else can use them.
// Only where CUDA_VISIBLE_DEVICES is what Slurm set: the same list, or as many
// GPUs as NVML sees (device cgroups renumber them from 0).
void NvmlSource::apply_allocation(const NvmlOptions& o, const CudaVisibility& v) {
  if (!o.slurm_gpus || o.slurm_gpus->empty()) return;
  const auto allocated = split_list(*o.slurm_gpus);
  const auto visible = split_list(o.cuda_visible_devices.value_or(""));
  const bool same = allocated == visible || (allocated.size() == visible.size() && allocated.size() == v.gpus.size());
  const std::string said = o.slurm_gpus_variable + "=" + *o.slurm_gpus + ", CUDA_VISIBLE_DEVICES=" +
                           o.cuda_visible_devices.value_or("(unset)");
  if (!same || !v.unresolved.empty()) {
    notes_.push_back("GPUs allocated by Slurm (" + said + ") do not match what the command may use: "
                     "each GPU's share comes from the processes running on it");
    return;
  }
  for (size_t k = 0; k < state_.size(); ++k) {
    if (state_[k].visibility != Visibility::Visible) continue;
    state_[k].allocated = "allocated to this Slurm job step (" + said + ")";
    channels_[k].bound = true;
    channels_[k].note += "; allocated to the Slurm step: all its energy is the command's";
  }
}

std::vector<std::string> NvmlSource::notes() const {
  auto out = notes_;
  for (size_t i = 0; i < state_.size(); ++i) {
    const NvmlGpu& g = state_[i];
    const std::string name = channels_[i].component.name() + " (" + g.name + ")";
    if (!g.allocated.empty())
      out.push_back(name + " is " + g.allocated + ": nobody else can use it, so its whole energy during the run is "
                    "the command's, idle included");
    else if (g.exclusive && g.visibility == Visibility::Visible)
      out.push_back(name + " is in exclusive-process compute mode: one process at a time can use it, so its whole "
                    "energy is the command's, idle included, except while another process holds it");
    note_gaps(g.power, channels_[i].component.name(), out);
  }
  return out;
}

std::string NvmlSource::replace_frozen(size_t i) {
  NvmlGpu& g = state_.at(i);
  unsigned int mw = 0;
  if (g.mode != NvmlGpu::Mode::Counter || !api_->power || api_->power(g.handle, &mw) != kSuccess) return "";
  g.mode = NvmlGpu::Mode::Power;
  g.base_j = g.energy_j;
  g.power.restart();
  channels_[i].source = "NVML power (integrated)";
  channels_[i].counter = false;
  return "NVML's power reading integrated instead (the span since the counter last moved is not measured)";
}

void NvmlSource::degrade(size_t i, int rc, const char* what, const SampleContext& ctx) {
  NvmlGpu& g = state_[i];
  const std::string name = channels_[i].component.name();
  double at = std::chrono::duration<double>(ctx.now - opened_).count();
  if (rc == kGpuIsLost || rc == 16 /* RESET_REQUIRED */) {
    g.lost = true;
    channels_[i].counter = false;  // it reads its last energy from now on: not a frozen counter
    notes_.push_back(name + " (" + g.name + ") was lost after " + format_seconds(at) + " (" +
                     api_->why(rc) + "); its energy until then is kept, nothing after");
  } else if (!g.error_noted) {
    g.error_noted = true;
    notes_.push_back(name + ": " + what + " failed after " + format_seconds(at) + " (" +
                     api_->why(rc) + "); intervals without a reading are left out");
  }
}

bool NvmlSource::note_tree(const std::vector<int>& pids) {
  std::vector<int> now = pids;
  std::sort(now.begin(), now.end());
  const bool changed = now != tree_now_;
  tree_before_ = std::move(tree_now_);
  tree_now_ = std::move(now);
  return changed;
}

// The list is read again at most once a second (it costs milliseconds on
// real drivers), and at once when the tree changed: a process that exits
// keeps the window it ran in, through the list read before, and a new one
// is looked for at once.
bool NvmlSource::refresh_pids(NvmlGpu& g, const SampleContext& ctx, bool tree_changed) {
  g.pids_before = g.pids;
  if (g.listed && !tree_changed && std::chrono::duration<double>(ctx.now - g.listed_at).count() < kListEveryS) return true;
  auto pids = running_pids(g);
  if (!pids) {
    g.listed = false;  // not "nothing runs": NVML could not say
    return false;
  }
  g.pids = std::move(*pids);
  if (!g.listed) g.pids_before = g.pids;
  g.listed = true;
  g.listed_at = ctx.now;
  return true;
}

std::optional<double> NvmlSource::share_of(NvmlGpu& g, const SampleContext& ctx, bool tree_changed) {
  if (g.visibility == Visibility::Hidden) return 0.0;
  if (g.visibility == Visibility::Unknown) return std::nullopt;
  if (!g.allocated.empty()) return 1.0;  // the process list is not even needed
  if (!refresh_pids(g, ctx, tree_changed)) return std::nullopt;  // no process list: share by CPU time
  // What ran during the window: the processes at its start and at its end.
  std::vector<unsigned int> seen = g.pids_before;
  seen.insert(seen.end(), g.pids.begin(), g.pids.end());
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  if (seen.empty()) return g.exclusive ? 1.0 : 0.0;  // nothing runs on it: its idle power is not the command's
  if (!host_pids_) return std::nullopt;                // NVML's pids are the host's, the tree's are not
  std::vector<unsigned int> mine;
  for (unsigned int pid : seen)
    if (contains(tree_before_, pid) || contains(tree_now_, pid)) mine.push_back(pid);
  if (mine.empty()) return 0.0;
  if (mine.size() == seen.size()) return 1.0;  // exclusive use
  // Shared: by SM utilisation (not available on MIG), else by process count.
  if (auto share = utilisation_share(g, mine)) return share;
  return static_cast<double>(mine.size()) / static_cast<double>(seen.size());
}

// One call with room for what ran last time and a few more; a second only
// when more processes run than that.
std::optional<std::vector<unsigned int>> NvmlSource::running_pids(NvmlGpu& g) {
  if (!api_->processes) return std::nullopt;
  for (int attempt = 0; attempt < 3; ++attempt) {
    unsigned int n = g.list_room;
    // Room for the larger entries whatever the library: a wrong stride misreads pids, never the heap.
    g.list_buffer.resize(size_t{n} * kProcessInfo535Bytes);
    const int rc = api_->processes(g.handle, &n, g.list_buffer.data());
    if (rc == kInsufficientSize) {
      g.list_room = std::max(g.list_room, n) + 8;  // room for processes started since
      continue;
    }
    if (rc != kSuccess) return std::nullopt;
    const size_t stride = api_->process_stride;
    std::vector<unsigned int> pids(std::min<size_t>(n, g.list_buffer.size() / stride));
    for (size_t i = 0; i < pids.size(); ++i) std::memcpy(&pids[i], g.list_buffer.data() + i * stride, sizeof pids[i]);
    return pids;
  }
  return std::nullopt;
}

std::optional<double> NvmlSource::utilisation_share(NvmlGpu& g, const std::vector<unsigned int>& mine) {
  if (g.mig || !api_->process_util) return std::nullopt;
  // NVML returns one sample per process with non-zero utilisation, only
  // samples newer than util_ts, and NOT_FOUND when there is none: the driver
  // samples more slowly than greenrun may read, so the last share holds until
  // new samples come.
  std::vector<ProcessUtilization> samples;
  unsigned int count = 0;
  int rc = kInsufficientSize;
  for (int attempt = 0; attempt < 2 && rc == kInsufficientSize; ++attempt) {
    samples.resize(g.util_room);
    count = g.util_room;
    rc = api_->process_util(g.handle, samples.data(), &count, g.util_ts);
    if (rc == kInsufficientSize) g.util_room = std::max(g.util_room, count) + 8;
  }
  if (rc != kSuccess) return g.util_share;
  double all = 0, own = 0;
  for (const auto& s : std::span(samples).first(std::min<size_t>(count, samples.size()))) {
    g.util_ts = std::max(g.util_ts, s.timeStamp);
    if (s.smUtil > 100) continue;  // NVML reports garbage above 100 on some drivers
    all += s.smUtil;
    if (std::find(mine.begin(), mine.end(), s.pid) != mine.end()) own += s.smUtil;
  }
  if (all > 0) g.util_share = own / all;
  return g.util_share;
}

void NvmlSource::read(const SampleContext& ctx, std::vector<ChannelReading>& out) {
  out.assign(state_.size(), {});
  const bool tree_changed = note_tree(ctx.tree_pids);
  for (size_t i = 0; i < state_.size(); ++i) {
    NvmlGpu& g = state_[i];
    if (g.lost) {
      out[i] = {g.energy_j, true, g.share};
      continue;
    }
    if (g.mode == NvmlGpu::Mode::Counter) {
      unsigned long long mj = 0;
      int rc = api_->energy(g.handle, &mj);
      if (rc != kSuccess) {
        degrade(i, rc, "the energy counter", ctx);
        continue;
      }
      // The counter runs since the driver loaded; a driver reload restarts it:
      // carry on from there.
      if (mj < g.start_mj) {
        g.base_j = g.energy_j;
        g.start_mj = mj;
      }
      g.energy_j = g.base_j + static_cast<double>(mj - g.start_mj) / 1000.0;
    } else {
      double w = 0;
      int rc = kSuccess;
      if (g.mode == NvmlGpu::Mode::Power) {
        unsigned int mw = 0;
        rc = api_->power(g.handle, &mw);
        w = mw / 1000.0;
      } else {
        Utilization u{};
        rc = api_->utilization(g.handle, &u);
        w = g.tdp_w * std::min(100u, u.gpu) / 100.0;
        g.util_now = std::min(100u, u.gpu);
        g.util_at = ctx.now;
      }
      if (rc != kSuccess) {
        degrade(i, rc, g.mode == NvmlGpu::Mode::Power ? "the power reading" : "the utilisation reading", ctx);
        g.power.restart();
        g.util_now.reset();
        continue;
      }
      g.power.add(ctx.now, w);
      g.energy_j = g.base_j + g.power.energy_j();
    }
    if (g.mode != NvmlGpu::Mode::Estimate) refresh_utilisation(g, ctx.now);
    g.share = share_of(g, ctx, tree_changed);
    out[i] = {g.energy_j, true, g.share};
  }
}

// CodeCarbon's gpu_utilization_percent: one more call a second, never one a tick.
void NvmlSource::refresh_utilisation(NvmlGpu& g, std::chrono::steady_clock::time_point now) {
  const bool tried = g.util_at != std::chrono::steady_clock::time_point{};
  if (tried && std::chrono::duration<double>(now - g.util_at).count() < kUtilEveryS) return;
  Utilization u{};
  if (api_->utilization(g.handle, &u) == kSuccess) g.util_now = std::min(100u, u.gpu);
  else g.util_now.reset();
  g.util_at = now;
}

}  // namespace greenrun
