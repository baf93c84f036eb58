#pragma once
// Running the wrapped command: fork/exec with an error pipe, signal
// forwarding, subreaping, and the exit-status conventions of env(1) and
// timeout(1).

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "util/exit_codes.h"

namespace greenrun {

/// Signals greenrun passes on to the command.
inline constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

/// Blocks SIGCHLD and the forwarded signals in the calling thread (and every
/// thread started after), so that wait_for_command() receives them with
/// sigwaitinfo(). The original mask is restored in the command.
class SignalBlock {
 public:
  SignalBlock();
  ~SignalBlock();
  SignalBlock(const SignalBlock&) = delete;
  SignalBlock& operator=(const SignalBlock&) = delete;
  const sigset_t& original() const { return original_; }

 private:
  sigset_t original_;
};

/// Makes this process a child subreaper: orphaned descendants re-parent to it.
bool become_subreaper();

struct SpawnResult {
  pid_t pid = -1;
  int exec_errno = 0;  // non-zero: the command could not be executed
};
/// Starts argv[0] with PATH lookup as execvp does, with `child_mask` as its
/// signal mask. The command inherits stdin, stdout and stderr.
SpawnResult spawn_command(const std::vector<std::string>& argv, const sigset_t& child_mask);

struct CommandExit {
  int exit_code = 0;  // valid when signal == 0
  int signal = 0;
  bool core_dumped = false;
};
/// greenrun's exit status for the command's: its own, or 128+N for signal N.
int exit_status_for(const CommandExit& e);

/// Waits until `child` exits. Meanwhile forwards the signals in
/// kForwardedSignals to it, except those the terminal already sent to the
/// whole foreground process group, and reaps every other descendant.
/// `before_reap(pid)` runs while `pid` is still a zombie, with `reap_mu` held.
/// `on_deadline()` runs when `deadline` has passed with the command still
/// running, and returns the next deadline (time_point::max(): none).
using DeadlineFn = std::function<std::chrono::steady_clock::time_point()>;
CommandExit wait_for_command(pid_t child, std::mutex& reap_mu, const std::function<void(pid_t)>& before_reap,
                             std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max(),
                             const DeadlineFn& on_deadline = nullptr);

}  // namespace greenrun
