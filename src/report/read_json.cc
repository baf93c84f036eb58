// A greenrun JSON report read back into the report model, so that a report
// written by a CI job can be rendered later (greenrun report FILE --html) by
// the same renderers as a live run. Every field is optional here: a missing
// or mistyped one takes its default, never an exception.

#include <algorithm>
#include <cstdlib>

#include "carbon/intensity.h"
#include "report/report.h"
#include "sampling/accounting.h"

namespace greenrun {

namespace {

using json = nlohmann::json;

const json& field(const json& j, const char* key) {
  static const json null;
  if (!j.is_object()) return null;
  auto it = j.find(key);
  return it == j.end() ? null : *it;
}

double num(const json& j, const char* key, double fallback = 0) {
  const json& v = field(j, key);
  return v.is_number() ? v.get<double>() : fallback;
}

std::optional<double> opt_num(const json& j, const char* key) {
  const json& v = field(j, key);
  if (!v.is_number()) return std::nullopt;
  return v.get<double>();
}

std::string str(const json& j, const char* key) {
  const json& v = field(j, key);
  return v.is_string() ? v.get<std::string>() : "";
}

bool flag(const json& j, const char* key, bool fallback = false) {
  const json& v = field(j, key);
  return v.is_boolean() ? v.get<bool>() : fallback;
}

const json& array(const json& j, const char* key) {
  static const json empty = json::array();
  const json& v = field(j, key);
  return v.is_array() ? v : empty;
}

std::vector<std::string> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  for (const auto& s : array(j, key))
    if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

uint64_t count(const json& j, const char* key) {
  const double v = num(j, key);
  return v > 0 && v < 1.8e19 ? static_cast<uint64_t>(v) : 0;
}

std::chrono::system_clock::time_point when(const json& j, const char* key) {
  return parse_timestamp(str(j, key)).value_or(std::chrono::system_clock::time_point{});
}

std::optional<int> signal_number(const std::string& name) {
  for (int s = 1; s < 65; ++s)
    if (signal_name(s) == name) return s;
  return std::nullopt;
}

Component component_named(const std::string& name) {
  Component c;
  if (name == "dram") c.kind = ComponentKind::Dram;
  else if (name == "platform") c.kind = ComponentKind::Platform;
  else if (name == "ram") c.kind = ComponentKind::Ram;
  else if (name.rfind("gpu", 0) == 0) {
    c.kind = ComponentKind::Gpu;
    c.index = static_cast<int>(std::clamp(std::strtol(name.c_str() + 3, nullptr, 10), 0L, 1L << 20));
  }
  return c;
}

std::vector<double> numbers(const json& a) {
  std::vector<double> out;
  if (a.is_array())
    for (const auto& v : a) out.push_back(v.is_number() ? v.get<double>() : 0.0);
  return out;
}

void read_components(const json& j, RunReport& r) {
  for (const auto& c : array(j, "components")) {
    if (!c.is_object()) continue;  // not a component
    ComponentReport cr;
    cr.name = str(c, "name");
    cr.energy_j = num(c, "energy_j");
    cr.machine_energy_j = num(c, "machine_energy_j");
    cr.measured = flag(c, "measured", true);
    cr.source = str(c, "source");
    cr.method = str(c, "method");
    cr.energy_j_low = opt_num(c, "energy_j_low");
    cr.energy_j_high = opt_num(c, "energy_j_high");
    // Per-device entries as the renderers read them: objects, with a string label if any.
    if (field(c, "detail").is_array())
      for (const auto& d : field(c, "detail"))
        if (d.is_object() && (!d.contains("label") || d["label"].is_string())) cr.detail.emplace_back(d);
    r.components.push_back(std::move(cr));
  }
}

Basis basis_named(const std::string& name) {
  for (size_t b = 0; b < kBases; ++b)
    if (name == basis_name(static_cast<Basis>(b))) return static_cast<Basis>(b);
  return Basis::Yearly;
}

// The records' emissions come back with the carbon report (RecordCarbon).
Timeline read_timeline(const json& t, std::vector<RecordCarbon>& carbon) {
  const auto per = static_cast<uint32_t>(std::clamp(num(t, "windows_per_record", 1), 1.0, 4e9));
  std::vector<TimelineComponent> comps;
  for (const auto& c : array(t, "components"))
    comps.push_back({component_named(str(c, "name")), flag(c, "measured", true),
                     std::clamp(num(c, "resolution_s"), 0.0, 1e9) / per, std::clamp(num(c, "update_period_s"), 0.0, 1e9)});
  const json& records = array(t, "records");
  const double most = static_cast<double>(Timeline::capacity_for(comps.size()));
  const auto saved = static_cast<size_t>(std::clamp(num(t, "capacity"), 0.0, most));
  const size_t capacity = std::max(records.size(), saved);
  Timeline tl(comps, capacity);
  for (const auto& rec : records) {
    Timeline::Record r{num(rec, "start_s"), num(rec, "end_s"), static_cast<uint32_t>(count(rec, "windows")),
                       num(rec, "cpu_s"), count(rec, "rss_bytes"), 0};
    const json& measured = field(rec, "measured");
    for (size_t c = 0; measured.is_array() && c < measured.size() && c < 64; ++c)
      if (measured[c].is_null()) r.missing |= uint64_t{1} << c;
    tl.restore(r, numbers(field(rec, "machine_energy_j")), numbers(field(rec, "energy_j")), per);
    carbon.push_back({num(rec, "intensity_g_per_kwh"), basis_named(str(rec, "intensity_basis")), num(rec, "emissions_g"), 0});
  }
  return tl;
}

Location read_location(const json& l) {
  Location loc;
  loc.id = str(l, "id");
  loc.name = str(l, "name");
  loc.zone = str(l, "zone");
  loc.source = str(l, "source");
  loc.year = static_cast<int>(std::clamp(num(l, "year"), 0.0, 1e4));
  loc.factor = str(l, "factor") == "direct" ? Factor::Direct : Factor::Lifecycle;
  loc.how = str(l, "how");
  loc.guessed = flag(l, "guessed");
  loc.note = str(l, "note");
  const std::string cloud = str(l, "cloud");
  if (auto colon = cloud.find(':'); colon != std::string::npos) {
    loc.cloud_provider = cloud.substr(0, colon);
    loc.cloud_region = cloud.substr(colon + 1);
  }
  return loc;
}

CarbonReport read_carbon(const json& j, const RunReport& r, std::vector<RecordCarbon> records) {
  CarbonReport c;
  c.settings.location = read_location(field(j, "region"));
  c.settings.pue = num(j, "pue", 1.0);
  c.settings.pue_source = str(j, "pue_source");
  c.settings.intensity_file = str(j, "intensity_file");
  c.seconds_outside_file = num(j, "intensity_file_seconds_outside");
  c.settings.location.g_per_kwh = c.intensity_g_per_kwh = num(j, "intensity_g_per_kwh");
  c.energy_kwh = r.energy_j() / 3.6e6;
  c.emissions_g = num(j, "emissions_g");
  c.machine_emissions_g = num(j, "machine_emissions_g");
  c.records = std::move(records);
  for (const auto& x : array(j, "comparisons"))
    c.comparisons.push_back({str(x, "region"), str(x, "name"), num(x, "intensity_g_per_kwh"), num(x, "emissions_g"), str(x, "why")});
  for (const auto& e : array(j, "equivalents"))
    c.equivalents.push_back({str(e, "id"), str(e, "label"), str(e, "unit"), str(e, "source"), num(e, "value")});
  c.settings.show_comparisons = c.comparisons.size() > 1;
  const json& basis = field(j, "intensity_basis_s");
  for (size_t b = 0; b < kBases; ++b) c.seconds_by_basis[b] = num(basis, basis_name(static_cast<Basis>(b)));
  if (const json& l = field(j, "intensity_source"); l.is_object()) {
    LiveSource live;
    live.provider = str(l, "provider");
    live.location = str(l, "location");
    live.signal = str(l, "signal");
    live.factor = str(l, "factor") == factor_name(Factor::Direct) ? Factor::Direct : Factor::Lifecycle;
    live.endpoint = str(l, "endpoint");
    live.answered = flag(l, "answered", false);
    live.problem = str(l, "problem");
    for (const auto& n : array(l, "notes"))
      if (n.is_string()) live.notes.push_back(n.get<std::string>());
    c.settings.live = std::move(live);
  }
  return c;
}

EmbodiedReport read_embodied(const json& e) {
  EmbodiedReport r;
  r.emissions_g = num(e, "emissions_g");
  r.low_g = num(e, "emissions_g_low");
  r.high_g = num(e, "emissions_g_high");
  r.basis = str(e, "basis");
  r.duration_s = num(e, "duration_s");
  for (const auto& p : array(e, "parts"))
    r.parts.push_back({{str(p, "what"), flag(p, "gpu"), num(p, "kg_co2e"), num(p, "lifetime_h"), num(p, "machine_share"),
                        str(p, "source")},
                       num(p, "command_share"),
                       num(p, "emissions_g")});
  return r;
}

SciReport read_sci(const json& s) {
  SciReport r;
  r.unit = {num(s, "functional_units", 1), str(s, "functional_unit")};
  r.e_kwh = num(s, "e_kwh");
  r.i_g_per_kwh = num(s, "i_g_per_kwh");
  r.o_g = num(s, "o_g");
  r.m_g = num(s, "m_g");
  r.m_included = flag(s, "m_included", true);
  r.unit_counted = flag(s, "functional_unit_counted", false);
  r.per_unit_g = num(s, "sci_g_per_unit");
  return r;
}

WaterReport read_water(const json& w) {
  WaterReport r;
  r.energy_kwh = num(w, "energy_kwh");
  r.wue_l_per_kwh = opt_num(w, "wue_l_per_kwh");
  r.liters = opt_num(w, "liters");
  r.source = str(w, "source");
  return r;
}

Disposition disposition_named(const std::string& name) {
  for (Disposition d : {Disposition::Used, Disposition::Covered, Disposition::Unreadable, Disposition::Absent,
                        Disposition::Unsupported, Disposition::Frozen})
    if (name == disposition_name(d)) return d;
  return Disposition::Absent;
}

std::vector<UnitReport> read_units(const json& j) {
  std::vector<UnitReport> out;
  for (const auto& u : array(j, "units"))
    out.push_back({str(u, "unit"), num(u, "count"), opt_num(u, "energy_j_per_unit"), opt_num(u, "emissions_g_per_unit")});
  return out;
}

void read_rest(const json& j, RunReport& r) {
  for (const auto& f : array(j, "unused_sources"))
    r.findings.push_back({str(f, "source"), str(f, "what"), str(f, "path"), disposition_named(str(f, "disposition")),
                          str(f, "reason"), str(f, "fix"), false});
  r.notes = strings(j, "notes");
  r.verdicts = strings(j, "verdicts");
  for (const auto& p : array(j, "phases")) {
    PhaseReport ph{str(p, "name"), num(p, "start_s"), num(p, "end_s"), num(p, "energy_j"), num(p, "machine_energy_j"),
                   opt_num(p, "emissions_g"), read_units(p)};
    r.phases.push_back(std::move(ph));
  }
  r.units = read_units(j);
  if (field(j, "embodied").is_object()) r.embodied = read_embodied(field(j, "embodied"));
  if (field(j, "sci").is_object()) r.sci = read_sci(field(j, "sci"));
  if (field(j, "water").is_object()) r.water = read_water(field(j, "water"));
  r.instance_type = str(j, "instance_type");
  r.greenrun_cpu_s = num(field(j, "overhead"), "greenrun_cpu_s");
  r.sampler_cpu_s = num(field(j, "overhead"), "sampler_cpu_s");
}

// What a run can hold: a report beyond it did not come from greenrun, and
// its records times components would make a page of gigabytes.
Status check_bounds(const json& j, const std::string& name) {
  const json& t = field(j, "timeline");
  const size_t comps = array(t, "components").size();
  auto beyond = [&](size_t n, const std::string& what, size_t most, const std::string& with = "") {
    return Status::fail(name + ": " + std::to_string(n) + " " + what + ", more than the " + std::to_string(most) +
                        " a greenrun run holds" + with + ": not a report greenrun wrote");
  };
  if (array(j, "components").size() > Timeline::kMaxComponents)
    return beyond(array(j, "components").size(), "components", Timeline::kMaxComponents);
  if (comps > Timeline::kMaxComponents) return beyond(comps, "timeline components", Timeline::kMaxComponents);
  if (array(t, "records").size() > Timeline::capacity_for(comps))
    return beyond(array(t, "records").size(), "timeline records", Timeline::capacity_for(comps),
                  " with " + std::to_string(comps) + " components");
  if (array(j, "phases").size() > Accounting::kMaxPhases + 1)
    return beyond(array(j, "phases").size(), "phases", Accounting::kMaxPhases + 1);
  return {};
}

}  // namespace

Result<RunReport> run_report_from_json(const nlohmann::json& j, const std::string& name) {
  if (auto checked = read_report(j, name); !checked) return Result<RunReport>::fail(checked.error());
  if (auto bounded = check_bounds(j, name); !bounded) return Result<RunReport>::fail(bounded.error());
  RunReport r;
  r.command = strings(j, "command");
  r.status = str(j, "status");
  r.host = str(j, "host");
  r.boot_id = str(j, "boot_id");
  r.started_at = when(j, "started_at");
  r.ended_at = when(j, "ended_at");
  r.duration_s = num(j, "duration_s");
  if (field(j, "exit_code").is_number_integer()) r.exit_code = field(j, "exit_code").get<int>();
  r.signal = signal_number(str(j, "signal"));
  r.core_dumped = flag(j, "core_dumped");
  r.error = str(j, "error");
  r.user_s = num(j, "cpu_user_s");
  r.system_s = num(j, "cpu_system_s");
  r.peak_rss_bytes = count(j, "peak_rss_bytes");
  r.io.read_bytes = count(j, "read_bytes");
  r.io.write_bytes = count(j, "write_bytes");
  r.processes_seen = count(j, "processes");
  r.processes_exact = str(j, "processes_counted_by") == "proc connector";
  r.descendants_running = static_cast<int>(std::clamp(num(j, "descendants_running_at_exit"), 0.0, 1e9));
  r.scope = str(j, "scope") == "machine" ? Scope::Machine : Scope::Process;
  read_components(j, r);
  r.peak_power_w = num(j, "peak_power_w");
  if (auto avg = opt_num(j, "average_power_w"); avg && *avg > 0) r.sampled_s = r.energy_j() / *avg;
  r.samples = count(j, "samples");
  r.interval_s = num(j, "interval_s");
  const json& t = field(j, "timeline");
  std::vector<RecordCarbon> record_carbon;
  r.timeline = read_timeline(t, record_carbon);
  r.timeline_origin = when(t, "origin");
  const double per = std::max(1.0, num(t, "windows_per_record", 1));
  r.window_s = num(t, "resolution_s") / per;
  if (field(j, "emissions_g").is_number()) r.carbon = read_carbon(j, r, std::move(record_carbon));
  read_rest(j, r);
  return r;
}

}  // namespace greenrun
