#pragma once
// What the user asked greenrun to write and where; commands/options.cc fills
// it from the option table. A sink sees only these.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace greenrun {

struct OutputOptions {
  std::string json_path;
  std::string summary_file;
  bool quiet = false;
  std::string csv_path;
  std::string step_summary;              // Markdown appended here (GITHUB_STEP_SUMMARY by default)
  std::string html_path;                 // --html: the report as one self-contained page
  bool live = false;                     // --live: a status line on a terminal's stderr
  std::chrono::nanoseconds progress{0};  // --progress: a plain status line this often (0: never)
  std::string metrics_path;              // --metrics: Prometheus text (or OpenMetrics)
  bool openmetrics = false;
  std::string pushgateway;               // --pushgateway URL
  std::vector<std::pair<std::string, std::string>> labels;  // --label k=v
  bool github_actions = false;           // GITHUB_ACTIONS=true: workflow commands on stderr
  std::string project = "greenrun";      // the CSV's project_name
  std::string experiment_id;             // the CSV's experiment_id
};

}  // namespace greenrun
