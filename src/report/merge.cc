#include "report/merge.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "carbon/intensity.h"
#include "report/text.h"
#include "util/escape.h"
#include "util/units.h"
#include "util/version.h"

namespace greenrun {

namespace {

std::string kind_of(const std::vector<ReportFigures>& runs) {
  std::string kind;
  for (const auto& r : runs) {
    if (kind.empty()) kind = r.energy_kind;
    else if (kind != r.energy_kind) return "mixed";
  }
  return kind;
}

// Reports of one host and boot whose spans overlap read the same machine
// counters at the same time: their machine figures must not be added.
void note_overlaps(const std::vector<ReportFigures>& runs, std::vector<std::string>& notes) {
  for (size_t i = 0; i < runs.size(); ++i)
    for (size_t j = i + 1; j < runs.size(); ++j) {
      const auto& a = runs[i];
      const auto& b = runs[j];
      if (a.host.empty() || a.host != b.host || a.boot_id != b.boot_id) continue;
      auto a0 = parse_timestamp(a.started_at), a1 = parse_timestamp(a.ended_at);
      auto b0 = parse_timestamp(b.started_at), b1 = parse_timestamp(b.ended_at);
      if (a0 && a1 && b0 && b1 && *a0 < *b1 && *b0 < *a1 && !(a.slurm && b.slurm)) {
        notes.push_back(a.name + " and " + b.name + " ran at the same time on " + a.host +
                        ": their own figures add up; the machine's is counted once");
        return;
      }
    }
}

bool overlap(const ReportFigures& a, const ReportFigures& b) {
  auto a0 = parse_timestamp(a.started_at), a1 = parse_timestamp(a.ended_at);
  auto b0 = parse_timestamp(b.started_at), b1 = parse_timestamp(b.ended_at);
  return a0 && a1 && b0 && b1 && *a0 < *b1 && *b0 < *a1;
}

// A machine's energy across its reports. Slurm ranks of one step elect one
// meter per node, so their machine figures add up to the node's; other
// reports that overlap in time each measured the whole machine then: the
// largest of an overlapping group stands for all of them.
std::vector<NodeTotal> node_totals(const std::vector<ReportFigures>& runs) {
  std::vector<NodeTotal> nodes;
  std::map<std::pair<std::string, std::string>, std::vector<const ReportFigures*>> by_machine;
  for (const auto& r : runs) by_machine[{r.host, r.boot_id}].push_back(&r);
  for (const auto& [key, group] : by_machine) {
    NodeTotal n{key.first, group.size(), 0, 0};
    std::vector<bool> done(group.size(), false);
    for (size_t i = 0; i < group.size(); ++i) {
      n.energy_j += group[i]->energy_j.value_or(0);
      if (done[i]) continue;
      double largest = group[i]->machine_energy_j.value_or(0);
      for (size_t k = i + 1; k < group.size(); ++k)
        if (!done[k] && !(group[i]->slurm && group[k]->slurm) && overlap(*group[i], *group[k])) {
          largest = std::max(largest, group[k]->machine_energy_j.value_or(0));
          done[k] = true;
        }
      n.machine_energy_j += largest;
    }
    nodes.push_back(std::move(n));
  }
  return nodes;
}

std::string row_energy(const ReportFigures& r) {
  return r.energy_j ? format_energy(*r.energy_j) + " " + r.energy_kind : "not measured";
}

}  // namespace

Spread spread_of(const std::vector<double>& values) {
  Spread s;
  s.n = values.size();
  if (values.empty()) return s;
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(s.n);
  double sq = 0;
  for (double v : values) sq += (v - s.mean) * (v - s.mean);
  s.stddev = s.n > 1 ? std::sqrt(sq / static_cast<double>(s.n - 1)) : 0.0;
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  return s;
}

MergedReport merge_reports(std::vector<ReportFigures> runs) {
  MergedReport m;
  std::map<std::vector<std::string>, std::pair<std::vector<double>, std::vector<double>>> by_command;
  for (const auto& r : runs) {
    m.energy_j += r.energy_j.value_or(0);
    if (r.emissions_g) m.emissions_g += *r.emissions_g;
    else m.emissions_complete = false;
    m.duration_s += r.duration_s;
    m.cpu_s += r.cpu_s;
    auto& [energies, durations] = by_command[r.command];
    if (r.energy_j) energies.push_back(*r.energy_j);
    durations.push_back(r.duration_s);
  }
  for (const auto& [command, values] : by_command)
    if (values.second.size() > 1) m.repeated.push_back({command, spread_of(values.first), spread_of(values.second)});
  m.energy_kind = kind_of(runs);
  note_overlaps(runs, m.notes);
  m.nodes = node_totals(runs);
  for (const auto& n : m.nodes) m.machine_energy_j += n.machine_energy_j;
  if (!m.emissions_complete) m.notes.push_back("some reports have no emissions figure: the total leaves them out");
  m.runs = std::move(runs);
  return m;
}

namespace {

// A repeated command's energy, over those of its runs that have a figure.
std::string repeated_energy(const RepeatedCommand& c) {
  const Spread& e = c.energy_j;
  if (e.n == 0) return "no energy figure";
  return "energy mean " + format_energy(e.mean) + " (sd " + format_energy(e.stddev) + ", " + format_energy(e.min) + " to " +
         format_energy(e.max) + (e.n < c.duration_s.n ? ", of the " + std::to_string(e.n) + " runs with a figure" : "") + ")";
}

}  // namespace

std::string format_merged(const MergedReport& m) {
  std::ostringstream out;
  // Each line escaped once for the terminal: file names, commands and hosts come from the reports.
  auto line = [&](const std::string& text) { out << terminal_text(text) << "\n"; };
  for (const auto& r : m.runs)
    line(r.name + ": " + command_line(r.command) + ": " + row_energy(r) + ", " +
         (r.emissions_g ? format_mass_g(*r.emissions_g) + " CO2e" : std::string("no emissions")) + ", " +
         format_seconds(r.duration_s) + (r.host.empty() ? "" : " on " + r.host));
  line("total: " + format_energy(m.energy_j) + " " + m.energy_kind + ", " + format_mass_g(m.emissions_g) + " CO2e, " +
       format_seconds(m.duration_s) + " over " + std::to_string(m.runs.size()) + " reports");
  line("machines: " + format_energy(m.machine_energy_j) + " (each machine's counters once)");
  if (m.nodes.size() > 1 || (m.nodes.size() == 1 && m.nodes[0].reports > 1))
    for (const auto& n : m.nodes)
      line("  node " + n.host + ": " + std::to_string(n.reports) + " reports, " + format_energy(n.energy_j) +
           " their own, " + format_energy(n.machine_energy_j) + " the machine's");
  for (const auto& c : m.repeated)
    line("repeated " + std::to_string(c.duration_s.n) + "x " + command_line(c.command) + ": " + repeated_energy(c) +
         ", duration mean " + format_seconds(c.duration_s.mean) + " (sd " + format_seconds(c.duration_s.stddev) + ")");
  for (const auto& n : m.notes) line("note: " + n);
  return out.str();
}

namespace {

constexpr size_t kMaxCommandBytes = 4096, kMaxTextBytes = 256;

std::string md_text(const std::string& s) { return markdown_text(capped(s, kMaxTextBytes)); }
std::string md_command(const std::vector<std::string>& argv) {
  return markdown_code_span(capped(command_line(argv), kMaxCommandBytes), true);
}

}  // namespace

std::string format_merged_markdown(const MergedReport& m) {
  std::ostringstream out;
  out << "| report | command | energy | emissions | duration |\n|---|---|---:|---:|---:|\n";
  for (const auto& r : m.runs)
    out << "| " << md_text(r.name) << " | " << md_command(r.command) << " | " << row_energy(r) << " | "
        << (r.emissions_g ? format_mass_g(*r.emissions_g) : std::string("-")) << " | " << format_seconds(r.duration_s)
        << " |\n";
  out << "| **total** | " << m.runs.size() << " reports | **" << format_energy(m.energy_j) << "** " << m.energy_kind
      << " | **" << format_mass_g(m.emissions_g) << "** | " << format_seconds(m.duration_s) << " |\n\n";
  out << "| node | reports | their energy | the machine's |\n|---|---:|---:|---:|\n";
  for (const auto& n : m.nodes)
    out << "| " << md_text(n.host) << " | " << n.reports << " | " << format_energy(n.energy_j) << " | "
        << format_energy(n.machine_energy_j) << " |\n";
  out << "\n";
  if (!m.repeated.empty()) {
    out << "| repeated command | runs | energy mean | energy sd | min | max | duration mean |\n"
        << "|---|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& c : m.repeated) {
      // Energy columns over the runs with a figure; "-" when none has one.
      auto e = [&](double v) { return c.energy_j.n ? format_energy(v) : std::string("-"); };
      out << "| " << md_command(c.command) << " | " << c.duration_s.n << " | " << e(c.energy_j.mean) << " | "
          << e(c.energy_j.stddev) << " | " << e(c.energy_j.min) << " | " << e(c.energy_j.max) << " | "
          << format_seconds(c.duration_s.mean) << " |\n";
    }
    out << "\n";
  }
  for (const auto& n : m.notes) out << "- " << md_text(n) << "\n";
  return out.str();
}

nlohmann::ordered_json merged_json(const MergedReport& m) {
  using json = nlohmann::ordered_json;
  json runs = json::array();
  for (const auto& r : m.runs) {
    json x = {{"file", r.name}, {"command", r.command}, {"host", r.host}, {"energy_measured", r.energy_kind},
              {"duration_s", r.duration_s}, {"cpu_time_s", r.cpu_s}};
    x["energy_j"] = r.energy_j ? json(*r.energy_j) : json(nullptr);
    x["emissions_g"] = r.emissions_g ? json(*r.emissions_g) : json(nullptr);
    runs.push_back(std::move(x));
  }
  auto spread = [](const Spread& s) {
    return json{{"n", s.n}, {"mean", s.mean}, {"stddev", s.stddev}, {"min", s.min}, {"max", s.max}};
  };
  json repeated = json::array();
  for (const auto& c : m.repeated)
    repeated.push_back({{"command", c.command}, {"energy_j", spread(c.energy_j)}, {"duration_s", spread(c.duration_s)}});
  json nodes = json::array();
  for (const auto& n : m.nodes)
    nodes.push_back({{"host", n.host}, {"reports", n.reports}, {"energy_j", n.energy_j}, {"machine_energy_j", n.machine_energy_j}});
  return {{"greenrun_version", kVersion},
          {"reports", std::move(runs)},
          {"total", {{"energy_j", m.energy_j}, {"machine_energy_j", m.machine_energy_j}, {"energy_measured", m.energy_kind},
                     {"emissions_g", m.emissions_g}, {"duration_s", m.duration_s}, {"cpu_time_s", m.cpu_s}}},
          {"nodes", std::move(nodes)},
          {"repeated", std::move(repeated)},
          {"notes", m.notes}};
}

}  // namespace greenrun
