// report/markdown.cc (the step summary, a PR comment) and the merged reports'
// Markdown (report/merge.cc): tables with the right number of cells in each
// row, outside text escaped so that a '|' stays inside its cell.

#include <sstream>

#include <catch2/catch.hpp>

#include "report/merge.h"
#include "report/report.h"

using namespace greenrun;
using Catch::Matchers::Contains;

namespace {

// A GFM table row's cells: split at each '|' that no backslash escapes (as
// cmark-gfm's table extension does), without the outer pipes.
std::vector<std::string> cells(const std::string& row) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < row.size(); ++i) {
    if (row[i] == '|' && (i == 0 || row[i - 1] != '\\')) out.emplace_back();
    else out.back() += row[i];
  }
  auto blank = [](const std::string& s) { return s.find_first_not_of(' ') == std::string::npos; };
  if (!out.empty() && blank(out.front())) out.erase(out.begin());
  if (!out.empty() && blank(out.back())) out.pop_back();
  for (auto& c : out) {
    c.erase(0, c.find_first_not_of(' '));
    c.erase(c.find_last_not_of(' ') + 1);
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The tables of `text`: runs of lines starting with '|'.
std::vector<std::vector<std::string>> tables(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  bool in_table = false;
  for (const auto& line : lines_of(text)) {
    const bool row = !line.empty() && line[0] == '|';
    if (row && !in_table) out.emplace_back();
    if (row) out.back().push_back(line);
    in_table = row;
  }
  return out;
}

// Every row of `table` has `n` cells; the second is the delimiter row.
void check_columns(const std::vector<std::string>& table, size_t n) {
  REQUIRE(table.size() >= 2);
  for (const auto& row : table) {
    INFO(row);
    CHECK(cells(row).size() == n);
  }
  for (const auto& c : cells(table[1])) CHECK(c.find_first_not_of("-:") == std::string::npos);
}

ComponentReport component(const std::string& name, double energy_j, double machine_j, const std::string& label) {
  ComponentReport c;
  c.name = name;
  c.energy_j = energy_j;
  c.machine_energy_j = machine_j;
  c.source = "RAPL powercap";
  c.detail.push_back({{"label", label}});
  return c;
}

// sh -c 'echo a | tee b' for 4 s: cpu 1500 J + dram 300 J = 1800 J of the
// machine's 7200 J, sampled over 4 s (450 W average), 600 W peak.
RunReport run() {
  RunReport r;
  r.command = {"sh", "-c", "echo a | tee b"};
  r.status = "finished";
  r.exit_code = 0;
  r.duration_s = r.sampled_s = 4;
  r.user_s = 2, r.system_s = 1;
  r.peak_rss_bytes = 1536 * 1024;
  r.peak_power_w = 600;
  r.components = {component("cpu", 1500, 6000, "package-0"), component("dram", 300, 1200, "dram")};
  return r;
}

}  // namespace

TEST_CASE("the cell splitter used below counts GFM cells, escaped pipes included", "[markdown]") {
  CHECK(cells("| a | b |") == std::vector<std::string>{"a", "b"});
  CHECK(cells("| a\\|b | c |") == std::vector<std::string>{"a\\|b", "c"});
  CHECK(cells("|---|---:|") == std::vector<std::string>{"---", "---:"});
}

TEST_CASE("step summary: the command in a code block, the status line and a three-column component table", "[markdown]") {
  const std::string md = format_markdown(run());
  CHECK_THAT(md, Contains("### greenrun\n\n```sh\nsh -c 'echo a | tee b'\n```\n"));  // as typed, no escapes
  // 2 + 1 s of CPU; 1536 KiB = 1.50 MiB.
  CHECK_THAT(md, Contains("**exited with status 0** after 4.00 s \u00b7 CPU 3.00 s \u00b7 peak memory 1.50 MiB\n"));
  const auto t = tables(md);
  REQUIRE(t.size() == 1);
  check_columns(t[0], 3);
  REQUIRE(t[0].size() == 5);  // header, delimiter, cpu, dram, total
  CHECK(t[0][0] == "| component | energy | how |");
  CHECK(cells(t[0][2]) == std::vector<std::string>{"cpu", "1500 J", "measured\\: RAPL powercap \\(package\\-0\\)"});
  // 1800 J = 0.5 Wh; 1800 J / 4 s = 450 W.
  CHECK(t[0][4] == "| **total** | **1800 J (0.500 Wh)** | measured; average 450 W, peak 600 W |");
  CHECK_THAT(md, Contains("the whole machine used 2.00 Wh.\n"));  // 7200 J
  CHECK_THAT(md, !Contains("**Emissions:**"));  // no carbon figure
}

TEST_CASE("step summary: the emissions line gives energy x PUE x intensity, and the grids table four columns", "[markdown]") {
  // 0.0005 kWh (1800 J) x PUE 1.2 x 250 g/kWh = 0.15 g = 150 mg.
  RunReport r = run();
  r.carbon.emplace();
  r.carbon->energy_kwh = 0.0005;
  r.carbon->settings.pue = 1.2;
  r.carbon->intensity_g_per_kwh = 250;
  r.carbon->emissions_g = 0.0005 * 1.2 * 250;
  Location& l = r.carbon->settings.location;
  l.name = "France";
  l.zone = "FR";
  l.source = "Ember";
  l.year = 2024;
  r.carbon->comparisons = {{"FR", "France", 250, 0.15, "here"}, {"PL|X", "Poland", 700, 0.42, "dirtiest"}};
  const std::string md = format_markdown(r);
  CHECK_THAT(md, Contains("**Emissions:** 150 mg CO2e = 1800 J x PUE 1.20 x 250 g/kWh (measured energy). "
                          "Grid: France (FR), Ember, 2024.\n"));
  const auto t = tables(md);
  REQUIRE(t.size() == 2);
  check_columns(t[1], 4);
  CHECK(t[1][2] == "| **France (this run)** | FR | 250 | 150 mg |");
  CHECK(t[1][3] == "| Poland | PL\\|X | 700 | 420 mg |");  // a '|' in a zone id stays in its cell
}

TEST_CASE("step summary: a '|' in a phase label stays in its cell of the five-column phase table", "[markdown]") {
  // Two phases: load|parse 0-1.5 s, 900 J; train *fast* 1.5-4 s, 900 J, 75 mg.
  RunReport r = run();
  r.phases.push_back({"load|parse", 0, 1.5, 900, 3600, std::nullopt, {}});
  r.phases.push_back({"train *fast* \\|", 1.5, 4, 900, 3600, 0.075, {}});
  const std::string md = format_markdown(r);
  CHECK_THAT(md, Contains("**Phases** (measured energy):\n"));
  const auto t = tables(md);
  REQUIRE(t.size() == 2);
  check_columns(t[1], 5);
  REQUIRE(t[1].size() == 4);
  CHECK(t[1][0] == "| phase | start | duration | energy | emissions |");
  CHECK(t[1][2] == "| load\\|parse | 0.000 s | 1.50 s | 900 J | - |");
  // Every punctuation character escaped: no emphasis, and a backslash before the '|' stays a backslash.
  CHECK(t[1][3] == "| train \\*fast\\* \\\\\\| | 1.50 s | 2.50 s | 900 J | 75.0 mg |");
}

TEST_CASE("step summary: past 100 phases the 100 largest are listed in start order, with a line for the rest", "[markdown]") {
  // 102 phases of 1 s each, energy 10 J + i, except p005 (0.5 J) and p050
  // (0.25 J): those two are the smallest and are left out.
  RunReport r = run();
  for (int i = 0; i < 102; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "p%03d", i);
    const double e = i == 5 ? 0.5 : i == 50 ? 0.25 : 10 + i;
    r.phases.push_back({name, static_cast<double>(i), i + 1.0, e, e, std::nullopt, {}});
  }
  const std::string md = format_markdown(r);
  const auto t = tables(md);
  REQUIRE(t.size() == 2);
  check_columns(t[1], 5);
  CHECK(t[1].size() == 2 + 100);
  CHECK_THAT(md, !Contains("| p005 |"));
  CHECK_THAT(md, !Contains("| p050 |"));
  CHECK(md.find("| p004 |") < md.find("| p006 |"));
  CHECK(md.find("| p100 |") < md.find("| p101 |"));
  CHECK_THAT(md, Contains("\n2 smaller phases are in the JSON report.\n"));
}

TEST_CASE("step summary: verdicts as quotes, notes capped at 20 with a count of the rest", "[markdown]") {
  RunReport r = run();
  r.verdicts = {"energy budget exceeded: 1800 J, measured > --max-energy 1.00 kJ"};
  for (int i = 0; i < 25; ++i) r.notes.push_back("note " + std::to_string(i));
  const std::string md = format_markdown(r);
  CHECK_THAT(md, Contains("> energy budget exceeded\\: 1800 J\\, measured \\> \\-\\-max\\-energy 1\\.00 kJ\n>\n"));
  size_t notes = 0;
  for (const auto& line : lines_of(md)) notes += line.rfind("- note: ", 0) == 0;
  CHECK(notes == 20);
  CHECK_THAT(md, Contains("- note: note 19\n"));
  CHECK_THAT(md, !Contains("- note: note 20\n"));
  CHECK_THAT(md, Contains("- 5 more notes in the JSON report\n"));
}

TEST_CASE("merged Markdown: five columns per report, four per node, seven per repeated command", "[markdown][merge]") {
  // a|b.json and c.json ran sh -c 'make | tee log' (10 + 30 J, 1 + 3 s);
  // d.json ran ./other (20 J, 2 s, no emissions figure).
  auto fig = [](const std::string& name, std::vector<std::string> command, double j, std::optional<double> g, double s) {
    ReportFigures f;
    f.name = name;
    f.command = std::move(command);
    f.energy_j = f.machine_energy_j = j;
    f.energy_kind = "measured";
    f.emissions_g = g;
    f.duration_s = s;
    f.host = "ci|7";
    return f;
  };
  const std::vector<std::string> make = {"sh", "-c", "make | tee log"};
  const MergedReport m = merge_reports(
      {fig("a|b.json", make, 10, 0.001, 1), fig("c.json", make, 30, 0.003, 3), fig("d.json", {"./other"}, 20, {}, 2)});
  const std::string md = format_merged_markdown(m);
  const auto t = tables(md);
  REQUIRE(t.size() == 3);
  check_columns(t[0], 5);
  check_columns(t[1], 4);
  check_columns(t[2], 7);
  CHECK(t[0].size() == 2 + 3 + 1);  // header, delimiter, 3 reports, the total
  CHECK(t[0][2] == "| a\\|b\\.json | `sh -c 'make \\| tee log'` | 10.0 J measured | 1.00 mg | 1.00 s |");
  CHECK(t[0][4] == "| d\\.json | `./other` | 20.0 J measured | - | 2.00 s |");
  // 10 + 30 + 20 = 60 J; 1 + 3 mg (d has none); 1 + 3 + 2 = 6 s.
  CHECK(t[0][5] == "| **total** | 3 reports | **60.0 J** measured | **4.00 mg** | 6.00 s |");
  CHECK(t[1][2] == "| ci\\|7 | 3 | 60.0 J | 60.0 J |");
  // make twice: mean 20 J, sd sqrt((100 + 100) / 1) = 14.1 J, 10 to 30 J, mean 2 s.
  CHECK(t[2][2] == "| `sh -c 'make \\| tee log'` | 2 | 20.0 J | 14.1 J | 10.0 J | 30.0 J | 2.00 s |");
  CHECK_THAT(md, Contains("- some reports have no emissions figure\\: the total leaves them out\n"));
}
