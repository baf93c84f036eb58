#pragma once
// Several reports into one: the steps of one CI job, repeated runs of a
// benchmark, the ranks of a cluster job. A row per report, totals, and for a
// command run several times its mean and spread.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/compare.h"

namespace greenrun {

struct Spread {
  size_t n = 0;
  double mean = 0, stddev = 0, min = 0, max = 0;  // stddev: the sample's (n - 1)
};
Spread spread_of(const std::vector<double>& values);

struct RepeatedCommand {
  std::vector<std::string> command;
  Spread energy_j, duration_s;
};

/// One machine (host and boot) across the reports.
struct NodeTotal {
  std::string host;
  size_t reports = 0;
  double energy_j = 0;          // the reports' own figures, added
  double machine_energy_j = 0;  // the machine's, each moment counted once
};

struct MergedReport {
  std::vector<ReportFigures> runs;
  double energy_j = 0, emissions_g = 0, duration_s = 0, cpu_s = 0;
  double machine_energy_j = 0;  // every machine's energy, counted once per machine and moment
  std::vector<NodeTotal> nodes;
  std::string energy_kind;  // measured, estimated, partly or mixed
  bool emissions_complete = true;  // every report had an emissions figure
  std::vector<RepeatedCommand> repeated;
  std::vector<std::string> notes;
};

MergedReport merge_reports(std::vector<ReportFigures> runs);

std::string format_merged(const MergedReport& m);
std::string format_merged_markdown(const MergedReport& m);
nlohmann::ordered_json merged_json(const MergedReport& m);
/// The combined figures as one HTML page (html.cc): a table, the totals, a bar chart.
std::string format_merged_html(const MergedReport& m);

}  // namespace greenrun
