// --json FILE: the report as a versioned JSON document (see document_sink.h
// for checkpoints and streams).

#include "outputs/document_sink.h"

namespace greenrun {

std::unique_ptr<Sink> make_json_sink(const SinkContext& ctx) {
  if (ctx.options.json_path.empty()) return nullptr;
  // Invalid UTF-8 (an argument, a file name) is replaced, never an exception.
  return std::make_unique<DocumentSink>(ctx.options.json_path, "--json", "JSON report", [](const RunReport& r) {
    return to_json(r).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  });
}

}  // namespace greenrun
