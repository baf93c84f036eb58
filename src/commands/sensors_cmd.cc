#include "commands/sensors_cmd.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "carbon/carbon_data.h"
#include "commands/output_paths.h"
#include "commands/subcommand.h"
#include "config/config_files.h"
#include "config/option_table.h"
#include "process/cgroup_tree.h"
#include "process/tree_reader.h"
#include "sampling/accounting.h"
#include "sampling/counter_watch.h"
#include "sensors/source_table.h"
#include "util/exit_codes.h"
#include "util/units.h"
#include "util/escape.h"

namespace greenrun {

namespace {

struct Watched {
  EnergySource* source;
  size_t channel;
  CounterWatch watch;
};

void spin_until(std::chrono::steady_clock::time_point t) {
  volatile unsigned long spin = 0;
  while (std::chrono::steady_clock::now() < t) spin = spin + 1;
}

// A hypervisor may expose a counter it never updates. Each counter is read
// for a little over a second while this thread keeps a CPU busy: a live
// counter moves in that time whatever the load, and the busy CPU rules out
// "it measured nothing because nothing ran".
std::vector<Watched> watch_counters(const Probe& p, const std::string& procfs_root) {
  std::vector<Watched> all;
  for (const auto& s : p.sources)
    for (size_t i = 0; i < s->channels().size(); ++i)
      if (s->channels()[i].counter) all.push_back({s.get(), i, CounterWatch(s->channels()[i].update_s)});
  if (all.empty()) return all;
  MachineStat machine(procfs_root, static_cast<double>(::sysconf(_SC_CLK_TCK)), false);
  TreeSample cpu;
  machine.read(false, cpu);
  double busy = cpu.machine_busy_s;
  const auto start = std::chrono::steady_clock::now();
  std::vector<ChannelReading> out;
  for (int tick = 0;; ++tick) {
    const auto now = std::chrono::steady_clock::now();
    const double t = std::chrono::duration<double>(now - start).count();
    machine.read(false, cpu);
    const double used = std::max(0.0, cpu.machine_busy_s - busy);
    busy = cpu.machine_busy_s;
    SampleContext ctx;
    ctx.now = now;
    for (const auto& s : p.sources) {
      s->read(ctx, out);
      for (auto& w : all)
        if (w.source == s.get() && w.channel < out.size() && out[w.channel].ok)
          w.watch.observe(t, out[w.channel].energy_j, used);
    }
    if (t > 1.1 * CounterWatch::kFrozenAfterS) break;
    spin_until(start + std::chrono::milliseconds(100 * (tick + 1)));
  }
  return all;
}

/// The findings of frozen counters say so; returns the frozen channels.
std::vector<const Channel*> mark_frozen_findings(const std::vector<Watched>& watched, std::vector<Finding>& findings) {
  std::vector<const Channel*> frozen;
  for (const auto& w : watched) {
    if (!w.watch.frozen()) continue;
    const Channel& ch = w.source->channels()[w.channel];
    frozen.push_back(&ch);
    for (auto& f : findings)
      if (f.used() && f.source == ch.source && f.what == ch.label) {
        f.disposition = Disposition::Frozen;
        f.reason = "did not advance in " + format_seconds(w.watch.unmoved_s()) + " of watching while the machine used " +
                   significant(w.watch.busy_since_move_s(), 2) +
                   " CPU-seconds: frozen (a hypervisor may expose a counter it never updates); a run estimates what it "
                   "covers instead";
      }
  }
  return frozen;
}

/// The channels a run would report: the frozen ones left out, the estimates standing in for them added.
std::vector<const Channel*> reported(const Probe& p, const std::vector<const Channel*>& frozen) {
  std::vector<const Channel*> out;
  for (const auto& s : p.sources) {
    for (const auto& c : s->channels())
      if (std::find(frozen.begin(), frozen.end(), &c) == frozen.end()) out.push_back(&c);
    for (const auto& c : s->standby())
      if (std::any_of(frozen.begin(), frozen.end(), [&](const Channel* f) { return stands_in(c.component.kind, f->component.kind); }))
        out.push_back(&c);
  }
  return out;
}

// Parses `args` and checks the options as a run checks them: an exit code
// when the command ends here.
std::optional<int> sensors_options(const std::vector<std::string>& args, const EnvLookup& env, bool& json_out,
                                   Options& options) {
  CLI::App app{"greenrun sensors: the energy sources on this machine, what they cover and how to enable them",
               "greenrun sensors"};
  app.add_flag("--json", json_out, "JSON on stdout");
  RawSettings raw;
  add_table_options(app, raw, {"config", "sysfs-root", "procfs-root", "nvml-lib", "rocm-lib", "dev-root"});
  if (auto done = parse_subcommand(app, args, "sensors")) return *done;
  auto layers = apply_config(raw, env);
  if (!layers) {
    std::fprintf(stderr, "greenrun sensors: %s\n", terminal_text(layers.error()).c_str());
    return kExitGreenrunFailed;
  }
  if (auto ignored = drop_privileged_overrides(raw); !ignored.empty())
    std::fprintf(stderr, "greenrun sensors: running with raised privileges: ignored %s and the like\n", terminal_text(ignored[0]).c_str());
  auto checked = checked_subcommand_options(raw, env);  // as a run checks them
  if (!checked) {
    std::fprintf(stderr, "greenrun sensors: %s\n", checked.error().c_str());
    return kExitGreenrunFailed;
  }
  options = *checked;
  return std::nullopt;
}

nlohmann::ordered_json machine_json(const Hardware& hw) {
  return {{"cpu_model", hw.cpu.model},  {"logical_cpus", hw.cpu.logical}, {"cores", hw.cpu.cores},
          {"sockets", hw.cpu.sockets},  {"virtual_machine", hw.virtual_machine},
          {"cloud", hw.cloud.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(hw.cloud)},
          {"memory_bytes", hw.mem_total_bytes}, {"pci_gpus", hw.gpus.size()}};
}

nlohmann::ordered_json findings_json(const std::vector<Finding>& findings) {
  auto found = nlohmann::ordered_json::array();
  for (const auto& f : findings) {
    nlohmann::ordered_json x = {{"source", f.source}, {"what", f.what}, {"path", f.path}, {"readable", f.disposition != Disposition::Unreadable && f.disposition != Disposition::Absent},
                                {"disposition", disposition_name(f.disposition)}, {"detail", f.reason}};
    x["fix"] = f.fix.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.fix);
    found.push_back(std::move(x));
  }
  return found;
}

void print_json(const Probe& probe, const std::vector<const Channel*>& shown, const TreeDescription& tree) {
  nlohmann::ordered_json j;
  j["machine"] = machine_json(probe.hardware);
  j["sources"] = findings_json(probe.findings);
  auto known = nlohmann::ordered_json::array();
  for (const auto& e : source_table())
    known.push_back({{"name", e.name}, {"probed", e.probed}, {"measures", e.measures}});
  j["known_sources"] = std::move(known);
  auto used = nlohmann::ordered_json::array();
  for (const Channel* c : shown)
    used.push_back({{"component", c->component.name()}, {"label", c->label}, {"source", c->source}, {"measured", c->measured},
                    {"method", c->method}, {"origin", c->origin}});
  j["used"] = std::move(used);
  auto text_or_null = [](const std::string& t) { return t.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(t); };
  j["process_tree"] = {{"method", tree.method},
                       {"detail", tree.detail},
                       {"reason", text_or_null(tree.reason)},
                       {"memory_note", text_or_null(tree.memory_note)},
                       {"cgroups", tree.cgroups}};
  std::printf("%s\n", j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
}

void print_machine(const Hardware& hw) {
  std::string cpu = hw.cpu.model.empty() ? (hw.cpu.arm_part.empty() ? "unknown CPU" : "ARM CPU part " + hw.cpu.arm_part)
                                         : hw.cpu.model;
  std::string machine = std::to_string(hw.cpu.logical) + " logical CPUs, " + std::to_string(hw.cpu.cores) +
                        " cores, " + std::to_string(hw.cpu.sockets) + (hw.cpu.sockets == 1 ? " socket" : " sockets");
  std::string virt = hw.virtual_machine ? "virtual machine (" + hw.virtualization + ")" : "bare metal";
  if (!hw.cloud.empty()) virt += ", cloud " + hw.cloud;
  std::printf("machine  %s; %s; %s; %s memory\n", cpu.c_str(), machine.c_str(), virt.c_str(),
              format_bytes(hw.mem_total_bytes).c_str());
}

void print_findings(const std::vector<Finding>& findings) {
  std::printf("\nsources found:\n");
  for (const auto& f : findings) {
    std::printf("  %-10s %s%s%s\n", disposition_name(f.disposition), f.source.c_str(), f.what.empty() ? "" : ": ",
                f.what.c_str());
    if (!f.reason.empty()) std::printf("             %s\n", f.reason.c_str());
    if (!f.path.empty()) std::printf("             %s\n", f.path.c_str());
    if (!f.fix.empty()) std::printf("             to enable it: %s\n", f.fix.c_str());
  }
}

void print_text(const Probe& probe, const std::vector<const Channel*>& shown, const TreeDescription& tree) {
  print_machine(probe.hardware);
  std::printf("\nenergy sources greenrun reads, in probe order:\n");
  for (const auto& e : source_table()) std::printf("  %-16s %s\n  %-16s from %s\n", e.name, e.measures, "", e.probed);
  print_findings(probe.findings);
  if (tree.method == "cgroup")
    std::printf("\nprocess tree: a cgroup of the command's own (one was made and removed to check): %s%s%s\n",
                tree.detail.c_str(),
                tree.memory_note.empty() ? "" : "; memory from /proc: ", tree.memory_note.c_str());
  else
    std::printf("\nprocess tree: the /proc walk (%s)\n", tree.reason.c_str());
  std::printf("\ngreenrun would report:\n");
  for (const Channel* c : shown)
    std::printf("  %-9s %-9s %s%s\n", c->component.name().c_str(), c->measured ? "measured" : "estimated",
                c->measured ? (c->source + ": " + c->label).c_str() : c->method.c_str(), "");
}

}  // namespace

int sensors_command(const std::vector<std::string>& args, const EnvLookup& env) {
  bool json_out = false;
  Options o;
  if (auto done = sensors_options(args, env, json_out, o)) return *done;
  auto probe = probe_sources({o.sources, o.estimate, o.grid.cloud, o.sampling.interval}, find_data_dir(env), env);
  if (!probe) {
    std::fprintf(stderr, "greenrun sensors: %s\n", terminal_text(probe.error()).c_str());
    return kExitGreenrunFailed;
  }
  const auto frozen = mark_frozen_findings(watch_counters(*probe, o.sources.procfs_root.empty() ? "/proc" : o.sources.procfs_root),
                                          probe->findings);
  const auto shown = reported(*probe, frozen);
  // The process-tree method a run would use: its groups are made and removed at once.
  const TreeDescription tree =
      choose_tree_reader(TreeMethod::Auto, o.sources.procfs_root, static_cast<double>(::sysconf(_SC_CLK_TCK)))->description;
  if (json_out) print_json(*probe, shown, tree);
  else print_text(*probe, shown, tree);
  return 0;
}

}  // namespace greenrun
