#include "carbon/footprint.h"

#include <algorithm>

#include "carbon/carbon_options.h"
#include "util/units.h"

namespace greenrun {

namespace {

/// Cloud Carbon Footprint spreads an instance's platform over 4 years, as
/// Boavizta does a server (35,040 h).
constexpr double kFourYearsH = 4 * 8760;

const EmbodiedDefault* find_default(const std::vector<EmbodiedDefault>& defaults, const std::string& part) {
  for (const auto& d : defaults)
    if (d.part == part) return &d;
  return nullptr;
}

EmbodiedPart instance_part(const CloudInstance& c) {
  EmbodiedPart p;
  p.what = c.provider + " " + c.type + ": " + std::to_string(c.vcpus) + " of its server's " +
           std::to_string(c.platform_vcpus) + " vCPUs" + (c.gpus > 0 ? " (GPUs included)" : "");
  p.kg = c.embodied_kg;
  p.lifetime_h = kFourYearsH;
  p.machine_share = static_cast<double>(c.vcpus) / c.platform_vcpus;
  p.source = "Cloud Carbon Footprint embodied coefficients (the server, 4-year life, shared by vCPUs)";
  return p;
}

}  // namespace

std::optional<EmbodiedSettings> resolve_embodied(const FootprintOptions& o, const Hardware& hw,
                                                 const std::optional<CloudInstance>& instance,
                                                 const std::vector<EmbodiedDefault>& defaults) {
  if (o.no_embodied) return std::nullopt;
  EmbodiedSettings s;
  s.logical_cpus = std::max(1, hw.cpu.logical);
  if (o.lifetime_years) s.lifetime_h = *o.lifetime_years * 8760;
  const EmbodiedDefault* server = find_default(defaults, "server");
  if (o.embodied_kg) {
    s.parts.push_back({"this machine", false, *o.embodied_kg, server ? server->lifetime_h : kFourYearsH, 1.0,
                       "--embodied-kg"});
    s.basis = "given";
    return s;
  }
  if (instance) {
    s.parts.push_back(instance_part(*instance));
    s.basis = "instance";
    s.low_factor = 0.5;
    s.high_factor = 1.5;
    return s;
  }
  if (server) {
    EmbodiedPart p{"server", false, server->kg, server->lifetime_h, 1.0, server->source};
    // A VM is some vCPUs of a larger host: its share of the reference server.
    if (hw.virtual_machine && server->threads > 0) {
      p.machine_share = std::min(1.0, static_cast<double>(s.logical_cpus) / server->threads);
      p.what = "server: " + std::to_string(s.logical_cpus) + " of its " + std::to_string(server->threads) +
               " hardware threads (a virtual machine)";
    }
    s.parts.push_back(std::move(p));
  }
  if (const EmbodiedDefault* gpu = find_default(defaults, "gpu")) s.gpu_default = *gpu;
  s.basis = "default";
  s.low_factor = 0.5;
  s.high_factor = 2.0;
  return s;
}

EmbodiedReport compute_embodied(const EmbodiedSettings& s, const EmbodiedUse& use) {
  EmbodiedReport r;
  r.basis = s.basis;
  r.duration_s = use.duration_s;
  std::vector<EmbodiedPart> parts = s.parts;
  if (s.gpu_default && use.gpus > 0) {
    const EmbodiedDefault& g = *s.gpu_default;
    parts.push_back({std::to_string(use.gpus) + (use.gpus == 1 ? " GPU" : " GPUs"), true, g.kg * use.gpus,
                     g.lifetime_h, 1.0, g.source});
  }
  const double hours = use.duration_s / 3600.0;
  for (auto& p : parts) {
    if (s.lifetime_h) p.lifetime_h = *s.lifetime_h;
    EmbodiedPartReport pr;
    pr.command_share = std::clamp(p.gpu ? use.gpu_share : use.machine_share, 0.0, 1.0);
    pr.emissions_g = p.kg * 1000.0 * p.machine_share * hours / p.lifetime_h * pr.command_share;
    r.emissions_g += pr.emissions_g;
    pr.part = std::move(p);
    r.parts.push_back(std::move(pr));
  }
  r.low_g = r.emissions_g * s.low_factor;
  r.high_g = r.emissions_g * s.high_factor;
  return r;
}

SciReport compute_sci(const CarbonReport& carbon, const EmbodiedReport* embodied, const FunctionalUnit& unit) {
  SciReport s;
  s.unit = unit;
  s.e_kwh = carbon.energy_kwh * carbon.settings.pue;
  s.i_g_per_kwh = carbon.intensity_g_per_kwh;
  s.o_g = carbon.emissions_g;
  s.m_included = embodied != nullptr;
  s.m_g = embodied ? embodied->emissions_g : 0.0;
  s.per_unit_g = (s.o_g + s.m_g) / unit.count;
  return s;
}

WaterReport compute_water(double energy_kwh, std::optional<double> wue) {
  WaterReport w;
  w.energy_kwh = energy_kwh;
  if (!wue) {
    w.source = "unknown: greenrun's data has no published WUE for this location; give --wue with the provider's figure";
    return w;
  }
  w.wue_l_per_kwh = *wue;
  w.liters = energy_kwh * *wue;
  w.source = "--wue";
  return w;
}

}  // namespace greenrun
