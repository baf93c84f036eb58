#include "commands/mark_cmd.h"

#include <cstdio>

#include "process/marks.h"
#include "util/exit_codes.h"

namespace greenrun {

int mark_command(const std::vector<std::string>& args, const EnvLookup& env) {
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    std::printf("greenrun mark LABEL...: start a phase named LABEL in the run greenrun measures\n"
                "(through the FIFO in $GREENRUN_MARK; outside greenrun it does nothing)\n");
    return 0;
  }
  if (args.empty()) {
    std::fprintf(stderr, "greenrun mark: give the phase's name: greenrun mark LABEL\n");
    return kExitUsage;
  }
  std::string label;
  for (const auto& a : args) label += (label.empty() ? "" : " ") + a;
  send_mark(label, env(kMarkVariable).value_or(""));
  return 0;
}

}  // namespace greenrun
