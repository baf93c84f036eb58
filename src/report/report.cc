#include "report/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include <cstring>
#include <sys/resource.h>

#include "util/units.h"

namespace greenrun {

double RunReport::energy_j() const {
  double sum = 0;
  for (const auto& c : components) sum += c.energy_j;
  return sum;
}

double RunReport::average_power_w() const {
  const double span = sampled_s > 0 ? sampled_s : duration_s;
  return span > 0 ? energy_j() / span : 0.0;
}

double RunReport::machine_energy_j() const {
  double sum = 0;
  for (const auto& c : components) sum += c.machine_energy_j;
  return sum;
}

bool RunReport::any_measured() const {
  return std::any_of(components.begin(), components.end(), [](const auto& c) { return c.measured; });
}

bool RunReport::any_estimated() const {
  return std::any_of(components.begin(), components.end(), [](const auto& c) { return !c.measured; });
}

std::string RunReport::energy_kind() const {
  if (components.empty()) return "none";
  return any_estimated() ? (any_measured() ? "partly estimated" : "estimated") : "measured";
}

std::vector<ComponentReport> components_from(const Measurements& m, Scope scope) {
  std::vector<ComponentReport> out;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < m.channels.size(); ++i) {
    const Channel& ch = m.channels[i];
    const ChannelTotals& t = m.totals[i];
    const std::string name = ch.component.name();
    auto it = index.find(name);
    if (it == index.end()) {
      it = index.emplace(name, out.size()).first;
      ComponentReport c;
      c.name = name;
      c.measured = ch.measured;
      c.source = ch.source;
      c.method = ch.method;
      if (!ch.measured) c.energy_j_low = c.energy_j_high = 0.0;
      out.push_back(std::move(c));
    }
    ComponentReport& c = out[it->second];
    double e = scope == Scope::Process ? t.tree_j : t.machine_j;
    c.energy_j += e;
    c.machine_energy_j += t.machine_j;
    if (c.source.find(ch.source) == std::string::npos) c.source += ", " + ch.source;
    c.measured = c.measured && ch.measured;
    if (!ch.measured) {
      *c.energy_j_low += e * ch.low_factor;
      *c.energy_j_high += e * ch.high_factor;
    } else if (c.energy_j_low) {
      *c.energy_j_low += e;
      *c.energy_j_high += e;
    }
    nlohmann::ordered_json d = {{"label", ch.label},
                        {"energy_j", e},
                        {"machine_energy_j", t.machine_j},
                        {"measured", ch.measured},
                        {"source", ch.source},
                        {"origin", ch.origin}};
    if (t.missing) d["intervals_without_reading"] = t.missing;
    c.detail.push_back(std::move(d));
  }
  return out;
}

RunReport assemble_report(const ReportInputs& in, const Measurements& m) {
  const Options& o = *in.options;
  RunReport r;
  r.command = o.command;
  r.scope = o.scope;
  r.components = components_from(m, o.scope);
  r.user_s = m.user_s;
  r.system_s = m.system_s;
  r.peak_rss_bytes = m.peak_rss_bytes;
  r.io = m.io;
  r.processes_seen = m.processes_seen;
  r.descendants_running = m.running;
  if (in.tree) r.tree = *in.tree;
  r.peak_power_w = o.scope == Scope::Process ? m.peak_tree_w : m.peak_machine_w;
  r.sampled_s = m.sampled_s;
  r.samples = m.samples;
  r.sampler_cpu_s = m.sampler_cpu_s;
  if (m.machine_capacity_s > 0) r.machine_cpu_percent = 100.0 * m.machine_busy_s / m.machine_capacity_s;
  if (m.memory_s > 0) r.machine_memory_used_bytes = m.machine_memory_byte_s / m.memory_s;
  rusage self{};
  ::getrusage(RUSAGE_SELF, &self);
  r.greenrun_cpu_s = static_cast<double>(self.ru_utime.tv_sec + self.ru_stime.tv_sec) +
                     (self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6;
  r.interval_s = std::chrono::duration<double>(o.interval).count();
  r.window_s = r.interval_s >= kCpuWindowS ? r.interval_s : std::ceil(kCpuWindowS / r.interval_s - 1e-9) * r.interval_s;
  if (in.findings) r.findings = *in.findings;
  r.notes = m.notes;
  r.timeline = m.timeline;
  r.timeline_origin = m.origin;
  return r;
}

void add_emissions(RunReport& r, const CarbonData& data, const CarbonSettings& settings) {
  if (r.components.empty()) return;
  r.carbon = build_carbon_report(data, settings, r.timeline, r.timeline_origin, r.scope == Scope::Machine, r.started_at,
                                 r.ended_at);
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

}  // namespace greenrun
