#pragma once
// A tiny process that outlives greenrun: while greenrun has the command
// paused (SIGSTOP), greenrun dying by any means, SIGKILL included, must not
// leave the command stopped forever. The watchdog holds the read end of a
// pipe; greenrun tells it the command's process group and each pause and
// resume. At end of file without greenrun's "quit" (greenrun is gone) and
// with the command paused, it sends SIGCONT to the group and exits.

#include <sys/types.h>

namespace greenrun {

class Watchdog {
 public:
  /// Starts it: double-forked (not greenrun's child, so never in the
  /// command's tree), in a session of its own (no terminal signal reaches
  /// it), with every other descriptor closed. Call before any thread starts
  /// and before greenrun becomes a subreaper. Inactive if fork fails.
  Watchdog();
  ~Watchdog();  // tells it to quit
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void watch(pid_t pgid);  // the command's process group
  void paused();
  void resumed();

 private:
  void send(const char* text);
  int fd_ = -1;
};

}  // namespace greenrun
