#include "report/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include <cstring>
#include <sys/resource.h>
#include <unistd.h>

#include "report/text.h"
#include "util/exit_codes.h"
#include "util/fs.h"
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
  std::map<size_t, double> util_pct_s, util_s;  // per component: utilisation x seconds, seconds
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
    if (t.utilisation_s > 0) {
      util_pct_s[it->second] += t.utilisation_pct_s;
      util_s[it->second] += t.utilisation_s;
    }
  }
  for (size_t i = 0; i < out.size(); ++i)
    if (util_s.count(i)) out[i].utilisation_percent = util_pct_s[i] / util_s[i];
  return out;
}

void mark_frozen(std::vector<Finding>& findings, const std::vector<FrozenCounter>& frozen) {
  for (const auto& f : frozen) {
    auto it = std::find_if(findings.begin(), findings.end(),
                           [&](const Finding& x) { return x.used() && x.source == f.source && x.what == f.label; });
    if (it == findings.end())  // a source that renamed its channel since the probe
      it = std::find_if(findings.begin(), findings.end(), [&](const Finding& x) { return x.used() && x.what == f.label; });
    if (it == findings.end()) {
      findings.push_back({f.source, f.label, "", Disposition::Frozen, f.reason, ""});
      continue;
    }
    it->disposition = Disposition::Frozen;
    it->reason = f.reason;
    it->quiet = !f.from_start;  // the run's notes say it already
  }
}

std::string host_name() {
  char buf[256] = {};
  return ::gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : "";
}

std::string boot_id() {
  static const std::string id(trim(read_line("/proc/sys/kernel/random/boot_id").value_or("")));
  return id;
}

std::string singular_unit(const std::string& unit) {
  auto ends = [&](const char* tail) {
    const std::string t(tail);
    return unit.size() > t.size() && unit.compare(unit.size() - t.size(), t.size(), t) == 0;
  };
  if (ends("ches") || ends("shes") || ends("sses") || ends("xes")) return unit.substr(0, unit.size() - 2);
  if (ends("s") && !ends("ss")) return unit.substr(0, unit.size() - 1);
  return unit;
}

namespace {

/// Per unit counted (`counts` indexes `units`; a phase's may be shorter), at `energy_j` in all.
std::vector<UnitReport> unit_reports(const std::vector<UnitCount>& units, const std::vector<double>& counts, double energy_j) {
  std::vector<UnitReport> out;
  for (size_t u = 0; u < units.size() && u < counts.size(); ++u) {
    UnitReport r{units[u].unit, counts[u], std::nullopt, std::nullopt};
    if (counts[u] > 0) r.energy_j_per_unit = energy_j / counts[u];
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<UnitReport> run_units(const std::vector<UnitCount>& units, double energy_j) {
  std::vector<double> counts;
  for (const auto& u : units) counts.push_back(u.count);
  return unit_reports(units, counts, energy_j);
}

std::optional<double> expected_s(const ReportInputs& in) {
  if (!in.expected_duration) return std::nullopt;
  return std::chrono::duration<double>(*in.expected_duration).count();
}

std::chrono::system_clock::time_point at_offset(std::chrono::system_clock::time_point origin, double s) {
  return origin + std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(s));
}

void add_phases(RunReport& r, const Measurements& m) {
  for (const auto& p : m.phases) {
    const double e = r.scope == Scope::Process ? p.tree_j : p.machine_j;
    r.phases.push_back({p.name, p.start_s, p.end_s, e, p.machine_j, {}, unit_reports(m.units, p.counts, e)});
    if (r.phases.back().units.empty()) continue;
    auto& units = r.phases.back().units;  // only what this phase counted
    units.erase(std::remove_if(units.begin(), units.end(), [](const UnitReport& u) { return u.count == 0; }), units.end());
  }
}

}  // namespace

RunReport assemble_report(const ReportInputs& in, const Measurements& m) {
  RunReport r;
  r.command = in.command;
  r.host = host_name();
  r.boot_id = boot_id();
  r.scope = in.scope;
  r.components = components_from(m, in.scope);
  r.user_s = m.user_s;
  r.system_s = m.system_s;
  r.peak_rss_bytes = m.peak_rss_bytes;
  r.io = m.io;
  r.processes_seen = m.processes_seen;
  r.processes_exact = m.processes_exact;
  r.descendants_running = m.running;
  if (in.tree) r.tree = *in.tree;
  r.peak_power_w = in.scope == Scope::Process ? m.peak_tree_w : m.peak_machine_w;
  r.sampled_s = m.sampled_s;
  r.samples = m.samples;
  r.sampler_cpu_s = m.sampler_cpu_s;
  if (m.machine_capacity_s > 0) r.machine_cpu_percent = 100.0 * m.machine_busy_s / m.machine_capacity_s;
  if (m.memory_s > 0) {
    r.machine_memory_used_bytes = m.machine_memory_byte_s / m.memory_s;
    r.machine_memory_psutil_used_bytes = m.machine_psutil_memory_byte_s / m.memory_s;
  }
  rusage self{};
  ::getrusage(RUSAGE_SELF, &self);
  r.greenrun_cpu_s = static_cast<double>(self.ru_utime.tv_sec + self.ru_stime.tv_sec) +
                     (self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6;
  if (in.footprint) r.instance_type = in.footprint->instance;
  r.interval_s = std::chrono::duration<double>(in.interval).count();
  r.window_s = r.interval_s >= kCpuWindowS ? r.interval_s : std::ceil(kCpuWindowS / r.interval_s - 1e-9) * r.interval_s;
  r.window_s = std::max(r.window_s, m.window_s);  // counters that move in steps hold windows open
  if (in.findings) r.findings = *in.findings;
  mark_frozen(r.findings, m.frozen);
  r.notes = m.notes;
  r.timeline = m.timeline;
  r.timeline_origin = m.origin;
  add_phases(r, m);
  r.units = run_units(m.units, r.energy_j());
  if (auto p = project_energy(m.projection, in.scope == Scope::Machine, expected_s(in)))
    r.projection = ProjectionReport{*p, std::nullopt, at_offset(m.origin, p->end_s)};
  return r;
}

double PauseReport::paused_s() const {
  double s = 0;
  for (const auto& p : spans) s += std::chrono::duration<double>(p.to - p.from).count();
  return s;
}

namespace {

using wall = std::chrono::system_clock;

wall::time_point shifted(wall::time_point t, double s) {
  return t + std::chrono::duration_cast<wall::duration>(std::chrono::duration<double>(s));
}

/// Whether the provider's history (live or estimated hours) priced all of [from, to).
bool all_live(const IntensityProfile& p, wall::time_point from, wall::time_point to) {
  const BasisSeconds c = p.coverage(from, to);
  double total = 0;
  for (double s : c) total += s;
  return total > 0 && c[static_cast<size_t>(Basis::Live)] + c[static_cast<size_t>(Basis::Estimated)] >= total - 1e-6;
}

void add_schedule_savings(RunReport& r) {
  ScheduleReport& s = *r.schedule;
  const CarbonReport& c = *r.carbon;
  if (s.problem.empty())
    s.forecast_saving_g = c.energy_kwh * c.settings.pue * (s.forecast_now_g_per_kwh - s.forecast_planned_g_per_kwh);
  if (r.timeline.size() == 0) return;
  // The same records, as if the command had started when it was asked to.
  const wall::time_point origin_then = r.timeline_origin - (s.actual_start - s.requested_at);
  const double first = r.timeline.record(0).start_s, last = r.timeline.record(r.timeline.size() - 1).end_s;
  const IntensityProfile& p = c.settings.profile;
  if (!all_live(p, shifted(r.timeline_origin, first), shifted(r.timeline_origin, last)) ||
      !all_live(p, shifted(origin_then, first), shifted(origin_then, last)))
    return;
  double then_g = 0;
  for (const auto& rec : record_emissions(r.timeline, origin_then, p, c.settings.pue, r.scope == Scope::Machine))
    then_g += rec.emissions_g;
  s.actual_saving_g = then_g - c.emissions_g;
}

void add_pause_avoided(RunReport& r) {
  PauseReport& p = *r.pause;
  const CarbonReport& c = *r.carbon;
  const double running_s = r.duration_s - p.paused_s();
  p.avoided_g.clear();
  for (const auto& span : p.spans) {
    const double span_s = std::chrono::duration<double>(span.to - span.from).count();
    if (running_s <= 0 || span_s <= 0) {
      p.avoided_g.push_back(std::nullopt);
      continue;
    }
    const double deferred_kwh = r.energy_j() / running_s * span_s / 3.6e6;
    const IntensityProfile& prof = c.settings.profile;
    const double during = prof.average(span.from, span.to), after = prof.average(span.to, shifted(span.to, span_s));
    p.avoided_g.push_back(deferred_kwh * c.settings.pue * (during - after));
  }
}

void per_unit_emissions(std::vector<UnitReport>& units, double emissions_g) {
  for (auto& u : units)
    if (u.count > 0) u.emissions_g_per_unit = emissions_g / u.count;
}

}  // namespace

void add_emissions(RunReport& r, const CarbonData& data, const CarbonSettings& settings) {
  if (r.components.empty()) return;
  r.carbon = build_carbon_report(data, settings, r.timeline, r.timeline_origin, r.scope == Scope::Machine, r.started_at,
                                 r.ended_at);
  // A phase at the intensity averaged over its span (exact for a constant
  // intensity; the run's own total prices each timeline record).
  for (auto& p : r.phases) {
    auto at = [&](double s) { return at_offset(r.timeline_origin, s); };
    p.emissions_g = p.energy_j / 3.6e6 * settings.pue * settings.profile.average(at(p.start_s), at(p.end_s));
    per_unit_emissions(p.units, *p.emissions_g);
  }
  per_unit_emissions(r.units, r.carbon->emissions_g);
  if (r.projection) {
    ProjectionReport& p = *r.projection;
    p.emissions_g = projected_emissions_g(settings, r.carbon->emissions_g, p.energy.energy_j - r.energy_j(),
                                          at_offset(r.timeline_origin, p.energy.spent_s), p.ends_at);
  }
  if (r.schedule) add_schedule_savings(r);
  if (r.pause) add_pause_avoided(r);
}

std::string SlurmReport::role(double sampled_s) const {
  if (node_counted_s <= 0) return "rank";
  if (node_counted_s >= sampled_s - 1e-6) return "node meter";
  return "node meter for part of the run";
}

namespace {

// What the run used of the machine: its duration and the command's share of
// the machine's energy, the GPUs' apart (a CPU job on a GPU server uses no GPU).
EmbodiedUse embodied_use(const RunReport& r, int logical_cpus) {
  EmbodiedUse u;
  u.duration_s = r.duration_s;
  double gpu = 0, gpu_machine = 0;
  for (const auto& c : r.components)
    if (c.name.rfind("gpu", 0) == 0) {
      ++u.gpus;
      gpu += c.energy_j;
      gpu_machine += c.machine_energy_j;
    }
  if (r.scope == Scope::Machine) {
    u.machine_share = u.gpu_share = 1;
  } else if (r.machine_energy_j() > 0) {
    u.machine_share = r.energy_j() / r.machine_energy_j();
    u.gpu_share = gpu_machine > 0 ? gpu / gpu_machine : u.machine_share;
  } else if (r.duration_s > 0) {  // nothing measured: the command's share of the CPUs
    u.machine_share = u.gpu_share = (r.user_s + r.system_s) / (r.duration_s * std::max(1, logical_cpus));
  }
  return u;
}

}  // namespace

void add_footprint(RunReport& r, const FootprintSettings& s) {
  if (s.embodied) r.embodied = compute_embodied(*s.embodied, embodied_use(r, s.embodied->logical_cpus));
  if (!r.components.empty()) r.water = compute_water(r.energy_j() / 3.6e6, s.wue);
  if (!r.carbon) return;
  // Without --functional-unit, the first unit the command counted is R.
  std::optional<FunctionalUnit> unit = s.unit;
  const bool counted = !unit && !r.units.empty() && r.units[0].count > 0;
  if (counted) unit = FunctionalUnit{r.units[0].count, r.units[0].unit};
  if (!unit) return;
  r.sci = compute_sci(*r.carbon, r.embodied ? &*r.embodied : nullptr, *unit);
  r.sci->unit_counted = counted;
}

std::string status_text(const RunReport& r) {
  if (r.signal)
    return "killed by " + signal_name(*r.signal) + (r.core_dumped ? " (core dumped)" : "") + ", exit status " +
           std::to_string(kExitSignalBase + *r.signal);
  if (r.exit_code) return "exited with status " + std::to_string(*r.exit_code);
  return "running";
}

std::string one_line(const RunReport& r) {
  std::string s = command_line(r.command) + ": ";
  if (r.components.empty()) s += "energy not measured";
  else s += format_energy(r.energy_j()) + " " + r.energy_kind();
  if (r.carbon)
    s += ", " + format_mass_g(r.carbon->emissions_g) + " CO2e (" + r.carbon->settings.location.name + ", " +
         significant(r.carbon->intensity_g_per_kwh) + " g/kWh)";
  return s + ", " + format_seconds(r.duration_s) + ", " + status_text(r);
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

}  // namespace greenrun
