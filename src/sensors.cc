#include "sensors.h"

#include <algorithm>

#include "estimate.h"
#include "hardware_data.h"
#include "nvml_source.h"
#include "rapl_powercap.h"

namespace greenrun {

Result<Probe> probe_sources(const Options& o, const std::string& share_dir, const EnvLookup& env) {
  Probe p;
  p.hardware = detect_hardware(o.sysfs_root, o.procfs_root);
  auto hw_data = HardwareData::load(share_dir);
  if (!hw_data) return Result<Probe>::fail(hw_data.error());

  if (auto rapl = RaplPowercapSource::open(o.sysfs_root, p.findings)) p.sources.push_back(std::move(rapl));

  NvmlOptions nv;
  nv.lib = o.nvml_lib;
  nv.cuda_visible_devices = env("CUDA_VISIBLE_DEVICES");
  nv.gpu_tdp_w = o.gpu_tdp_w;
  nv.hardware = &*hw_data;
  nv.allow_estimate = !o.no_estimate;
  nv.quiet_if_missing = std::none_of(p.hardware.gpus.begin(), p.hardware.gpus.end(),
                                     [](const GpuDevice& g) { return g.vendor == "nvidia"; });
  if (auto nvml = NvmlSource::open(nv, p.findings)) p.sources.push_back(std::move(nvml));

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
