#include "report/report.h"
#include "util/units.h"
#include "util/version.h"

namespace greenrun {

namespace {

double paused_within(const PauseReport& p, std::chrono::system_clock::time_point origin, double start_s, double end_s) {
  double s = 0;
  for (const auto& span : p.spans) {
    const double a = std::chrono::duration<double>(span.from - origin).count();
    const double b = std::chrono::duration<double>(span.to - origin).count();
    s += std::max(0.0, std::min(b, end_s) - std::max(a, start_s));
  }
  return s;
}

nlohmann::ordered_json opt(const std::optional<double>& v) { return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr); }

nlohmann::ordered_json live_json(const CarbonReport& c) {
  using json = nlohmann::ordered_json;
  json basis = json::object();
  for (size_t b = 0; b < kBases; ++b) basis[basis_name(static_cast<Basis>(b))] = c.seconds_by_basis[b];
  json out = {{"intensity_basis_s", std::move(basis)}};
  if (const auto& l = c.settings.live) {
    out["intensity_source"] = {{"provider", l->provider}, {"location", l->location}, {"signal", l->signal},
                               {"factor", factor_name(l->factor)}, {"endpoint", l->endpoint},
                               {"answered", l->answered}, {"problem", l->problem.empty() ? json(nullptr) : json(l->problem)},
                               {"notes", l->notes}};
  }
  return out;
}

nlohmann::ordered_json schedule_json(const ScheduleReport& s) {
  return {{"requested_at", format_rfc3339(s.requested_at)},
          {"planned_start", format_rfc3339(s.planned_start)},
          {"actual_start", format_rfc3339(s.actual_start)},
          {"waited_s", std::chrono::duration<double>(s.actual_start - s.requested_at).count()},
          {"expected_duration_s", s.expected_duration_s},
          {"within_s", s.within_s},
          {"forecast_now_g_per_kwh", s.problem.empty() ? nlohmann::ordered_json(s.forecast_now_g_per_kwh) : nullptr},
          {"forecast_planned_g_per_kwh", s.problem.empty() ? nlohmann::ordered_json(s.forecast_planned_g_per_kwh) : nullptr},
          {"beyond_horizon", s.beyond_horizon},
          {"forecast_saving_g", opt(s.forecast_saving_g)},
          {"actual_saving_g", opt(s.actual_saving_g)},
          {"problem", s.problem.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.problem)}};
}

nlohmann::ordered_json pause_json(const PauseReport& p, std::chrono::system_clock::time_point origin) {
  using json = nlohmann::ordered_json;
  json spans = json::array();
  for (size_t i = 0; i < p.spans.size(); ++i) {
    const auto& s = p.spans[i];
    spans.push_back({{"from", format_rfc3339(s.from)},
                     {"to", format_rfc3339(s.to)},
                     {"start_s", std::chrono::duration<double>(s.from - origin).count()},
                     {"end_s", std::chrono::duration<double>(s.to - origin).count()},
                     {"duration_s", std::chrono::duration<double>(s.to - s.from).count()},
                     {"intensity_g_per_kwh", s.intensity_g_per_kwh},
                     {"resumed_because", s.resumed_because},
                     {"avoided_g", i < p.avoided_g.size() ? opt(p.avoided_g[i]) : json(nullptr)}});
  }
  return {{"threshold_g_per_kwh", p.threshold_g_per_kwh}, {"max_delay_s", p.max_delay_s},
          {"signal", signal_name(p.signal)}, {"paused_s", p.paused_s()}, {"spans", std::move(spans)}};
}

// Per record: arrays indexed like `components`. Emissions come from the
// carbon computation over the same records.
nlohmann::ordered_json timeline_json(const RunReport& r) {
  using json = nlohmann::ordered_json;
  const Timeline& t = r.timeline;
  json comps = json::array();
  // Each component's own resolution (ten steps of a counter that moves in
  // steps, else the sampling window), beside the records' resolution_s below.
  for (const auto& c : t.components())
    comps.push_back({{"name", c.component.name()},
                     {"measured", c.measured},
                     {"resolution_s", c.resolution_s > 0 ? json(c.resolution_s * t.windows_per_record()) : json(nullptr)},
                     {"update_period_s", c.update_s > 0 ? json(c.update_s) : json(nullptr)}});
  json records = json::array();
  const bool machine = r.scope == Scope::Machine;
  for (size_t i = 0; i < t.size(); ++i) {
    const auto& rec = t.record(i);
    json energy = json::array(), machine_energy = json::array(), measured = json::array();
    for (size_t c = 0; c < t.components().size(); ++c) {
      energy.push_back(machine ? t.machine_j(i, c) : t.tree_j(i, c));
      machine_energy.push_back(t.machine_j(i, c));
      const bool missing = (rec.missing >> (c % 64)) & 1;
      measured.push_back(missing ? json(nullptr) : json(t.components()[c].measured));
    }
    json rj = {{"start_s", rec.start_s}, {"end_s", rec.end_s},     {"windows", rec.windows},
               {"cpu_s", rec.tree_cpu_s}, {"rss_bytes", rec.rss_bytes}, {"energy_j", std::move(energy)},
               {"machine_energy_j", std::move(machine_energy)}, {"measured", std::move(measured)}};
    if (r.carbon && i < r.carbon->records.size()) {
      rj["intensity_g_per_kwh"] = r.carbon->records[i].intensity_g_per_kwh;
      rj["intensity_basis"] = basis_name(r.carbon->records[i].basis);
      rj["emissions_g"] = r.carbon->records[i].emissions_g;
    } else {
      rj["intensity_g_per_kwh"] = nullptr;
      rj["intensity_basis"] = nullptr;
      rj["emissions_g"] = nullptr;
    }
    if (r.pause) rj["paused_s"] = paused_within(*r.pause, r.timeline_origin, rec.start_s, rec.end_s);
    records.push_back(std::move(rj));
  }
  return {{"origin", format_rfc3339(r.timeline_origin)},
          {"resolution_s", r.window_s * t.windows_per_record()},
          {"windows_per_record", t.windows_per_record()},
          {"capacity", t.capacity()},
          {"components", std::move(comps)},
          {"records", std::move(records)}};
}

nlohmann::ordered_json embodied_json(const EmbodiedReport& e) {
  using json = nlohmann::ordered_json;
  json parts = json::array();
  for (const auto& p : e.parts)
    parts.push_back({{"what", p.part.what},
                     {"kg_co2e", p.part.kg},
                     {"lifetime_h", p.part.lifetime_h},
                     {"machine_share", p.part.machine_share},
                     {"command_share", p.command_share},
                     {"emissions_g", p.emissions_g},
                     {"gpu", p.part.gpu},
                     {"source", p.part.source}});
  return {{"emissions_g", e.emissions_g}, {"emissions_g_low", e.low_g}, {"emissions_g_high", e.high_g},
          {"basis", e.basis},             {"duration_s", e.duration_s}, {"parts", std::move(parts)}};
}

nlohmann::ordered_json sci_json(const SciReport& s) {
  return {{"standard", "ISO/IEC 21031:2024"}, {"functional_units", s.unit.count}, {"functional_unit", s.unit.name}, {"functional_unit_counted", s.unit_counted},
          {"e_kwh", s.e_kwh},                  {"i_g_per_kwh", s.i_g_per_kwh},   {"o_g", s.o_g},
          {"m_g", s.m_g},                      {"m_included", s.m_included},     {"sci_g_per_unit", s.per_unit_g}};
}

nlohmann::ordered_json units_json(const std::vector<UnitReport>& units) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& u : units)
    out.push_back({{"unit", u.unit}, {"count", u.count}, {"energy_j_per_unit", opt(u.energy_j_per_unit)},
                   {"emissions_g_per_unit", opt(u.emissions_g_per_unit)}});
  return out;
}

nlohmann::ordered_json projection_json(const ProjectionReport& p) {
  const EnergyProjection& e = p.energy;
  return {{"fraction", e.fraction},       {"at_s", e.at_s},           {"energy_j", e.energy_j},
          {"emissions_g", opt(p.emissions_g)}, {"ends_at", format_rfc3339(p.ends_at)}, {"method", e.method},
          {"rate_from_s", e.rate_from_s}, {"rate_from_fraction", e.rate_from_fraction}};
}

nlohmann::ordered_json water_json(const WaterReport& w) {
  using json = nlohmann::ordered_json;
  return {{"energy_kwh", w.energy_kwh},
          {"wue_l_per_kwh", w.wue_l_per_kwh ? json(*w.wue_l_per_kwh) : json(nullptr)},
          {"liters", w.liters ? json(*w.liters) : json(nullptr)},
          {"source", w.source}};
}

using json = nlohmann::ordered_json;

// The run itself: what ran, where, when and how it ended.
void add_run_fields(json& j, const RunReport& r) {
  j["schema_version"] = kSchemaVersion;
  j["greenrun_version"] = kVersion;
  j["status"] = r.status;
  j["command"] = r.command;
  j["host"] = r.host;
  j["boot_id"] = r.boot_id;
  j["started_at"] = format_rfc3339(r.started_at);
  j["ended_at"] = format_rfc3339(r.ended_at);
  j["duration_s"] = r.duration_s;
  j["exit_code"] = r.exit_code ? json(*r.exit_code) : json(nullptr);
  j["signal"] = r.signal ? json(signal_name(*r.signal)) : json(nullptr);
  j["core_dumped"] = r.core_dumped;
  if (!r.error.empty()) j["error"] = r.error;
}

// Resource use of the command's process tree and how the tree was followed.
void add_process_fields(json& j, const RunReport& r) {
  j["cpu_time_s"] = r.user_s + r.system_s;
  j["cpu_user_s"] = r.user_s;
  j["cpu_system_s"] = r.system_s;
  j["peak_rss_bytes"] = r.peak_rss_bytes;
  j["read_bytes"] = r.io.read_bytes;
  j["write_bytes"] = r.io.write_bytes;
  j["processes"] = std::max<uint64_t>(1, r.processes_seen);
  // Every start, from the kernel; else the processes seen at samples (a lower bound).
  j["processes_counted_by"] = r.processes_exact ? "proc connector" : "samples";
  j["descendants_running_at_exit"] = r.descendants_running;
  if (!r.tree.method.empty()) {
    auto text_or_null = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
    j["process_tree"] = {{"method", r.tree.method},
                         {"detail", r.tree.detail},
                         {"reason", text_or_null(r.tree.reason)},
                         {"memory_note", text_or_null(r.tree.memory_note)},
                         {"cgroups", r.tree.cgroups}};
  }
}

json components_json(const std::vector<ComponentReport>& components) {
  json comps = json::array();
  for (const auto& c : components) {
    json cj = {{"name", c.name},
               {"energy_j", c.energy_j},
               {"machine_energy_j", c.machine_energy_j},
               {"measured", c.measured},
               {"source", c.source},
               {"detail", c.detail}};
    if (!c.measured) {
      cj["method"] = c.method;
      cj["energy_j_low"] = c.energy_j_low.value_or(c.energy_j);
      cj["energy_j_high"] = c.energy_j_high.value_or(c.energy_j);
    }
    comps.push_back(std::move(cj));
  }
  return comps;
}

void add_energy_fields(json& j, const RunReport& r) {
  j["scope"] = r.scope == Scope::Process ? "process" : "machine";
  j["energy_j"] = r.components.empty() ? json(nullptr) : json(r.energy_j());
  j["machine_energy_j"] = r.components.empty() ? json(nullptr) : json(r.machine_energy_j());
  j["energy_measured"] = r.components.empty() ? "none" : r.any_estimated() ? (r.any_measured() ? "partly" : "estimated") : "measured";
  j["average_power_w"] = r.duration_s > 0 && !r.components.empty() ? json(r.average_power_w()) : json(nullptr);
  j["peak_power_w"] = r.components.empty() ? json(nullptr) : json(r.peak_power_w);
  j["components"] = components_json(r.components);
}

json region_json(const Location& l) {
  json region = {{"id", l.id},       {"name", l.name},         {"zone", l.zone.empty() ? json(nullptr) : json(l.zone)},
                 {"source", l.source}, {"year", l.year},       {"factor", factor_name(l.factor)},
                 {"how", l.how},     {"guessed", l.guessed}};
  if (!l.note.empty()) region["note"] = l.note;
  if (!l.cloud_provider.empty()) region["cloud"] = l.cloud_provider + ":" + l.cloud_region;
  return region;
}

json comparisons_json(const CarbonReport& c) {
  json comparisons = json::array();
  for (const auto& x : c.comparisons)
    comparisons.push_back({{"region", x.id}, {"name", x.name}, {"intensity_g_per_kwh", x.g_per_kwh},
                           {"emissions_g", x.emissions_g}, {"why", x.why}});
  return comparisons;
}

json equivalents_json(const CarbonReport& c) {
  json equivalents = json::array();
  for (const auto& e : c.equivalents)
    equivalents.push_back({{"id", e.id}, {"label", e.label}, {"value", e.value}, {"unit", e.unit}, {"source", e.source}});
  return equivalents;
}

// Region, intensity and emissions; region and emissions_g are null without carbon settings.
void add_carbon_fields(json& j, const std::optional<CarbonReport>& carbon) {
  if (!carbon) {
    j["region"] = nullptr;
    j["emissions_g"] = nullptr;
    return;
  }
  const CarbonReport& c = *carbon;
  j["region"] = region_json(c.settings.location);
  j["intensity_g_per_kwh"] = c.intensity_g_per_kwh;
  if (!c.settings.intensity_file.empty()) {
    j["intensity_file"] = c.settings.intensity_file;
    j["intensity_file_seconds_outside"] = c.seconds_outside_file;
  }
  j["pue"] = c.settings.pue;
  j["pue_source"] = c.settings.pue_source;
  j["emissions_g"] = c.emissions_g;
  j["machine_emissions_g"] = c.machine_emissions_g;
  j["comparisons"] = comparisons_json(c);
  j["equivalents"] = equivalents_json(c);
  const nlohmann::ordered_json live = live_json(c);
  for (auto it = live.begin(); it != live.end(); ++it) j[it.key()] = *it;
  if (auto caveat = comparison_caveat(c); !caveat.empty()) j["comparisons_note"] = caveat;
}

json unused_sources_json(const std::vector<Finding>& findings) {
  json unusable = json::array();
  for (const auto& f : findings) {
    if (f.used()) continue;
    json fj = {{"source", f.source}, {"what", f.what}, {"path", f.path}, {"disposition", disposition_name(f.disposition)},
               {"reason", f.reason}};
    if (!f.fix.empty()) fj["fix"] = f.fix;
    unusable.push_back(std::move(fj));
  }
  return unusable;
}

json slurm_json(const RunReport& r) {
  const SlurmStep& s = r.slurm->step;
  json out = {{"job_id", s.job_id}, {"step_id", s.step_id}, {"task", s.task}, {"local_task", s.local_task},
              {"node", s.node}, {"nodes", s.nodes}, {"tasks", s.tasks}, {"node_name", s.node_name},
              {"gpus", s.gpus}, {"role", r.slurm->role(r.sampled_s)}, {"node_counted_s", r.slurm->node_counted_s}};
  if (!r.slurm->lock_problem.empty()) out["lock_problem"] = r.slurm->lock_problem;
  return out;
}

json phases_json(const RunReport& r) {
  json phases = json::array();
  for (const auto& p : r.phases) {
    json pj = {{"name", p.name}, {"start_s", p.start_s}, {"end_s", p.end_s}, {"duration_s", p.end_s - p.start_s},
               {"energy_j", p.energy_j}, {"machine_energy_j", p.machine_energy_j}};
    pj["emissions_g"] = p.emissions_g ? json(*p.emissions_g) : json(nullptr);
    pj["units"] = units_json(p.units);
    phases.push_back(std::move(pj));
  }
  return phases;
}

// Embodied, SCI, water, unusable sources, schedule, pause, notes, baseline, verdicts, Slurm.
void add_context_fields(json& j, const RunReport& r) {
  j["instance_type"] = r.instance_type.empty() ? json(nullptr) : json(r.instance_type);
  j["embodied"] = r.embodied ? embodied_json(*r.embodied) : json(nullptr);
  j["sci"] = r.sci ? sci_json(*r.sci) : json(nullptr);
  j["water"] = r.water ? water_json(*r.water) : json(nullptr);
  j["unused_sources"] = unused_sources_json(r.findings);
  if (r.schedule) j["schedule"] = schedule_json(*r.schedule);
  if (r.pause) j["pause"] = pause_json(*r.pause, r.timeline_origin);
  j["notes"] = r.notes;
  if (r.baseline) j["baseline"] = comparison_json(*r.baseline);
  j["verdicts"] = r.verdicts;
  if (r.slurm) j["slurm"] = slurm_json(r);
}

void add_breakdown_fields(json& j, const RunReport& r) {
  j["phases"] = phases_json(r);
  j["units"] = units_json(r.units);
  j["projection"] = r.projection ? projection_json(*r.projection) : json(nullptr);
  j["samples"] = r.samples;
  j["interval_s"] = r.interval_s;
  j["timeline"] = timeline_json(r);
  j["overhead"] = {{"greenrun_cpu_s", r.greenrun_cpu_s}, {"sampler_cpu_s", r.sampler_cpu_s}};
}

}  // namespace

// Fields are added in the documented order (the man page's field list and the tests depend on it).
nlohmann::ordered_json to_json(const RunReport& r) {
  json j;
  add_run_fields(j, r);
  add_process_fields(j, r);
  add_energy_fields(j, r);
  add_carbon_fields(j, r.carbon);
  add_context_fields(j, r);
  add_breakdown_fields(j, r);
  return j;
}

}  // namespace greenrun
