// The report as GitHub-flavoured Markdown: a CI job's step summary, a PR
// comment. Tables for what people compare; the long ones folded in <details>.
// Outside text goes through markdown_text (or a code block, for the command)
// once, here, and every piece of it is capped: the whole stays far under
// GitHub's 1 MiB per step, whatever the run.

#include <algorithm>
#include <sstream>

#include "report/report.h"
#include "report/text.h"
#include "util/escape.h"
#include "util/units.h"

namespace greenrun {

namespace {

/// At most this many rows of a long table (phases) and notes; the JSON report has them all.
constexpr size_t kMaxRows = 100;
constexpr size_t kMaxNotes = 20;
/// The command, and any other piece of outside text (a name, a label, a note).
constexpr size_t kMaxCommandBytes = 4096;
constexpr size_t kMaxTextBytes = 256;

// Text in a table cell, a quote or a list item: literal, on one line, capped.
std::string cell(const std::string& s, size_t max_bytes = kMaxTextBytes) { return markdown_text(capped(s, max_bytes)); }

// The command exactly as typed, in a code block (a heading cannot hold one).
std::string command_block(const std::vector<std::string>& argv) {
  const std::string line = command_line(argv);
  std::string out = markdown_code_block(capped(line, kMaxCommandBytes), "sh");
  if (line.size() > kMaxCommandBytes)
    out += "\nThe command line is " + std::to_string(line.size()) + " bytes; the first " +
           std::to_string(kMaxCommandBytes / 1024) + " KiB are shown, the JSON report has it all.\n";
  return out;
}

std::string how(const ComponentReport& c) {
  if (c.measured) {
    std::string labels;
    for (const auto& d : c.detail) labels += (labels.empty() ? "" : ", ") + d.value("label", std::string());
    return "measured: " + c.source + (labels.empty() ? "" : " (" + labels + ")");
  }
  return "estimated, " + format_energy(c.energy_j_low.value_or(0)) + " to " + format_energy(c.energy_j_high.value_or(0)) +
         ": " + c.method;
}

void components(const RunReport& r, std::ostringstream& out) {
  if (r.components.empty()) {
    out << "Energy: not measured (no usable energy source on this machine).\n\n";
    return;
  }
  out << "| component | energy | how |\n|---|---:|---|\n";
  for (const auto& c : r.components)
    out << "| " << cell(c.name) << " | " << format_energy(c.energy_j) << " | " << cell(how(c), 4 * kMaxTextBytes) << " |\n";
  std::string total = format_energy(r.energy_j());
  if (r.energy_j() >= 1.0 && r.energy_j() < 3600.0) total += " (" + significant(r.energy_j() / 3600.0) + " Wh)";
  out << "| **total** | **" << total << "** | " << r.energy_kind() << "; average "
      << format_power(r.average_power_w()) << ", peak " << format_power(r.peak_power_w) << " |\n\n";
  out << (r.scope == Scope::Process ? "The command's share of the machine, by its share of CPU time; the whole machine used "
                                    : "The whole machine while the command ran; the command's own share was ")
      << format_energy(r.scope == Scope::Process ? r.machine_energy_j() : r.energy_j()) << ".\n\n";
}

void emissions(const RunReport& r, std::ostringstream& out) {
  if (!r.carbon) return;
  const CarbonReport& c = *r.carbon;
  const Location& l = c.settings.location;
  out << "**Emissions:** " << format_mass_g(c.emissions_g) << " CO2e = " << format_energy(c.energy_kwh * 3.6e6)
      << " x PUE " << significant(c.settings.pue, 3) << " x " << significant(c.intensity_g_per_kwh) << " g/kWh ("
      << r.energy_kind() << " energy). Grid: " << cell(l.name) << (l.zone.empty() ? "" : " (" + cell(l.zone) + ")")
      << ", " << cell(l.source) << (l.year ? ", " + std::to_string(l.year) : "") << ".";
  if (!l.how.empty()) out << " " << cell(l.how) << ".";
  out << "\n\n";
  if (c.comparisons.size() <= 1) return;
  out << "<details><summary>The same run on other grids</summary>\n\n"
      << "| grid | zone | g/kWh | emissions |\n|---|---|---:|---:|\n";
  for (const auto& x : c.comparisons) {
    const bool here = x.why == "here";
    out << "| " << (here ? "**" : "") << cell(x.name) << (here ? " (this run)**" : "") << " | " << cell(x.id) << " | "
        << significant(x.g_per_kwh) << " | " << format_mass_g(x.emissions_g) << " |\n";
  }
  out << "\n</details>\n\n";
}

void units(const RunReport& r, std::ostringstream& out) {
  for (const auto& u : r.units) {
    if (!u.energy_j_per_unit) continue;
    out << "**Per " << cell(singular_unit(u.unit)) << "**: " << format_energy(*u.energy_j_per_unit);
    if (u.emissions_g_per_unit) out << ", " << format_mass_g(*u.emissions_g_per_unit) << " CO2e";
    out << " (" << cell(significant(u.count, 6)) << " " << cell(u.unit) << " counted, " << r.energy_kind() << " energy)\n\n";
  }
  if (r.projection && r.projection->energy.fraction < 0.999) {
    const ProjectionReport& p = *r.projection;
    out << "**Projected** at " << format_done(p.energy.fraction) << " done: " << format_energy(p.energy.energy_j);
    if (p.emissions_g) out << ", " << format_mass_g(*p.emissions_g) << " CO2e";
    out << " for the whole run (recent rate)\n\n";
  }
}

void phases(const RunReport& r, std::ostringstream& out) {
  if (r.phases.empty()) return;
  // The largest first when there are too many to list.
  std::vector<const PhaseReport*> shown;
  for (const auto& p : r.phases) shown.push_back(&p);
  if (shown.size() > kMaxRows) {
    std::stable_sort(shown.begin(), shown.end(), [](auto* a, auto* b) { return a->energy_j > b->energy_j; });
    shown.resize(kMaxRows);
    std::stable_sort(shown.begin(), shown.end(), [](auto* a, auto* b) { return a->start_s < b->start_s; });
  }
  out << "**Phases** (" << r.energy_kind() << " energy):\n\n| phase | start | duration | energy | emissions |\n"
      << "|---|---:|---:|---:|---:|\n";
  for (const auto* p : shown)
    out << "| " << cell(p->name) << " | " << format_seconds(p->start_s) << " | " << format_seconds(p->end_s - p->start_s)
        << " | " << format_energy(p->energy_j) << " | "
        << (p->emissions_g ? format_mass_g(*p->emissions_g) : std::string("-")) << " |\n";
  if (r.phases.size() > shown.size())
    out << "\n" << r.phases.size() - shown.size() << " smaller phases are in the JSON report.\n";
  out << "\n";
}

}  // namespace

std::string format_markdown(const RunReport& r) {
  std::ostringstream out;
  out << "### greenrun\n\n" << command_block(r.command) << "\n";
  out << "**" << status_text(r) << "** after " << format_seconds(r.duration_s) << " · CPU "
      << format_seconds(r.user_s + r.system_s) << " · peak memory " << format_bytes(static_cast<double>(r.peak_rss_bytes))
      << "\n\n";
  components(r, out);
  emissions(r, out);
  units(r, out);
  phases(r, out);
  if (r.baseline) out << "**Against the baseline** (" << cell(r.baseline->baseline) << "):\n\n" << format_comparison_markdown(*r.baseline) << "\n";
  for (size_t i = 0; i < r.verdicts.size() && i < kMaxNotes; ++i) out << "> " << cell(r.verdicts[i]) << "\n>\n";
  if (!r.verdicts.empty()) out << "\n";
  for (size_t i = 0; i < r.notes.size() && i < kMaxNotes; ++i) out << "- note: " << cell(r.notes[i]) << "\n";
  if (r.notes.size() > kMaxNotes) out << "- " << r.notes.size() - kMaxNotes << " more notes in the JSON report\n";
  return out.str();
}

}  // namespace greenrun
