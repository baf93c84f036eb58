// report/budget, a bug found while writing tests/budget_test.cc (issue 26
// item 6): --max-increase against a baseline whose energy is 0 J or absent
// prints "+0.0%" as the change. Out of the build (tests/CMakeLists.txt) until
// the lead decides; it fails on the code as it is.

#include <catch2/catch.hpp>

#include "report/budget.h"

using namespace greenrun;
using Catch::Matchers::Contains;

TEST_CASE("the increase budget against a baseline without energy claims no +0.0% change", "[budget][bug]") {
  // This run used 50 J; the baseline 0 J (or no energy figure at all): the
  // increase is not 0 % (it has no percentage), yet the verdict reads
  // "energy increase budget kept: +0.0% energy against main.json (50.0 J, measured) <= --max-increase 10%".
  RunReport r;
  ComponentReport cpu;
  cpu.name = "cpu";
  cpu.energy_j = cpu.machine_energy_j = 50;
  cpu.source = "RAPL powercap";
  r.components = {cpu};
  ReportFigures before, after;
  before.name = "main.json";
  before.energy_kind = after.energy_kind = "measured";
  after.energy_j = 50;
  Budgets b;
  b.max_increase_pct = 10;

  SECTION("a baseline of 0 J") {
    before.energy_j = 0;
    const BaselineComparison c = compare_reports(before, after);
    REQUIRE_FALSE(c.energy_percent().has_value());
    const auto v = judge_budgets(r, b, &c);
    REQUIRE(v.size() == 1);
    CHECK_THAT(v[0].text, !Contains("+0.0%"));
  }
  SECTION("a baseline without an energy figure") {
    const BaselineComparison c = compare_reports(before, after);
    const auto v = judge_budgets(r, b, &c);
    REQUIRE(v.size() == 1);
    CHECK_THAT(v[0].text, !Contains("+0.0%"));
  }
}
