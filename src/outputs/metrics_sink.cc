// --metrics FILE: the report as Prometheus metrics (or OpenMetrics with
// --metrics-format openmetrics), rewritten atomically at every checkpoint and
// at the end: a file node_exporter's textfile collector can read (name it
// *.prom in its directory), and a GitLab metrics report.

#include "outputs/sink.h"
#include "util/output_target.h"

namespace greenrun {

namespace {

class MetricsSink : public Sink {
 public:
  explicit MetricsSink(const OutputOptions& o) : o_(o) {}

  Status preflight() override {
    auto t = OutputTarget::check(o_.metrics_path, "--metrics");
    if (!t) return Status::fail(t.error());
    target_ = *t;
    return {};
  }
  bool checkpoints() const override { return !target_.is_stream(); }
  Status checkpoint(const RunReport& r) override {
    if (target_.is_stream()) return {};
    return target_.write(format_metrics(r, o_.openmetrics, run_identity(o_.metrics_path, o_.labels, r)));
  }
  Status finish(const RunReport& r) override {
    if (r.status == "failed") return {};
    return target_.write(format_metrics(r, o_.openmetrics, run_identity(o_.metrics_path, o_.labels, r)));
  }

 private:
  const OutputOptions& o_;
  OutputTarget target_;
};

}  // namespace

std::unique_ptr<Sink> make_metrics_sink(const SinkContext& ctx) {
  if (ctx.options.metrics_path.empty()) return nullptr;
  return std::make_unique<MetricsSink>(ctx.options);
}

}  // namespace greenrun
