// --html FILE: the report as one self-contained HTML page with charts,
// rewritten atomically at every checkpoint (reload it to watch a long run)
// and at the end. A stream gets the final page only.

#include "outputs/sink.h"
#include "util/output_target.h"

namespace greenrun {

namespace {

class HtmlSink : public Sink {
 public:
  explicit HtmlSink(std::string path) : path_(std::move(path)) {}

  Status preflight() override {
    auto t = OutputTarget::check(path_, "--html");
    if (!t) return Status::fail(t.error());
    target_ = *t;
    return {};
  }

  Status checkpoint(const RunReport& r) override {
    if (target_.is_stream()) return {};
    auto st = target_.write(format_html(r));
    if (!st && !warned_) {  // once: a checkpoint that cannot be written now may be later
      warned_ = true;
      return st;
    }
    return {};
  }

  bool checkpoints() const override { return !target_.is_stream(); }

  Status finish(const RunReport& r) override {
    auto st = target_.write(format_html(r));
    if (!st && !target_.is_stream())
      return Status::fail(st.error() + "; the HTML report was not written, the last checkpoint is in place");
    return st;
  }

 private:
  std::string path_;
  OutputTarget target_;
  bool warned_ = false;
};

}  // namespace

std::unique_ptr<Sink> make_html_sink(const SinkContext& ctx) {
  if (ctx.options.html_path.empty()) return nullptr;
  return std::make_unique<HtmlSink>(ctx.options.html_path);
}

}  // namespace greenrun
