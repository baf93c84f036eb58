// --step-summary FILE, or GITHUB_STEP_SUMMARY inside GitHub Actions: the
// report as Markdown, appended (several steps share the file) under flock.

#include "outputs/sink.h"
#include "util/fs.h"
#include "util/output_target.h"

namespace greenrun {

namespace {

class StepSummarySink : public Sink {
 public:
  explicit StepSummarySink(std::string path) : path_(std::move(path)) {}

  Status preflight() override {
    auto t = OutputTarget::check(path_, "--step-summary");
    if (!t) return Status::fail(t.error());
    target_ = *t;
    return {};
  }

  Status finish(const RunReport& r) override {
    if (r.status == "failed") return {};
    const std::string text = format_markdown(r) + "\n";
    if (target_.is_stream()) return target_.write(text);
    return locked_append(path_, "", text);
  }

 private:
  std::string path_;
  OutputTarget target_;
};

}  // namespace

std::unique_ptr<Sink> make_step_summary_sink(const SinkContext& ctx) {
  if (ctx.options.step_summary.empty()) return nullptr;
  return std::make_unique<StepSummarySink>(ctx.options.step_summary);
}

}  // namespace greenrun
