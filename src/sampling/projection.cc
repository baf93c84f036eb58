#include "sampling/projection.h"

#include <algorithm>

namespace greenrun {

namespace {

double joules(const EnergyPoint& p, bool machine) { return machine ? p.machine_j : p.tree_j; }

/// The point the rate is taken from: the latest one at least kRecentShare of
/// the progress back; else the first one behind `k`; else the origin.
ProgressPoint rate_start(const std::vector<ProgressPoint>& progress, size_t k) {
  const double target = progress[k].fraction * (1 - kRecentShare);
  for (size_t i = k; i-- > 0;)
    if (progress[i].fraction <= target) return progress[i];
  for (size_t i = 0; i < k; ++i)
    if (progress[i].fraction < progress[k].fraction) return progress[i];
  return {0, 0};
}

/// From `at` (done `fraction`, `energy_at_j` used) at the rates of the span since `from`.
EnergyProjection extend(const ProgressPoint& from, const ProgressPoint& at, double from_j, double at_j) {
  EnergyProjection p;
  p.fraction = std::min(at.fraction, 1.0);
  p.at_s = at.at_s;
  p.energy_at_j = at_j;
  p.rate_from_s = from.at_s;
  p.rate_from_fraction = from.fraction;
  const double done = at.fraction - from.fraction, left = 1 - p.fraction;
  p.energy_j = at_j + (done > 0 ? left * (at_j - from_j) / done : 0);
  p.end_s = at.at_s + (done > 0 ? left * (at.at_s - from.at_s) / done : 0);
  return p;
}

std::optional<EnergyProjection> from_progress(const ProjectionInputs& in, bool machine) {
  const double closed_s = in.energy.back().at_s;  // energy is known up to here
  size_t k = in.progress.size();
  while (k > 0 && in.progress[k - 1].at_s > closed_s) --k;
  if (k == 0 || in.progress[k - 1].fraction <= 0) return std::nullopt;
  const ProgressPoint& at = in.progress[k - 1];
  const ProgressPoint from = rate_start(in.progress, k - 1);
  if (from.fraction >= at.fraction) return std::nullopt;
  EnergyProjection p = extend(from, at, energy_at(in.energy, from.at_s, machine), energy_at(in.energy, at.at_s, machine));
  p.method = "progress";
  return p;
}

std::optional<EnergyProjection> from_expected(const ProjectionInputs& in, bool machine, double expected_s) {
  const EnergyPoint& last = in.energy.back();
  if (expected_s <= 0 || last.at_s <= 0) return std::nullopt;
  const double from_s = last.at_s * (1 - kRecentShare);
  const ProgressPoint from{from_s, from_s / expected_s}, at{last.at_s, std::min(1.0, last.at_s / expected_s)};
  EnergyProjection p = extend(from, at, energy_at(in.energy, from_s, machine), joules(last, machine));
  p.method = "expected-duration";
  return p;
}

}  // namespace

double energy_at(const std::vector<EnergyPoint>& energy, double at_s, bool machine) {
  if (energy.empty()) return 0;
  auto after = std::upper_bound(energy.begin(), energy.end(), at_s, [](double t, const EnergyPoint& p) { return t < p.at_s; });
  if (after == energy.end()) return joules(energy.back(), machine);
  if (after == energy.begin()) return joules(*after, machine);
  const EnergyPoint& a = *(after - 1);
  const double span = after->at_s - a.at_s;
  const double f = span > 0 ? (at_s - a.at_s) / span : 1;
  return joules(a, machine) + f * (joules(*after, machine) - joules(a, machine));
}

std::optional<EnergyProjection> project_energy(const ProjectionInputs& in, bool machine, std::optional<double> expected_s) {
  if (in.energy.empty()) return std::nullopt;
  auto p = from_progress(in, machine);
  if (!p && expected_s) p = from_expected(in, machine, *expected_s);
  if (!p) return std::nullopt;
  // What is spent already is the least the run can use, and it has run this long.
  p->spent_s = in.energy.back().at_s;
  p->spent_j = joules(in.energy.back(), machine);
  p->energy_j = std::max(p->energy_j, p->spent_j);
  p->end_s = std::max(p->end_s, p->spent_s);
  return p;
}

}  // namespace greenrun
