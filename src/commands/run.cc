#include "commands/run.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <optional>
#include <tuple>

#include "carbon/carbon.h"
#include "carbon/carbon_data.h"
#include "outputs/sink.h"
#include "process/cgroup_tree.h"
#include "process/child.h"
#include "process/tree_reader.h"
#include "report/report.h"
#include "sampling/sampler.h"
#include "sensors/source_table.h"
#include "util/exit_codes.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/privilege.h"

namespace greenrun {

namespace {

void say(const std::string& message) { std::fprintf(stderr, "greenrun: %s\n", message.c_str()); }

/// Everything fixed for one run, gathered and checked before the command starts.
struct Run {
  explicit Run(const Options& o) : options(o) {}
  const Options& options;
  std::string data_dir;
  std::optional<CarbonData> data;
  std::optional<CarbonSettings> carbon;
  const CarbonData* data_ptr = nullptr;  // what the sinks see (null until loaded)
  Probe probe;
  std::vector<std::unique_ptr<Sink>> sinks;
  bool resolve_early = false;
  TreeChoice tree;

  /// Loads the grid data and resolves the location.
  Status resolve_carbon() {
    const long long started = log::now_ns();
    auto loaded = load_carbon_data(data_dir);
    log::debug([&] {
      return "carbon data " + data_dir + "/intensity loaded in " + std::to_string(log::ms_since(started)) + " ms" +
             (loaded ? "" : ": " + loaded.error());
    });
    if (!loaded) return Status::fail(loaded.error());
    auto settings = resolve_carbon_settings(options, *loaded, real_env);
    if (!settings) return Status::fail(settings.error());
    data = std::move(*loaded);
    carbon = std::move(*settings);
    data_ptr = &*data;
    return {};
  }

  RunReport report(const Measurements& m) const {
    ReportInputs in{&options, &probe.findings, data_ptr, carbon ? &*carbon : nullptr, &tree.description};
    return assemble_report(in, m);
  }
  void add_carbon(RunReport& r) const {
    if (data && carbon) add_emissions(r, *data, *carbon);
  }
};

std::string privileged_note(const std::vector<std::string>& ignored) {
  std::string list;
  for (const auto& i : ignored) list += (list.empty() ? "" : ", ") + i;
  return "running with raised privileges (file capabilities or setuid): ignored " + list +
         " (a library to load or a directory to read is not taken from the user then)";
}

// Step 1: everything that can fail for a user-visible reason, before the
// command starts: a long run must never end with "could not write results".
Status check(Run& run) {
  const Options& o = run.options;
  run.data_dir = find_data_dir();
  if (run.data_dir.empty() || !path_exists(run.data_dir + "/intensity/zones.csv"))
    return Status::fail("greenrun's data files (intensity/zones.csv) were not found" +
                        (run.data_dir.empty() ? std::string() : " in " + run.data_dir) +
                        "; reinstall greenrun or set GREENRUN_DATA_DIR to its share directory");
  // A region, cloud, comparison or intensity file the user gave is resolved
  // now: an unknown one must stop the run here. Without them (the time-zone
  // guess cannot fail), the data is loaded while the command starts.
  run.resolve_early = !o.region.empty() || !o.cloud.empty() || !o.compare.empty() || !o.intensity_file.empty();
  if (run.resolve_early)
    if (auto st = run.resolve_carbon(); !st) return st;
  auto probe = probe_sources(o, run.data_dir);
  if (!probe) return Status::fail(probe.error());
  run.probe = std::move(*probe);
  run.sinks = make_sinks(SinkContext{o, run.probe.hardware, &run.data_ptr});
  for (auto& s : run.sinks)
    if (auto st = s->preflight(); !st) return st;
  auto tree = choose_tree_reader(o.tree, o.procfs_root, static_cast<double>(::sysconf(_SC_CLK_TCK)));
  if (!tree) return Status::fail(tree.error());
  run.tree = std::move(*tree);
  return {};
}

// After the spawn: the command is in its cgroups, or the /proc walk takes
// over (it could not join: the sampler has not started, and both readers saw
// an empty tree at the baseline).
void settle_tree(Run& run, Sampler& sampler, const SpawnResult& spawned) {
  CgroupTreeReader* cgroup = run.tree.cgroup;
  if (!cgroup) return;
  if (cgroup->groups().keep_joined(spawned.join_errors)) {
    run.tree.description.detail = cgroup->groups().description();
    run.tree.description.memory_note = cgroup->groups().memory_note();
    run.tree.description.cgroups = cgroup->groups().dirs();
    cgroup->groups().remove_leftovers();
    return;
  }
  int err = 0;
  for (int e : spawned.join_errors) err = err ? err : e;
  run.tree = proc_tree_reader(run.options.procfs_root, static_cast<double>(::sysconf(_SC_CLK_TCK)),
                              "the command could not join its cgroup: " + errno_text(err));
  sampler.replace_tree(std::move(run.tree.reader));
}

/// The timers on greenrun's main thread while the command runs: start the
/// sampler thread at its first deadline, and publish checkpoints.
class Timers {
 public:
  using clock = std::chrono::steady_clock;
  Timers(Run& run, Sampler& sampler, std::function<void()> checkpoint)
      : run_(run), sampler_(sampler), checkpoint_(std::move(checkpoint)) {
    const bool wanted = run.options.checkpoint.count() > 0 &&
                        std::any_of(run.sinks.begin(), run.sinks.end(), [](auto& s) { return s->checkpoints(); });
    next_checkpoint_ = wanted ? clock::now() + run.options.checkpoint : clock::time_point::max();
  }
  clock::time_point first() const { return std::min(sampler_.first_deadline(), next_checkpoint_); }
  clock::time_point fire() {
    const auto now = clock::now();
    if (!launched_ && now >= sampler_.first_deadline()) {
      sampler_.launch();
      launched_ = true;
    }
    if (now >= next_checkpoint_) {
      checkpoint_();
      const auto every = run_.options.checkpoint;
      next_checkpoint_ += every * ((clock::now() - next_checkpoint_) / every + 1);
    }
    return launched_ ? next_checkpoint_ : std::min(sampler_.first_deadline(), next_checkpoint_);
  }

 private:
  Run& run_;
  Sampler& sampler_;
  std::function<void()> checkpoint_;
  clock::time_point next_checkpoint_;
  bool launched_ = false;
};

// The final report to every sink.
void publish(Run& run, RunReport& r) {
  const long long started = log::now_ns();
  run.add_carbon(r);
  for (auto& s : run.sinks)
    if (auto st = s->finish(r); !st) say(st.error());
  log::debug([&] { return "final report written in " + std::to_string(log::ms_since(started)) + " ms"; });
}

int spawn_failed(Run& run, Sampler& sampler, const SpawnResult& spawned, std::chrono::system_clock::time_point t0) {
  const int code = spawned.exec_errno == ENOENT ? kExitNotFound : kExitCannotExecute;
  const std::string& name = run.options.command[0];
  RunReport r = run.report(sampler.measurements());
  r.started_at = t0;
  r.ended_at = std::chrono::system_clock::now();
  r.status = "failed";
  r.exit_code = code;
  r.error = exec_failure(name, spawned.exec_errno, real_env("PATH").value_or("/usr/local/bin:/usr/bin:/bin"));
  say(r.error);
  publish(run, r);
  return code;
}

Status start_log(const Options& o) {
  if (o.log_level == log::Level::Off || o.log_file.empty()) return log::start(o.log_level, "");
  auto path = output_path(o.log_file, "--log-file");
  if (!path) return Status::fail(path.error());
  return log::start(o.log_level, *path);
}

}  // namespace

int run_command(const Options& o) {
  const struct sigaction sigpipe = ignore_sigpipe();  // from the start: even an error line may meet a closed pipe
  if (auto st = start_log(o); !st) return say(st.error()), kExitGreenrunFailed;
  Run run(o);
  if (!o.ignored_privileged.empty()) say(privileged_note(o.ignored_privileged));
  if (auto st = check(run); !st) return say(st.error()), kExitGreenrunFailed;

  SignalBlock block;
  if (!become_subreaper()) log::debug([] { return "cannot become a child subreaper; orphans are not followed"; });
  SamplerOptions so;
  so.interval = o.interval;
  const double clk_tck = static_cast<double>(::sysconf(_SC_CLK_TCK));
  so.cpu_resolution_s = static_cast<double>(std::max(1, run.probe.hardware.cpu.logical)) / clk_tck;
  Sampler sampler(so, std::move(run.probe.sources), std::move(run.tree.reader));

  auto started_at = std::chrono::system_clock::now();
  auto started_steady = std::chrono::steady_clock::now();
  auto report_now = [&]() {
    RunReport r = run.report(sampler.measurements());
    r.started_at = started_at;
    r.ended_at = std::chrono::system_clock::now();
    r.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_steady).count();
    run.add_carbon(r);
    return r;
  };
  // The first checkpoint exists before the command starts: whatever happens
  // to greenrun later, the file is there.
  if (!run.sinks.empty()) {
    RunReport first = report_now();
    for (auto& s : run.sinks)
      if (auto st = s->checkpoint(first); !st) return say(st.error()), kExitGreenrunFailed;
  }

  // Step 2: run the command while the sampler measures.
  sampler.baseline();
  started_at = std::chrono::system_clock::now();
  started_steady = std::chrono::steady_clock::now();
  SpawnOptions spawn;
  spawn.mask = block.original_mask();
  spawn.sigpipe = sigpipe;
  spawn.tty_fd = foreground_terminal();
  spawn.drop_capabilities = running_privileged();
  if (run.tree.cgroup) {
    const CommandCgroups& groups = run.tree.cgroup->groups();
    spawn.cgroup_fds = groups.join_fds();
    if (auto birth = groups.birth_group()) std::tie(spawn.cgroup_dir_join, spawn.cgroup_dir_fd) = *birth;
  }
  SpawnResult spawned = spawn_command(o.command, spawn);
  if (spawned.pid < 0) return spawn_failed(run, sampler, spawned, started_at);
  settle_tree(run, sampler, spawned);
  // Emissions are computed for the outputs only: without one (-q alone), the
  // grid data is not needed.
  if (!run.resolve_early && !run.sinks.empty())
    if (auto st = run.resolve_carbon(); !st) say("warning: " + st.error() + "; emissions will not be reported");
  sampler.start();
  int checkpoints = 0;
  Timers timers(run, sampler, [&] {
    try {
      const long long started = log::now_ns();
      RunReport r = report_now();
      for (auto& s : run.sinks)
        if (auto st = s->checkpoint(r); !st) say("warning: " + st.error());
      log::debug([&] {
        return "checkpoint " + std::to_string(++checkpoints) + " written in " + std::to_string(log::ms_since(started)) + " ms";
      });
    } catch (const std::exception& e) {
      say(std::string("warning: checkpoint not written: ") + e.what());
    }
  });
  CommandExit exit = wait_for_command(
      spawned.pid, spawn.tty_fd, sampler.tree().reap_mutex(),
      [&](pid_t pid) {
        std::string text;
        IoCounters io;
        if (read_file("/proc/" + std::to_string(pid) + "/io", text) == 0) io = parse_pid_io(text).value_or(IoCounters{});
        sampler.tree().reaped(pid, io);
      },
      timers.first(), [&] { return timers.fire(); });
  const auto ended_steady = std::chrono::steady_clock::now();
  const auto ended_at = std::chrono::system_clock::now();
  reclaim_terminal(spawn.tty_fd);
  sampler.finish();

  // Step 3: publish. Whatever happens here, the command's status is greenrun's.
  if (run.sinks.empty()) return exit_status_for(exit);
  try {
    RunReport r = run.report(sampler.measurements());
    r.started_at = started_at;
    r.ended_at = ended_at;
    r.duration_s = std::chrono::duration<double>(ended_steady - started_steady).count();
    r.status = "finished";
    if (exit.signal) r.signal = exit.signal;
    else r.exit_code = exit.exit_code;
    r.core_dumped = exit.core_dumped;
    publish(run, r);
  } catch (const std::exception& e) {
    say(std::string("internal error while reporting: ") + e.what() + "; the last checkpoint is in place");
  }
  return exit_status_for(exit);
}

}  // namespace greenrun
