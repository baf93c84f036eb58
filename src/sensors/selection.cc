#include "sensors/selection.h"

#include <algorithm>
#include <set>
#include <string>

namespace greenrun {

namespace {

struct Candidate {
  size_t source;
  size_t index;
  const Channel* ch;
  bool keep = true;
  std::string why;  // why dropped
};

bool cpu_side(const Channel& c) {
  return c.component.kind == ComponentKind::Cpu || c.component.kind == ComponentKind::Dram ||
         c.component.kind == ComponentKind::Platform;
}

void drop(Candidate& c, std::string why) {
  if (!c.keep) return;
  c.keep = false;
  c.why = std::move(why);
}

template <class Pred>
const Candidate* find_kept(const std::vector<Candidate>& all, Pred pred) {
  for (const auto& c : all)
    if (c.keep && pred(c)) return &c;
  return nullptr;
}

// Rule 4: a Grace Hopper Module includes its GPU.
void module_rule(std::vector<Candidate>& all) {
  const Candidate* gpu = find_kept(all, [](auto& c) { return c.ch->component.kind == ComponentKind::Gpu; });
  for (auto& c : all)
    if (c.ch->includes_gpu && gpu)
      drop(c, "whole module, GPU included: " + gpu->ch->source + " measures the GPU, so not added");
}

// Rule 3: CPU-side energy from the first source that has it.
void one_cpu_source(std::vector<Candidate>& all) {
  const Candidate* first = find_kept(all, [](auto& c) { return cpu_side(*c.ch); });
  if (!first) return;
  for (auto& c : all)
    if (cpu_side(*c.ch) && c.source != first->source) drop(c, "CPU already measured by " + first->ch->source);
}

// Rule 1: psys (or a Module) includes package and DRAM.
void platform_rule(std::vector<Candidate>& all) {
  const Candidate* platform = find_kept(all, [](auto& c) { return c.ch->component.kind == ComponentKind::Platform; });
  if (!platform) return;
  const std::string what = platform->ch->includes_gpu ? "covered by the Module sensor" : "covered by psys (whole platform); not added";
  for (auto& c : all)
    if (c.ch->component.kind == ComponentKind::Cpu || c.ch->component.kind == ComponentKind::Dram) drop(c, what);
}

// Rule 2: a vendor's GPUs through its library, never again through hwmon.
void vendor_library_rule(std::vector<Candidate>& all) {
  for (auto& c : all) {
    if (c.ch->component.kind != ComponentKind::Gpu || c.ch->vendor_library) continue;
    const Candidate* lib = find_kept(all, [&](auto& o) {
      return o.ch->component.kind == ComponentKind::Gpu && o.ch->vendor_library && o.ch->vendor == c.ch->vendor;
    });
    if (lib) drop(c, "measured through " + lib->ch->source + " instead");
  }
}

// Rule 5: an APU's GPU sensor includes the CPU cores.
void apu_rule(std::vector<Candidate>& all) {
  const Candidate* cpu = find_kept(all, [](auto& c) {
    return c.ch->measured && (c.ch->component.kind == ComponentKind::Cpu || c.ch->component.kind == ComponentKind::Platform);
  });
  if (!cpu) return;
  for (auto& c : all)
    if (c.ch->includes_cpu)
      drop(c, "an APU: this sensor includes the CPU, which " + cpu->ch->source + " already measures; not added");
}

}  // namespace

void select_channels(std::vector<std::unique_ptr<EnergySource>>& sources, std::vector<Finding>& findings) {
  std::vector<Candidate> all;
  for (size_t s = 0; s < sources.size(); ++s)
    for (size_t i = 0; i < sources[s]->channels().size(); ++i) all.push_back({s, i, &sources[s]->channels()[i], true, ""});
  module_rule(all);
  one_cpu_source(all);
  platform_rule(all);
  vendor_library_rule(all);
  apu_rule(all);

  for (const auto& c : all)
    findings.push_back({c.ch->source, c.ch->label, c.ch->origin, c.keep ? Disposition::Used : Disposition::Covered,
                        c.keep ? c.ch->note : c.why, ""});
  std::vector<std::vector<bool>> keep(sources.size());
  for (size_t s = 0; s < sources.size(); ++s) keep[s].assign(sources[s]->channels().size(), false);
  for (const auto& c : all) keep[c.source][c.index] = c.keep;
  all.clear();  // the channel pointers die with retain()
  int gpu = 0;
  std::vector<std::unique_ptr<EnergySource>> kept;
  for (size_t s = 0; s < sources.size(); ++s) {
    sources[s]->retain(keep[s]);
    if (sources[s]->channels().empty()) continue;
    for (size_t i = 0; i < sources[s]->channels().size(); ++i)
      if (sources[s]->channels()[i].component.kind == ComponentKind::Gpu)
        sources[s]->set_component(i, {ComponentKind::Gpu, gpu++});
    kept.push_back(std::move(sources[s]));
  }
  sources = std::move(kept);
}

}  // namespace greenrun
