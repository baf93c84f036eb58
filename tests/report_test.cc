// The report model: figures derived from the measurements, in the summary and the JSON.

#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

#include "report/report.h"

using namespace greenrun;
using Catch::Matchers::Contains;

TEST_CASE("average power is over the time the energy covers, so never above the peak", "[report]") {
  // The energy windows start at the baseline read just before the command
  // starts; duration_s starts at the spawn. On a loaded machine the gap made a
  // one-window run print "average 2.38 W, peak 2.33 W".
  RunReport r;
  r.command = {"python3", "train.py"};
  r.duration_s = 1.03;
  r.sampled_s = 1.05;
  r.peak_power_w = 2.45 / 1.05;  // the only window's power
  ComponentReport cpu;
  cpu.name = "cpu";
  cpu.energy_j = cpu.machine_energy_j = 2.45;
  cpu.measured = false;
  cpu.source = "estimate";
  r.components.push_back(cpu);
  r.exit_code = 0;
  r.status = "finished";

  CHECK(r.average_power_w() == Approx(2.45 / 1.05));
  CHECK(r.average_power_w() <= r.peak_power_w + 1e-12);
  CHECK(to_json(r)["average_power_w"].get<double>() == Approx(2.45 / 1.05));
  CHECK_THAT(format_summary(r), Contains("average 2.33 W, peak 2.33 W"));

  SECTION("without a sampled span (nothing sampled yet) the wall time is used") {
    r.sampled_s = 0;
    CHECK(r.average_power_w() == Approx(2.45 / 1.03));
  }
}

TEST_CASE("the elsewhere bars of a report read back are 1 to 24 marks, whatever its numbers", "[report]") {
  // tools/fuzz report: a JSON report with a negative comparison (greenrun
  // report FILE reads any number) made a bar of SIZE_MAX marks, which threw
  // std::length_error out of format_summary.
  RunReport r;
  r.command = {"true"};
  r.status = "finished";
  r.duration_s = r.sampled_s = 1;
  r.carbon.emplace();
  r.carbon->emissions_g = 2;
  auto& c = r.carbon->comparisons;
  c.push_back({"AA", "negative", 10, -5, "chosen"});
  c.push_back({"BB", "largest", 20, 8, "here"});
  c.push_back({"CC", "half", 30, 4, "chosen"});
  c.push_back({"DD", "not a number", 40, std::nan(""), "chosen"});
  std::string text;
  REQUIRE_NOTHROW(text = format_summary(r));
  auto bar_of = [&](const std::string& name) {
    const auto at = text.find(name);
    REQUIRE(at != std::string::npos);
    const auto end = text.find('\n', at);
    const auto line = text.substr(at, end - at);
    const auto first = line.find('#');
    REQUIRE(first != std::string::npos);
    return line.find_first_not_of('#', first) == std::string::npos ? line.size() - first : line.find_first_not_of('#', first) - first;
  };
  CHECK(bar_of("largest") == 24);
  CHECK(bar_of("half") == 12);
  CHECK(bar_of("negative") == 1);
  CHECK(bar_of("not a number") == 1);

  SECTION("an infinite largest value draws no bar longer than the rest") {
    c[1].emissions_g = std::numeric_limits<double>::infinity();
    REQUIRE_NOTHROW(text = format_summary(r));
    CHECK(bar_of("half") == 1);
  }
}
