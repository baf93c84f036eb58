#include "sensors/rocm_source.h"

#include <cmath>
#include <cstdio>

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
  rsmi_status_t (*power)(uint32_t, uint32_t, uint64_t*) = nullptr;
};

RocmSource::RocmSource() : api_(std::make_unique<Api>()) {}

RocmSource::~RocmSource() {
  if (api_ && api_->shut_down) api_->shut_down();
}

std::unique_ptr<RocmSource> RocmSource::open(const RocmOptions& o, std::vector<Finding>& findings) {
  const std::string kSource = "ROCm SMI";
  auto src = std::unique_ptr<RocmSource>(new RocmSource());
  std::vector<std::string> names = o.lib.empty()
                                       ? std::vector<std::string>{"librocm_smi64.so", "librocm_smi64.so.1",
                                                                  "/opt/rocm/lib/librocm_smi64.so"}
                                       : std::vector<std::string>{o.lib};
  if (!src->lib_.open(names)) {
    Finding f{kSource, "AMD GPUs", o.lib.empty() ? "librocm_smi64.so" : o.lib, Disposition::Absent,
              "ROCm SMI library not found (" + src->lib_.error() + ")", ""};
    f.quiet = o.quiet_if_missing && o.lib.empty();
    findings.push_back(std::move(f));
    return nullptr;
  }
  Api& a = *src->api_;
  const DynLib& l = src->lib_;
  if (!l.bind(a.init, {"rsmi_init"}) || !l.bind(a.count, {"rsmi_num_monitor_devices"})) {
    findings.push_back({kSource, "AMD GPUs", l.path(), Disposition::Unsupported, "the library lacks rsmi_init", ""});
    return nullptr;
  }
  l.bind(a.shut_down, {"rsmi_shut_down"});
  l.bind(a.energy, {"rsmi_dev_energy_count_get"});
  l.bind(a.power, {"rsmi_dev_power_ave_get"});
  if (int rc = a.init(0); rc != kOk) {
    a.shut_down = nullptr;
    findings.push_back({kSource, "AMD GPUs", l.path(), Disposition::Unreadable, "rsmi_init failed (status " + std::to_string(rc) + ")", ""});
    return nullptr;
  }
  uint32_t n = 0;
  if (a.count(&n) != kOk || n == 0) {
    findings.push_back({kSource, "AMD GPUs", l.path(), Disposition::Absent, "ROCm SMI sees no GPU", ""});
    return nullptr;
  }
  for (uint32_t i = 0; i < n; ++i) {
    RocmGpu g;
    g.index = i;
    g.power = PowerIntegrator(o.max_gap_s);
    uint64_t count = 0, ts = 0, uw = 0;
    float res = 0;
    int erc = a.energy ? a.energy(i, &count, &res, &ts) : kNotSupported;
    int prc = a.power ? a.power(i, 0, &uw) : kNotSupported;
    Finding f{kSource, "GPU " + std::to_string(i), l.path(), Disposition::Covered, "", ""};
    if (prc == kOk && uw == 0) {
      // MI250/MI250X: the odd GCD of a package reports no power, the even one both.
      f.reason = "reports zero power: on MI250-class boards its package's other GCD reports both; not added";
      findings.push_back(std::move(f));
      continue;
    }
    if (erc == kOk && res > 0) {
      g.counter = true;
      g.resolution_uj = res;
      f.reason = "energy counter";
    } else if (prc == kOk) {
      g.counter = false;
      f.reason = "average power integrated (no energy counter)";
    } else {
      f.disposition = Disposition::Unreadable;
      f.reason = "neither energy nor power readable (status " + std::to_string(prc) + ")";
      if (prc == kPermission) f.fix = "add the user to the render and video groups";
      findings.push_back(std::move(f));
      continue;
    }
    Channel ch;
    ch.component.kind = ComponentKind::Gpu;
    ch.vendor = "amd";
    ch.vendor_library = true;
    ch.note = f.reason;
    ch.label = "AMD GPU " + std::to_string(i);
    ch.source = g.counter ? "ROCm SMI energy counter" : "ROCm SMI power (integrated)";
    ch.origin = l.path() + ", device " + std::to_string(i);
    src->add(std::move(ch), std::move(g));
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
    const bool have_power = api_->power && api_->power(g.index, 0, &uw) == kOk;
    const double before = g.power.energy_j();
    const double dt = g.primed ? std::chrono::duration<double>(ctx.now - g.power_t).count() : 0;
    if (have_power) g.power.add(ctx.now, static_cast<double>(uw) / 1e6);
    const double power_j = g.power.energy_j() - before;
    if (g.counter) {
      uint64_t count = 0, ts = 0;
      float res = 0;
      if (api_->energy(g.index, &count, &res, &ts) != kOk) continue;
      if (!g.primed) g.first = count;
      const double counted = static_cast<double>(count - g.first) * g.resolution_uj / 1e6;
      if (!g.checked && have_power) {
        // For the first second the counter is checked against power x time and
        // power x time is what counts: a counter that disagrees by more than 3x
        // (stuck, or a wrong resolution) is never used, and the figure never
        // has to go back.
        g.check_s += dt;
        g.energy_j += power_j;
        if (g.check_s >= 1.0) {
          g.checked = true;
          const double ratio = g.energy_j > 0 ? counted / g.energy_j : 1;
          if (ratio < 1.0 / 3 || ratio > 3) {
            g.counter = false;
            channels_[i].source = "ROCm SMI power (integrated)";
            char r[32];
            std::snprintf(r, sizeof r, "%.3g", ratio);
            notes_.push_back(channels_[i].component.name() +
                             ": the ROCm SMI energy counter disagreed with power x time (" + r +
                             "x); average power is integrated instead");
          } else {
            g.base_j = g.energy_j - counted;  // continue from here with the counter
          }
        }
      } else {
        g.checked = true;
        g.energy_j = g.base_j + counted;
      }
    } else {
      g.energy_j += power_j;
    }
    g.power_t = ctx.now;
    g.primed = true;
    out[i] = {g.energy_j, true, std::nullopt};
  }
}

}  // namespace greenrun
