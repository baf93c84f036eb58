#include "sensors/source_table.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "sensors/estimate.h"
#include "sensors/hardware_data.h"
#include "sensors/hwmon_source.h"
#include "sensors/msr_rapl.h"
#include "sensors/nvml_source.h"
#include "sensors/perf_rapl.h"
#include "sensors/power_integrator.h"
#include "sensors/rapl_powercap.h"
#include "sensors/rocm_source.h"
#include "sensors/selection.h"
#include "util/fs.h"

namespace greenrun {

namespace {

std::string self_exe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "greenrun";
}

bool vendor_on_bus(const Hardware& hw, const char* vendor) {
  return std::any_of(hw.gpus.begin(), hw.gpus.end(), [&](const GpuDevice& g) { return g.vendor == vendor; });
}

std::unique_ptr<EnergySource> open_powercap(ProbeContext& c) {
  return RaplPowercapSource::open(c.options.sysfs_root, c.findings);
}

std::unique_ptr<EnergySource> open_perf(ProbeContext& c) {
  return PerfRaplSource::open(c.options.sysfs_root, real_perf_ops(), c.self_exe, c.findings);
}

std::unique_ptr<EnergySource> open_msr(ProbeContext& c) {
  return MsrRaplSource::open(c.options.dev_root, c.options.sysfs_root, c.hardware.cpu, c.self_exe, c.findings);
}

// Vendor libraries are tried where the PCI bus shows the vendor's device, or
// where the bus cannot be seen (some containers), or where a path is given:
// a dlopen that searches the library path costs more than the rest of the probe.
std::unique_ptr<EnergySource> open_nvml(ProbeContext& c) {
  const bool on_bus = vendor_on_bus(c.hardware, "nvidia");
  if (c.options.nvml_lib.empty() && c.hardware.pci_visible && !on_bus) {
    c.findings.push_back({"NVML", "NVIDIA GPUs", "", Disposition::Absent, "no NVIDIA device on the PCI bus", "", true});
    return nullptr;
  }
  NvmlOptions nv;
  nv.lib = c.options.nvml_lib;
  nv.cuda_visible_devices = c.env("CUDA_VISIBLE_DEVICES");
  if (auto job = c.env("SLURM_JOB_ID"); job && !job->empty())
    for (const char* var : {"SLURM_STEP_GPUS", "SLURM_JOB_GPUS"})
      if (auto gpus = c.env(var); gpus && !gpus->empty()) {
        nv.slurm_gpus = gpus;
        nv.slurm_gpus_variable = var;
        break;
      }
  nv.gpu_tdp_w = c.estimate.gpu_tdp_w;
  nv.hardware = &c.hardware_data;
  nv.allow_estimate = !c.estimate.no_estimate;
  nv.quiet_if_missing = !on_bus;
  nv.max_gap_s = c.max_gap_s;
  return NvmlSource::open(nv, c.findings);
}

std::unique_ptr<EnergySource> open_rocm(ProbeContext& c) {
  const bool on_bus = vendor_on_bus(c.hardware, "amd");
  if (c.options.rocm_lib.empty() && c.hardware.pci_visible && !on_bus) {
    c.findings.push_back({"ROCm SMI", "AMD GPUs", "", Disposition::Absent, "no AMD GPU on the PCI bus", "", true});
    return nullptr;
  }
  RocmOptions ro;
  ro.lib = c.options.rocm_lib;
  ro.quiet_if_missing = !on_bus;
  ro.max_gap_s = c.max_gap_s;
  return RocmSource::open(ro, c.findings);
}

std::unique_ptr<EnergySource> open_hwmon(ProbeContext& c) {
  return HwmonSource::open(c.options.sysfs_root, c.max_gap_s, c.findings);
}

// Opened whatever is measured: what a measured counter covers is estimated
// on standby, counted if that counter turns out to be frozen.
std::unique_ptr<EnergySource> open_estimate(ProbeContext& c) {
  const EstimateOptions& o = c.estimate;
  EstimateOverrides eo{o.cpu_tdp_w, o.cpu_model, o.cpu_idle_w, o.cpu_max_w, o.ram_w_per_gb, c.instance};
  auto model = cpu_power_model(c.hardware, c.hardware_data, eo);
  return std::make_unique<EstimateSource>(model, !c.cpu_measured, !c.ram_measured, o.ram_w_per_gb.value_or(kRamWPerGb),
                                          c.hardware.cpu.logical, ram_curve_model(eo));
}

// Where neither powercap nor perf shows any RAPL domain (a VM, a container, a
// CPU without RAPL), the other ways in have nothing to add: the first note
// says so, and `greenrun sensors` lists the rest.
void quiet_unseen_rapl(const SourceOptions& o, std::vector<Finding>& findings, size_t first, size_t end) {
  bool seen = !scan_powercap(o.sysfs_root).empty() || path_exists(o.sysfs_root + "/bus/event_source/devices/power/type");
  if (seen) return;
  for (size_t i = first + 1; i < end; ++i) findings[i].quiet = true;
}

std::string no_estimate_error(const std::vector<Finding>& findings) {
  std::string why;
  for (const auto& f : findings)
    if (!f.used() && f.disposition != Disposition::Covered && !f.reason.empty() && !f.quiet) {
      why = f.source + ": " + f.reason + (f.fix.empty() ? "" : " (to measure it, run: " + f.fix + ")");
      break;
    }
  return "--no-estimate: nothing can be measured on this machine" + (why.empty() ? std::string() : "; " + why) +
         "; drop --no-estimate for a labelled estimate";
}

}  // namespace

const std::vector<SourceEntry>& source_table() {
  static const std::vector<SourceEntry> table = {
      {"RAPL powercap", "rapl", "energy_uj files under /sys/class/powercap (intel-rapl, intel-rapl-mmio, TPMI)",
       "CPU packages, DRAM, platform (psys)", open_powercap},
      {"RAPL perf_event", "rapl", "the perf power PMU (/sys/bus/event_source/devices/power); CAP_PERFMON or perf_event_paranoid < 1",
       "CPU packages, DRAM, platform (psys)", open_perf},
      {"RAPL MSR", "rapl", "/dev/cpu/N/msr (the msr module, CAP_SYS_RAWIO)", "CPU packages, DRAM, platform (psys)", open_msr},
      {"NVML", "", "libnvidia-ml.so.1 (dlopen) where the PCI bus shows an NVIDIA device", "NVIDIA GPUs: energy counter, power, or TDP x utilisation", open_nvml},
      {"ROCm SMI", "", "librocm_smi64.so (dlopen) where the PCI bus shows an AMD device", "AMD GPUs: energy counter or power", open_rocm},
      {"hwmon", "", "/sys/class/hwmon: amdgpu, i915, xe, amd_energy, ACPI power_meter",
       "AMD and Intel GPUs, AMD CPU sockets, NVIDIA Grace", open_hwmon},
      {"estimate", "", "/proc/stat load, /proc/meminfo and the hardware tables in share/hardware",
       "CPU and memory where nothing measures them", open_estimate, true},
  };
  return table;
}

std::string source_names() {
  std::string out;
  for (const auto& e : source_table()) out += (out.empty() ? "" : ", ") + std::string(e.name);
  return out;
}

Result<std::optional<CloudInstance>> resolve_instance(const ProbeOptions& o, const Hardware& hw, const HardwareData& data) {
  using R = Result<std::optional<CloudInstance>>;
  const std::string& instance_type = o.sources.instance_type;
  if (instance_type.empty()) return std::optional<CloudInstance>();
  std::string provider = o.cloud.substr(0, o.cloud.find(':'));
  for (auto& ch : provider) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (provider.empty()) provider = hw.cloud;
  if (provider.empty())
    return R::fail("--instance-type " + instance_type + " needs the provider: give --cloud PROVIDER:REGION (aws, azure, gcp)");
  std::string type = instance_type;
  if (type == "auto") {
    if (provider != "aws" || hw.cloud != "aws" || hw.product_name.empty())
      return R::fail("--instance-type auto: DMI names no instance type here (only AWS sets its product name to it); "
                     "give the type, e.g. --instance-type m5.xlarge");
    type = hw.product_name;
  }
  auto c = data.instance(provider, type);
  if (!c) return R::fail("--instance-type: " + c.error());
  return std::optional<CloudInstance>(std::move(*c));
}

Result<Probe> probe_sources(const ProbeOptions& o, const std::string& share_dir, const EnvLookup& env) {
  Probe p;
  p.hardware = detect_hardware(o.sources.sysfs_root, o.sources.procfs_root);
  auto hw_data = HardwareData::load(share_dir);
  if (!hw_data) return Result<Probe>::fail(hw_data.error());
  auto instance = resolve_instance(o, p.hardware, *hw_data);
  if (!instance) return Result<Probe>::fail(instance.error());
  p.instance = std::move(*instance);
  p.embodied_defaults = hw_data->embodied_defaults();
  ProbeContext ctx{o.sources, o.estimate, env, p.hardware, *hw_data, p.findings, self_exe(),
                   PowerIntegrator::max_gap_for_interval(std::chrono::duration<double>(o.interval).count())};
  ctx.instance = p.instance ? &*p.instance : nullptr;

  std::vector<std::string> groups_done;
  const size_t rapl_first = p.findings.size();
  size_t rapl_end = rapl_first;
  bool rapl_open = false;
  for (const auto& e : source_table()) {
    if (e.fallback) continue;
    const std::string group = e.group;
    if (!group.empty() && std::find(groups_done.begin(), groups_done.end(), group) != groups_done.end()) continue;
    auto src = e.open(ctx);
    if (group == "rapl") rapl_end = p.findings.size();
    if (!src) continue;
    if (!group.empty()) groups_done.push_back(group);
    if (group == "rapl") rapl_open = true;
    p.sources.push_back(std::move(src));
  }
  if (!rapl_open) quiet_unseen_rapl(o.sources, p.findings, rapl_first, rapl_end);
  select_channels(p.sources, p.findings);

  bool any_measured = false;
  for (const auto& s : p.sources)
    for (const auto& c : s->channels()) {
      if (!c.measured) continue;
      any_measured = true;
      const auto k = c.component.kind;
      // An APU's sensor includes the CPU cores: estimating them too would count them twice.
      if (k == ComponentKind::Cpu || k == ComponentKind::Platform || c.includes_cpu) ctx.cpu_measured = true;
      if (k == ComponentKind::Dram || k == ComponentKind::Platform) ctx.ram_measured = true;
    }
  if (o.estimate.no_estimate) {
    if (!any_measured) return Result<Probe>::fail(no_estimate_error(p.findings));
    return p;
  }
  for (const auto& e : source_table())
    if (e.fallback)
      if (auto src = e.open(ctx)) p.sources.push_back(std::move(src));
  return p;
}

}  // namespace greenrun
