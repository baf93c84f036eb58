#include "outputs/sink.h"

namespace greenrun {

// Each sink's factory, defined in its own file (outputs/json_sink.cc, ...):
// a new output is that file plus a declaration here and a row below.
std::unique_ptr<Sink> make_json_sink(const SinkContext& ctx);
std::unique_ptr<Sink> make_csv_sink(const SinkContext& ctx);
std::unique_ptr<Sink> make_html_sink(const SinkContext& ctx);
std::unique_ptr<Sink> make_step_summary_sink(const SinkContext& ctx);
std::unique_ptr<Sink> make_metrics_sink(const SinkContext& ctx);
std::unique_ptr<Sink> make_pushgateway_sink(const SinkContext& ctx);
std::unique_ptr<Sink> make_summary_sink(const SinkContext& ctx);
std::unique_ptr<Sink> make_annotations_sink(const SinkContext& ctx);

const std::vector<SinkEntry>& sink_table() {
  static const std::vector<SinkEntry> table = {
      {"json", "--json", make_json_sink, &OutputOptions::json_path},
      {"csv", "--csv", make_csv_sink, &OutputOptions::csv_path},
      {"html", "--html", make_html_sink, &OutputOptions::html_path},
      {"step summary", "--step-summary, GITHUB_STEP_SUMMARY", make_step_summary_sink, &OutputOptions::step_summary},
      {"metrics", "--metrics", make_metrics_sink, &OutputOptions::metrics_path},
      {"pushgateway", "--pushgateway", make_pushgateway_sink},
      {"summary", "(stderr) or --summary-file", make_summary_sink, &OutputOptions::summary_file},
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
