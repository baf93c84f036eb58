#include "commands/run.h"

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>

#include "carbon/carbon.h"
#include "carbon/carbon_data.h"
#include "process/child.h"
#include "report/codecarbon_csv.h"
#include "sensors/hardware.h"
#include "util/fs.h"
#include "process/procfs.h"
#include "sensors/sensors.h"
#include "report/report.h"
#include "sampling/sampler.h"
#include "util/units.h"

namespace greenrun {

namespace {

void fail(const std::string& message) { std::fprintf(stderr, "greenrun: %s\n", message.c_str()); }

double raw_emissions_g(const Measurements& m, Scope scope) {
  double g = 0;
  for (const auto& t : m.totals) g += scope == Scope::Process ? t.tree_g : t.machine_g;
  return g;
}

double machine_raw_emissions_g(const Measurements& m) {
  double g = 0;
  for (const auto& t : m.totals) g += t.machine_g;
  return g;
}

RunReport make_report(const Options& o, const Measurements& m, const std::vector<Finding>& findings) {
  RunReport r;
  r.command = o.command;
  r.scope = o.scope;
  r.components = components_from(m, o.scope);
  r.user_s = m.user_s;
  r.system_s = m.system_s;
  r.peak_rss_bytes = m.peak_rss_bytes;
  r.io = m.io;
  r.processes_seen = m.processes_seen;
  r.peak_power_w = o.scope == Scope::Process ? m.peak_tree_w : m.peak_machine_w;
  r.machine_peak_power_w = m.peak_machine_w;
  r.sampled_s = m.sampled_s;
  r.samples = m.samples;
  r.sampler_cpu_s = m.sampler_cpu_s;
  rusage self{};
  ::getrusage(RUSAGE_SELF, &self);
  r.greenrun_cpu_s = static_cast<double>(self.ru_utime.tv_sec + self.ru_stime.tv_sec) +
                     (self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6;
  r.interval_s = std::chrono::duration<double>(o.interval).count();
  r.findings = findings;
  r.notes = m.notes;
  return r;
}

}  // namespace

int run_command(const Options& o) {
  // Everything that can fail is checked before the command starts: a long run
  // must never end with "could not write results".
  if (!o.json_path.empty())
    if (auto st = check_writable(o.json_path, "--json"); !st) return fail(st.error()), kExitGreenrunFailed;
  if (!o.summary_file.empty())
    if (auto st = check_writable(o.summary_file, "--summary-file"); !st) return fail(st.error()), kExitGreenrunFailed;

  if (!o.csv_path.empty())
    if (auto st = check_codecarbon_csv(o.csv_path); !st) return fail(st.error()), kExitGreenrunFailed;

  // Where the electricity comes from. A region, cloud, comparison or intensity
  // file the user gave is resolved before the command starts: an unknown one
  // must stop the run there. Without them (the time-zone guess cannot fail),
  // the data is loaded while the command starts, overlapping its start-up.
  const std::string data_dir = find_data_dir();
  if (data_dir.empty() || !path_exists(data_dir + "/intensity/zones.csv"))
    return fail("greenrun's data files (intensity/zones.csv) were not found" +
                (data_dir.empty() ? std::string() : " in " + data_dir) +
                "; reinstall greenrun or set GREENRUN_DATA_DIR to its share directory"),
           kExitGreenrunFailed;
  std::optional<CarbonData> data;
  std::optional<CarbonSettings> carbon;
  auto resolve_carbon = [&]() -> Status {
    auto loaded = load_carbon_data(data_dir);
    if (!loaded) return Status::fail(loaded.error());
    auto settings = resolve_carbon_settings(o, *loaded, real_env);
    if (!settings) return Status::fail(settings.error());
    data = std::move(*loaded);
    carbon = std::move(*settings);
    return {};
  };
  const bool resolve_early = !o.region.empty() || !o.cloud.empty() || !o.compare.empty() || !o.intensity_file.empty();
  if (resolve_early)
    if (auto st = resolve_carbon(); !st) return fail(st.error()), kExitGreenrunFailed;

  auto probe = probe_sources(o, data_dir);
  if (!probe) return fail(probe.error()), kExitGreenrunFailed;
  const std::vector<Finding>& findings = probe->findings;
  const Hardware& hardware = probe->hardware;

  SignalBlock block;
  if (!become_subreaper() && o.verbose) fail("warning: cannot become a child subreaper; orphans are not followed");

  SamplerOptions so;
  so.interval = o.interval;
  so.checkpoint = o.json_path.empty() ? std::chrono::nanoseconds(0) : o.checkpoint;
  so.procfs_root = o.procfs_root;
  so.self_pid = ::getpid();
  // Set before the sampler thread starts (or the first interval is accounted).
  auto profile = std::make_shared<IntensityProfile>(IntensityProfile::constant(0));
  if (carbon) *profile = carbon->profile;
  so.intensity = [profile](std::chrono::system_clock::time_point from, std::chrono::system_clock::time_point to) {
    return profile->average(from, to);
  };
  so.need_meminfo = true;
  Sampler sampler(so, std::move(probe->sources));

  auto started_at = std::chrono::system_clock::now();
  auto started_steady = std::chrono::steady_clock::now();
  auto report_now = [&](const Measurements& m, const char* status) {
    RunReport r = make_report(o, m, findings);
    r.started_at = started_at;
    r.ended_at = std::chrono::system_clock::now();
    r.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_steady).count();
    r.status = status;
    if (!r.components.empty() && carbon)
      r.carbon = build_carbon_report(*data, *carbon, r.energy_j(), raw_emissions_g(m, o.scope),
                                     machine_raw_emissions_g(m), r.started_at, r.ended_at);
    return r;
  };
  bool checkpoint_warned = false;
  auto write_json = [&](const RunReport& r) {
    auto st = atomic_write(o.json_path, to_json(r).dump(2) + "\n");
    if (!st && !checkpoint_warned) {
      fail("warning: " + st.error());
      checkpoint_warned = true;
    }
    return st;
  };
  // The first checkpoint exists before the command starts: whatever happens
  // to greenrun later, the file is there.
  if (!o.json_path.empty()) write_json(report_now(sampler.measurements(), "running"));

  sampler.baseline();
  started_at = std::chrono::system_clock::now();
  started_steady = std::chrono::steady_clock::now();
  SpawnResult spawned = spawn_command(o.command, block.original());
  if (spawned.pid < 0) {
    int code = spawned.exec_errno == ENOENT ? kExitNotFound : kExitCannotExecute;
    std::string why = "cannot run '" + o.command[0] + "': " + errno_text(spawned.exec_errno) +
                      (code == kExitNotFound ? " (not found in PATH; check the spelling or give a path)" : "");
    if (!o.json_path.empty()) {
      RunReport r = report_now(sampler.measurements(), "failed");
      r.exit_code = code;
      nlohmann::ordered_json j = to_json(r);
      j["error"] = why;
      atomic_write(o.json_path, j.dump(2) + "\n");
    }
    fail(why);
    return code;
  }
  // The command has its own SIGPIPE disposition already; greenrun must not die
  // writing its report to a closed pipe.
  std::signal(SIGPIPE, SIG_IGN);
  if (!resolve_early) {
    if (auto st = resolve_carbon(); !st) fail("warning: " + st.error() + "; emissions will not be reported");
    else *profile = carbon->profile;
  }
  sampler.start([&](const Measurements& m) { write_json(report_now(m, "running")); });

  CommandExit exit = wait_for_command(
      spawned.pid, sampler.reap_mutex(),
      [&](pid_t pid) {
        std::string text;
        if (read_file("/proc/" + std::to_string(pid) + "/io", text) == 0)
          if (auto io = parse_pid_io(text)) sampler.add_reaped_io(*io);
      },
      sampler.first_deadline(), [&] { sampler.launch(); });
  const auto ended_steady = std::chrono::steady_clock::now();
  const auto ended_at = std::chrono::system_clock::now();
  sampler.finish();

  const Measurements final_m = sampler.measurements();
  RunReport r = make_report(o, final_m, findings);
  r.started_at = started_at;
  r.ended_at = ended_at;
  r.duration_s = std::chrono::duration<double>(ended_steady - started_steady).count();
  r.status = "finished";
  if (exit.signal) r.signal = exit.signal;
  else r.exit_code = exit.exit_code;
  r.core_dumped = exit.core_dumped;
  r.descendants_running = final_m.running;
  if (!r.components.empty() && carbon)
    r.carbon = build_carbon_report(*data, *carbon, r.energy_j(), raw_emissions_g(final_m, o.scope),
                                   machine_raw_emissions_g(final_m), started_at, ended_at);

  if (!o.json_path.empty()) {
    checkpoint_warned = false;
    if (auto st = write_json(r); !st) fail("the JSON report was not written; the last checkpoint is in place");
  }
  if (!o.csv_path.empty()) {
    CsvRunInfo info{o.project, o.experiment_id, random_uuid()};
    auto row = codecarbon_row(r, hardware, data ? &*data : nullptr, info);
    if (auto st = locked_append(o.csv_path, codecarbon_header(), row); !st) fail(st.error());
  }
  if (!o.quiet) {
    std::string summary = format_summary(r);
    if (!o.summary_file.empty()) {
      if (auto st = atomic_write(o.summary_file, summary); !st) fail(st.error());
    } else {
      std::fwrite(summary.data(), 1, summary.size(), stderr);
      std::fflush(stderr);
    }
  }
  return exit_status_for(exit);
}

}  // namespace greenrun
