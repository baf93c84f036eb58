// greenrun's executable: parse the command line, run, exit. Everything else
// lives in the library so that tests can call it.

#include <malloc.h>

#include <cstdio>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "commands/compare_cmd.h"
#include "commands/config_cmd.h"
#include "commands/help_cmd.h"
#include "commands/mark_cmd.h"
#include "commands/options.h"
#include "commands/plan_cmd.h"
#include "commands/regions_cmd.h"
#include "commands/report_cmd.h"
#include "commands/run.h"
#include "commands/sensors_cmd.h"
#include "commands/version_cmd.h"
#include "util/escape.h"
#include "util/exit_codes.h"

#if defined(__SANITIZE_THREAD__)
// At exit TSan sleeps atexit_sleep_ms (1000 by default) while other threads
// live, and a vendor library's threads (NVML's, the fakes') never end: a
// TSan-built greenrun would exit a second after its command. TSAN_OPTIONS
// still overrides this.
extern "C" const char* __tsan_default_options() { return "atexit_sleep_ms=0"; }
#endif

namespace {

using Args = std::vector<std::string>;

/// The subcommands, by the first argument; `greenrun -- regions` runs a
/// command of that name instead.
struct Subcommand {
  const char* name;
  int (*run)(const Args&);
};
int help(const Args& args);
const Subcommand kSubcommands[] = {
    {"sensors", [](const Args& a) { return greenrun::sensors_command(a); }},
    {"regions", [](const Args& a) { return greenrun::regions_command(a); }},
    {"report", greenrun::report_command},
    {"compare", greenrun::compare_command},
    {"mark", [](const Args& a) { return greenrun::mark_command(a); }},
    {"count", [](const Args& a) { return greenrun::count_command(a); }},
    {"progress", [](const Args& a) { return greenrun::progress_command(a); }},
    {"plan", [](const Args& a) { return greenrun::plan_command(a); }},
    {"config", [](const Args& a) { return greenrun::config_command(a); }},
    {"help", help},
};

// `greenrun help report` is `greenrun report --help`.
int help(const Args& args) {
  return greenrun::help_command(args, [](const std::string& name) {
    for (const auto& s : kSubcommands)
      if (name == s.name) return s.run({"--help"});
    return 2;
  });
}

}  // namespace

int main(int argc, char** argv) {
  // One malloc arena: the sampler thread allocates little, and a second arena
  // costs a 64 MiB reservation and page faults for nothing.
  mallopt(M_ARENA_MAX, 1);
  // Keep freed memory for reuse instead of returning it to the kernel and
  // faulting fresh pages in again (page faults dominate start-up on VMs).
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
  Args args(argv + 1, argv + argc);
  try {
    for (const auto& s : kSubcommands)
      if (!args.empty() && args[0] == s.name) return s.run(Args(args.begin() + 1, args.end()));
    // A run holds its signals before anything can start a thread (a config
    // file's library, the probe's NVML): see SignalBlock.
    greenrun::SignalBlock signals;
    auto parsed = greenrun::parse_cli(args);
    if (parsed.action == greenrun::ParsedCli::Action::Version) return std::fputs(greenrun::version_text().c_str(), stdout), 0;
    if (parsed.action == greenrun::ParsedCli::Action::Exit) {
      std::fputs(parsed.message.c_str(), parsed.message_is_error ? stderr : stdout);
      return parsed.exit_code;
    }
    return greenrun::run_command(std::move(parsed.options), signals);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "greenrun: internal error: %s\n", greenrun::terminal_text(e.what()).c_str());
    return greenrun::kExitGreenrunFailed;
  }
}
