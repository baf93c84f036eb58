#include "outputs/sink.h"

namespace greenrun {

const std::vector<SinkEntry>& sink_table() {
  static const std::vector<SinkEntry> table = {
      {"json", "--json", make_json_sink, &Options::json_path},
      {"csv", "--csv", make_csv_sink, &Options::csv_path},
      {"html", "--html", make_html_sink, &Options::html_path},
      {"step summary", "--step-summary, GITHUB_STEP_SUMMARY", make_step_summary_sink, &Options::step_summary},
      {"metrics", "--metrics", make_metrics_sink, &Options::metrics_path},
      {"pushgateway", "--pushgateway", make_pushgateway_sink},
      {"summary", "(stderr) or --summary-file", make_summary_sink, &Options::summary_file},
      {"annotations", "GITHUB_ACTIONS=true", make_annotations_sink},
  };
  return table;
}

std::vector<std::unique_ptr<Sink>> make_sinks(const SinkContext& ctx) {
  std::vector<std::unique_ptr<Sink>> out;
  for (const auto& e : sink_table())
    if (auto s = e.make(ctx)) out.push_back(std::move(s));
  return out;
}

}  // namespace greenrun
