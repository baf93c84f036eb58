#include "sensors/power_integrator.h"

#include "util/units.h"

namespace greenrun {

void note_gaps(const PowerIntegrator& p, const std::string& component, std::vector<std::string>& notes) {
  if (p.skipped_s() <= 0) return;
  notes.push_back(component + ": " + format_seconds(p.skipped_s()) +
                  " between power readings too far apart were not counted (the device did not answer)");
}

}  // namespace greenrun
