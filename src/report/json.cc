#include "report/report.h"
#include "util/units.h"
#include "util/version.h"

namespace greenrun {

namespace {

// Per record: arrays indexed like `components`. Emissions come from the
// carbon computation over the same records.
nlohmann::ordered_json timeline_json(const RunReport& r) {
  using json = nlohmann::ordered_json;
  const Timeline& t = r.timeline;
  json comps = json::array();
  for (const auto& c : t.components()) comps.push_back({{"name", c.component.name()}, {"measured", c.measured}});
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
      rj["emissions_g"] = r.carbon->records[i].emissions_g;
    } else {
      rj["intensity_g_per_kwh"] = nullptr;
      rj["emissions_g"] = nullptr;
    }
    records.push_back(std::move(rj));
  }
  return {{"origin", format_rfc3339(r.timeline_origin)},
          {"resolution_s", r.window_s * t.windows_per_record()},
          {"windows_per_record", t.windows_per_record()},
          {"capacity", t.capacity()},
          {"components", std::move(comps)},
          {"records", std::move(records)}};
}

}  // namespace

nlohmann::ordered_json to_json(const RunReport& r) {
  using json = nlohmann::ordered_json;
  json j;
  j["schema_version"] = kSchemaVersion;
  j["greenrun_version"] = kVersion;
  j["status"] = r.status;
  j["command"] = r.command;
  j["started_at"] = format_rfc3339(r.started_at);
  j["ended_at"] = format_rfc3339(r.ended_at);
  j["duration_s"] = r.duration_s;
  j["exit_code"] = r.exit_code ? json(*r.exit_code) : json(nullptr);
  j["signal"] = r.signal ? json(signal_name(*r.signal)) : json(nullptr);
  j["core_dumped"] = r.core_dumped;
  if (!r.error.empty()) j["error"] = r.error;
  j["cpu_time_s"] = r.user_s + r.system_s;
  j["cpu_user_s"] = r.user_s;
  j["cpu_system_s"] = r.system_s;
  j["peak_rss_bytes"] = r.peak_rss_bytes;
  j["read_bytes"] = r.io.read_bytes;
  j["write_bytes"] = r.io.write_bytes;
  j["processes"] = std::max<uint64_t>(1, r.processes_seen);
  j["descendants_running_at_exit"] = r.descendants_running;
  if (!r.tree.method.empty()) {
    auto text_or_null = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
    j["process_tree"] = {{"method", r.tree.method},
                         {"detail", r.tree.detail},
                         {"reason", text_or_null(r.tree.reason)},
                         {"memory_note", text_or_null(r.tree.memory_note)},
                         {"cgroups", r.tree.cgroups}};
  }
  j["scope"] = r.scope == Scope::Process ? "process" : "machine";
  j["energy_j"] = r.components.empty() ? json(nullptr) : json(r.energy_j());
  j["machine_energy_j"] = r.components.empty() ? json(nullptr) : json(r.machine_energy_j());
  j["energy_measured"] = r.components.empty() ? "none" : r.any_estimated() ? (r.any_measured() ? "partly" : "estimated") : "measured";
  j["average_power_w"] = r.duration_s > 0 && !r.components.empty() ? json(r.average_power_w()) : json(nullptr);
  j["peak_power_w"] = r.components.empty() ? json(nullptr) : json(r.peak_power_w);
  json comps = json::array();
  for (const auto& c : r.components) {
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
  j["components"] = std::move(comps);
  if (r.carbon) {
    const CarbonReport& c = *r.carbon;
    const Location& l = c.settings.location;
    json region = {{"id", l.id},       {"name", l.name},         {"zone", l.zone.empty() ? json(nullptr) : json(l.zone)},
                   {"source", l.source}, {"year", l.year},       {"factor", factor_name(l.factor)},
                   {"how", l.how},     {"guessed", l.guessed}};
    if (!l.note.empty()) region["note"] = l.note;
    if (!l.cloud_provider.empty()) region["cloud"] = l.cloud_provider + ":" + l.cloud_region;
    j["region"] = std::move(region);
    j["intensity_g_per_kwh"] = c.intensity_g_per_kwh;
    if (!c.settings.intensity_file.empty()) {
      j["intensity_file"] = c.settings.intensity_file;
      j["intensity_file_seconds_outside"] = c.seconds_outside_file;
    }
    j["pue"] = c.settings.pue;
    j["pue_source"] = c.settings.pue_source;
    j["emissions_g"] = c.emissions_g;
    j["machine_emissions_g"] = c.machine_emissions_g;
    json comparisons = json::array();
    for (const auto& x : c.comparisons)
      comparisons.push_back({{"region", x.id}, {"name", x.name}, {"intensity_g_per_kwh", x.g_per_kwh},
                             {"emissions_g", x.emissions_g}, {"why", x.why}});
    j["comparisons"] = std::move(comparisons);
    json equivalents = json::array();
    for (const auto& e : c.equivalents)
      equivalents.push_back({{"id", e.id}, {"label", e.label}, {"value", e.value}, {"unit", e.unit}, {"source", e.source}});
    j["equivalents"] = std::move(equivalents);
  } else {
    j["region"] = nullptr;
    j["emissions_g"] = nullptr;
  }
  json unusable = json::array();
  for (const auto& f : r.findings) {
    if (f.used()) continue;
    json fj = {{"source", f.source}, {"what", f.what}, {"path", f.path}, {"disposition", disposition_name(f.disposition)},
               {"reason", f.reason}};
    if (!f.fix.empty()) fj["fix"] = f.fix;
    unusable.push_back(std::move(fj));
  }
  j["unused_sources"] = std::move(unusable);
  j["notes"] = r.notes;
  j["samples"] = r.samples;
  j["interval_s"] = r.interval_s;
  j["timeline"] = timeline_json(r);
  j["overhead"] = {{"greenrun_cpu_s", r.greenrun_cpu_s}, {"sampler_cpu_s", r.sampler_cpu_s}};
  return j;
}

}  // namespace greenrun
