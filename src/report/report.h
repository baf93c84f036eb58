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
#include "carbon/footprint.h"
#include "carbon/pause.h"
#include "cluster/slurm.h"
#include "process/procfs.h"
#include "process/tree_options.h"
#include "report/compare.h"
#include "sampling/projection.h"
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
  /// The mean utilisation a vendor library read (GPUs), time-weighted; nullopt when none was read.
  std::optional<double> utilisation_percent;
  nlohmann::ordered_json detail = nlohmann::ordered_json::array();
};

/// What the command counted in one unit (greenrun count), and what each cost.
struct UnitReport {
  std::string unit;  // "samples"
  double count = 0;
  std::optional<double> energy_j_per_unit;  // per the report's scope; nullopt when the count is 0
  std::optional<double> emissions_g_per_unit;
};

/// A span of the run between two marks the command sent (greenrun mark).
struct PhaseReport {
  std::string name;
  double start_s = 0, end_s = 0;  // offsets from the timeline's origin
  double energy_j = 0;            // per the report's scope
  double machine_energy_j = 0;
  std::optional<double> emissions_g;
  std::vector<UnitReport> units;  // what was counted in it
};

/// The run's total, projected while it runs (sampling/projection.h) and priced.
struct ProjectionReport {
  EnergyProjection energy;
  std::optional<double> emissions_g;
  std::chrono::system_clock::time_point ends_at{};
};

/// The Slurm task this run was, and whether it counted the node's
/// machine-level energy (one rank per node does).
struct SlurmReport {
  SlurmStep step;
  double node_counted_s = 0;  // how long this rank counted them
  std::string lock_problem;   // why no rank could be elected (then every rank counts the node)
  /// "node meter" (the whole run), "rank" (never), or "node meter for part of the run".
  std::string role(double sampled_s) const;
};

/// --start-within: what was planned, what happened, what it saved.
struct ScheduleReport {
  std::chrono::system_clock::time_point requested_at{}, planned_start{}, actual_start{};
  double expected_duration_s = 0, within_s = 0;
  /// Forecast means over a job-long window starting at once and at the plan.
  double forecast_now_g_per_kwh = 0, forecast_planned_g_per_kwh = 0;
  bool beyond_horizon = false;  // the forecast ended before the job would
  std::string problem;          // why there was no plan (the command started at once)
  /// The run's energy x PUE x the difference of those means.
  std::optional<double> forecast_saving_g;
  /// The run's records priced as if started when asked, minus as run; only
  /// when live data (history) priced both.
  std::optional<double> actual_saving_g;
};

/// --pause-above: the spans the command was paused.
struct PauseReport {
  double threshold_g_per_kwh = 0;
  double max_delay_s = 0;
  int signal = 0;
  std::vector<PauseSpan> spans;
  /// Per span, an estimate: the energy the command would have used in it (its
  /// average power while running) x PUE x (the intensity during the span -
  /// the intensity over as long after it).
  std::vector<std::optional<double>> avoided_g;
  double paused_s() const;
};

struct RunReport {
  std::vector<std::string> command;
  /// Which machine and which boot: reports of one host and boot that overlap
  /// in time measured the same machine-level counters.
  std::string host, boot_id;
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
  bool processes_exact = false;  // every process started in the tree (proc connector), else those seen at samples
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
  /// The same memory as psutil counts "used" (for the CSV's ram_used_gb).
  std::optional<double> machine_memory_psutil_used_bytes;
  double sampler_cpu_s = 0;   // greenrun's own cost: the sampler thread
  double greenrun_cpu_s = 0;  // and the whole greenrun process (start-up included)
  std::string status = "running";  // running, finished, failed
  std::vector<Finding> findings;   // sources found but not usable, with fixes
  Timeline timeline;
  std::chrono::system_clock::time_point timeline_origin{};
  std::optional<CarbonReport> carbon;  // absent when no energy figure exists
  /// The hardware's manufacturing share (absent with --no-embodied), the SCI
  /// score (with --functional-unit and emissions) and water (with energy).
  std::optional<EmbodiedReport> embodied;
  std::optional<SciReport> sci;
  std::optional<WaterReport> water;
  /// The cloud instance type (--instance-type): "aws m5.xlarge", or "".
  std::string instance_type;
  std::vector<std::string> notes;      // problems during the run (a GPU lost, ...)
  std::vector<PhaseReport> phases;
  std::vector<UnitReport> units;  // what the command counted over the run
  std::optional<ProjectionReport> projection;
  std::optional<BaselineComparison> baseline;
  std::optional<SlurmReport> slurm;
  /// One-line judgements for CI, in order: budgets, the baseline comparison.
  std::vector<std::string> verdicts;
  /// Those that are CI annotations: level "warning" or "error".
  struct Annotation {
    std::string level, text;
  };
  std::vector<Annotation> verdict_annotations;
  std::optional<ScheduleReport> schedule;
  std::optional<PauseReport> pause;

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
  std::vector<std::string> command;
  Scope scope = Scope::Process;
  std::chrono::nanoseconds interval{std::chrono::seconds(1)};   // --interval
  std::optional<std::chrono::nanoseconds> expected_duration;    // --expected-duration
  const std::vector<Finding>* findings = nullptr;
  const CarbonData* data = nullptr;        // null: emissions not reported
  const CarbonSettings* carbon = nullptr;
  const FootprintSettings* footprint = nullptr;
  const TreeDescription* tree = nullptr;   // null: not known (tests)
};

/// This machine's name, and the kernel's id of this boot.
std::string host_name();
std::string boot_id();

/// The report as of now: `status` running or finished; the caller sets the
/// times and the exit.
RunReport assemble_report(const ReportInputs& in, const Measurements& m);

/// Computes the emissions from the report's timeline (the one computation
/// every output uses): at each checkpoint and at the end, once the times are set.
void add_emissions(RunReport& r, const CarbonData& data, const CarbonSettings& settings);

/// Embodied emissions, water and the SCI score, from the report's figures
/// (after add_emissions: SCI needs the emissions).
void add_footprint(RunReport& r, const FootprintSettings& settings);

/// "sample" for "samples": the unit's name after "per".
std::string singular_unit(const std::string& unit);

/// The probe's findings for counters found frozen during the run become `frozen`, with why.
void mark_frozen(std::vector<Finding>& findings, const std::vector<FrozenCounter>& frozen);

/// Groups channels into report components (psys -> platform, packages -> cpu, ...).
std::vector<ComponentReport> components_from(const Measurements& m, Scope scope);

nlohmann::ordered_json to_json(const RunReport& r);
std::string format_summary(const RunReport& r);

/// "SIGTERM", or "signal 77".
std::string signal_name(int sig);

/// "exited with status 0", "killed by SIGTERM, exit status 143", "running".
std::string status_text(const RunReport& r);

/// The command's figures in one line, for CI annotations and logs:
/// "make test: 41.3 J estimated, 5.50 mg CO2e (world average), 12.3 s, exited with status 0".
std::string one_line(const RunReport& r);

std::string format_markdown(const RunReport& r);
/// The labels that tell this run's series from every other run's: run (the
/// --metrics file's stem, or the command's name and a hash of its command
/// line; --label run=NAME sets it), slurm_task under Slurm, the --label pairs.
/// Also the Pushgateway's grouping key.
/// `metrics_path`: the --metrics file; `labels`: the --label pairs.
std::vector<std::pair<std::string, std::string>> run_identity(const std::string& metrics_path,
                                                              const std::vector<std::pair<std::string, std::string>>& labels,
                                                              const RunReport& r);

/// Prometheus text format 0.0.4, or OpenMetrics 1.0; every series carries `identity`.
std::string format_metrics(const RunReport& r, bool openmetrics,
                           const std::vector<std::pair<std::string, std::string>>& identity = {});

/// The report as one self-contained HTML page: tables and inline SVG charts,
/// no script needed and nothing fetched.
std::string format_html(const RunReport& r);

/// A greenrun JSON report read back into the model (read_json.cc), for
/// rendering a CI artifact later; the error says why it is not a report.
Result<RunReport> run_report_from_json(const nlohmann::json& j, const std::string& name);

}  // namespace greenrun
