// Inside GitHub Actions (GITHUB_ACTIONS=true): the one-line result as a
// ::notice workflow command, and each verdict (a budget exceeded) as a
// ::warning or ::error. The runner reads workflow commands from stderr as well
// as stdout; greenrun writes them to stderr, so the command's stdout is never
// touched.

#include <cstdio>

#include "outputs/sink.h"
#include "util/escape.h"

namespace greenrun {

namespace {

std::string escape(const std::string& s, bool property) { return workflow_command_text(s, property); }

class AnnotationsSink : public Sink {
 public:
  Status preflight() override { return {}; }
  Status finish(const RunReport& r) override {
    if (r.status == "failed") return {};
    std::string out = "::notice title=" + escape("greenrun", true) + "::" + escape(one_line(r), false) + "\n";
    for (const auto& v : r.verdict_annotations)
      out += "::" + v.level + " title=" + escape("greenrun budget", true) + "::" + escape(v.text, false) + "\n";
    std::fwrite(out.data(), 1, out.size(), stderr);
    std::fflush(stderr);
    return {};
  }
};

}  // namespace

std::unique_ptr<Sink> make_annotations_sink(const SinkContext& ctx) {
  if (!ctx.options.github_actions) return nullptr;
  return std::make_unique<AnnotationsSink>();
}

}  // namespace greenrun
