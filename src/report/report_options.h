#pragma once
// What the user asked the report to judge (--max-energy, --baseline, ...);
// commands/options.cc fills it from the option table.

#include <chrono>
#include <optional>
#include <string>

namespace greenrun {

/// --max-energy, --max-emissions, --max-increase and what to do when one is exceeded.
struct Budgets {
  std::optional<double> max_energy_j, max_emissions_g, max_increase_pct;
  enum class Action { Warn, Fail, Stop } action = Action::Fail;
  std::chrono::nanoseconds grace{std::chrono::seconds(10)};  // SIGTERM, then SIGKILL after this (stop)
  bool any() const { return max_energy_j || max_emissions_g || max_increase_pct; }
};

struct ReportOptions {
  Budgets budgets;
  std::string baseline_path;  // --baseline: a previous greenrun JSON report
};

}  // namespace greenrun
