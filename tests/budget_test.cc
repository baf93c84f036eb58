// report/budget: --max-energy, --max-emissions and --max-increase judged on a
// report built here. A budget is kept at exactly its limit (the code compares
// with '>'): each case checks the limit itself and just beyond it.

#include <cmath>

#include <catch2/catch.hpp>

#include "report/budget.h"
#include "report_fixtures.h"

using namespace greenrun;
using greenrun::test::component;
using Catch::Matchers::Contains;

namespace {

// cpu 30 J + dram 20 J, both measured: 50 J.
RunReport fifty_joules() {
  RunReport r;
  r.command = {"make", "test"};
  r.status = "finished";
  r.exit_code = 0;
  r.components = {component("cpu", 30), component("dram", 20)};
  return r;
}

ReportFigures figures(const std::string& name, double energy_j) {
  ReportFigures f;
  f.name = name;
  f.command = {"make", "test"};
  f.energy_j = energy_j;
  f.energy_kind = "measured";
  return f;
}

}  // namespace

TEST_CASE("the energy budget is kept at exactly its limit and exceeded just above it", "[budget]") {
  const RunReport r = fifty_joules();
  Budgets b;
  b.max_energy_j = 50;
  auto v = judge_budgets(r, b, nullptr);
  REQUIRE(v.size() == 1);
  CHECK_FALSE(v[0].exceeded);
  CHECK(v[0].text == "energy budget kept: 50.0 J, measured <= --max-energy 50.0 J");

  b.max_energy_j = std::nextafter(50.0, 0.0);  // the largest double below 50
  v = judge_budgets(r, b, nullptr);
  REQUIRE(v.size() == 1);
  CHECK(v[0].exceeded);
  CHECK(v[0].text == "energy budget exceeded: 50.0 J, measured > --max-energy 50.0 J");

  b.max_energy_j = 40;
  CHECK(judge_budgets(r, b, nullptr)[0].text == "energy budget exceeded: 50.0 J, measured > --max-energy 40.0 J");

  SECTION("while the command runs (--on-budget stop), the same rule") {
    Budgets s;
    s.max_energy_j = 50;
    CHECK(crossed_budget(s, 50, std::nullopt) == "");
    CHECK(crossed_budget(s, std::nextafter(50.0, 100.0), std::nullopt) == "energy budget");
  }
}

TEST_CASE("the emissions budget judges the report's emissions, kept at the limit", "[budget]") {
  RunReport r = fifty_joules();
  r.carbon.emplace();
  r.carbon->emissions_g = 2.5;
  Budgets b;
  b.max_emissions_g = 2.5;
  auto v = judge_budgets(r, b, nullptr);
  REQUIRE(v.size() == 1);
  CHECK_FALSE(v[0].exceeded);
  CHECK(v[0].text == "emissions budget kept: 2.50 g CO2e from 50.0 J, measured energy <= --max-emissions 2.50 g");
  b.max_emissions_g = 2.4;
  v = judge_budgets(r, b, nullptr);
  CHECK(v[0].exceeded);
  CHECK(v[0].text == "emissions budget exceeded: 2.50 g CO2e from 50.0 J, measured energy > --max-emissions 2.40 g");

  SECTION("while it runs: emissions unknown yet never cross; energy is named first when both do") {
    Budgets s;
    s.max_emissions_g = 2.5;
    CHECK(crossed_budget(s, 1e9, std::nullopt) == "");
    CHECK(crossed_budget(s, 0, 2.5) == "");
    CHECK(crossed_budget(s, 0, 2.6) == "emissions budget");
    s.max_energy_j = 10;
    CHECK(crossed_budget(s, 11, 2.6) == "energy budget");
  }
}

TEST_CASE("an estimated energy is judged by its central value and the verdict gives the range", "[budget]") {
  // cpu estimated 40 J (20 to 60 J) + dram measured 20 J: 60 J, range
  // 20 + 20 = 40 J to 60 + 20 = 80 J. The top of the range is over a 60 J
  // limit; the central value is not: kept.
  RunReport r;
  r.components = {component("cpu", 40, false), component("dram", 20)};
  r.components[0].energy_j_low = 20;
  r.components[0].energy_j_high = 60;
  Budgets b;
  b.max_energy_j = 60;
  auto v = judge_budgets(r, b, nullptr);
  REQUIRE(v.size() == 1);
  CHECK_FALSE(v[0].exceeded);
  CHECK(v[0].text ==
        "energy budget kept: 60.0 J, partly estimated (judged by the central value of 40.0 J to 80.0 J) "
        "<= --max-energy 60.0 J");
}

TEST_CASE("the increase budget is kept at exactly the allowed percent over the baseline", "[budget]") {
  // 100 J -> 110 J: 100 x 10 / 100 = +10 % exactly.
  RunReport r;
  r.components = {component("cpu", 110)};
  const BaselineComparison c = compare_reports(figures("main.json", 100), figures("this run", 110));
  Budgets b;
  b.max_increase_pct = 10;
  auto v = judge_budgets(r, b, &c);
  REQUIRE(v.size() == 1);
  CHECK_FALSE(v[0].exceeded);
  CHECK(v[0].text == "energy increase budget kept: +10.0% energy against main.json (110 J, measured) <= --max-increase 10%");
  b.max_increase_pct = 9.5;
  v = judge_budgets(r, b, &c);
  CHECK(v[0].exceeded);
  CHECK(v[0].text ==
        "energy increase budget exceeded: +10.0% energy against main.json (110 J, measured) > --max-increase 9.5%");

  SECTION("a decrease keeps any limit, 0 % included") {
    const BaselineComparison less = compare_reports(figures("main.json", 100), figures("this run", 80));
    b.max_increase_pct = 0;
    v = judge_budgets(r, b, &less);
    CHECK_FALSE(v[0].exceeded);
    CHECK_THAT(v[0].text, Contains("-20.0% energy against main.json"));
  }
  SECTION("no baseline comparison: no increase verdict") {
    CHECK(judge_budgets(r, b, nullptr).empty());
  }
}

TEST_CASE("exceeded budgets become CI annotations at the level --on-budget gives", "[budget]") {
  RunReport r = fifty_joules();
  r.carbon.emplace();
  r.carbon->emissions_g = 1;
  Budgets b;
  b.max_energy_j = 40;     // exceeded
  b.max_emissions_g = 5;   // kept
  const auto v = judge_budgets(r, b, nullptr);
  REQUIRE(v.size() == 2);

  b.action = Budgets::Action::Warn;
  add_verdicts(r, b, v);
  REQUIRE(r.verdicts.size() == 2);  // both lines, kept or not
  CHECK(r.verdicts[0] == v[0].text);
  CHECK(r.verdicts[1] == v[1].text);
  REQUIRE(r.verdict_annotations.size() == 1);  // only the exceeded one
  CHECK(r.verdict_annotations[0].level == "warning");
  CHECK(r.verdict_annotations[0].text == v[0].text);

  for (auto action : {Budgets::Action::Fail, Budgets::Action::Stop}) {
    RunReport s = fifty_joules();
    b.action = action;
    add_verdicts(s, b, v);
    REQUIRE(s.verdict_annotations.size() == 1);
    CHECK(s.verdict_annotations[0].level == "error");
  }
}

TEST_CASE("a projection warns of a budget only once it is projected above the limit", "[budget]") {
  // A quarter done, 100 J spent, 400 J projected (5 g spent, 20 g projected).
  ProjectedFigures f;
  f.fraction = 0.25;
  f.energy_j = 400;
  f.spent_j = 100;
  f.emissions_g = 20;
  f.spent_g = 5;
  f.method = "progress";
  Budgets b;
  b.max_energy_j = 400;
  b.max_emissions_g = 20;
  CHECK(projected_over(b, f).empty());  // projected exactly at the limits

  b.max_energy_j = 399;
  b.max_emissions_g = 19;
  const auto over = projected_over(b, f);
  REQUIRE(over.size() == 2);
  CHECK(over[0].budget == "energy budget");
  CHECK(over[0].text ==
        "the energy budget will be exceeded: projected 400 J at 25% done (from the recent rate of the command's "
        "progress) > --max-energy 399 J; 100 J so far");
  CHECK(over[1].budget == "emissions budget");
  CHECK(over[1].text ==
        "the emissions budget will be exceeded: projected 20.0 g CO2e at 25% done (from the recent rate of the "
        "command's progress) > --max-emissions 19.0 g; 5.00 g so far");

  f.method = "expected-duration";
  f.emissions_g.reset();  // not priced yet: no emissions warning
  const auto by_time = projected_over(b, f);
  REQUIRE(by_time.size() == 1);
  CHECK_THAT(by_time[0].text, Contains("(from the recent rate of --expected-duration)"));
}

TEST_CASE("the increase budget against a baseline without energy claims no +0.0% change", "[budget]") {
  // This run used 50 J; the baseline 0 J (or no energy figure at all): the
  // increase has no percentage, yet the verdict read
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
    // From nothing to 50 J is more than any percentage.
    CHECK(v[0].exceeded);
    CHECK(v[0].text == "energy increase budget exceeded: from 0 J to 50.0 J against main.json (50.0 J, measured) > --max-increase 10%");
  }
  SECTION("this run without an energy figure: the run is named, not the baseline") {
    before.energy_j = 40;
    RunReport none;  // no source, no estimate: no component
    ReportFigures unmeasured = after;
    unmeasured.energy_j.reset();
    const BaselineComparison c = compare_reports(before, unmeasured);
    const auto v = judge_budgets(none, b, &c);
    REQUIRE(v.size() == 1);
    CHECK_FALSE(v[0].exceeded);
    CHECK_THAT(v[0].text, Catch::StartsWith("energy increase budget not judged: this run has no energy figure"));
  }
  SECTION("a baseline without an energy figure") {
    const BaselineComparison c = compare_reports(before, after);
    const auto v = judge_budgets(r, b, &c);
    REQUIRE(v.size() == 1);
    CHECK_THAT(v[0].text, !Contains("+0.0%"));
    CHECK_FALSE(v[0].exceeded);
    CHECK(v[0].text == "energy increase budget not judged: main.json has no energy figure to compare with (--max-increase 10%)");
  }
}
