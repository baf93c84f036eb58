#include "commands/run.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <optional>
#include <tuple>

#include "carbon/carbon.h"
#include "carbon/carbon_data.h"
#include "commands/carbon_aware.h"
#include "commands/output_paths.h"
#include "carbon/footprint.h"
#include "commands/status_line.h"
#include "commands/timers.h"
#include "config/config_files.h"
#include "outputs/sink.h"
#include "process/cgroup_tree.h"
#include "process/child.h"
#include "process/fork_events.h"
#include "process/marks.h"
#include "process/tree_reader.h"
#include "report/budget.h"
#include "report/compare.h"
#include "report/report.h"
#include "sampling/sampler.h"
#include "sensors/source_table.h"
#include "util/exit_codes.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/privilege.h"
#include "util/escape.h"

namespace greenrun {

namespace {

using steady = std::chrono::steady_clock;

void say(const std::string& message) { std::fprintf(stderr, "greenrun: %s\n", terminal_text(message).c_str()); }

/// Everything fixed for one run, gathered and checked before the command starts.
struct Run {
  Run(const Options& o, const EnvLookup& e) : options(o), env(e) {}
  const Options& options;
  const EnvLookup& env;  // the environment greenrun was given (a test's own)
  std::string data_dir;
  std::optional<CarbonData> data;
  std::optional<CarbonSettings> carbon;
  const CarbonData* data_ptr = nullptr;  // what the sinks see (null until loaded)
  Probe probe;
  std::vector<std::unique_ptr<Sink>> sinks;
  std::optional<ReportFigures> baseline;
  std::optional<SlurmStep> slurm;
  NodeElection election;
  FootprintSettings footprint;
  bool resolve_early = false;
  std::unique_ptr<CarbonAware> aware;  // live data, --start-within, --pause-above
  TreeChoice tree;                     // how the command's process tree is read

  /// Loads the grid data and resolves the location.
  Status resolve_carbon() {
    const long long started = log::now_ns();
    auto loaded = load_carbon_data(data_dir);
    log::debug([&] {
      return "carbon data " + data_dir + "/intensity loaded in " + std::to_string(log::ms_since(started)) + " ms" +
             (loaded ? "" : ": " + loaded.error());
    });
    if (!loaded) return Status::fail(loaded.error());
    auto settings = resolve_carbon_settings(options.grid, *loaded, env);
    if (!settings) return Status::fail(settings.error());
    data = std::move(*loaded);
    carbon = std::move(*settings);
    data_ptr = &*data;
    return {};
  }

  RunReport report(const Measurements& m) const {
    ReportInputs in{options.command, options.tree.scope, options.sampling.interval, options.aware.expected_duration,
                    &probe.findings, data_ptr, carbon ? &*carbon : nullptr, &footprint, &tree.description};
    RunReport r = assemble_report(in, m);
    if (slurm) r.slurm = SlurmReport{*slurm, m.node_counted_s, election.problem()};
    if (aware) aware->fill(r);
    return r;
  }
  /// Emissions, then what is computed from them (SCI) and beside them (embodied, water).
  void add_carbon(RunReport& r) const {
    if (data && carbon) add_emissions(r, *data, *carbon);
    add_footprint(r, footprint);
  }
};

/// What happens while the command runs, besides sampling.
struct Live {
  pid_t child = -1;
  std::chrono::system_clock::time_point started_at{};
  steady::time_point started{};
  std::string stopped_for;  // the budget that made greenrun stop the command
  std::vector<std::string> projected_over;  // the budgets the projection crossed, warned once each
  std::vector<std::string> warnings;        // what was said about them, for the report's notes
  steady::time_point ended{};
  std::chrono::system_clock::time_point ended_at{};
};

/// --live and --progress.
struct StatusDisplay {
  std::optional<LiveLine> line;
  PowerMeter live_meter, log_meter;
  std::string kind;  // measured, estimated, partly estimated: fixed by the probe
};

double clock_ticks() { return static_cast<double>(::sysconf(_SC_CLK_TCK)); }

std::string energy_kind(const std::vector<std::unique_ptr<EnergySource>>& sources) {
  bool measured = false, estimated = false;
  for (const auto& s : sources)
    for (const auto& c : s->channels()) (c.measured ? measured : estimated) = true;
  return estimated ? (measured ? "partly estimated" : "estimated") : measured ? "measured" : "";
}

std::string privileged_note(const std::vector<std::string>& ignored) {
  std::string list;
  for (const auto& i : ignored) list += (list.empty() ? "" : ", ") + i;
  return "running with raised privileges (file capabilities or setuid): ignored " + list +
         " (a library to load or a directory to read is not taken from the user then)";
}

std::string marks_dir(const EnvLookup& env) { return temp_dir(env); }

std::optional<MarkChannel> open_marks(const EnvLookup& env) {
  auto c = MarkChannel::create(marks_dir(env));
  if (!c) {
    say("warning: " + c.error() + "; greenrun mark will do nothing in this run");
    ::unsetenv(kMarkVariable);
    return std::nullopt;
  }
  ::setenv(kMarkVariable, c->path().c_str(), 1);  // the command inherits it; a nested greenrun sets its own
  return std::move(*c);
}

// The kernel's fork events, listened to before the spawn so that the
// command's first children are seen; where they are not offered, the
// processes seen at samples are counted (and the report says so).
std::unique_ptr<ForkEvents> open_fork_events(const Run& run) {
  if (run.sinks.empty()) return nullptr;  // -q alone: no report to count them in
  auto events = ForkEvents::open();
  if (!events) {
    log::debug([&] { return "processes counted at samples only: " + events.error(); });
    return nullptr;
  }
  return std::move(*events);
}

// What killed runs left (util/leftovers.h): marks FIFOs, and temporaries
// beside this run's outputs. While the command starts, never before.
void remove_leftovers(const Run& run) {
  MarkChannel::remove_leftovers(marks_dir(run.env));
  for (const auto& e : sink_table())
    if (e.path) remove_leftover_temporaries(run.options.outputs.*e.path);
}

// Step 1: everything that can fail for a user-visible reason, before the
// command starts: a long run must never end with "could not write results".
Status check(Run& run) {
  const Options& o = run.options;
  run.data_dir = find_data_dir(run.env);
  if (run.data_dir.empty() || !path_exists(run.data_dir + "/intensity/zones.csv"))
    return Status::fail("greenrun's data files (intensity/zones.csv) were not found" +
                        (run.data_dir.empty() ? std::string() : " in " + run.data_dir) +
                        "; reinstall greenrun or set GREENRUN_DATA_DIR to its share directory");
  if (!o.report.baseline_path.empty()) {
    auto b = load_report(o.report.baseline_path);
    if (!b) return Status::fail("--baseline: " + b.error());
    run.baseline = std::move(*b);
  }
  // A region, cloud, comparison or intensity file the user gave is resolved
  // now: an unknown one must stop the run here. Without them (the time-zone
  // guess cannot fail), the data is loaded while the command starts.
  run.resolve_early = !o.grid.region.empty() || !o.grid.cloud.empty() || !o.grid.compare.empty() || !o.grid.intensity_file.empty() ||
                      o.report.budgets.max_emissions_g.has_value() || CarbonAware::wanted(o);
  if (run.resolve_early)
    if (auto st = run.resolve_carbon(); !st) return st;
  if (CarbonAware::wanted(o)) {
    auto aware = CarbonAware::make(o, *run.carbon, run.env);
    if (!aware) return Status::fail(aware.error());
    run.aware = std::move(*aware);
  }
  auto probe = probe_sources({o.sources, o.estimate, o.grid.cloud, o.sampling.interval}, run.data_dir, run.env);
  if (!probe) return Status::fail(probe.error());
  run.probe = std::move(*probe);
  run.footprint = {resolve_embodied(o.footprint, run.probe.hardware, run.probe.instance, run.probe.embodied_defaults),
                   o.footprint.functional_unit, o.footprint.wue,
                   run.probe.instance ? run.probe.instance->provider + " " + run.probe.instance->type : ""};
  run.sinks = make_sinks(SinkContext{o.outputs, run.probe.hardware, &run.data_ptr});
  run.slurm = slurm_step(run.env);
  run.election = NodeElection::open(run.slurm, run.env);
  for (auto& s : run.sinks)
    if (auto st = s->preflight(); !st) return st;
  auto tree = choose_tree_reader(o.tree.method, o.sources.procfs_root, clock_ticks());
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
  run.tree = proc_tree_reader(run.options.sources.procfs_root, clock_ticks(),
                              "the command could not join its cgroup: " + errno_text(err));
  sampler.replace_tree(std::move(run.tree.reader));
}

RunReport report_now(const Run& run, const Sampler& sampler, const Live& live) {
  RunReport r = run.report(sampler.measurements());
  r.started_at = live.started_at;
  r.ended_at = std::chrono::system_clock::now();
  r.duration_s = std::chrono::duration<double>(steady::now() - live.started).count();
  r.notes.insert(r.notes.end(), live.warnings.begin(), live.warnings.end());
  run.add_carbon(r);
  return r;
}

void checkpoint(const Run& run, const Sampler& sampler, const Live& live) {
  try {
    const long long started = log::now_ns();
    RunReport r = report_now(run, sampler, live);
    for (auto& s : run.sinks)
      if (auto st = s->checkpoint(r); !st) say("warning: " + st.error());
    log::debug([&] { return "checkpoint written in " + std::to_string(log::ms_since(started)) + " ms"; });
  } catch (const std::exception& e) {
    say(std::string("warning: checkpoint not written: ") + e.what());
  }
}

// --on-budget stop: the budget is checked as the windows close; once
// crossed, the command's group gets SIGTERM, and SIGKILL after --grace.
void watch_budget(Run& run, const Sampler& sampler, Live& live, Timers& timers) {
  const Budgets& b = run.options.report.budgets;
  const double energy = sampler.energy_so_far(run.options.tree.scope == Scope::Machine);
  std::optional<double> grams;
  if (run.carbon)  // the intensity averaged since the start; the final report prices each record
    grams = energy / 3.6e6 * run.carbon->pue * run.carbon->profile.average(live.started_at, std::chrono::system_clock::now());
  const std::string crossed = crossed_budget(b, energy, grams);
  if (crossed.empty() || !live.stopped_for.empty()) return;
  live.stopped_for = crossed;
  say(crossed + " crossed: stopping the command (SIGTERM, SIGKILL in " +
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(b.grace).count()) + " s)");
  ::kill(-live.child, SIGTERM);
  if (run.aware) run.aware->forwarded(SIGTERM);  // a paused command must run to receive it
  const pid_t child = live.child;
  timers.once(steady::now() + b.grace, [child] { ::kill(-child, SIGKILL); });
}

// Carbon-aware runs: new intensity data, pausing or resuming the command.
void poll_intensity(Timers& timers, Run& run) {
  const auto next = run.aware->poll();
  if (next != steady::time_point::max()) timers.once(next, [&timers, &run] { poll_intensity(timers, run); });
}

// The run's total as projected now, from the sampler's energy curve and the
// command's progress (a few KiB copied); what is still to come priced over
// the hours it is projected to take.
std::optional<ProjectedTotal> projected_now(const Run& run, const Sampler& sampler, const Live& live, const Progress& p) {
  const Options& o = run.options;
  std::optional<double> expected_s;
  if (o.aware.expected_duration) expected_s = std::chrono::duration<double>(*o.aware.expected_duration).count();
  const auto e = project_energy(sampler.projection_inputs(), o.tree.scope == Scope::Machine, expected_s);
  if (!e) return std::nullopt;
  ProjectedTotal t{e->fraction, e->energy_j, std::nullopt, {}, e->method};
  t.ends_at = live.started_at + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                    std::chrono::duration<double>(e->end_s));
  if (run.carbon && p.emissions_g)
    t.emissions_g = projected_emissions_g(*run.carbon, *p.emissions_g, e->energy_j - p.energy_j, p.now, t.ends_at);
  return t;
}

// The figures so far, from the sampler's running total (cheap, under its
// mutex for a few additions); emissions at the intensity averaged since the start.
Progress figures_now(const Run& run, const Sampler& sampler, const Live& live) {
  Progress p;
  p.now = std::chrono::system_clock::now();
  p.elapsed_s = std::chrono::duration<double>(steady::now() - live.started).count();
  p.energy_j = sampler.energy_so_far(run.options.tree.scope == Scope::Machine);
  if (run.carbon) p.emissions_g = p.energy_j / 3.6e6 * run.carbon->pue * run.carbon->profile.average(live.started_at, p.now);
  p.projected = projected_now(run, sampler, live, p);
  return p;
}

Progress progress_now(const Run& run, const Sampler& sampler, const Live& live, PowerMeter& meter) {
  Progress p = figures_now(run, sampler, live);
  p.power_w = meter.add(p.elapsed_s, p.energy_j);
  return p;
}

// Budgets (--max-energy, --max-emissions) the projection crosses: warned
// once each, on standard error and as a CI annotation, long before they are
// spent. --on-budget stop still acts on what is spent (watch_budget).
void warn_projected(const Run& run, const Sampler& sampler, Live& live) {
  const Progress p = figures_now(run, sampler, live);
  if (!p.projected) return;
  const ProjectedTotal& t = *p.projected;
  for (const auto& over : projected_over(run.options.report.budgets, {t.fraction, t.energy_j, p.energy_j, t.emissions_g, p.emissions_g, t.method})) {
    if (std::find(live.projected_over.begin(), live.projected_over.end(), over.budget) != live.projected_over.end()) continue;
    live.projected_over.push_back(over.budget);
    live.warnings.push_back(over.text);
    say("warning: " + over.text);
    if (run.options.outputs.github_actions)
      std::fprintf(stderr, "::warning title=%s::%s\n", workflow_command_text("greenrun budget", true).c_str(),
                   workflow_command_text(over.text, false).c_str());
  }
}

void schedule_status(Timers& timers, Run& run, Sampler& sampler, Live& live, StatusDisplay& status) {
  if (status.line)
    timers.every(steady::now() + std::chrono::seconds(1), std::chrono::seconds(1), [&] {
      Progress p = progress_now(run, sampler, live, status.live_meter);
      p.kind = status.kind;
      status.line->draw(progress_text(p));
    });
  const auto every = run.options.outputs.progress;
  if (every.count() > 0)
    timers.every(steady::now() + every, every, [&] {
      Progress p = progress_now(run, sampler, live, status.log_meter);
      p.kind = status.kind + " so far";
      say("progress: " + progress_text(p));
    });
}

void schedule(Timers& timers, Run& run, Sampler& sampler, Live& live) {
  timers.once(sampler.first_deadline(), [&sampler] { sampler.launch(); });
  const bool checkpoints = run.options.sampling.checkpoint.count() > 0 &&
                           std::any_of(run.sinks.begin(), run.sinks.end(), [](auto& s) { return s->checkpoints(); });
  if (checkpoints)
    timers.every(steady::now() + run.options.sampling.checkpoint, run.options.sampling.checkpoint,
                 [&] { checkpoint(run, sampler, live); });
  if (!run.election.leading()) {  // another rank counts the node: take over when it ends
    const auto every = std::max<std::chrono::nanoseconds>(run.options.sampling.interval, std::chrono::seconds(1));
    timers.every(steady::now() + every, every, [&] {
      if (!run.election.leading() && run.election.try_lead()) sampler.set_counts_node(true);
    });
  }
  if (run.aware)  // the grid's intensity, polled here: never on the sampler thread
    timers.once(run.aware->first_poll(), [&timers, &run] { poll_intensity(timers, run); });
  const Budgets& b = run.options.report.budgets;
  if (b.any() && b.action == Budgets::Action::Stop) {
    const auto every = std::max<std::chrono::nanoseconds>(run.options.sampling.interval, std::chrono::milliseconds(100));
    timers.every(steady::now() + every, every, [&] { watch_budget(run, sampler, live, timers); });
  }
  if (b.max_energy_j || b.max_emissions_g)
    timers.every(steady::now() + std::chrono::seconds(1), std::chrono::seconds(1), [&] { warn_projected(run, sampler, live); });
}

// The final report to every sink.
void publish(Run& run, RunReport& r) {
  const long long started = log::now_ns();
  run.add_carbon(r);
  for (auto& s : run.sinks)
    if (auto st = s->finish(r); !st) say(st.error());
    else if (const auto n = s->notice(); !n.empty()) say(n);
  log::debug([&] { return "final report written in " + std::to_string(log::ms_since(started)) + " ms"; });
}

// The baseline comparison and the budgets' verdicts. True when a budget was exceeded.
bool judge(const Run& run, RunReport& r) {
  std::optional<BaselineComparison> cmp;
  if (run.baseline)
    if (auto now = read_report(to_json(r), "this run")) {
      cmp = compare_reports(*run.baseline, *now);
      r.baseline = cmp;
    }
  const Budgets& b = run.options.report.budgets;
  if (!b.any()) return false;
  auto verdicts = judge_budgets(r, b, cmp ? &*cmp : nullptr);
  add_verdicts(r, b, verdicts);
  return std::any_of(verdicts.begin(), verdicts.end(), [](auto& v) { return v.exceeded; });
}

int spawn_failed(Run& run, Sampler& sampler, const SpawnResult& spawned, std::chrono::system_clock::time_point t0) {
  const int code = spawned.exec_errno == ENOENT ? kExitNotFound : kExitCannotExecute;
  RunReport r = run.report(sampler.measurements());
  r.started_at = t0;
  r.ended_at = std::chrono::system_clock::now();
  r.status = "failed";
  r.exit_code = code;
  r.error = exec_failure(run.options.command[0], spawned.exec_errno, run.env("PATH").value_or("/usr/local/bin:/usr/bin:/bin"));
  say(r.error);
  publish(run, r);
  return code;
}

// Step 3: the final report, and greenrun's exit status: the command's, or
// kExitBudgetExceeded when a budget failed a successful command or stopped it.
int finish(Run& run, Sampler& sampler, const Live& live, const CommandExit& exit) {
  const int status = exit_status_for(exit);
  if (run.sinks.empty() && !run.options.report.budgets.any()) return status;  // -q alone: nothing to write
  try {
    RunReport r = run.report(sampler.measurements());
    r.started_at = live.started_at;
    r.ended_at = live.ended_at;
    r.duration_s = std::chrono::duration<double>(live.ended - live.started).count();
    r.status = live.stopped_for.empty() ? "finished" : "stopped: " + live.stopped_for;
    if (exit.signal) r.signal = exit.signal;
    else r.exit_code = exit.exit_code;
    r.core_dumped = exit.core_dumped;
    r.notes.insert(r.notes.end(), live.warnings.begin(), live.warnings.end());
    run.add_carbon(r);
    const bool exceeded = judge(run, r);
    publish(run, r);
    const Budgets::Action action = run.options.report.budgets.action;
    if (!live.stopped_for.empty()) return kExitBudgetExceeded;
    if (exceeded && action == Budgets::Action::Fail && status == 0) {
      say("a budget was exceeded: exit status " + std::to_string(kExitBudgetExceeded) + " (--on-budget fail)");
      return kExitBudgetExceeded;
    }
  } catch (const std::exception& e) {
    say(std::string("internal error while reporting: ") + e.what() + "; the last checkpoint is in place");
  }
  return status;
}

Status start_log(const Options& o) {
  if (o.log_level == log::Level::Off || o.log_file.empty()) return log::start(o.log_level, "");
  if (auto st = check_writable(o.log_file, "--log-file"); !st) return st;
  auto path = output_path(o.log_file, "--log-file");
  if (!path) return Status::fail(path.error());
  return log::start(o.log_level, *path);
}

SamplerOptions sampler_options(const Run& run) {
  SamplerOptions so;
  so.interval = run.options.sampling.interval;
  so.cpu_resolution_s = static_cast<double>(std::max(1, run.probe.hardware.cpu.logical)) / clock_ticks();
  return so;
}

SpawnOptions spawn_options(const Run& run, const SignalBlock& block, const struct sigaction& sigpipe) {
  SpawnOptions spawn;
  spawn.mask = block.original_mask();
  spawn.ignored = block.inherited_ignored();
  spawn.sigpipe = sigpipe;
  spawn.tty_fd = foreground_terminal();
  spawn.drop_capabilities = running_privileged();
  if (run.tree.cgroup) {  // the command is born in its cgroups
    const CommandCgroups& groups = run.tree.cgroup->groups();
    spawn.cgroup_fds = groups.join_fds();
    if (auto birth = groups.birth_group()) std::tie(spawn.cgroup_dir_join, spawn.cgroup_dir_fd) = *birth;
  }
  return spawn;
}

// --live takes the terminal's last row before the command can write
// anything; off where it cannot work, said only where it could be expected to.
void open_live_line(const Run& run, StatusDisplay& status) {
  if (!run.options.outputs.live) return;
  if (const std::string why = LiveLine::unusable(STDERR_FILENO, run.env); why.empty())
    status.line.emplace(STDERR_FILENO, run.env);
  else if (::isatty(STDERR_FILENO))
    say("--live is off: " + why + "; --progress DURATION prints plain lines");
}

// A line from the marks FIFO: a phase, a count, the progress.
void take_record(Sampler& sampler, MarkRecord r) {
  switch (r.kind) {
    case MarkRecord::Kind::Mark: return sampler.mark(steady::now(), std::move(r.text));
    case MarkRecord::Kind::Count: return sampler.count(r.text, r.value);
    case MarkRecord::Kind::Progress: return sampler.progress(steady::now(), r.value);
    case MarkRecord::Kind::Invalid:
      log::debug([&] { return "not a record on the marks FIFO: " + terminal_text(r.text); });
      return sampler.bad_record();
  }
}

// A reaped descendant's last I/O figures, for the tree's totals.
void note_reaped(Sampler& sampler, pid_t pid) {
  std::string text;
  IoCounters io;
  if (read_one_piece("/proc/" + std::to_string(pid) + "/io", text) == 0) io = parse_pid_io(text).value_or(IoCounters{});
  sampler.tree().reaped(pid, io);
}

// Step 2's wait: signals forwarded, descendants reaped, the timers fired and
// phases taken from the mark channel until the command exits.
CommandExit wait_for(Run& run, Sampler& sampler, Live& live, StatusDisplay& status, std::optional<MarkChannel>& marks,
                     int tty_fd) {
  Timers timers;
  schedule(timers, run, sampler, live);
  schedule_status(timers, run, sampler, live, status);
  WaitOptions wait;
  wait.tty_fd = tty_fd;
  wait.deadline = timers.next();
  wait.on_deadline = [&] { return timers.fire(); };
  auto take_marks = [&](size_t max_bytes) { marks->drain([&](MarkRecord r) { take_record(sampler, std::move(r)); }, max_bytes); };
  if (marks) {
    wait.watch_fd = marks->fd();
    wait.on_readable = [&] { take_marks(MarkChannel::kDrainBytes); };
  }
  if (run.aware) wait.after_forward = [&](int sig) { run.aware->forwarded(sig); };
  CommandExit exit =
      wait_for_command(live.child, wait, sampler.tree().reap_mutex(), [&](pid_t pid) { note_reaped(sampler, pid); });
  live.ended = steady::now();
  live.ended_at = std::chrono::system_clock::now();
  if (marks) take_marks(MarkChannel::kBufferBytes);  // those written before the command ended, not a writer it left
  return exit;
}

// The first checkpoint exists before the command starts: whatever happens
// to greenrun later, the file is there.
Status first_checkpoint(const Run& run, const Sampler& sampler, const Live& live) {
  if (run.sinks.empty()) return {};
  RunReport first = report_now(run, sampler, live);
  for (auto& s : run.sinks)
    if (auto st = s->checkpoint(first); !st) return st;
  return {};
}

// Emissions need the grid data: loaded while the command starts when nothing
// forced it earlier, and only when something shows emissions.
void resolve_late(Run& run, const StatusDisplay& status) {
  if (run.resolve_early) return;
  if (run.sinks.empty() && !status.line && run.options.outputs.progress.count() == 0) return;
  if (auto st = run.resolve_carbon(); !st) say("warning: " + st.error() + "; emissions will not be reported");
}

// Step 2: run the command while the sampler measures; then step 3.
int measure(Run& run, Sampler& sampler, StatusDisplay& status, const SignalBlock& block,
            const struct sigaction& sigpipe) {
  Live live;
  live.started_at = std::chrono::system_clock::now();
  live.started = steady::now();
  if (auto st = first_checkpoint(run, sampler, live); !st) return say(st.error()), kExitGreenrunFailed;
  sampler.set_counts_node(run.election.try_lead());
  sampler.baseline();
  live.started_at = std::chrono::system_clock::now();
  live.started = steady::now();
  std::optional<MarkChannel> marks = open_marks(run.env);  // phases, through a FIFO named in the command's environment
  std::unique_ptr<ForkEvents> forks = open_fork_events(run);
  const SpawnOptions spawn = spawn_options(run, block, sigpipe);
  open_live_line(run, status);
  SpawnResult spawned = spawn_command(run.options.command, spawn);
  if (spawned.pid < 0) {
    status.line.reset();
    return spawn_failed(run, sampler, spawned, live.started_at);
  }
  live.child = spawned.pid;
  if (forks) {
    forks->watch(spawned.pid);
    sampler.count_processes(std::move(forks));
  }
  settle_tree(run, sampler, spawned);
  remove_leftovers(run);
  if (run.aware) run.aware->started(spawned.pid);
  resolve_late(run, status);
  sampler.start();
  CommandExit exit = wait_for(run, sampler, live, status, marks, spawn.tty_fd);
  status.line.reset();  // the terminal's last row back, cleared, before the summary
  reclaim_terminal(spawn.tty_fd);
  sampler.finish();
  if (run.aware) run.aware->finished(sampler.measurements().origin, live.ended_at);
  return finish(run, sampler, live, exit);
}

}  // namespace

int run_command(Options o, const SignalBlock& block, const EnvLookup& env) {
  const struct sigaction sigpipe = ignore_sigpipe();  // from the start: even an error line may meet a closed pipe
  if (auto st = expand_output_paths(o, env); !st)
    return say(with_origin(o, st.error()) + " (see greenrun --help)"), kExitGreenrunFailed;
  if (auto st = start_log(o); !st) return say(with_origin(o, st.error())), kExitGreenrunFailed;
  Run run(o, env);
  if (!o.ignored_privileged.empty()) say(privileged_note(o.ignored_privileged));
  for (const auto& w : o.config_warnings) say("warning: " + w);
  if (auto st = check(run); !st) return say(with_origin(o, st.error())), kExitGreenrunFailed;
  remove_credentials_from_environment();  // read by the providers in check(); never the command's
  if (run.aware) {
    run.aware->start_watchdog();  // before any thread, and before greenrun is a subreaper
    if (auto stop = run.aware->before_start()) return *stop;
  }
  // Ctrl-C, a SIGTERM while greenrun got ready: the command is not started.
  if (const int sig = wait_for_signal(steady::now()); sig != 0)
    return say(std::string("interrupted by ") + signal_name(sig) + " before the command started"), kExitSignalBase + sig;
  if (!become_subreaper()) log::debug([] { return "cannot become a child subreaper; orphans are not followed"; });
  StatusDisplay status;
  status.kind = energy_kind(run.probe.sources);  // before the sampler takes the sources
  Sampler sampler(sampler_options(run), std::move(run.probe.sources), std::move(run.tree.reader));
  return measure(run, sampler, status, block, sigpipe);
}

}  // namespace greenrun
