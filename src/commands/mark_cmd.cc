#include "commands/mark_cmd.h"

#include <cstdio>

#include "process/marks.h"
#include "util/exit_codes.h"

namespace greenrun {

namespace {

bool wants_help(const std::vector<std::string>& args) {
  return !args.empty() && (args[0] == "-h" || args[0] == "--help");
}

int usage(const char* text) {
  std::fprintf(stderr, "%s\n", text);
  return kExitUsage;
}

}  // namespace

int mark_command(const std::vector<std::string>& args, const EnvLookup& env) {
  if (wants_help(args)) {
    std::printf("greenrun mark LABEL...: start a phase named LABEL in the run greenrun measures\n"
                "(through the FIFO in $GREENRUN_MARK; outside greenrun it does nothing)\n");
    return 0;
  }
  if (args.empty()) return usage("greenrun mark: give the phase's name: greenrun mark LABEL");
  std::string label;
  for (const auto& a : args) label += (label.empty() ? "" : " ") + a;
  send_mark(label, env(kMarkVariable).value_or(""));
  return 0;
}

int count_command(const std::vector<std::string>& args, const EnvLookup& env) {
  if (wants_help(args)) {
    std::printf("greenrun count N UNIT: N more UNITs done (samples, tokens, requests, ...) in the run greenrun\n"
                "measures, for the energy and emissions per unit; outside greenrun it does nothing\n");
    return 0;
  }
  const auto n = args.size() == 2 ? parse_record_number(args[0]) : std::nullopt;
  if (!n) return usage("greenrun count: give a number >= 0 and a unit: greenrun count 64 samples");
  if (!valid_unit(args[1]))
    return usage("greenrun count: a unit is 1 to 32 letters, digits, '_' or '-': greenrun count 64 samples");
  send_record(count_line(*n, args[1]), env(kMarkVariable).value_or(""));
  return 0;
}

int progress_command(const std::vector<std::string>& args, const EnvLookup& env) {
  if (wants_help(args)) {
    std::printf("greenrun progress FRACTION: how far the command is, 0 to 1 (0.25: a quarter done), for the\n"
                "projected total energy, emissions and end; outside greenrun it does nothing\n");
    return 0;
  }
  const auto f = args.size() == 1 ? parse_record_number(args[0]) : std::nullopt;
  if (!f || *f > 1) return usage("greenrun progress: give the fraction done, 0 to 1: greenrun progress 0.25");
  send_record(progress_line(*f), env(kMarkVariable).value_or(""));
  return 0;
}

}  // namespace greenrun
