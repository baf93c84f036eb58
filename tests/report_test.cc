// The report model: figures derived from the measurements, in the summary and the JSON.

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
