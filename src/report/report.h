#pragma once
// What greenrun tells the user about a run: the report model, assembled from
// the sampler's measurements and the carbon computation, at each checkpoint
// and at the end. Renderers (json.cc, summary.cc, codecarbon_csv.cc) read
// only this model; sinks (outputs/) write what they render.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "carbon/carbon.h"
#include "config/options.h"
#include "process/procfs.h"
#include "sampling/sampler.h"
#include "sensors/energy_source.h"
#include "sensors/hardware.h"

namespace greenrun {

struct ComponentReport {
  std::string name;  // cpu, dram, platform, ram, gpu0, ...
  double energy_j = 0;          // per the report's scope
  double machine_energy_j = 0;  // the whole machine
  bool measured = true;
  std::string source;
  std::string method;  // estimates only
  std::optional<double> energy_j_low, energy_j_high;
  nlohmann::ordered_json detail = nlohmann::ordered_json::array();
};

struct RunReport {
  std::vector<std::string> command;
  std::chrono::system_clock::time_point started_at{}, ended_at{};
  double duration_s = 0;
  std::optional<int> exit_code;  // nullopt while running or when killed by a signal
  std::optional<int> signal;
  bool core_dumped = false;
  std::string error;  // why the command could not run
  double user_s = 0, system_s = 0;
  uint64_t peak_rss_bytes = 0;
  IoCounters io;
  uint64_t processes_seen = 0;
  int descendants_running = 0;
  TreeDescription tree;  // how the figures above were read
  Scope scope = Scope::Process;
  std::vector<ComponentReport> components;
  double peak_power_w = 0;
  /// The time the energy figures cover: from the baseline reading just before
  /// the command starts to the final sample (a little longer than duration_s).
  double sampled_s = 0;
  uint64_t samples = 0;
  double interval_s = 0;
  /// The sampler's window: the interval, or ~100 ms at shorter intervals.
  double window_s = 0;
  /// The whole machine while the command ran, averaged: CPU busy (0..100 %)
  /// and memory in use (bytes); nullopt when /proc could not tell.
  std::optional<double> machine_cpu_percent, machine_memory_used_bytes;
  double sampler_cpu_s = 0;   // greenrun's own cost: the sampler thread
  double greenrun_cpu_s = 0;  // and the whole greenrun process (start-up included)
  std::string status = "running";  // running, finished, failed
  std::vector<Finding> findings;   // sources found but not usable, with fixes
  Timeline timeline;
  std::chrono::system_clock::time_point timeline_origin{};
  std::optional<CarbonReport> carbon;  // absent when no energy figure exists
  std::vector<std::string> notes;      // problems during the run (a GPU lost, ...)

  double energy_j() const;
  double machine_energy_j() const;
  /// The headline energy over the time it covers (never above the peak of its windows).
  double average_power_w() const;
  bool any_measured() const;
  bool any_estimated() const;
  /// "measured", "estimated", "partly estimated"; "none" without components.
  std::string energy_kind() const;
};

/// What a report is made from besides the measurements: fixed for a run.
struct ReportInputs {
  const Options* options = nullptr;
  const std::vector<Finding>* findings = nullptr;
  const CarbonData* data = nullptr;        // null: emissions not reported
  const CarbonSettings* carbon = nullptr;
  const TreeDescription* tree = nullptr;   // null: not known (tests)
};

/// The report as of now: `status` running or finished; the caller sets the
/// times and the exit.
RunReport assemble_report(const ReportInputs& in, const Measurements& m);

/// Computes the emissions from the report's timeline (the one computation
/// every output uses): at each checkpoint and at the end, once the times are set.
void add_emissions(RunReport& r, const CarbonData& data, const CarbonSettings& settings);

/// Groups channels into report components (psys -> platform, packages -> cpu, ...).
std::vector<ComponentReport> components_from(const Measurements& m, Scope scope);

nlohmann::ordered_json to_json(const RunReport& r);
std::string format_summary(const RunReport& r);

/// "SIGTERM", or "signal 77".
std::string signal_name(int sig);

}  // namespace greenrun
