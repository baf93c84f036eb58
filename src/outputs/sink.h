#pragma once
// Everything greenrun writes about a run is a sink: the summary, the JSON
// document, the CodeCarbon CSV row. A sink is checked before the command
// starts, sees the report at each checkpoint, and writes it at the end. A new
// output is one file implementing Sink plus one row in sink_table().

#include <memory>
#include <string>
#include <vector>

#include "carbon/carbon_data.h"
#include "outputs/output_options.h"
#include "report/report.h"
#include "sensors/hardware.h"
#include "util/result.h"

namespace greenrun {

/// What sinks may use besides the report.
struct SinkContext {
  const OutputOptions& options;
  const Hardware& hardware;
  /// The grid data; loaded while the command starts when no region was
  /// given, so it may still be null at preflight().
  const CarbonData* const* data;
};

class Sink {
 public:
  virtual ~Sink() = default;
  /// Before the command starts: everything that can fail for a reason the
  /// user can fix (an unwritable path, a file of another format). An error
  /// stops the run with status 125 and the command never starts.
  virtual Status preflight() = 0;
  /// The report so far: once before the command starts (an error there stops
  /// the run too), then every --checkpoint while it runs.
  virtual Status checkpoint(const RunReport&) { return {}; }
  /// Whether checkpoint() writes anything while the command runs.
  virtual bool checkpoints() const { return false; }
  /// The final report; status "failed" when the command could not be started.
  virtual Status finish(const RunReport& r) = 0;
  /// What the user should know of a finish() that succeeded (a file kept
  /// aside), for the run to print; sinks print nothing themselves.
  virtual std::string notice() const { return {}; }
};

struct SinkEntry {
  const char* name;    // "json"
  const char* option;  // the option that asks for it, "--json"
  /// The sink for these options, or nullptr when they do not ask for it.
  std::unique_ptr<Sink> (*make)(const SinkContext&);
  /// The file it writes, whose placeholders (%j, %h...) a run expands;
  /// nullptr for an output that names no file.
  std::string OutputOptions::*path = nullptr;
};

/// Every output greenrun has, in the order they are written at the end.
const std::vector<SinkEntry>& sink_table();

/// The sinks these options ask for.
std::vector<std::unique_ptr<Sink>> make_sinks(const SinkContext& ctx);

}  // namespace greenrun
