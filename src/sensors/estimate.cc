#include "sensors/estimate.h"

#include <algorithm>
#include <cmath>

#include "util/units.h"

namespace greenrun {

namespace {

std::string w(double v) { return significant(v, 3) + " W"; }

std::string instance_name(const CloudInstance& c) { return c.provider + " " + c.type; }

}  // namespace

double PowerCurve::at(double load) const {
  if (points.empty()) return 0;
  load = std::clamp(load, 0.0, 1.0);
  for (size_t i = 1; i < points.size(); ++i)
    if (load <= points[i].first) {
      const auto& [l0, w0] = points[i - 1];
      const auto& [l1, w1] = points[i];
      return l1 > l0 ? w0 + (w1 - w0) * (load - l0) / (l1 - l0) : w1;
    }
  return points.back().second;
}

std::string PowerCurve::text() const {
  std::string watts, loads;
  for (const auto& [l, p] : points) {
    watts += (watts.empty() ? "" : "/") + significant(p, 3);
    loads += (loads.empty() ? "" : "/") + std::to_string(static_cast<int>(std::lround(100 * l)));
  }
  return watts + " W at " + loads + "% load";
}

PowerCurve instance_curve(const std::vector<double>& watts) {
  PowerCurve c;
  if (watts.size() != std::size(kInstanceLoads)) return c;
  for (size_t i = 0; i < watts.size(); ++i) c.points.emplace_back(kInstanceLoads[i], watts[i]);
  return c;
}

std::optional<RamCurveModel> ram_curve_model(const EstimateOverrides& o) {
  if (!o.instance || o.ram_w_per_gb) return std::nullopt;
  PowerCurve c = instance_curve(o.instance->ram_w);
  if (c.points.empty()) return std::nullopt;
  return RamCurveModel{c, "per-instance memory model: " + instance_name(*o.instance) + ", Teads RAM power " + c.text() +
                              " (by CPU load; Cloud Carbon Footprint data), the command's share by its resident memory"};
}

namespace {

CpuPowerModel given_model(const EstimateOverrides& o) {
  CpuPowerModel m;
  m.max_w = o.cpu_max_w.value_or(o.cpu_idle_w.value_or(0) / kIdleShare);
  m.idle_w = o.cpu_idle_w.value_or(m.max_w * kIdleShare);
  m.method = "given: " + w(m.idle_w) + " idle, " + w(m.max_w) + " at full load, linear in load";
  m.basis = "user";
  m.low_factor = 0.9;
  m.high_factor = 1.1;
  return m;
}

std::optional<CpuPowerModel> instance_model(const EstimateOverrides& o) {
  if (!o.instance) return std::nullopt;
  PowerCurve c = instance_curve(o.instance->pkg_w);
  if (c.points.empty()) return std::nullopt;
  CpuPowerModel m;
  m.curve = c;
  m.idle_w = c.points.front().second;
  m.max_w = c.points.back().second;
  m.method = "per-instance model: " + instance_name(*o.instance) + ", Teads package power " + c.text() +
             " (Cloud Carbon Footprint data), " + std::to_string(o.instance->vcpus) + " vCPUs";
  m.basis = "instance";
  m.low_factor = 0.8;
  m.high_factor = 1.2;
  return m;
}

// The TDP table is looked up only where the model needs it.
std::optional<CpuTdp> tdp_row(const HardwareData& data, const EstimateOverrides& o, const std::string& model) {
  if (o.cpu_tdp_w) return CpuTdp{"given with --cpu-tdp", *o.cpu_tdp_w, 0, 0, "--cpu-tdp"};
  return data.match_cpu(model);
}

CpuPowerModel cloud_model(const CloudCoefficient& c, const std::string& cloud, int vcpus, const std::string& shown) {
  CpuPowerModel m;
  m.idle_w = c.min_w * vcpus;
  m.max_w = c.max_w * vcpus;
  m.method = "cloud per-vCPU model: Cloud Carbon Footprint " + (cloud.empty() ? std::string() : cloud + " ") +
             c.microarch + ", " + significant(c.min_w, 3) + "-" + significant(c.max_w, 3) + " W per vCPU x " +
             std::to_string(vcpus) + " vCPUs (" + shown + ")";
  m.basis = "cloud";
  m.low_factor = 0.7;
  m.high_factor = 1.3;
  return m;
}

CpuPowerModel tdp_per_vcpu_model(const CpuTdp& row, int vcpus, const std::string& shown) {
  CpuPowerModel m;
  double per_thread = row.tdp_w / row.threads;
  m.max_w = per_thread * vcpus;
  m.idle_w = m.max_w * kIdleShare;
  m.method = "TDP per vCPU: " + shown + ", " + w(row.tdp_w) + " TDP / " + std::to_string(row.threads) +
             " threads x " + std::to_string(vcpus) + " vCPUs, idle " + significant(100 * kIdleShare, 2) + "% of that";
  m.basis = "tdp";
  m.low_factor = 0.6;
  m.high_factor = 1.2;
  return m;
}

CpuPowerModel cloud_average_model(const CloudCoefficient& avg, int vcpus, const std::string& shown,
                                  const std::optional<Microarch>& arch) {
  CpuPowerModel m;
  m.idle_w = avg.min_w * vcpus;
  m.max_w = avg.max_w * vcpus;
  m.method = "cloud per-vCPU average: Cloud Carbon Footprint " + avg.provider + " average, " +
             significant(avg.min_w, 3) + "-" + significant(avg.max_w, 3) + " W per vCPU x " +
             std::to_string(vcpus) + " vCPUs (" + shown + (arch ? ", " + arch->name : "") +
             ", has no coefficient of its own)";
  m.basis = "cloud-average";
  m.low_factor = 0.5;
  m.high_factor = 1.5;
  m.matched = false;
  return m;
}

// A VM has some vCPUs of a larger host: power per vCPU, not per package.
std::optional<CpuPowerModel> vm_model(const Hardware& hw, const HardwareData& data, const EstimateOverrides& o,
                                      const std::string& model, const std::string& shown) {
  const int vcpus = std::max(1, hw.cpu.logical);
  CpuDescription probe = hw.cpu;
  probe.model = model;
  auto arch = data.microarchitecture(probe);
  const CloudCoefficient* c = arch && !arch->ccf.empty() ? data.coefficient(hw.cloud, arch->ccf) : nullptr;
  if (c) return cloud_model(*c, hw.cloud, vcpus, shown);
  auto row = tdp_row(data, o, model);
  if (row && row->threads > 0) return tdp_per_vcpu_model(*row, vcpus, shown);
  const CloudCoefficient* avg = data.coefficient(hw.cloud.empty() ? "aws" : hw.cloud, "average");
  if (!avg) avg = data.coefficient("aws", "average");
  if (avg) return cloud_average_model(*avg, vcpus, shown, arch);
  return std::nullopt;
}

CpuPowerModel tdp_model(const CpuTdp& row, int sockets, const std::string& shown) {
  CpuPowerModel m;
  m.max_w = row.tdp_w * sockets;
  m.idle_w = m.max_w * kIdleShare;
  m.method = "TDP model: " + shown + ", " + w(row.tdp_w) + " TDP x " + std::to_string(sockets) +
             (sockets == 1 ? " socket" : " sockets") + ", idle " + significant(100 * kIdleShare, 2) + "% of that";
  m.basis = "tdp";
  m.low_factor = 0.6;
  m.high_factor = 1.2;
  return m;
}

CpuPowerModel default_model(const CpuDescription& cpu, const std::string& shown) {
  CpuPowerModel m;
  const int cores = std::max(1, cpu.cores > 0 ? cpu.cores : cpu.logical);
  m.max_w = kUnknownCpuWPerCore * cores;
  m.idle_w = m.max_w * kIdleShare;
  m.method = "default per core: " + significant(kUnknownCpuWPerCore, 2) + " W x " + std::to_string(cores) +
             " cores (Green Algorithms), idle " + significant(100 * kIdleShare, 2) + "% of that; " + shown +
             " is not in the TDP table (set --cpu-tdp or --cpu-model)";
  m.basis = "default";
  m.low_factor = 0.4;
  m.high_factor = 2.0;
  m.matched = false;
  return m;
}

}  // namespace

CpuPowerModel cpu_power_model(const Hardware& hw, const HardwareData& data, const EstimateOverrides& o) {
  const CpuDescription& cpu = hw.cpu;
  const std::string model = o.cpu_model.empty() ? cpu.model : o.cpu_model;
  const std::string shown = model.empty() ? (cpu.arm_part.empty() ? "unknown CPU" : "ARM CPU part " + cpu.arm_part) : model;
  if (o.cpu_idle_w || o.cpu_max_w) return given_model(o);
  // A known AWS instance: the Teads measurements of that very instance type,
  // better than any per-vCPU average.
  if (auto m = instance_model(o)) return *m;
  if (hw.virtual_machine)
    if (auto m = vm_model(hw, data, o, model, shown)) return *m;
  if (auto row = tdp_row(data, o, model)) return tdp_model(*row, std::max(1, cpu.sockets), shown);
  return default_model(cpu, shown);
}

double cpu_power_w(const CpuPowerModel& m, double load) {
  if (!m.curve.points.empty()) return m.curve.at(load);
  return m.idle_w + (m.max_w - m.idle_w) * std::clamp(load, 0.0, 1.0);
}

EstimateSource::EstimateSource(CpuPowerModel cpu_model, bool cpu, bool ram, double ram_w_per_gb, int logical_cpus,
                               std::optional<RamCurveModel> ram_curve)
    : model_(std::move(cpu_model)), ram_w_per_gb_(ram_w_per_gb), ram_curve_(std::move(ram_curve)),
      logical_(std::max(1, logical_cpus)) {
  (cpu ? channels_ : standby_).push_back(cpu_channel());
  (cpu ? state_ : standby_state_).push_back(EstimatedChannel{});
  (ram ? channels_ : standby_).push_back(ram_channel());
  (ram ? state_ : standby_state_).push_back(EstimatedChannel{true, 0, std::nullopt});
}

Channel EstimateSource::cpu_channel() const {
  Channel c;
  c.component.kind = ComponentKind::Cpu;
  c.label = "CPU";
  c.source = "estimate";
  c.origin = "/proc/stat load";
  c.measured = false;
  c.method = model_.method;
  c.note = model_.method;
  c.low_factor = model_.low_factor;
  c.high_factor = model_.high_factor;
  return c;
}

Channel EstimateSource::ram_channel() const {
  Channel c;
  c.component.kind = ComponentKind::Ram;
  c.label = "memory";
  c.source = "estimate";
  c.origin = "/proc/meminfo, /proc/PID/stat";
  c.measured = false;
  c.method = ram_curve_ ? ram_curve_->method
                        : "memory model: " + significant(ram_w_per_gb_, 4) + " W per GB in use (" +
                              (ram_w_per_gb_ == kRamWPerGb ? std::string("Green Algorithms") : std::string("given")) +
                              "), the command's share by its resident memory";
  c.note = c.method;
  c.low_factor = 0.5;
  c.high_factor = 1.5;
  return c;
}

void EstimateSource::update(EstimatedChannel& e, const SampleContext& ctx) const {
  if (!ctx.cpu_valid || ctx.cpu_dt_s <= 0) return;
  const double capacity = ctx.machine_capacity_s > 0 ? ctx.machine_capacity_s : ctx.cpu_dt_s * logical_;
  const double load = std::max(ctx.machine_busy_s, ctx.tree_cpu_s) / capacity;
  if (!e.ram) {
    e.energy_j += cpu_power_w(model_, load) * ctx.cpu_dt_s;
    return;
  }
  const double used = std::max(ctx.machine_used_bytes, ctx.tree_rss_bytes);
  e.energy_j += (ram_curve_ ? ram_curve_->curve.at(load) : used / 1e9 * ram_w_per_gb_) * ctx.cpu_dt_s;
  e.share = used > 0 ? std::min(1.0, ctx.tree_rss_bytes / used) : 0.0;
}

// The standby channels are computed all along, so that the records before a
// counter was found frozen can be estimated too.
void EstimateSource::read(const SampleContext& ctx, std::vector<ChannelReading>& out) {
  out.clear();
  for (auto* states : {&state_, &standby_state_})
    for (EstimatedChannel& e : *states) {
      update(e, ctx);
      out.push_back({e.energy_j, true, e.share});
    }
}

}  // namespace greenrun
