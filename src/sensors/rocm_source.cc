#include "sensors/rocm_source.h"

#include <cmath>
#include <cstdio>
#include <optional>

#include "util/units.h"

namespace greenrun {

namespace {
using rsmi_status_t = int;
constexpr rsmi_status_t kOk = 0, kNotSupported = 2, kPermission = 4;
}  // namespace

struct RocmSource::Api {
  rsmi_status_t (*init)(uint64_t) = nullptr;
  rsmi_status_t (*shut_down)() = nullptr;
  rsmi_status_t (*count)(uint32_t*) = nullptr;
  rsmi_status_t (*energy)(uint32_t, uint64_t*, float*, uint64_t*) = nullptr;
  rsmi_status_t (*power_get)(uint32_t, uint64_t*, uint32_t* /* RSMI_POWER_TYPE */) = nullptr;
  rsmi_status_t (*power_ave)(uint32_t, uint32_t, uint64_t*) = nullptr;

  /// Socket power in microwatts. rsmi_dev_power_get (ROCm 6.0 on) reads
  /// current power where the part has it and average power where not; the
  /// average-only call it replaces is deprecated and fails on parts with
  /// current power only ("Newer ASICs will support current power only", rocm_smi.h: MI300).
  rsmi_status_t power(uint32_t dv, uint64_t* uw) const {
    uint32_t type = 0;
    if (power_get) return power_get(dv, uw, &type);
    return power_ave ? power_ave(dv, 0, uw) : kNotSupported;
  }
};

namespace {

/// The secondary die (GCD) of an MI250-class package, whose primary die
/// reports the whole package: the library fails its power call and counts 0
/// (rocm_smi.py's checkIfSecondaryDie: "energy counter == 0"); older kernels
/// reported 0 W.
bool secondary_die(int erc, uint64_t count, int prc, uint64_t uw) {
  return (prc == kOk && uw == 0) || (prc != kOk && erc == kOk && count == 0);
}

const char kSource[] = "ROCm SMI";

/// librocm_smi64 from --rocm-lib, else its usual names; false (with the finding) where none loads.
bool open_library(DynLib& lib, const RocmOptions& o, std::vector<Finding>& findings) {
  std::vector<std::string> names = o.lib.empty()
                                       ? std::vector<std::string>{"librocm_smi64.so", "librocm_smi64.so.1",
                                                                  "/opt/rocm/lib/librocm_smi64.so"}
                                       : std::vector<std::string>{o.lib};
  if (lib.open(names)) return true;
  Finding f{kSource, "AMD GPUs", o.lib.empty() ? "librocm_smi64.so" : o.lib, Disposition::Absent,
            "ROCm SMI library not found (" + lib.error() + ")", ""};
  f.quiet = o.quiet_if_missing && o.lib.empty();
  findings.push_back(std::move(f));
  return false;
}

/// Binds every call greenrun uses; false (with the finding) where rsmi_init or the device count is missing.
bool bind_api(const DynLib& l, RocmSource::Api& a, std::vector<Finding>& findings) {
  if (!l.bind(a.init, {"rsmi_init"}) || !l.bind(a.count, {"rsmi_num_monitor_devices"})) {
    findings.push_back({kSource, "AMD GPUs", l.path(), Disposition::Unsupported, "the library lacks rsmi_init", ""});
    return false;
  }
  l.bind(a.shut_down, {"rsmi_shut_down"});
  l.bind(a.energy, {"rsmi_dev_energy_count_get"});
  l.bind(a.power_get, {"rsmi_dev_power_get"});
  l.bind(a.power_ave, {"rsmi_dev_power_ave_get"});
  return true;
}

/// rsmi_init, then the GPU count; nullopt (with the finding) where either fails or there is no GPU.
std::optional<uint32_t> start_rsmi(RocmSource::Api& a, const std::string& path, std::vector<Finding>& findings) {
  if (int rc = a.init(0); rc != kOk) {
    a.shut_down = nullptr;
    findings.push_back({kSource, "AMD GPUs", path, Disposition::Unreadable, "rsmi_init failed (status " + std::to_string(rc) + ")", ""});
    return std::nullopt;
  }
  uint32_t n = 0;
  if (a.count(&n) != kOk || n == 0) {
    findings.push_back({kSource, "AMD GPUs", path, Disposition::Absent, "ROCm SMI sees no GPU", ""});
    return std::nullopt;
  }
  return n;
}

/// Counter or integrated power for GPU g.index, said in f.reason; false where
/// neither can be used (f says why).
bool choose_mode(const RocmSource::Api& a, RocmGpu& g, Finding& f) {
  const uint32_t i = g.index;
  uint64_t count = 0, ts = 0, uw = 0;
  float res = 0;
  int erc = a.energy ? a.energy(i, &count, &res, &ts) : kNotSupported;
  int prc = a.power(i, &uw);
  if (secondary_die(erc, count, prc, uw)) {
    f.reason = "reports no power and no energy: the secondary die of an MI250-class package, whose primary die "
               "reports both; not added";
    return false;
  }
  if (erc == kOk && res > 0) {
    g.counter = true;
    g.resolution_uj = res;
    f.reason = prc == kOk ? "energy counter" : "energy counter (not checked: no power reading)";
  } else if (prc == kOk) {
    g.counter = false;
    f.reason = "power integrated (no energy counter)";
  } else {
    f.disposition = Disposition::Unreadable;
    f.reason = "neither energy nor power readable (status " + std::to_string(prc) + ")";
    if (prc == kPermission) f.fix = "add the user to the render and video groups";
    return false;
  }
  return true;
}

Channel gpu_channel(const RocmGpu& g, const std::string& note, const std::string& path) {
  Channel ch;
  ch.component.kind = ComponentKind::Gpu;
  ch.vendor = "amd";
  ch.vendor_library = true;
  ch.note = note;
  ch.label = "AMD GPU " + std::to_string(g.index);
  ch.source = g.counter ? "ROCm SMI energy counter" : "ROCm SMI power (integrated)";
  ch.counter = g.counter;
  ch.origin = path + ", device " + std::to_string(g.index);
  return ch;
}

}  // namespace

RocmSource::RocmSource() : api_(std::make_unique<Api>()) {}

RocmSource::~RocmSource() {
  if (api_ && api_->shut_down) api_->shut_down();
}

std::unique_ptr<RocmSource> RocmSource::open(const RocmOptions& o, std::vector<Finding>& findings) {
  auto src = std::unique_ptr<RocmSource>(new RocmSource());
  if (!open_library(src->lib_, o, findings)) return nullptr;
  Api& a = *src->api_;
  const DynLib& l = src->lib_;
  if (!bind_api(l, a, findings)) return nullptr;
  const auto n = start_rsmi(a, l.path(), findings);
  if (!n) return nullptr;
  for (uint32_t i = 0; i < *n; ++i) {
    RocmGpu g;
    g.index = i;
    g.power = PowerIntegrator(o.max_gap_s);
    Finding f{kSource, "GPU " + std::to_string(i), l.path(), Disposition::Covered, "", ""};
    if (!choose_mode(a, g, f)) {
      findings.push_back(std::move(f));
      continue;
    }
    auto channel = gpu_channel(g, f.reason, l.path());  // before g is moved into the source
    src->add(std::move(channel), std::move(g));
  }
  if (src->state_.empty()) return nullptr;
  return src;
}

std::vector<std::string> RocmSource::notes() const {
  auto out = notes_;
  for (size_t i = 0; i < state_.size(); ++i)
    if (!state_[i].counter) note_gaps(state_[i].power, channels_[i].component.name(), out);
  return out;
}

void RocmSource::read(const SampleContext& ctx, std::vector<ChannelReading>& out) {
  out.assign(state_.size(), {});
  for (size_t i = 0; i < state_.size(); ++i) {
    RocmGpu& g = state_[i];
    uint64_t uw = 0;
    const bool have_power = api_->power(g.index, &uw) == kOk;
    const double before = g.power.energy_j();
    const double dt = g.primed ? std::chrono::duration<double>(ctx.now - g.power_t).count() : 0;
    if (have_power) g.power.add(ctx.now, static_cast<double>(uw) / 1e6);
    const double power_j = g.power.energy_j() - before;
    if (!g.primed) g.first_t = ctx.now;
    if (g.counter) {
      uint64_t count = 0, ts = 0;
      float res = 0;
      if (api_->energy(g.index, &count, &res, &ts) != kOk) continue;
      count_energy(i, count, have_power, power_j, dt, ctx);
    } else {
      g.energy_j += power_j;
    }
    g.power_t = ctx.now;
    g.primed = true;
    out[i] = {g.energy_j, true, std::nullopt};
  }
}

std::string RocmSource::replace_frozen(size_t i) {
  RocmGpu& g = state_.at(i);
  if (!g.counter || g.power.energy_j() <= 0) return "";
  g.counter = false;
  g.energy_j += g.power.energy_j() - g.power_at_move_j;
  channels_[i].source = "ROCm SMI power (integrated)";
  channels_[i].counter = false;
  return "its power, read all along, integrated instead from the counter's last move";
}

void RocmSource::count_energy(size_t i, uint64_t count, bool have_power, double power_j, double dt,
                              const SampleContext& ctx) {
  RocmGpu& g = state_[i];
  if (!g.primed || count != g.last_count) g.power_at_move_j = g.power.energy_j();
  if (!g.primed) g.last_count = count;
  if (count < g.last_count) {
    // A driver reload or GPU reset restarts the counter: what it counted in
    // this interval is unknown, so counting resumes from the new value.
    notes_.push_back(channels_[i].component.name() + ": the ROCm SMI energy counter went back after " +
                     format_seconds(std::chrono::duration<double>(ctx.now - g.first_t).count()) +
                     " (a driver reload or GPU reset); counting resumed from its new value");
  } else {
    g.counted_j += static_cast<double>(count - g.last_count) * g.resolution_uj / 1e6;
  }
  g.last_count = count;
  if (g.checked || !have_power) {
    g.checked = true;
    g.energy_j = g.base_j + g.counted_j;
    return;
  }
  // For the first second the counter is checked against power x time and
  // power x time is what counts: a counter that disagrees by more than 3x
  // (stalled, as in rocm_smi_lib #180, or a wrong resolution) is never used,
  // and the figure never has to go back.
  g.check_s += dt;
  g.energy_j += power_j;
  if (g.check_s < 1.0) return;
  g.checked = true;
  const double ratio = g.energy_j > 0 ? g.counted_j / g.energy_j : 1;
  if (ratio >= 1.0 / 3 && ratio <= 3) {
    g.base_j = g.energy_j - g.counted_j;  // continue from here with the counter
    return;
  }
  g.counter = false;
  channels_[i].source = "ROCm SMI power (integrated)";
  channels_[i].counter = false;
  char r[32];
  std::snprintf(r, sizeof r, "%.3g", ratio);
  notes_.push_back(channels_[i].component.name() + ": the ROCm SMI energy counter disagreed with power x time (" + r +
                   "x); power is integrated instead");
}

}  // namespace greenrun
