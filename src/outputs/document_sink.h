#pragma once
// A sink that writes the whole report as one document (--json, --html):
// rewritten atomically at every checkpoint, so that a killed run leaves its
// last one behind; a stream (a pipe, /dev/stdout, "-") gets the final
// document only.

#include <functional>
#include <string>

#include "outputs/sink.h"
#include "util/output_target.h"

namespace greenrun {

class DocumentSink : public Sink {
 public:
  using Render = std::function<std::string(const RunReport&)>;
  /// `option` names the path in errors ("--json"), `what` the document ("JSON report").
  DocumentSink(std::string path, const char* option, const char* what, Render render)
      : path_(std::move(path)), option_(option), what_(what), render_(std::move(render)) {}

  Status preflight() override {
    auto t = OutputTarget::check(path_, option_);
    if (!t) return Status::fail(t.error());
    target_ = *t;
    return {};
  }

  Status checkpoint(const RunReport& r) override {
    if (target_.is_stream()) return {};
    auto st = target_.write(render_(r));
    if (!st && !warned_) {  // once: a checkpoint that cannot be written now may be later
      warned_ = true;
      return st;
    }
    return {};
  }

  bool checkpoints() const override { return !target_.is_stream(); }

  Status finish(const RunReport& r) override {
    auto st = target_.write(render_(r));
    if (!st && !target_.is_stream())
      return Status::fail(st.error() + "; the " + what_ + " was not written, the last checkpoint is in place");
    return st;
  }

 private:
  std::string path_;
  const char* option_;
  std::string what_;
  Render render_;
  OutputTarget target_;
  bool warned_ = false;
};

}  // namespace greenrun
