#pragma once
// The one sampler thread: reads every energy source, the machine's CPU time
// and the command's process tree on steady_clock deadlines, feeds Accounting,
// and calls the checkpoint callback on its own thread.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sampling/accounting.h"
#include "sensors/energy_source.h"
#include "util/fs.h"
#include "process/procfs.h"

namespace greenrun {

struct SamplerOptions {
  std::chrono::nanoseconds interval{std::chrono::seconds(1)};
  std::chrono::nanoseconds checkpoint{std::chrono::seconds(60)};  // 0: never
  std::string procfs_root = "/proc";   // machine-wide files (stat, meminfo)
  std::string process_root = "/proc";  // the command's processes
  pid_t self_pid = 0;                  // greenrun: the tree is its descendants
  Accounting::IntensityFn intensity;
  bool need_meminfo = false;
};

/// A consistent copy of what has been measured so far.
struct Measurements {
  std::vector<Channel> channels;
  std::vector<ChannelTotals> totals;
  double peak_machine_w = 0;
  double peak_tree_w = 0;
  double sampled_s = 0;
  double user_s = 0;
  double system_s = 0;
  double machine_busy_s = 0;
  uint64_t peak_rss_bytes = 0;
  IoCounters io;
  uint64_t processes_seen = 0;
  /// Running (non-zombie) descendants at the last CPU read; after the final
  /// sample, those still running when the command exited.
  int running = 0;
  uint64_t samples = 0;
  /// CPU time of the sampler thread itself: greenrun's sampling overhead.
  double sampler_cpu_s = 0;
  /// What the sources reported going wrong (a GPU lost, ...).
  std::vector<std::string> notes;
};

/// The shortest span over which CPU times are compared (see Accounting).
inline constexpr double kCpuWindowS = 0.1;

class Sampler {
 public:
  using CheckpointFn = std::function<void(const Measurements&)>;

  Sampler(SamplerOptions options, std::vector<std::unique_ptr<EnergySource>> sources);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  /// First reading of every counter; call right before the command starts.
  void baseline();
  /// Arms the sampler: the first tick is due one interval from now.
  /// `checkpoint` runs on the sampler thread every options.checkpoint.
  void start(CheckpointFn checkpoint);
  /// When the first tick is due. The thread is started then (launch()), so a
  /// command that ends sooner costs no thread at all.
  std::chrono::steady_clock::time_point first_deadline() const { return first_deadline_; }
  /// Starts the sampler thread, if not yet running.
  void launch();
  /// Takes the final sample at once (on the thread if it runs, else here) and
  /// joins the thread.
  void finish();

  /// On the sampler thread (inside the checkpoint callback) or after finish().
  Measurements measurements() const;

  /// Held by whoever reaps children, so that a child's CPU time moves from
  /// /proc into getrusage(RUSAGE_CHILDREN) between two samples, never during one.
  std::mutex& reap_mutex() { return reap_mu_; }
  /// Storage I/O of a reaped child (read from its zombie); call under reap_mutex().
  void add_reaped_io(const IoCounters& io);

 private:
  void loop();
  /// `on_thread`: called by the sampler thread (its CPU time is the overhead).
  void tick(bool final, bool on_thread);

  SamplerOptions opt_;
  std::vector<std::unique_ptr<EnergySource>> sources_;
  std::vector<size_t> first_channel_;  // index of each source's first channel
  Accounting accounting_;
  ProcessTree tree_;
  PreadFile proc_stat_;
  PreadFile meminfo_;
  std::string buf_;
  double clk_tck_;
  int cpu_every_;
  CheckpointFn checkpoint_;

  std::mutex reap_mu_;
  IoCounters reaped_io_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
  std::chrono::steady_clock::time_point started_{}, first_deadline_{};

  // Sampler-thread state.
  bool primed_ = false;
  uint64_t ticks_ = 0;
  uint64_t forks_at_scan_ = 0;
  uint64_t cpu_reads_ = 0;
  bool checkpoint_due_ = false;
  std::chrono::steady_clock::time_point last_time_;
  std::chrono::steady_clock::time_point last_cpu_time_;
  double last_tree_cpu_ = 0;
  double last_machine_busy_ = 0;
  double last_machine_total_ = 0;
  std::vector<double> last_energy_;
  std::vector<bool> have_energy_;
  std::vector<ChannelReading> readings_;
  SampleContext ctx_;
  Measurements m_;
};

/// Machine memory in use from /proc/meminfo (MemTotal - MemAvailable), bytes.
std::optional<double> parse_meminfo_used(std::string_view text);

}  // namespace greenrun
