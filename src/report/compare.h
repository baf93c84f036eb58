#pragma once
// Comparing two runs: a baseline (the main branch's report, an earlier run)
// and this one, from their JSON reports. Used by --baseline, --max-increase
// and `greenrun compare`.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/result.h"

namespace greenrun {

/// What comparisons use of one greenrun JSON report.
struct ReportFigures {
  std::string name;  // the file, for messages
  std::vector<std::string> command;
  std::string status;
  std::optional<double> energy_j;                // per the report's scope; nullopt: not measured
  std::optional<double> machine_energy_j;        // the whole machine (for a Slurm rank: what it counted of it)
  bool slurm = false;                            // a Slurm rank's report: its machine figure is its part of the node's
  std::optional<double> energy_low_j, energy_high_j;  // the range, where part of it is estimated
  std::string energy_kind;                       // measured, estimated, partly, none
  std::string methods;                           // the estimates' methods, joined: "the same model"?
  std::optional<double> emissions_g;
  double duration_s = 0, cpu_s = 0;
  std::string host, boot_id, started_at, ended_at;
  std::optional<int> exit_code;
};

/// A greenrun report, or the reason it is not one.
Result<ReportFigures> read_report(const nlohmann::json& j, const std::string& name);
Result<ReportFigures> load_report(const std::string& path);

struct Change {
  std::string what;  // energy, emissions, duration, CPU time
  double before = 0, after = 0;
  std::string unit;  // J, g, s
  double delta() const { return after - before; }
  std::optional<double> percent() const;
};

struct BaselineComparison {
  std::string baseline;  // the baseline's name
  std::vector<Change> rows;
  std::vector<std::string> notes;  // what the change does and does not mean
  std::optional<double> energy_percent() const;
};

BaselineComparison compare_reports(const ReportFigures& before, const ReportFigures& after);

std::string format_comparison(const BaselineComparison& c);           // text, for the summary and compare
std::string format_comparison_markdown(const BaselineComparison& c);  // a table
nlohmann::ordered_json comparison_json(const BaselineComparison& c);

}  // namespace greenrun
