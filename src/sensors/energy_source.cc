#include "sensors/energy_source.h"

namespace greenrun {

std::string Component::name() const {
  switch (kind) {
    case ComponentKind::Cpu: return "cpu";
    case ComponentKind::Dram: return "dram";
    case ComponentKind::Platform: return "platform";
    case ComponentKind::Ram: return "ram";
    case ComponentKind::Gpu: return "gpu" + std::to_string(index);
  }
  return "unknown";
}

const std::vector<Channel>& EnergySource::standby() const {
  static const std::vector<Channel> none;
  return none;
}

const char* disposition_name(Disposition d) {
  switch (d) {
    case Disposition::Used: return "used";
    case Disposition::Covered: return "covered";
    case Disposition::Unreadable: return "unreadable";
    case Disposition::Absent: return "absent";
    case Disposition::Unsupported: return "unsupported";
    case Disposition::Frozen: return "frozen";
  }
  return "unknown";
}

}  // namespace greenrun
