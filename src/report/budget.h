#pragma once
// Judging a run against its budgets (--max-energy, --max-emissions,
// --max-increase). The headline scope's figures are judged; an estimate by
// its central value, and the message says so.

#include <optional>
#include <string>
#include <vector>

#include "report/compare.h"
#include "report/report.h"
#include "report/report_options.h"

namespace greenrun {

struct BudgetVerdict {
  bool exceeded = false;
  std::string text;  // one line: the figure, how it was obtained, the limit
};

/// One verdict per budget that is set.
std::vector<BudgetVerdict> judge_budgets(const RunReport& r, const Budgets& b, const BaselineComparison* baseline);

/// While the command runs (--on-budget stop): the budget these figures
/// cross ("energy budget", "emissions budget"), or "".
std::string crossed_budget(const Budgets& b, double energy_j, std::optional<double> emissions_g);

/// The run's total as projected while it runs, and what is spent so far.
struct ProjectedFigures {
  double fraction = 0, energy_j = 0, spent_j = 0;
  std::optional<double> emissions_g, spent_g;
  std::string method;  // progress, expected-duration
};

/// A budget the projection crosses: which ("energy budget") and the line that says so.
struct ProjectedOver {
  std::string budget, text;
};

/// While the command runs: each budget (--max-energy, --max-emissions) the
/// projection exceeds, with the numbers, to warn about long before it is spent.
std::vector<ProjectedOver> projected_over(const Budgets& b, const ProjectedFigures& f);

/// Adds the verdicts to the report (lines and CI annotations).
void add_verdicts(RunReport& r, const Budgets& b, const std::vector<BudgetVerdict>& verdicts);

}  // namespace greenrun
