#pragma once
// The one sampler thread: reads every energy source, the machine's CPU time
// and the command's process tree on steady_clock deadlines and feeds
// Accounting, which appends to the run's timeline. It computes no carbon,
// formats nothing and writes no file: whoever wants the figures takes a
// consistent copy with measurements().

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "process/fork_events.h"
#include "process/tree_reader.h"
#include "sampling/accounting.h"
#include "sampling/counter_watch.h"
#include "sensors/energy_source.h"

namespace greenrun {

struct SamplerOptions {
  std::chrono::nanoseconds interval{std::chrono::seconds(1)};
  /// The clocks (tests drive the sampler with fake ones through step()).
  std::function<std::chrono::steady_clock::time_point()> now = [] { return std::chrono::steady_clock::now(); };
  std::function<std::chrono::system_clock::time_point()> wall = [] { return std::chrono::system_clock::now(); };
  size_t timeline_capacity = 0;  // 0: Timeline's default
  /// The resolution of the machine's CPU times: one clock tick per CPU.
  double cpu_resolution_s = 0;
};

/// A counter found frozen during the run, for the report's findings and notes.
struct FrozenCounter {
  std::string source, label;  // the channel's, as in the probe's finding
  Component component;
  double since_s = 0;         // when it last moved (its first read if it never did)
  double detected_s = 0;
  bool from_start = false;    // it never moved
  std::string reason;         // what happened and what measures it instead
};

/// A consistent copy of what has been measured so far.
struct Measurements {
  std::vector<Channel> channels;
  std::vector<ChannelTotals> totals;
  Timeline timeline;
  /// Wall-clock time of the timeline's offset 0: the baseline reading.
  std::chrono::system_clock::time_point origin{};
  double peak_machine_w = 0;
  double peak_tree_w = 0;
  double sampled_s = 0;
  double user_s = 0;
  double system_s = 0;
  uint64_t peak_rss_bytes = 0;
  IoCounters io;
  uint64_t processes_seen = 0;
  /// processes_seen counts every process started in the tree (the kernel's
  /// fork events), not only those seen at samples.
  bool processes_exact = false;
  /// Running (non-zombie) descendants at the last CPU read; after the final
  /// sample, those still running when the command exited.
  int running = 0;
  uint64_t samples = 0;
  /// CPU time of the sampler thread itself: greenrun's sampling overhead.
  double sampler_cpu_s = 0;
  /// The whole machine over the run: busy and available CPU seconds, and
  /// memory in use integrated over time (byte-seconds over `memory_s`).
  double machine_busy_s = 0, machine_capacity_s = 0;
  double machine_memory_byte_s = 0, memory_s = 0;
  double machine_psutil_memory_byte_s = 0;  // psutil's "used", over the same memory_s
  /// What the sources reported going wrong (a GPU lost, ...).
  std::vector<std::string> notes;
  std::vector<Phase> phases;
  /// What the command counted, by unit; each phase's counts index this.
  std::vector<UnitCount> units;
  /// The energy curve and the command's progress, for the projection.
  ProjectionInputs projection;
  double node_counted_s = 0;  // seconds during which this run counted the node's machine-level energy
  std::vector<FrozenCounter> frozen;
  /// The shortest window: the sampling window, or longer where a counter
  /// moves in steps (ten of them); 0 when not known.
  double window_s = 0;
};

/// The shortest span over which CPU times are compared (see Accounting).
inline constexpr double kCpuWindowS = 0.1;

class Sampler {
 public:
  Sampler(SamplerOptions options, std::vector<std::unique_ptr<EnergySource>> sources, std::unique_ptr<TreeReader> tree);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  /// First reading of every counter; call right before the command starts.
  void baseline();
  /// Arms the sampler: the first tick is due one interval from now.
  void start();
  /// When the first tick is due. The thread is started then (launch()), so a
  /// command that ends sooner costs no thread at all.
  std::chrono::steady_clock::time_point first_deadline() const { return first_deadline_; }
  /// Starts the sampler thread, if not yet running.
  void launch();
  /// Takes the final sample at once (on the thread if it runs, else here) and
  /// joins the thread.
  void finish();
  /// One sample now. The thread calls it on its deadlines; tests call it
  /// directly with fake clocks, sources and tree reader.
  void step(bool final = false);

  /// A consistent copy, from any thread.
  Measurements measurements() const;
  /// Whether this run counts the node's machine-level energy (see Accounting).
  void set_counts_node(bool counts);
  /// A mark from the command (greenrun mark) received now: starts a phase.
  void mark(std::chrono::steady_clock::time_point at, std::string name);
  /// A count from the command (greenrun count): `n` more `unit`s, in the current phase.
  void count(const std::string& unit, double n);
  /// The command's progress (greenrun progress), received now.
  void progress(std::chrono::steady_clock::time_point at, double fraction);
  /// A line on the marks FIFO that began as a record but was none (noted).
  void bad_record();
  /// The energy curve and the progress points: a few KiB, cheap for a status line.
  ProjectionInputs projection_inputs() const;
  /// The energy attributed so far (the command's share, or the machine's):
  /// cheap, for checks on every window.
  double energy_so_far(bool machine) const;
  TreeReader& tree() { return *tree_; }
  /// Reads the tree with `tree` from now on: the command could not join its
  /// cgroup. Only before launch(), on the thread that reaps. Both readers saw
  /// an empty tree at the baseline and read the same machine-wide counters,
  /// so the next interval is measured as if `tree` had read the baseline.
  void replace_tree(std::unique_ptr<TreeReader> tree);
  /// Counts the tree's processes from the kernel's fork events (watching the
  /// command already), drained at every CPU read. Only before launch().
  void count_processes(std::unique_ptr<ForkEvents> events) { forks_ = std::move(events); }

 private:
  void loop();
  /// step() that never throws: a failure is noted in the report and sampling
  /// stops, the measurements so far kept (no exception leaves the thread).
  bool safe_step(bool final);
  void read_tree(bool final);
  /// Tells the tree reader whether a source needs the members at every read.
  void pass_pid_needs();
  void read_sources(Interval& iv);
  /// Channel `i` of source `s` (accounting channel `c`) did not move while the machine worked.
  void counter_frozen(size_t s, size_t i, size_t c, double now_s);
  /// The longest window the counters' steps ask for (0: none beyond the sampling window).
  double counters_min_window_s() const;
  void set_resolutions(Timeline& t) const;

  SamplerOptions opt_;
  std::vector<std::unique_ptr<EnergySource>> sources_;
  /// Per source, the accounting channel of each of its channels, then of its standby channels.
  std::vector<std::vector<size_t>> slot_;
  std::vector<std::optional<CounterWatch>> watch_;  // per accounting channel, for counters
  std::vector<bool> frozen_;
  double window_s_ = 0;  // the sampling window: the interval, or the ticks between CPU reads
  std::unique_ptr<TreeReader> tree_;
  std::unique_ptr<ForkEvents> forks_;
  int cpu_every_;

  mutable std::mutex data_mu_;  // held by step() and measurements()
  Accounting accounting_;
  Measurements m_;
  std::vector<ProgressPoint> progress_;
  uint64_t bad_records_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool failed_ = false;
  std::thread thread_;
  std::chrono::steady_clock::time_point first_deadline_{};

  // Sampler-thread state (step() runs on one thread at a time).
  bool primed_ = false;
  uint64_t ticks_ = 0;
  std::chrono::steady_clock::time_point origin_{}, last_time_{}, last_cpu_time_{};
  double last_tree_cpu_ = 0;
  double last_machine_busy_ = 0;
  double last_machine_total_ = 0;
  double psutil_used_bytes_ = 0;  // the latest meminfo's, as psutil counts it
  std::vector<double> last_energy_;
  std::vector<bool> have_energy_;
  std::vector<ChannelReading> readings_;
  TreeSample tree_sample_;
  SampleContext ctx_;
};

}  // namespace greenrun
