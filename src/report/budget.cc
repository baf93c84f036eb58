#include "report/budget.h"

#include <algorithm>
#include <cstdio>

#include "util/units.h"

namespace greenrun {

namespace {

// "61.2 kJ, estimated (the central value of 30.6 kJ to 91.8 kJ)"
std::string how_energy(const RunReport& r) {
  std::string s = format_energy(r.energy_j()) + ", " + r.energy_kind();
  if (r.any_estimated()) {
    double low = 0, high = 0;
    for (const auto& c : r.components) {
      low += c.energy_j_low.value_or(c.energy_j);
      high += c.energy_j_high.value_or(c.energy_j);
    }
    s += " (judged by the central value of " + format_energy(low) + " to " + format_energy(high) + ")";
  }
  return s;
}

BudgetVerdict verdict(const std::string& what, bool exceeded, const std::string& figure, const std::string& limit) {
  return {exceeded, what + (exceeded ? " exceeded: " : " kept: ") + figure + (exceeded ? " > " : " <= ") + limit};
}

// --max-increase: the energy's change in percent. From a baseline of 0 J any
// energy is an increase without a percentage (exceeded); a baseline without
// an energy figure cannot be judged (kept, and said so).
BudgetVerdict judge_increase(const RunReport& r, double max_pct, const BaselineComparison& baseline) {
  char limit[64];
  std::snprintf(limit, sizeof limit, "--max-increase %g%%", max_pct);
  const std::string against = " against " + baseline.baseline + " (" + how_energy(r) + ")";
  const auto row = std::find_if(baseline.rows.begin(), baseline.rows.end(), [](const Change& c) { return c.what == "energy"; });
  if (row == baseline.rows.end())  // one of the two has no energy figure
    return {false, "energy increase budget not judged: " + (r.components.empty() ? "this run" : baseline.baseline) +
                       " has no energy figure to compare with (" + limit + ")"};
  if (const auto pct = row->percent()) {
    char change[64];
    std::snprintf(change, sizeof change, "%+.1f%%", *pct);
    return verdict("energy increase budget", *pct > max_pct, change + std::string(" energy") + against, limit);
  }
  return verdict("energy increase budget", row->after > 0, "from 0 J to " + format_energy(row->after) + against, limit);
}

}  // namespace

std::vector<BudgetVerdict> judge_budgets(const RunReport& r, const Budgets& b, const BaselineComparison* baseline) {
  std::vector<BudgetVerdict> out;
  if (b.max_energy_j)
    out.push_back(verdict("energy budget", r.energy_j() > *b.max_energy_j, how_energy(r),
                          "--max-energy " + format_energy(*b.max_energy_j)));
  if (b.max_emissions_g) {
    const double g = r.carbon ? r.carbon->emissions_g : 0;
    out.push_back(verdict("emissions budget", g > *b.max_emissions_g,
                          format_mass_g(g) + " CO2e from " + how_energy(r) + " energy",
                          "--max-emissions " + format_mass_g(*b.max_emissions_g)));
  }
  if (b.max_increase_pct && baseline) out.push_back(judge_increase(r, *b.max_increase_pct, *baseline));
  return out;
}

std::string crossed_budget(const Budgets& b, double energy_j, std::optional<double> emissions_g) {
  if (b.max_energy_j && energy_j > *b.max_energy_j) return "energy budget";
  if (b.max_emissions_g && emissions_g && *emissions_g > *b.max_emissions_g) return "emissions budget";
  return "";
}

std::vector<ProjectedOver> projected_over(const Budgets& b, const ProjectedFigures& f) {
  std::vector<ProjectedOver> out;
  const std::string basis = " at " + format_done(f.fraction) + " done (from the recent rate of " +
                            (f.method == "progress" ? "the command's progress" : "--expected-duration") + ")";
  if (b.max_energy_j && f.energy_j > *b.max_energy_j)
    out.push_back({"energy budget", "the energy budget will be exceeded: projected " + format_energy(f.energy_j) + basis +
                                        " > --max-energy " + format_energy(*b.max_energy_j) + "; " +
                                        format_energy(f.spent_j) + " so far"});
  if (b.max_emissions_g && f.emissions_g && *f.emissions_g > *b.max_emissions_g)
    out.push_back({"emissions budget", "the emissions budget will be exceeded: projected " + format_mass_g(*f.emissions_g) +
                                           " CO2e" + basis + " > --max-emissions " + format_mass_g(*b.max_emissions_g) +
                                           "; " + format_mass_g(f.spent_g.value_or(0)) + " so far"});
  return out;
}

void add_verdicts(RunReport& r, const Budgets& b, const std::vector<BudgetVerdict>& verdicts) {
  for (const auto& v : verdicts) {
    r.verdicts.push_back(v.text);
    if (v.exceeded) r.verdict_annotations.push_back({b.action == Budgets::Action::Warn ? "warning" : "error", v.text});
  }
}

}  // namespace greenrun
