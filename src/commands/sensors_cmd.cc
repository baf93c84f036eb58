#include "commands/sensors_cmd.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "carbon/carbon_data.h"
#include "config/config_files.h"
#include "config/option_table.h"
#include "process/cgroup_tree.h"
#include "sensors/source_table.h"
#include "util/exit_codes.h"
#include "util/units.h"
#include "util/escape.h"

namespace greenrun {

int sensors_command(const std::vector<std::string>& args, const EnvLookup& env) {
  CLI::App app{"greenrun sensors: the energy sources on this machine, what they cover and how to enable them",
               "greenrun sensors"};
  bool json_out = false;
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
  Options o;
  o.sysfs_root = raw.get("sysfs-root");
  o.procfs_root = raw.get("procfs-root");
  o.nvml_lib = raw.get("nvml-lib");
  o.rocm_lib = raw.get("rocm-lib");
  o.dev_root = raw.get("dev-root");
  auto probe = probe_sources(o, find_data_dir(env), env);
  if (!probe) {
    std::fprintf(stderr, "greenrun sensors: %s\n", terminal_text(probe.error()).c_str());
    return kExitGreenrunFailed;
  }
  const Hardware& hw = probe->hardware;
  std::string cpu = hw.cpu.model.empty() ? (hw.cpu.arm_part.empty() ? "unknown CPU" : "ARM CPU part " + hw.cpu.arm_part)
                                         : hw.cpu.model;
  std::string machine = std::to_string(hw.cpu.logical) + " logical CPUs, " + std::to_string(hw.cpu.cores) +
                        " cores, " + std::to_string(hw.cpu.sockets) + (hw.cpu.sockets == 1 ? " socket" : " sockets");
  // The process-tree method a run would use: its groups are made and removed at once.
  const TreeDescription tree =
      choose_tree_reader(TreeMethod::Auto, o.procfs_root, static_cast<double>(::sysconf(_SC_CLK_TCK)))->description;
  std::string virt = hw.virtual_machine ? "virtual machine (" + hw.virtualization + ")" : "bare metal";
  if (!hw.cloud.empty()) virt += ", cloud " + hw.cloud;

  if (json_out) {
    nlohmann::ordered_json j;
    j["machine"] = {{"cpu_model", hw.cpu.model},  {"logical_cpus", hw.cpu.logical}, {"cores", hw.cpu.cores},
                    {"sockets", hw.cpu.sockets},  {"virtual_machine", hw.virtual_machine},
                    {"cloud", hw.cloud.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(hw.cloud)},
                    {"memory_bytes", hw.mem_total_bytes}, {"pci_gpus", hw.gpus.size()}};
    auto found = nlohmann::ordered_json::array();
    for (const auto& f : probe->findings) {
      nlohmann::ordered_json x = {{"source", f.source}, {"what", f.what}, {"path", f.path}, {"readable", f.disposition != Disposition::Unreadable && f.disposition != Disposition::Absent},
                                  {"disposition", disposition_name(f.disposition)}, {"detail", f.reason}};
      x["fix"] = f.fix.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.fix);
      found.push_back(std::move(x));
    }
    j["sources"] = std::move(found);
    auto known = nlohmann::ordered_json::array();
    for (const auto& e : source_table())
      known.push_back({{"name", e.name}, {"probed", e.probed}, {"measures", e.measures}});
    j["known_sources"] = std::move(known);
    auto used = nlohmann::ordered_json::array();
    for (const auto& s : probe->sources)
      for (const auto& c : s->channels())
        used.push_back({{"component", c.component.name()}, {"label", c.label}, {"source", c.source}, {"measured", c.measured},
                        {"method", c.method}, {"origin", c.origin}});
    j["used"] = std::move(used);
    auto text_or_null = [](const std::string& t) { return t.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(t); };
    j["process_tree"] = {{"method", tree.method},
                         {"detail", tree.detail},
                         {"reason", text_or_null(tree.reason)},
                         {"memory_note", text_or_null(tree.memory_note)},
                         {"cgroups", tree.cgroups}};
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("machine  %s; %s; %s; %s memory\n", cpu.c_str(), machine.c_str(), virt.c_str(),
              format_bytes(hw.mem_total_bytes).c_str());
  std::printf("\nenergy sources greenrun reads, in probe order:\n");
  for (const auto& e : source_table()) std::printf("  %-16s %s\n  %-16s from %s\n", e.name, e.measures, "", e.probed);
  std::printf("\nsources found:\n");
  for (const auto& f : probe->findings) {
    std::printf("  %-10s %s%s%s\n", disposition_name(f.disposition), f.source.c_str(), f.what.empty() ? "" : ": ",
                f.what.c_str());
    if (!f.reason.empty()) std::printf("             %s\n", f.reason.c_str());
    if (!f.path.empty()) std::printf("             %s\n", f.path.c_str());
    if (!f.fix.empty()) std::printf("             to enable it: %s\n", f.fix.c_str());
  }
  if (tree.method == "cgroup")
    std::printf("\nprocess tree: a cgroup of the command's own (one was made and removed to check): %s%s%s\n",
                tree.detail.c_str(),
                tree.memory_note.empty() ? "" : "; memory from /proc: ", tree.memory_note.c_str());
  else
    std::printf("\nprocess tree: the /proc walk (%s)\n", tree.reason.c_str());
  std::printf("\ngreenrun would report:\n");
  for (const auto& s : probe->sources)
    for (const auto& c : s->channels())
      std::printf("  %-9s %-9s %s%s\n", c.component.name().c_str(), c.measured ? "measured" : "estimated",
                  c.measured ? (c.source + ": " + c.label).c_str() : c.method.c_str(), "");
  return 0;
}

}  // namespace greenrun
