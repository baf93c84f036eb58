// greenrun's executable: parse the command line, run, exit. Everything else
// lives in the library so that tests can call it.

#include <malloc.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "process/child.h"
#include "config/options.h"
#include "commands/plan_cmd.h"
#include "commands/regions_cmd.h"
#include "commands/sensors_cmd.h"
#include "commands/run.h"

int main(int argc, char** argv) {
  // One malloc arena: the sampler thread allocates little, and a second arena
  // costs a 64 MiB reservation and page faults for nothing.
  mallopt(M_ARENA_MAX, 1);
  // Keep freed memory for reuse instead of returning it to the kernel and
  // faulting fresh pages in again (page faults dominate start-up on VMs).
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    // Subcommands come first; `greenrun -- regions` runs a command of that name.
    if (!args.empty() && args[0] == "regions")
      return greenrun::regions_command(std::vector<std::string>(args.begin() + 1, args.end()));
    if (!args.empty() && args[0] == "plan")
      return greenrun::plan_command(std::vector<std::string>(args.begin() + 1, args.end()));
    if (!args.empty() && args[0] == "sensors")
      return greenrun::sensors_command(std::vector<std::string>(args.begin() + 1, args.end()));
    auto parsed = greenrun::parse_cli(args);
    if (parsed.action == greenrun::ParsedCli::Action::Exit) {
      std::fputs(parsed.message.c_str(), parsed.message_is_error ? stderr : stdout);
      return parsed.exit_code;
    }
    return greenrun::run_command(parsed.options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "greenrun: internal error: %s\n", e.what());
    return greenrun::kExitGreenrunFailed;
  }
}
