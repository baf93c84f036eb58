#include "sensors/nvml_source.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <map>

#include "util/fs.h"
#include "sensors/hardware_data.h"
#include "sensors/power_integrator.h"
#include "util/units.h"

namespace greenrun {

namespace {

// The few NVML types greenrun needs (see shared/reference/energy-sources.md).
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
constexpr nvmlReturn_t kSuccess = 0, kNotSupported = 3, kNoPermission = 4, kNotFound = 6, kInsufficientSize = 7,
                       kGpuIsLost = 15;

struct ProcessInfo {  // nvmlProcessInfo_t as used by the _v3 call
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
};

struct ProcessUtilization {  // nvmlProcessUtilizationSample_t
  unsigned int pid;
  unsigned long long timeStamp;
  unsigned int smUtil, memUtil, encUtil, decUtil;
};

struct Utilization {  // nvmlUtilization_t
  unsigned int gpu, memory;
};

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
  nvmlReturn_t (*processes)(nvmlDevice_t, unsigned int*, ProcessInfo*) = nullptr;
  nvmlReturn_t (*process_util)(nvmlDevice_t, ProcessUtilization*, unsigned int*, unsigned long long) = nullptr;
  nvmlReturn_t (*mig_mode)(nvmlDevice_t, unsigned int*, unsigned int*) = nullptr;
  nvmlReturn_t (*utilization)(nvmlDevice_t, Utilization*) = nullptr;
  const char* (*error)(nvmlReturn_t) = nullptr;

  std::string why(nvmlReturn_t rc) const {
    const char* e = error ? error(rc) : nullptr;
    return std::string(e ? e : "NVML error") + " (" + std::to_string(rc) + ")";
  }
};

struct NvmlGpu {
  nvmlDevice_t handle = nullptr;
  unsigned int index = 0;
  std::string name, uuid;
  enum class Mode { Counter, Power, Estimate } mode = Mode::Counter;
  bool visible = true;
  bool mig = false;
  bool lost = false;
  bool error_noted = false;
  double tdp_w = 0;
  unsigned long long start_mj = 0;  // the counter when this segment began
  double base_j = 0;                // energy before it (a driver reload restarts the counter)
  double energy_j = 0;
  PowerIntegrator power;
  unsigned long long util_ts = 0;
  std::optional<double> share;
};

std::optional<std::vector<int>> visible_gpus(const std::optional<std::string>& env, const std::vector<std::string>& uuids) {
  if (!env) return std::nullopt;
  std::vector<int> out;
  size_t start = 0;
  const std::string& s = *env;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string item(trim(std::string_view(s).substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (item.empty()) break;
    int found = -1;
    if (std::all_of(item.begin(), item.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      int i = std::atoi(item.c_str());
      if (i < static_cast<int>(uuids.size())) found = i;
    } else {
      std::string want = item.rfind("GPU-", 0) == 0 ? item : "GPU-" + item;
      for (size_t i = 0; i < uuids.size(); ++i)
        if (uuids[i].rfind(want, 0) == 0) {
          if (found >= 0) return out;  // an ambiguous prefix is invalid
          found = static_cast<int>(i);
        }
    }
    if (found < 0) break;  // CUDA ignores everything from the first invalid entry on
    out.push_back(found);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

NvmlSource::NvmlSource() : api_(std::make_unique<Api>()) {}

NvmlSource::~NvmlSource() {
  if (api_ && api_->shutdown) api_->shutdown();
}

std::unique_ptr<NvmlSource> NvmlSource::open(const NvmlOptions& o, std::vector<Finding>& findings) {
  const std::string kSource = "NVML";
  auto src = std::unique_ptr<NvmlSource>(new NvmlSource());
  std::vector<std::string> names = o.lib.empty() ? std::vector<std::string>{"libnvidia-ml.so.1", "libnvidia-ml.so"}
                                                 : std::vector<std::string>{o.lib};
  if (!src->lib_.open(names)) {
    Finding f{kSource, "NVIDIA GPUs", o.lib.empty() ? "libnvidia-ml.so.1" : o.lib, Disposition::Absent,
              "NVML library not found (" + src->lib_.error() + "); no NVIDIA driver is installed", ""};
    f.quiet = o.quiet_if_missing && o.lib.empty();
    findings.push_back(std::move(f));
    return nullptr;
  }
  Api& a = *src->api_;
  const DynLib& l = src->lib_;
  bool core = l.bind(a.init, {"nvmlInit_v2", "nvmlInit"}) && l.bind(a.shutdown, {"nvmlShutdown"}) &&
              l.bind(a.count, {"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"}) &&
              l.bind(a.handle, {"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"});
  l.bind(a.name, {"nvmlDeviceGetName"});
  l.bind(a.uuid, {"nvmlDeviceGetUUID"});
  l.bind(a.energy, {"nvmlDeviceGetTotalEnergyConsumption"});
  l.bind(a.power, {"nvmlDeviceGetPowerUsage"});
  l.bind(a.processes, {"nvmlDeviceGetComputeRunningProcesses_v3"});
  l.bind(a.process_util, {"nvmlDeviceGetProcessUtilization"});
  l.bind(a.mig_mode, {"nvmlDeviceGetMigMode"});
  l.bind(a.utilization, {"nvmlDeviceGetUtilizationRates"});
  l.bind(a.error, {"nvmlErrorString"});
  if (!core) {
    findings.push_back({kSource, "NVIDIA GPUs", l.path(), Disposition::Unsupported, "the NVML library lacks nvmlInit_v2 or device calls", ""});
    return nullptr;
  }
  if (int rc = a.init(); rc != kSuccess) {
    a.shutdown = nullptr;  // nothing to shut down
    findings.push_back({kSource, "NVIDIA GPUs", l.path(), rc == 9 ? Disposition::Absent : Disposition::Unreadable, "nvmlInit failed: " + a.why(rc) +
                        (rc == 9 ? " (the NVIDIA driver is not loaded)" : ""), ""});
    return nullptr;
  }
  unsigned int count = 0;
  if (int rc = a.count(&count); rc != kSuccess || count == 0) {
    findings.push_back({kSource, "NVIDIA GPUs", l.path(), rc != kSuccess ? Disposition::Unreadable : Disposition::Absent,
                        rc != kSuccess ? "cannot count GPUs: " + a.why(rc) : "NVML sees no GPU", ""});
    return nullptr;
  }
  src->opened_ = std::chrono::steady_clock::now();
  std::vector<std::string> uuids;
  for (unsigned int i = 0; i < count; ++i) {
    NvmlGpu g;
    g.index = i;
    g.power = PowerIntegrator(o.max_gap_s);
    if (int rc = a.handle(i, &g.handle); rc != kSuccess) {
      findings.push_back({kSource, "GPU " + std::to_string(i), l.path(), Disposition::Unreadable, "no handle: " + a.why(rc), ""});
      uuids.emplace_back();
      continue;
    }
    char buf[96] = {};
    if (a.name && a.name(g.handle, buf, sizeof buf) == kSuccess) g.name = buf;
    std::memset(buf, 0, sizeof buf);
    if (a.uuid && a.uuid(g.handle, buf, sizeof buf) == kSuccess) g.uuid = buf;
    if (g.name.empty()) g.name = "NVIDIA GPU " + std::to_string(i);
    uuids.push_back(g.uuid);
    unsigned int cur = 0, pending = 0;
    g.mig = a.mig_mode && a.mig_mode(g.handle, &cur, &pending) == kSuccess && cur == 1;
    unsigned long long mj = 0;
    unsigned int mw = 0;
    const GpuTdp* row = nullptr;
    int erc = a.energy ? a.energy(g.handle, &mj) : kNotSupported;
    int prc = a.power ? a.power(g.handle, &mw) : kNotSupported;
    Finding f{kSource, "GPU " + std::to_string(i) + " " + g.name + (g.uuid.empty() ? "" : " (" + g.uuid + ")"), l.path(),
              Disposition::Unreadable, "", ""};
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
        findings.push_back(std::move(f));
        continue;
      }
      if (g.tdp_w <= 0 || !a.utilization) {
        f.reason = "reports neither energy nor power (" + a.why(prc) + ") and its TDP is unknown";
        f.fix = "give --gpu-tdp W to estimate it from utilisation";
        findings.push_back(std::move(f));
        continue;
      }
      g.mode = NvmlGpu::Mode::Estimate;
      f.reason = "no energy or power reading (" + a.why(prc) + "): estimated from TDP x utilisation";
    }
    if (g.mig) f.reason += "; MIG enabled: power is per board, shared by process count";
    Channel ch;
    ch.component.kind = ComponentKind::Gpu;
    ch.vendor = "nvidia";
    ch.vendor_library = true;
    ch.note = f.reason;
    ch.label = g.name;
    ch.origin = g.uuid.empty() ? "NVML index " + std::to_string(i) : g.uuid;
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
    }
    src->add(std::move(ch), std::move(g));
  }
  if (src->state_.empty()) return nullptr;
  if (auto visible = visible_gpus(o.cuda_visible_devices, uuids)) {
    for (size_t k = 0; k < src->state_.size(); ++k) {
      NvmlGpu& g = src->state_[k];
      g.visible = std::find(visible->begin(), visible->end(), static_cast<int>(g.index)) != visible->end();
      if (!g.visible) src->channels_[k].origin += "; not in CUDA_VISIBLE_DEVICES";
    }
  }
  return src;
}

std::vector<std::string> NvmlSource::notes() const {
  auto out = notes_;
  for (size_t i = 0; i < state_.size(); ++i) note_gaps(state_[i].power, channels_[i].component.name(), out);
  return out;
}

void NvmlSource::degrade(size_t i, int rc, const char* what, const SampleContext& ctx) {
  NvmlGpu& g = state_[i];
  const std::string name = channels_[i].component.name();
  double at = std::chrono::duration<double>(ctx.now - opened_).count();
  if (rc == kGpuIsLost || rc == 16 /* RESET_REQUIRED */) {
    g.lost = true;
    notes_.push_back(name + " (" + g.name + ") was lost after " + format_seconds(at) + " (" +
                     api_->why(rc) + "); its energy until then is kept, nothing after");
  } else if (!g.error_noted) {
    g.error_noted = true;
    notes_.push_back(name + ": " + what + " failed after " + format_seconds(at) + " (" +
                     api_->why(rc) + "); intervals without a reading are left out");
  }
}

std::optional<double> NvmlSource::share_of(NvmlGpu& g, const SampleContext& ctx) {
  if (!g.visible) return 0.0;
  if (!api_->processes) return std::nullopt;  // no process list: share by CPU time
  unsigned int n = 0;
  int rc = api_->processes(g.handle, &n, nullptr);
  std::vector<ProcessInfo> procs;
  if (rc == kInsufficientSize) {
    procs.resize(n + 8);
    n = static_cast<unsigned int>(procs.size());
    rc = api_->processes(g.handle, &n, procs.data());
    procs.resize(rc == kSuccess ? n : 0);
  } else if (rc != kSuccess) {
    return std::nullopt;
  }
  if (procs.empty()) return 0.0;  // nothing runs on it: its idle power is not the command's
  auto ours = [&](unsigned int pid) {
    return std::find(ctx.tree_pids.begin(), ctx.tree_pids.end(), static_cast<int>(pid)) != ctx.tree_pids.end();
  };
  size_t mine = static_cast<size_t>(std::count_if(procs.begin(), procs.end(), [&](auto& p) { return ours(p.pid); }));
  if (mine == 0) return 0.0;
  if (mine == procs.size()) return 1.0;  // exclusive use
  // Shared: by SM utilisation since the last sample (not available on MIG), else by process count.
  if (!g.mig && api_->process_util) {
    unsigned int count = 0;
    rc = api_->process_util(g.handle, nullptr, &count, g.util_ts);
    if (rc == kInsufficientSize || (rc == kSuccess && count > 0)) {
      std::vector<ProcessUtilization> samples(count + 8);
      count = static_cast<unsigned int>(samples.size());
      if (api_->process_util(g.handle, samples.data(), &count, g.util_ts) == kSuccess) {
        double all = 0, own = 0;
        for (unsigned int i = 0; i < count; ++i) {
          const auto& s = samples[i];
          g.util_ts = std::max(g.util_ts, s.timeStamp);
          if (s.smUtil > 100) continue;  // NVML reports garbage above 100 on some drivers
          all += s.smUtil;
          if (ours(s.pid)) own += s.smUtil;
        }
        if (all > 0) return own / all;
      }
    }
  }
  return static_cast<double>(mine) / static_cast<double>(procs.size());
}

void NvmlSource::read(const SampleContext& ctx, std::vector<ChannelReading>& out) {
  out.assign(state_.size(), {});
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
      }
      if (rc != kSuccess) {
        degrade(i, rc, g.mode == NvmlGpu::Mode::Power ? "the power reading" : "the utilisation reading", ctx);
        g.power.restart();
        continue;
      }
      g.power.add(ctx.now, w);
      g.energy_j = g.power.energy_j();
    }
    g.share = share_of(g, ctx);
    out[i] = {g.energy_j, true, g.share};
  }
}

}  // namespace greenrun
