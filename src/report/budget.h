#pragma once
// Judging a run against its budgets (--max-energy, --max-emissions,
// --max-increase). The headline scope's figures are judged; an estimate by
// its central value, and the message says so.

#include <optional>
#include <string>
#include <vector>

#include "config/options.h"
#include "report/compare.h"
#include "report/report.h"

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

/// Adds the verdicts to the report (lines and CI annotations).
void add_verdicts(RunReport& r, const Budgets& b, const std::vector<BudgetVerdict>& verdicts);

}  // namespace greenrun
