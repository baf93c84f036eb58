#pragma once
// Running the wrapped command: fork/exec with an error pipe, its own process
// group (with the terminal handed to it), signal forwarding, subreaping, and
// the exit-status conventions of env(1) and timeout(1).

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "util/exit_codes.h"

namespace greenrun {

/// Every signal greenrun passes on to the command: all that can be caught,
/// except SIGCHLD (greenrun's own), SIGPIPE (ignored: greenrun must survive a
/// closed pipe), the job-control signals (SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT:
/// see wait_for_command) and the fault signals (see SignalBlock).
std::vector<int> forwarded_signals();

/// Ignores SIGPIPE (greenrun must survive writing to a closed pipe: its
/// summary, a --json stream) and returns the disposition it had, for the command.
struct sigaction ignore_sigpipe();

/// greenrun's hold on the signals of a run, taken first thing in main()
/// (before the options, the config files and the probe: before any library
/// can start a thread). SIGCHLD and the forwarded signals are blocked in the
/// calling thread, so every thread started later inherits the block, and
/// caught by a handler that queues them for the main thread, so that a
/// thread which unblocks them (NVML's and ROCm SMI's start threads at init)
/// can neither lose a SIGCHLD nor die of a SIGTERM: nothing depends on what a
/// library does with its threads' masks. take_signal() and wait_for_command()
/// receive them from either path (the blocked set's signalfd, the handler's
/// pipe), so each signal is seen once. A signal greenrun was given ignored
/// stays ignored (SIGCHLD excepted). Handlers for the fault signals (SIGSEGV,
/// SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS) forward one sent with kill(2) and
/// leave a real fault to its previous action. One at a time; everything is
/// restored at the end, and the command gets the originals (original_mask(),
/// inherited_ignored()).
class SignalBlock {
 public:
  SignalBlock();
  ~SignalBlock();
  SignalBlock(const SignalBlock&) = delete;
  SignalBlock& operator=(const SignalBlock&) = delete;
  const sigset_t& original_mask() const { return original_; }
  /// The signals greenrun inherited as ignored (SIG_IGN), to be ignored in the command too.
  const sigset_t& inherited_ignored() const { return ignored_; }

 private:
  sigset_t original_, ignored_;
};

/// Takes one signal that a SignalBlock holds (its number, and si_code in
/// `code`), or 0 when none is waiting. Never blocks.
int take_signal(int& code);

/// Before the command starts: takes the signals held, waiting until
/// `deadline` (now: not at all), and returns the first whose default action
/// ends a process (SIGINT, SIGTERM, SIGHUP, SIGUSR1, ...), or 0. The others
/// (SIGCHLD, SIGWINCH, SIGURG) are dropped: there is nobody to pass them to.
int wait_for_signal(std::chrono::steady_clock::time_point deadline);

/// Makes this process a child subreaper: orphaned descendants re-parent to it.
bool become_subreaper();

/// The terminal greenrun runs in the foreground of, or -1: the command's
/// process group is given the terminal, so that Ctrl-C and Ctrl-Z reach the
/// command (and only the command) as they would without greenrun.
int foreground_terminal();

struct SpawnOptions {
  sigset_t mask{};                  // the command's signal mask
  sigset_t ignored{};               // signals the command starts with ignored (those greenrun inherited so)
  struct sigaction sigpipe {};      // its SIGPIPE disposition
  int tty_fd = -1;                  // hand this terminal to the command's process group
  bool drop_capabilities = false;   // clear the inheritable and ambient sets (greenrun runs privileged)
  /// cgroup.procs files (open for writing) of the groups the command joins before exec.
  std::vector<int> cgroup_fds;
  /// A cgroup v2 directory the command is born in (clone3 CLONE_INTO_CGROUP),
  /// or -1; its cgroup.procs is cgroup_fds[cgroup_dir_join], written only
  /// where clone3 cannot be used (Linux before 5.7).
  int cgroup_dir_fd = -1;
  size_t cgroup_dir_join = 0;
};

struct SpawnResult {
  pid_t pid = -1;
  int exec_errno = 0;  // non-zero: the command could not be executed
  /// The errno of each cgroup join, in cgroup_fds order (0: joined).
  std::vector<int> join_errors;
  /// The command was born in cgroup_dir_fd's group.
  bool cloned_into_cgroup = false;
};
/// Starts argv[0] with PATH lookup as execvp does, in a process group of its
/// own. The command inherits stdin, stdout and stderr.
SpawnResult spawn_command(const std::vector<std::string>& argv, const SpawnOptions& o);

/// Why `name` could not be executed (`err` from execvp), in words that say
/// what to fix: not found in PATH, no such file, a #! interpreter that does
/// not exist, a directory, not executable. `path_env` is $PATH.
std::string exec_failure(const std::string& name, int err, const std::string& path_env);

struct CommandExit {
  int exit_code = 0;  // valid when signal == 0
  int signal = 0;
  bool core_dumped = false;
};
/// greenrun's exit status for the command's: its own, or 128+N for signal N.
int exit_status_for(const CommandExit& e);

/// What wait_for_command() does besides waiting.
struct WaitOptions {
  int tty_fd = -1;  // the terminal handed to the command (see spawn_command)
  /// `on_deadline()` runs when `deadline` has passed with the command still
  /// running, and returns the next deadline (time_point::max(): none).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::function<std::chrono::steady_clock::time_point()> on_deadline;
  /// `on_readable()` runs whenever `watch_fd` has data (the marks FIFO).
  int watch_fd = -1;
  std::function<void()> on_readable;
  /// `after_forward(sig)` runs after a signal was forwarded to the command
  /// (a command paused by --pause-above must be continued to receive it).
  std::function<void(int)> after_forward;
};

/// Waits until `child` exits. Meanwhile reaps every other descendant and
/// forwards every signal greenrun receives to the command's process group:
/// the command is in a group of its own, so nothing sent to greenrun's group
/// (kill %1, kill -- -PGID) reaches it twice. When the command is stopped by
/// the terminal (Ctrl-Z, a background read), greenrun takes the terminal
/// back and stops too, so that the shell sees the job stopped; when greenrun
/// is continued (fg, bg) it continues the command, giving it the terminal
/// if greenrun has it. `before_reap(pid)` runs while `pid` is still a zombie,
/// with `reap_mu` held.
CommandExit wait_for_command(pid_t child, const WaitOptions& w, std::mutex& reap_mu,
                             const std::function<void(pid_t)>& before_reap);

/// Gives the terminal back to greenrun's process group (after the command
/// exited, before the summary is printed).
void reclaim_terminal(int tty_fd);

}  // namespace greenrun
