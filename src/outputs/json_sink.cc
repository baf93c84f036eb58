// --json FILE: the report as a versioned JSON document, rewritten atomically
// at every checkpoint so that a killed run leaves its last one behind. A
// stream (a pipe, /dev/stdout, "-") receives exactly one document: the final one.

#include <cstdio>

#include "outputs/sink.h"
#include "util/output_target.h"

namespace greenrun {

namespace {

// Invalid UTF-8 (an argument, a file name) is replaced, never an exception.
std::string render(const RunReport& r) {
  return to_json(r).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

class JsonSink : public Sink {
 public:
  explicit JsonSink(std::string path) : path_(std::move(path)) {}

  Status preflight() override {
    auto t = OutputTarget::check(path_, "--json");
    if (!t) return Status::fail(t.error());
    target_ = *t;
    return {};
  }

  Status checkpoint(const RunReport& r) override {
    if (target_.is_stream()) return {};
    auto st = target_.write(render(r));
    if (!st && !warned_) {  // once: a checkpoint that cannot be written now may be later
      warned_ = true;
      return st;
    }
    return {};
  }

  bool checkpoints() const override { return !target_.is_stream(); }

  Status finish(const RunReport& r) override {
    auto st = target_.write(render(r));
    if (!st && !target_.is_stream())
      return Status::fail(st.error() + "; the JSON report was not written, the last checkpoint is in place");
    return st;
  }

 private:
  std::string path_;
  OutputTarget target_;
  bool warned_ = false;
};

}  // namespace

std::unique_ptr<Sink> make_json_sink(const SinkContext& ctx) {
  if (ctx.options.json_path.empty()) return nullptr;
  return std::make_unique<JsonSink>(ctx.options.json_path);
}

}  // namespace greenrun
