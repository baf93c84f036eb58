#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "report/report.h"
#include "report/text.h"
#include "util/escape.h"
#include "util/units.h"

namespace greenrun {

namespace {

/// The first `bytes` of `s`, not cutting a UTF-8 character.
std::string fit(const std::string& s, size_t bytes) {
  size_t cut = std::min(bytes, s.size());
  while (cut > 0 && cut < s.size() && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
  return s.substr(0, cut);
}

/// "live 95%, forecast 5%": the run's time by what priced it (live runs only).
std::string basis_shares(const CarbonReport& c) {
  double total = 0;
  for (double s : c.seconds_by_basis) total += s;
  std::string out;
  for (size_t b = 0; b < kBases && total > 0; ++b)
    if (c.seconds_by_basis[b] > 0)
      out += (out.empty() ? "" : ", ") + std::string(basis_name(static_cast<Basis>(b))) + " " +
             significant(100.0 * c.seconds_by_basis[b] / total, 3) + "%";
  return out;
}

bool priced_live(const CarbonReport& c) {
  const auto& s = c.seconds_by_basis;
  return c.settings.live && c.settings.live->provider != "file" &&
         s[static_cast<size_t>(Basis::Live)] + s[static_cast<size_t>(Basis::Estimated)] + s[static_cast<size_t>(Basis::Forecast)] > 0;
}

template <class Line>
void format_live(const CarbonReport& c, Line& line) {
  const LiveSource& l = *c.settings.live;
  const std::string what = l.provider + " " + l.location + " (" + l.signal + ", " + factor_name(l.factor) + ")";
  if (!l.problem.empty())
    line("live data", l.problem + "; " + (priced_live(c) ? "the yearly figure priced the rest" : "the yearly figure was used"));
  if (priced_live(c) || l.provider == "file") line("priced by", basis_shares(c) + " of the run; " + what);
  for (const auto& n : l.notes) line("", n);
  if (auto caveat = comparison_caveat(c); !caveat.empty()) line("", caveat);
}

template <class Line, class Raw>
void format_carbon(const CarbonReport& c, const std::string& energy_kind, Line& line, Raw& raw) {
  const Location& l = c.settings.location;
  std::string e = format_mass_g(c.emissions_g) + " CO2e";
  std::string how = format_energy(c.energy_kwh * 3.6e6) + " x PUE " + significant(c.settings.pue, 3) + " x " +
                    significant(c.intensity_g_per_kwh, 3) + " g/kWh";
  std::string basis = energy_kind == "measured" ? "measured energy" : energy_kind + " energy";
  const std::string grid_basis = priced_live(c) ? "live grid data"
                                 : c.settings.intensity_file.empty() ? "yearly grid average" : "hourly grid data";
  line("emissions", e + " = " + how + "  [computed: " + basis + " x " + grid_basis + "]");
  std::string grid = l.name + (l.zone.empty() || l.name.find(l.zone) != std::string::npos ? "" : " (" + l.zone + ")");
  if (c.settings.intensity_override) {
    grid += ", " + significant(*c.settings.intensity_override) + " g/kWh given with --intensity";
  } else if (priced_live(c)) {
    grid += ", " + significant(c.intensity_g_per_kwh) + " g/kWh on average from " + c.settings.live->provider;
  } else if (!c.settings.intensity_file.empty()) {
    grid += ", " + significant(c.intensity_g_per_kwh) + " g/kWh on average from " + c.settings.intensity_file;
  } else {
    grid += ", " + significant(l.g_per_kwh) + " g/kWh " + factor_name(l.factor) + ", " + l.source + ", " +
            std::to_string(l.year);
  }
  line("grid", grid);
  if (c.settings.live) format_live(c, line);
  if (!l.how.empty()) line("", l.how);
  if (!l.note.empty()) line("", l.note);
  if (c.seconds_outside_file > 0)
    line("", format_seconds(c.seconds_outside_file) + " of the run lie outside " + c.settings.intensity_file +
                 "; its first or last value was used there");
  if (c.settings.pue != 1.0) line("PUE", significant(c.settings.pue, 3) + " (" + c.settings.pue_source + ")");
  if (c.comparisons.size() > 1) {
    line("elsewhere", "the same energy on other grids (" + factor_name(l.factor) + ", yearly averages):");
    double max_g = 0;
    size_t name_w = 0, id_w = 0;
    // The user's provider can have dozens of regions: show its cleanest and dirtiest few.
    std::vector<const Comparison*> shown;
    std::vector<const Comparison*> cloud;
    for (const auto& x : c.comparisons) (x.why == "cloud" ? cloud : shown).push_back(&x);
    for (size_t i = 0; i < cloud.size(); ++i)
      if (i < 3 || i + 2 >= cloud.size()) shown.push_back(cloud[i]);
    std::stable_sort(shown.begin(), shown.end(), [](auto* a, auto* b) { return a->g_per_kwh < b->g_per_kwh; });
    for (auto* x : shown) {
      max_g = std::max(max_g, x->emissions_g);
      name_w = std::max(name_w, std::min<size_t>(x->name.size(), 34));
      id_w = std::max(id_w, x->id.size());
    }
    for (auto* x : shown) {
      std::string name = x->name.size() > 34 ? fit(x->name, 33) + "~" : x->name;
      // A report read back (greenrun report FILE) may hold any number: the bar is 1 to 24 marks.
      const double share = max_g > 0 && std::isfinite(max_g) ? std::clamp(x->emissions_g / max_g, 0.0, 1.0) : 0;
      const auto bar = static_cast<size_t>(std::lround(24.0 * (std::isnan(share) ? 0 : share)));
      std::string tag = x->why == "here" ? "  <- this run" : x->why == "cleanest" || x->why == "dirtiest" ? "  (" + x->why + ")" : "";
      raw("    " + pad(name, name_w) + "  " + pad(x->id, id_w) + "  " + lpad(significant(x->g_per_kwh), 6) + " g/kWh  " +
          lpad(format_mass_g(x->emissions_g), 10) + "  " + std::string(std::max<size_t>(bar, 1), '#') + tag);
    }
    if (cloud.size() > 5) line("", std::to_string(cloud.size() - 5) + " more " + l.cloud_provider + " regions in the JSON report");
  }
  // Only those large enough to picture; all of them are in the JSON report.
  std::vector<std::string> eq;
  for (const auto& x : c.equivalents)
    if ((x.id == "car_km_eu" || x.id == "smartphone_charge" || x.id == "flight_paris_london") && x.value >= 0.01)
      eq.push_back(significant(x.value, 2) + " " + x.label);
  if (!eq.empty()) {
    std::string text;
    for (size_t i = 0; i < eq.size(); ++i) text += (i ? ", " : "") + eq[i];
    line("as much as", text + "  [factors: Green Algorithms, US EPA; see the JSON report]");
  }
}

template <class Line>
void format_schedule(const ScheduleReport& s, Line& line) {
  const double waited = std::chrono::duration<double>(s.actual_start - s.requested_at).count();
  if (!s.problem.empty()) {
    line("start", "at once: " + s.problem);
    return;
  }
  std::string text = "planned " + format_rfc3339(s.planned_start) + ", started after " + format_seconds(waited) + "; " +
                     significant(s.forecast_planned_g_per_kwh) + " g/kWh forecast against " +
                     significant(s.forecast_now_g_per_kwh) + " g/kWh at once";
  if (s.beyond_horizon) text += " (the forecast ends before the job would: no later start can be known better)";
  line("start", text);
  if (s.forecast_saving_g) {
    std::string saving = format_mass_g(*s.forecast_saving_g) + " CO2e less than starting at once (forecast)";
    saving += s.actual_saving_g ? ", " + format_mass_g(*s.actual_saving_g) + " from what the grid actually emitted"
                                : "; no history to check it against";
    line("saved", saving);
  }
}

std::string count_text(double n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", n);
  return buf;
}

std::string share_text(double share) { return significant(100 * share, 3) + "%"; }

template <class Line>
void format_embodied(const EmbodiedReport& e, Line& line) {
  line("embodied", format_mass_g(e.emissions_g) + " CO2e (" + format_mass_g(e.low_g) + " to " + format_mass_g(e.high_g) +
                       "), the hardware's manufacturing share; not in the emissions above  [estimated: " +
                       (e.basis == "given" ? std::string("--embodied-kg") : e.basis == "instance" ? "instance data" : "default hardware") +
                       "]");
  for (const auto& p : e.parts) {
    line("", p.part.what + ": " + significant(p.part.kg, 4) + " kg over " + significant(p.part.lifetime_h / 8760, 3) +
                 " years x " + share_text(p.part.machine_share) + " of it x " + format_seconds(e.duration_s) + " x " +
                 share_text(p.command_share) + " the command's share = " + format_mass_g(p.emissions_g));
    line("", "  source: " + p.part.source);
  }
}

template <class Line>
void format_pause(const PauseReport& p, Line& line) {
  if (p.spans.empty()) {
    line("paused", "never (above " + significant(p.threshold_g_per_kwh) + " g/kWh)");
    return;
  }
  double avoided = 0;
  bool any = false;
  for (const auto& a : p.avoided_g)
    if (a) avoided += *a, any = true;
  line("paused", std::to_string(p.spans.size()) + (p.spans.size() == 1 ? " time, " : " times, ") +
                     format_seconds(p.paused_s()) + " in all, while above " + significant(p.threshold_g_per_kwh) +
                     " g/kWh" + (any ? "; about " + format_mass_g(avoided) + " CO2e avoided (estimate)" : ""));
}

template <class Line>
void format_sci(const SciReport& s, Line& line) {
  const std::string per = s.unit_counted ? "per " + singular_unit(s.unit.name) : "per functional unit";
  line("SCI", format_mass_g(s.per_unit_g) + " CO2e " + per + " = (E x I + M) / R = (" + significant(s.e_kwh, 3) +
                  " kWh x " + significant(s.i_g_per_kwh, 3) + " g/kWh + " + format_mass_g(s.m_g) + ") / " +
                  count_text(s.unit.count) + " " + s.unit.name + "  [ISO/IEC 21031:2024" +
                  (s.unit_counted ? "; R counted by the command" : "") + "]");
  if (!s.m_included) line("", "M is 0 with --no-embodied: not an SCI score by the standard's definition");
}

// "1797 samples counted; per sample 0.211 J, 0.100 mg CO2e"
template <class Line>
void format_units(const std::vector<UnitReport>& units, const std::string& kind, Line& line) {
  for (const auto& u : units) {
    std::string text = count_text(u.count) + " " + u.unit + " counted by the command";
    if (u.energy_j_per_unit) {
      text += "; per " + singular_unit(u.unit) + " " + format_energy(*u.energy_j_per_unit);
      if (u.emissions_g_per_unit) text += ", " + format_mass_g(*u.emissions_g_per_unit) + " CO2e";
      text += "  [" + kind + " energy / the count]";
    }
    line("units", text);
  }
}

// Only a run that ended before its progress reached the end: at 100% the projection is the total.
template <class Line>
void format_projection(const ProjectionReport& p, Line& line) {
  if (p.energy.fraction >= 0.999) return;
  std::string text = "the whole run, had it gone on: " + format_energy(p.energy.energy_j);
  if (p.emissions_g) text += ", " + format_mass_g(*p.emissions_g) + " CO2e";
  text += ", ending " + format_rfc3339(p.ends_at) + "  [projected from " + format_done(p.energy.fraction) + " done, " +
          (p.energy.method == "progress" ? "the command's progress" : "--expected-duration") + ", recent rate]";
  line("projected", text);
}

// The largest few; the JSON report has every one.
template <class Line, class Raw>
void format_phases(const std::vector<PhaseReport>& phases, Line& line, Raw& raw) {
  std::vector<const PhaseReport*> big;
  for (const auto& p : phases) big.push_back(&p);
  std::stable_sort(big.begin(), big.end(), [](auto* a, auto* b) { return a->energy_j > b->energy_j; });
  if (big.size() > 8) big.resize(8);
  std::stable_sort(big.begin(), big.end(), [](auto* a, auto* b) { return a->start_s < b->start_s; });
  line("phases", std::to_string(phases.size()) + " from " + std::to_string(phases.size() - 1) +
                     " marks; a window a mark falls in is split by time" + (phases.size() > big.size() ? "; the largest:" : ":"));
  for (const auto* p : big) {
    std::string text = "    " + pad(p->name.size() > 30 ? fit(p->name, 29) + "~" : p->name, 30) +
                       lpad(format_seconds(p->end_s - p->start_s), 12) + lpad(format_energy(p->energy_j), 12);
    if (!p->units.empty() && p->units[0].energy_j_per_unit)
      text += "  " + format_energy(*p->units[0].energy_j_per_unit) + " per " + singular_unit(p->units[0].unit);
    raw(text);
  }
}

template <class Line>
void format_water(const WaterReport& w, Line& line) {
  if (!w.liters) return line("water", w.source);
  line("water", format_volume_l(*w.liters) + " = " + format_energy(w.energy_kwh * 3.6e6) + " x WUE " +
                    significant(*w.wue_l_per_kwh, 3) + " L/kWh (" + w.source + "), on site, IT energy");
}

// "measured", "estimated" or "partly estimated": how the energy figures were got.
std::string energy_kind_of(const RunReport& r) {
  return r.any_estimated() ? (r.any_measured() ? "partly estimated" : "estimated") : "measured";
}

// CPU time, memory, process tree, disk I/O and what was left running.
template <class Line>
void format_resources(const RunReport& r, Line& line) {
  double cpu = r.user_s + r.system_s;
  std::string cpu_text = format_seconds(cpu) + " (user " + format_seconds(r.user_s) + ", system " +
                         format_seconds(r.system_s) + ")";
  if (r.duration_s > 0) cpu_text += ", " + significant(cpu / r.duration_s, 2) + " cores on average";
  const bool cgroup = r.tree.method == "cgroup";
  const bool cgroup_memory = cgroup && r.tree.memory_note.empty();
  line("CPU time", cpu_text + (cgroup ? "  [measured: cgroup, whole tree]" : "  [measured: /proc, getrusage]"));
  uint64_t procs = std::max<uint64_t>(1, r.processes_seen);
  const std::string counted = (r.processes_exact ? "" : "at least ") + std::to_string(procs) +
                              (procs == 1 ? " process" : " processes");
  line("peak memory", format_bytes(static_cast<double>(r.peak_rss_bytes)) + " resident, " + counted +
                          (cgroup_memory ? "  [measured: cgroup memory.stat]" : "  [measured: /proc]"));
  if (r.tree.method == "proc" && r.tree.reason != "--tree proc") line("process tree", "/proc walk: " + r.tree.reason);
  line("disk I/O", format_bytes(static_cast<double>(r.io.read_bytes)) + " read, " +
                       format_bytes(static_cast<double>(r.io.write_bytes)) + " written  [measured: /proc]");
  if (r.descendants_running > 0)
    line("left running", std::to_string(r.descendants_running) +
                             (r.descendants_running == 1 ? " descendant was" : " descendants were") +
                             " still running when the command exited (not measured after that)");
}

std::string component_text(const ComponentReport& c) {
  std::string text = lpad(format_energy(c.energy_j), 10) + "  ";
  if (c.measured) {
    text += "measured   " + c.source;
    std::vector<std::string> labels;
    for (const auto& d : c.detail) labels.push_back(d.value("label", ""));
    for (size_t i = 0; i < labels.size(); ++i) text += (i ? ", " : ": ") + labels[i];
  } else {
    text += "estimated  " + format_energy(c.energy_j_low.value_or(0)) + " to " +
            format_energy(c.energy_j_high.value_or(0)) + "; " + c.method;
  }
  return text;
}

// Scope, one line per component, the total and (for --scope process) the machine's.
template <class Line>
void format_energy_lines(const RunReport& r, Line& line) {
  if (r.components.empty()) return line("energy", "not measured: no usable energy source on this machine");
  line("energy", r.scope == Scope::Process
                     ? "the command's share of the machine, by its share of CPU time (--scope machine: all of it)"
                     : "the whole machine while the command ran (--scope process: the command's share)");
  for (const auto& c : r.components) line("  " + c.name, component_text(c));
  double e = r.energy_j();
  std::string total = lpad(format_energy(e), 10);
  if (e >= 1.0 && e < 3600.0) total += " (" + significant(e / 3600.0) + " Wh)";
  if (r.duration_s > 0)
    total += ", average " + format_power(r.average_power_w()) + ", peak " + format_power(r.peak_power_w);
  line("  total", total + "  " + energy_kind_of(r));
  if (r.scope == Scope::Process)
    line("  machine", lpad(format_energy(r.machine_energy_j()), 10) + " for every process on the machine");
}

template <class Line>
void format_baseline(const BaselineComparison& b, Line& line) {
  line("baseline", "against " + b.baseline + ":");
  std::istringstream lines(format_comparison(b));
  for (std::string l; std::getline(lines, l);) line("", l);
}

template <class Line>
void format_slurm(const SlurmReport& slurm, double sampled_s, Line& line) {
  const std::string role = slurm.role(sampled_s);
  line("slurm", "job " + slurm.step.job_id + " step " + slurm.step.step_id + ", task " +
                    std::to_string(slurm.step.task) + " on node " + std::to_string(slurm.step.node) + ": " +
                    role + (role == "rank" ? " (another rank counts the node's machine-level energy)" : ""));
  if (!slurm.lock_problem.empty()) line("", "no election (" + slurm.lock_problem + "): every rank counts the node");
}

template <class Line>
void format_findings(const std::vector<Finding>& findings, Line& line) {
  // One note per (source, reason, fix): five root-only zones make one line, not five.
  std::vector<std::pair<const Finding*, std::string>> notes;
  for (const auto& f : findings) {
    // Duplicates and domains inside others are bookkeeping, not news.
    if (f.used() || f.disposition == Disposition::Covered || f.reason.empty() || f.quiet) continue;
    auto same = std::find_if(notes.begin(), notes.end(), [&](const auto& n) {
      return n.first->source == f.source && n.first->reason == f.reason && n.first->fix == f.fix;
    });
    if (same == notes.end()) notes.emplace_back(&f, f.what);
    else if (!f.what.empty()) same->second += ", " + f.what;
  }
  for (const auto& [f, what] : notes) {
    line("note", f->source + ": " + (what.empty() ? "" : what + ": ") + f->reason);
    if (!f->fix.empty()) line("", "to measure it, run: " + f->fix);
  }
}

}  // namespace

std::string format_summary(const RunReport& r) {
  std::ostringstream out;
  const size_t kLabel = 14;
  // Every line goes out through these two, escaped for a terminal once:
  // nothing from outside can end a line early or start one.
  auto raw = [&](const std::string& text) { out << terminal_text(text) << "\n"; };
  auto line = [&](const std::string& label, const std::string& text) { raw("  " + pad(label, kLabel) + text); };
  raw("greenrun: " + command_line(r.command));
  line("status", status_text(r) + " after " + format_seconds(r.duration_s));
  format_resources(r, line);
  format_energy_lines(r, line);
  if (r.carbon) format_carbon(*r.carbon, energy_kind_of(r), line, raw);
  if (r.embodied) format_embodied(*r.embodied, line);
  if (r.sci) format_sci(*r.sci, line);
  if (r.water) format_water(*r.water, line);
  if (!r.units.empty()) format_units(r.units, energy_kind_of(r), line);
  if (r.projection) format_projection(*r.projection, line);
  if (!r.phases.empty()) format_phases(r.phases, line, raw);
  if (r.baseline) format_baseline(*r.baseline, line);
  for (const auto& v : r.verdicts) line("budget", v);
  if (r.slurm) format_slurm(*r.slurm, r.sampled_s, line);
  if (r.schedule) format_schedule(*r.schedule, line);
  if (r.pause) format_pause(*r.pause, line);
  for (const auto& n : r.notes) line("note", n);
  format_findings(r.findings, line);
  return out.str();
}

}  // namespace greenrun
