#include "commands/sensors_cmd.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "carbon/carbon_data.h"
#include "sensors/source_table.h"
#include "util/exit_codes.h"
#include "util/units.h"

namespace greenrun {

int sensors_command(const std::vector<std::string>& args, const EnvLookup& env) {
  CLI::App app{"greenrun sensors: the energy sources on this machine, what they cover and how to enable them",
               "greenrun sensors"};
  Options o;
  bool json_out = false;
  if (auto v = env("GREENRUN_SYSFS_ROOT")) o.sysfs_root = *v;
  if (auto v = env("GREENRUN_PROCFS_ROOT")) o.procfs_root = *v;
  if (auto v = env("GREENRUN_NVML_LIB")) o.nvml_lib = *v;
  if (auto v = env("GREENRUN_ROCM_LIB")) o.rocm_lib = *v;
  if (auto v = env("GREENRUN_DEV_ROOT")) o.dev_root = *v;
  app.add_flag("--json", json_out, "JSON on stdout");
  app.add_option("--sysfs-root", o.sysfs_root, "Read DIR instead of /sys");
  app.add_option("--procfs-root", o.procfs_root, "Read machine-wide files from DIR instead of /proc");
  app.add_option("--nvml-lib", o.nvml_lib, "NVML library to load instead of libnvidia-ml.so.1");
  app.add_option("--rocm-lib", o.rocm_lib, "ROCm SMI library to load instead of librocm_smi64.so");
  app.add_option("--dev-root", o.dev_root, "Read MSR devices under DIR instead of /dev");
  if (auto done = parse_subcommand(app, args, "sensors")) return *done;
  auto probe = probe_sources(o, find_data_dir(env), env);
  if (!probe) {
    std::fprintf(stderr, "greenrun sensors: %s\n", probe.error().c_str());
    return kExitGreenrunFailed;
  }
  const Hardware& hw = probe->hardware;
  std::string cpu = hw.cpu.model.empty() ? (hw.cpu.arm_part.empty() ? "unknown CPU" : "ARM CPU part " + hw.cpu.arm_part)
                                         : hw.cpu.model;
  std::string machine = std::to_string(hw.cpu.logical) + " logical CPUs, " + std::to_string(hw.cpu.cores) +
                        " cores, " + std::to_string(hw.cpu.sockets) + (hw.cpu.sockets == 1 ? " socket" : " sockets");
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
    std::printf("%s\n", j.dump(2).c_str());
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
  std::printf("\ngreenrun would report:\n");
  for (const auto& s : probe->sources)
    for (const auto& c : s->channels())
      std::printf("  %-9s %-9s %s%s\n", c.component.name().c_str(), c.measured ? "measured" : "estimated",
                  c.measured ? (c.source + ": " + c.label).c_str() : c.method.c_str(), "");
  return 0;
}

}  // namespace greenrun
