#include "sensors/sensors.h"

#include <algorithm>
#include <cerrno>
#include <unistd.h>

#include "sensors/estimate.h"
#include "util/fs.h"
#include "sensors/hardware_data.h"
#include "sensors/hwmon_source.h"
#include "sensors/msr_rapl.h"
#include "sensors/perf_rapl.h"
#include "sensors/nvml_source.h"
#include "sensors/rapl_powercap.h"
#include "sensors/rocm_source.h"

namespace greenrun {

namespace {

std::string self_exe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "greenrun";
}

// hwmon sensors, after RAPL and NVML: GPUs other than NVIDIA's (NVML covers
// those), CPU sockets only where RAPL found none, and a Grace Module (the whole
// Grace Hopper module, GPU included) only where NVML measures no GPU.
void add_hwmon(const Options& o, Probe& p, bool cpu_found, size_t gpu_index, bool rocm) {
  std::vector<HwmonSensor> chosen;
  std::vector<std::string> components;
  auto note = [&](const HwmonSensor& s, bool usable, const std::string& why) {
    Finding f{"hwmon " + s.driver, s.label, s.path, usable, why, ""};
    if (s.read_errno == EACCES || s.read_errno == EPERM) {
      f.usable = false;
      f.reason = "not readable by this user (" + errno_text(s.read_errno) + ")";
      f.fix = "sudo chmod a+r " + s.path;
    } else if (s.read_errno != 0) {
      f.usable = false;
      f.reason = "cannot read: " + errno_text(s.read_errno);
    }
    p.findings.push_back(std::move(f));
    return s.read_errno == 0 && usable;
  };
  auto sensors = scan_hwmon(o.sysfs_root);
  const bool module = gpu_index == 0 && std::any_of(sensors.begin(), sensors.end(), [](auto& s) {
    return s.role == "module" && s.read_errno == 0;
  });
  const bool grace_total = std::any_of(sensors.begin(), sensors.end(), [](auto& s) { return s.role == "cpu" && s.driver == "power_meter"; });
  for (const auto& s : sensors) {
    if (s.role == "gpu" && s.driver == "amdgpu" && rocm) {
      note(s, false, "measured through ROCm SMI instead");
    } else if (s.role == "gpu") {
      if (note(s, true, s.kind == HwmonSensor::Kind::Energy ? "GPU energy counter" : "GPU power, integrated")) {
        chosen.push_back(s);
        components.push_back("gpu" + std::to_string(gpu_index++));
      }
    } else if (s.role == "module") {
      if (note(s, module, module ? "whole Grace Hopper module (CPU, GPU, memory), used instead of the CPU sensors"
                                 : "whole module, GPU included: NVML measures the GPU, so not added")) {
        chosen.push_back(s);
        components.push_back("platform");
      }
    } else if (cpu_found || module) {
      note(s, false, cpu_found ? "CPU already measured by RAPL" : "covered by the Module sensor");
    } else if (s.driver == "power_meter" && s.role != "cpu" && grace_total) {
      note(s, false, "inside the Grace Power sensor of its socket");
    } else if (note(s, true, s.driver == "amd_energy" ? "CPU socket energy counter" : "CPU power, integrated")) {
      chosen.push_back(s);
      components.push_back("cpu");
    }
  }
  if (!chosen.empty()) p.sources.push_back(std::make_unique<HwmonSource>(chosen, components));
}

}  // namespace

Result<Probe> probe_sources(const Options& o, const std::string& share_dir, const EnvLookup& env) {
  Probe p;
  p.hardware = detect_hardware(o.sysfs_root, o.procfs_root);
  auto hw_data = HardwareData::load(share_dir);
  if (!hw_data) return Result<Probe>::fail(hw_data.error());

  // RAPL: one hardware counter, three ways in. powercap first (a file read),
  // perf_event where powercap is root-only (CAP_PERFMON or a low paranoid
  // level suffice), the MSRs last (root and the msr module).
  const std::string self = self_exe();
  const size_t rapl_findings = p.findings.size();
  if (auto rapl = RaplPowercapSource::open(o.sysfs_root, p.findings)) {
    p.sources.push_back(std::move(rapl));
  } else if (auto perf = PerfRaplSource::open(o.sysfs_root, real_perf_ops(), self, p.findings)) {
    p.sources.push_back(std::move(perf));
  } else if (auto msr = MsrRaplSource::open(o.dev_root, o.sysfs_root, p.hardware.cpu, self, p.findings)) {
    p.sources.push_back(std::move(msr));
  } else {
    // Where neither powercap nor perf shows any RAPL domain (a VM, a container,
    // a CPU without RAPL), the other two ways in have nothing to add: one note
    // says so, and `greenrun sensors` lists the rest.
    bool rapl_seen = !scan_powercap(o.sysfs_root).empty() ||
                     path_exists(o.sysfs_root + "/bus/event_source/devices/power/type");
    if (!rapl_seen)
      for (size_t i = rapl_findings + 1; i < p.findings.size(); ++i) p.findings[i].quiet = true;
  }

  // Vendor libraries are tried where the PCI bus shows the vendor's device, or
  // where the bus cannot be seen (some containers), or where a path is given:
  // a dlopen that searches the library path costs more than the rest of the probe.
  auto has_vendor = [&](const char* vendor) {
    return !p.hardware.pci_visible || std::any_of(p.hardware.gpus.begin(), p.hardware.gpus.end(),
                                       [&](const GpuDevice& g) { return g.vendor == vendor; });
  };
  NvmlOptions nv;
  nv.lib = o.nvml_lib;
  nv.cuda_visible_devices = env("CUDA_VISIBLE_DEVICES");
  nv.gpu_tdp_w = o.gpu_tdp_w;
  nv.hardware = &*hw_data;
  nv.allow_estimate = !o.no_estimate;
  nv.quiet_if_missing = std::none_of(p.hardware.gpus.begin(), p.hardware.gpus.end(),
                                     [](const GpuDevice& g) { return g.vendor == "nvidia"; });
  size_t nvidia_gpus = 0;
  if (!o.nvml_lib.empty() || has_vendor("nvidia")) {
    if (auto nvml = NvmlSource::open(nv, p.findings)) {
      nvidia_gpus = nvml->channels().size();
      p.sources.push_back(std::move(nvml));
    }
  } else {
    p.findings.push_back({"NVML", "NVIDIA GPUs", "", false, "no NVIDIA device on the PCI bus", "", true});
  }
  // AMD GPUs: ROCm SMI's energy counter where the library exists; the amdgpu
  // hwmon power otherwise (never both for one machine's AMD GPUs).
  RocmOptions ro;
  ro.lib = o.rocm_lib;
  ro.first_gpu_index = static_cast<int>(nvidia_gpus);
  ro.quiet_if_missing = std::none_of(p.hardware.gpus.begin(), p.hardware.gpus.end(),
                                     [](const GpuDevice& g) { return g.vendor == "amd"; });
  size_t amd_gpus = 0;
  if (!o.rocm_lib.empty() || has_vendor("amd")) {
    if (auto rocm = RocmSource::open(ro, p.findings)) {
      amd_gpus = rocm->channels().size();
      p.sources.push_back(std::move(rocm));
    }
  } else {
    p.findings.push_back({"ROCm SMI", "AMD GPUs", "", false, "no AMD GPU on the PCI bus", "", true});
  }
  bool cpu_found = false;
  for (const auto& s : p.sources)
    for (const auto& c : s->channels())
      if (c.component == "cpu" || c.component == "platform") cpu_found = true;
  add_hwmon(o, p, cpu_found, nvidia_gpus + amd_gpus, amd_gpus > 0);

  bool cpu_measured = false, ram_measured = false, any_measured = false;
  for (const auto& s : p.sources)
    for (const auto& c : s->channels()) {
      if (!c.measured) continue;
      any_measured = true;
      if (c.component == "cpu" || c.component == "platform") cpu_measured = true;
      if (c.component == "dram" || c.component == "platform") ram_measured = true;
    }
  if (o.no_estimate) {
    if (!any_measured) {
      std::string why;
      for (const auto& f : p.findings)
        if (!f.usable && !f.reason.empty() && !f.quiet) {
          why = f.source + ": " + f.reason + (f.fix.empty() ? "" : " (to measure it, run: " + f.fix + ")");
          break;
        }
      return Result<Probe>::fail("--no-estimate: nothing can be measured on this machine" +
                                 (why.empty() ? std::string() : "; " + why) + "; drop --no-estimate for a labelled estimate");
    }
    return p;
  }
  if (cpu_measured && ram_measured) return p;
  EstimateOverrides eo{o.cpu_tdp_w, o.cpu_model, o.cpu_idle_w, o.cpu_max_w, o.ram_w_per_gb};
  auto model = cpu_power_model(p.hardware, *hw_data, eo);
  std::optional<double> ram;
  if (!ram_measured) ram = o.ram_w_per_gb.value_or(kRamWPerGb);
  p.sources.push_back(std::make_unique<EstimateSource>(model, !cpu_measured, ram, p.hardware.cpu.logical));
  return p;
}

}  // namespace greenrun
