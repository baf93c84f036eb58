// The human summary: on stderr, or in --summary-file; -q turns it off.

#include <cstdio>

#include "outputs/sink.h"
#include "util/output_target.h"

namespace greenrun {

namespace {

class SummarySink : public Sink {
 public:
  explicit SummarySink(std::string path) : path_(std::move(path)) {}

  Status preflight() override {
    if (path_.empty()) return {};
    auto t = OutputTarget::check(path_, "--summary-file");
    if (!t) return Status::fail(t.error());
    target_ = *t;
    return {};
  }

  Status finish(const RunReport& r) override {
    if (r.status == "failed") return {};  // the error line said it all
    const std::string text = format_summary(r);
    if (!path_.empty()) return target_.write(text);
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
    return {};
  }

 private:
  std::string path_;
  OutputTarget target_;
};

}  // namespace

std::unique_ptr<Sink> make_summary_sink(const SinkContext& ctx) {
  if (ctx.options.quiet) return nullptr;
  return std::make_unique<SummarySink>(ctx.options.summary_file);
}

}  // namespace greenrun
