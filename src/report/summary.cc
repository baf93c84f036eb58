#include <algorithm>
#include <cmath>
#include <sstream>

#include "report/report.h"
#include "report/text.h"
#include "util/units.h"

namespace greenrun {

namespace {

template <class Line>
void format_carbon(const CarbonReport& c, const std::string& energy_kind, Line& line, std::ostringstream& out) {
  const Location& l = c.settings.location;
  std::string e = format_mass_g(c.emissions_g) + " CO2e";
  std::string how = format_energy(c.energy_kwh * 3.6e6) + " x PUE " + significant(c.settings.pue, 3) + " x " +
                    significant(c.intensity_g_per_kwh, 3) + " g/kWh";
  std::string basis = energy_kind == "measured" ? "measured energy" : energy_kind + " energy";
  line("emissions", e + " = " + how + "  [computed: " + basis + " x " +
                        (c.settings.intensity_file.empty() ? "yearly grid average" : "hourly grid data") + "]");
  std::string grid = l.name + (l.zone.empty() || l.name.find(l.zone) != std::string::npos ? "" : " (" + l.zone + ")");
  if (c.settings.intensity_override) {
    grid += ", " + significant(*c.settings.intensity_override) + " g/kWh given with --intensity";
  } else if (!c.settings.intensity_file.empty()) {
    grid += ", " + significant(c.intensity_g_per_kwh) + " g/kWh on average from " + c.settings.intensity_file;
  } else {
    grid += ", " + significant(l.g_per_kwh) + " g/kWh " + factor_name(l.factor) + ", " + l.source + ", " +
            std::to_string(l.year);
  }
  line("grid", grid);
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
      std::string name = x->name.size() > 34 ? x->name.substr(0, 33) + "~" : x->name;
      size_t bar = max_g > 0 ? static_cast<size_t>(std::lround(24.0 * x->emissions_g / max_g)) : 0;
      std::string tag = x->why == "here" ? "  <- this run" : x->why == "cleanest" || x->why == "dirtiest" ? "  (" + x->why + ")" : "";
      out << "    " << pad(name, name_w) << "  " << pad(x->id, id_w) << "  " << lpad(significant(x->g_per_kwh), 6)
          << " g/kWh  " << lpad(format_mass_g(x->emissions_g), 10) << "  " << std::string(std::max<size_t>(bar, 1), '#')
          << tag << "\n";
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

}  // namespace

std::string format_summary(const RunReport& r) {
  std::ostringstream out;
  const size_t kLabel = 14;
  auto line = [&](const std::string& label, const std::string& text) {
    out << "  " << pad(label, kLabel) << text << "\n";
  };
  out << "greenrun: " << command_line(r.command) << "\n";
  std::string status;
  if (r.signal) {
    status = "killed by " + signal_name(*r.signal) + (r.core_dumped ? " (core dumped)" : "") + ", exit status " +
             std::to_string(128 + *r.signal);
  } else if (r.exit_code) {
    status = "exited with status " + std::to_string(*r.exit_code);
  } else {
    status = "running";
  }
  line("status", status + " after " + format_seconds(r.duration_s));
  double cpu = r.user_s + r.system_s;
  std::string cpu_text = format_seconds(cpu) + " (user " + format_seconds(r.user_s) + ", system " +
                         format_seconds(r.system_s) + ")";
  if (r.duration_s > 0) cpu_text += ", " + significant(cpu / r.duration_s, 2) + " cores on average";
  const bool cgroup = r.tree.method == "cgroup";
  const bool cgroup_memory = cgroup && r.tree.memory_note.empty();
  line("CPU time", cpu_text + (cgroup ? "  [measured: cgroup, whole tree]" : "  [measured: /proc, getrusage]"));
  uint64_t procs = std::max<uint64_t>(1, r.processes_seen);
  line("peak memory", format_bytes(static_cast<double>(r.peak_rss_bytes)) + " resident, " + std::to_string(procs) +
                          (procs == 1 ? " process" : " processes seen") +
                          (cgroup_memory ? "  [measured: cgroup memory.stat]" : "  [measured: /proc]"));
  if (r.tree.method == "proc" && r.tree.reason != "--tree proc") line("process tree", "/proc walk: " + r.tree.reason);
  line("disk I/O", format_bytes(static_cast<double>(r.io.read_bytes)) + " read, " +
                       format_bytes(static_cast<double>(r.io.write_bytes)) + " written  [measured: /proc]");
  if (r.descendants_running > 0)
    line("left running", std::to_string(r.descendants_running) +
                             (r.descendants_running == 1 ? " descendant was" : " descendants were") +
                             " still running when the command exited (not measured after that)");

  if (r.components.empty()) {
    line("energy", "not measured: no usable energy source on this machine");
  } else {
    line("energy", r.scope == Scope::Process
                       ? "the command's share of the machine, by its share of CPU time (--scope machine: all of it)"
                       : "the whole machine while the command ran (--scope process: the command's share)");
    for (const auto& c : r.components) {
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
      line("  " + c.name, text);
    }
    double e = r.energy_j();
    std::string total = lpad(format_energy(e), 10);
    if (e >= 1.0 && e < 3600.0) total += " (" + significant(e / 3600.0) + " Wh)";
    if (r.duration_s > 0)
      total += ", average " + format_power(r.average_power_w()) + ", peak " + format_power(r.peak_power_w);
    std::string kind = r.any_estimated() ? (r.any_measured() ? "  partly estimated" : "  estimated") : "  measured";
    line("  total", total + kind);
    if (r.scope == Scope::Process)
      line("  machine", lpad(format_energy(r.machine_energy_j()), 10) + " for every process on the machine");
  }
  if (r.carbon)
    format_carbon(*r.carbon, r.any_estimated() ? (r.any_measured() ? "partly estimated" : "estimated") : "measured", line,
                  out);
  for (const auto& n : r.notes) line("note", n);
  // One note per (source, reason, fix): five root-only zones make one line, not five.
  std::vector<std::pair<const Finding*, std::string>> notes;
  for (const auto& f : r.findings) {
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
  return out.str();
}

}  // namespace greenrun
