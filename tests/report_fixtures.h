#pragma once
// Report models built by hand for the report/ unit tests.

#include <string>

#include "report/report.h"

namespace greenrun::test {

/// A component whose energy is all the command's: measured by RAPL, or estimated.
inline ComponentReport component(const std::string& name, double energy_j, bool measured = true) {
  ComponentReport c;
  c.name = name;
  c.energy_j = c.machine_energy_j = energy_j;
  c.measured = measured;
  c.source = measured ? "RAPL powercap" : "estimate";
  return c;
}

}  // namespace greenrun::test
