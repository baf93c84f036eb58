// --html FILE: the report as one self-contained HTML page with charts,
// rewritten at every checkpoint (reload it to watch a long run) and at the
// end; a stream gets the final page only (see document_sink.h).

#include "outputs/document_sink.h"

namespace greenrun {

std::unique_ptr<Sink> make_html_sink(const SinkContext& ctx) {
  if (ctx.options.html_path.empty()) return nullptr;
  return std::make_unique<DocumentSink>(ctx.options.html_path, "--html", "HTML report",
                                        [](const RunReport& r) { return format_html(r); });
}

}  // namespace greenrun
