#include "process/child.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sys/stat.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <string>

#include "util/fs.h"
#include "util/privilege.h"

namespace greenrun {

namespace {

constexpr int kFaultSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
constexpr size_t kFaults = sizeof kFaultSignals / sizeof kFaultSignals[0];
struct sigaction g_fault_previous[kFaults];
volatile sig_atomic_t g_command_pgid = 0;
// A fault signal sent while the command runs but before spawn_command knows
// its pid (the parent of a vfork resumes some time after the child's exec):
// held here, forwarded as soon as the pid is known.
volatile sig_atomic_t g_held_fault[kFaults];

bool is_fault(int sig) {
  for (int f : kFaultSignals)
    if (f == sig) return true;
  return false;
}

// A fault signal sent by kill(2) is forwarded like any other; a real fault
// goes back to the previous action (the default, or a sanitizer's report).
void on_fault(int sig, siginfo_t* info, void*) {
  for (size_t i = 0; i < kFaults; ++i) {
    if (kFaultSignals[i] != sig) continue;
    if (info->si_code > 0) ::sigaction(sig, &g_fault_previous[i], nullptr);  // a real fault
    else if (g_command_pgid > 0) ::kill(-g_command_pgid, sig);  // SI_USER, SI_QUEUE, SI_TKILL: sent
    else g_held_fault[i] = 1;
  }
}

// Called once the command's pid is known, on the only thread there is then:
// a handler cannot run between the test and the clear.
void forward_held_faults() {
  for (size_t i = 0; i < kFaults; ++i)
    if (g_held_fault[i]) {
      g_held_fault[i] = 0;
      ::kill(-g_command_pgid, kFaultSignals[i]);
    }
}

sigset_t handled_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (int sig : forwarded_signals()) sigaddset(&set, sig);
  return set;
}

// A signal taken by the handler: a thread that unblocked it (a vendor
// library's) ran on_handled, which queued it here for the main thread.
struct Caught {
  int32_t signo;
  int32_t code;
};
int g_caught[2] = {-1, -1};  // the handler's pipe: read end, write end
int g_signal_fd = -1;        // the blocked set's signalfd

void on_handled(int sig, siginfo_t* info, void*) {
  const int saved = errno;
  const Caught c{sig, info ? info->si_code : 0};
  ssize_t ignored = ::write(g_caught[1], &c, sizeof c);  // below PIPE_BUF: whole or not at all
  (void)ignored;
  errno = saved;
}

// Runs `fn` with SIGTTOU blocked: a process outside the terminal's
// foreground group that sets it would otherwise be stopped.
template <class Fn>
void without_ttou(Fn fn) {
  sigset_t ttou, old;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  pthread_sigmask(SIG_BLOCK, &ttou, &old);
  fn();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace

std::vector<int> forwarded_signals() {
  std::vector<int> out;
  for (int sig = 1; sig < 32; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD || sig == SIGPIPE || sig == SIGTSTP || sig == SIGTTIN ||
        sig == SIGTTOU || sig == SIGCONT || is_fault(sig))
      continue;
    out.push_back(sig);
  }
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) out.push_back(sig);
  return out;
}

SignalBlock::SignalBlock() {
  sigset_t set = handled_set();
  pthread_sigmask(SIG_BLOCK, &set, &original_);
  sigemptyset(&ignored_);
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) == 0 && !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_IGN)
      sigaddset(&ignored_, sig);
  }
  if (::pipe2(g_caught, O_CLOEXEC | O_NONBLOCK) != 0) g_caught[0] = g_caught[1] = -1;
  g_signal_fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  struct sigaction handled {};
  handled.sa_sigaction = on_handled;
  handled.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&handled.sa_mask);
  // A signal greenrun was given ignored stays ignored: the command inherits
  // that, and greenrun has nothing to forward. SIGCHLD must be seen (ignored,
  // the kernel would reap the command before greenrun could).
  for (int sig = 1; sig < NSIG; ++sig)
    if (sigismember(&set, sig) == 1 && (sig == SIGCHLD || sigismember(&ignored_, sig) != 1))
      ::sigaction(sig, &handled, nullptr);
  struct sigaction fault {};
  fault.sa_sigaction = on_fault;
  fault.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&fault.sa_mask);
  for (size_t i = 0; i < kFaults; ++i) ::sigaction(kFaultSignals[i], &fault, &g_fault_previous[i]);
}

SignalBlock::~SignalBlock() {
  // Drop signals that arrived after the command ended rather than act on them now.
  int code = 0;
  while (take_signal(code) > 0) {
  }
  sigset_t set = handled_set();
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sigismember(&set, sig) != 1) continue;
    if (sigismember(&ignored_, sig) == 1) dfl.sa_handler = SIG_IGN;
    ::sigaction(sig, &dfl, nullptr);
    dfl.sa_handler = SIG_DFL;
  }
  for (size_t i = 0; i < kFaults; ++i) {
    ::sigaction(kFaultSignals[i], &g_fault_previous[i], nullptr);
    g_held_fault[i] = 0;
  }
  g_command_pgid = 0;
  for (int& fd : g_caught) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  if (g_signal_fd >= 0) ::close(g_signal_fd);
  g_signal_fd = -1;
  pthread_sigmask(SIG_SETMASK, &original_, nullptr);
}

int take_signal(int& code) {
  Caught c{};
  if (g_caught[0] >= 0 && ::read(g_caught[0], &c, sizeof c) == static_cast<ssize_t>(sizeof c)) {
    code = c.code;
    return c.signo;
  }
  signalfd_siginfo info{};
  if (g_signal_fd >= 0 && ::read(g_signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    code = info.ssi_code;
    return static_cast<int>(info.ssi_signo);
  }
  return 0;
}

namespace {

timespec timeout_until(std::chrono::steady_clock::time_point deadline) {
  auto left = std::max(deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration::zero());
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  return {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

// Waits for a signal, `watch` to become readable, or `deadline`. True when
// `watch` is readable.
bool wait_event(int watch, std::chrono::steady_clock::time_point deadline) {
  const bool forever = deadline == std::chrono::steady_clock::time_point::max();
  const timespec ts = forever ? timespec{} : timeout_until(deadline);
  pollfd fds[3] = {{g_signal_fd, POLLIN, 0}, {g_caught[0], POLLIN, 0}, {watch, POLLIN, 0}};
  if (::ppoll(fds, watch >= 0 ? 3 : 2, forever ? nullptr : &ts, nullptr) <= 0) return false;
  return watch >= 0 && (fds[2].revents & POLLIN);
}

// What the kernel would do with `sig` by default: end the process, or not
// (SIGCHLD, SIGWINCH, SIGURG, SIGCONT are ignored by default).
bool ends_by_default(int sig) { return sig != SIGCHLD && sig != SIGWINCH && sig != SIGURG && sig != SIGCONT; }

}  // namespace

int wait_for_signal(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    int code = 0;
    for (int sig; (sig = take_signal(code)) > 0;)
      if (ends_by_default(sig)) return sig;
    if (std::chrono::steady_clock::now() >= deadline) return 0;
    wait_event(-1, deadline);
  }
}

struct sigaction ignore_sigpipe() {
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGPIPE, &ignore, &old);
  return old;
}

bool become_subreaper() { return ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0; }

int foreground_terminal() {
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
    if (::isatty(fd) && ::tcgetpgrp(fd) == ::getpgrp()) return fd;
  return -1;
}

namespace {

// The child's side, in a vfork child or a clone3 child: only async-signal-safe
// calls. It takes its own process group (and the terminal), joins the cgroups
// it is not already in (`join_errors` receives each errno: memory the vfork
// parent shares; null where it does not), restores what greenrun changed
// (SIGPIPE, the mask), execs (execvp's PATH search and /bin/sh fallback), or
// reports the errno through the close-on-exec pipe.
[[noreturn]] void become_command(char* const* argv, const SpawnOptions& o, int error_fd, volatile int* join_errors,
                                 bool born_in_cgroup) {
  ::setpgid(0, 0);
  for (size_t i = 0; i < o.cgroup_fds.size(); ++i) {
    if (born_in_cgroup && i == o.cgroup_dir_join) continue;  // writing it again would wait for a grace period
    if (::write(o.cgroup_fds[i], "0", 1) != 1 && join_errors) join_errors[i] = errno;
  }
  if (o.tty_fd >= 0) {
    sigset_t ttou;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    ::sigprocmask(SIG_BLOCK, &ttou, nullptr);
    ::tcsetpgrp(o.tty_fd, ::getpid());
  }
  if (o.drop_capabilities) drop_inheritable_capabilities();
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  // exec resets what greenrun catches (SIGCHLD, the faults) to the default:
  // what greenrun was given ignored is ignored in the command too.
  for (int sig = 1; sig < NSIG; ++sig)
    if (sigismember(&o.ignored, sig) == 1) ::sigaction(sig, &ignore, nullptr);
  ::sigaction(SIGPIPE, &o.sigpipe, nullptr);
  ::sigprocmask(SIG_SETMASK, &o.mask, nullptr);
  ::execvp(argv[0], argv);
  int err = errno;
  ssize_t ignored = ::write(error_fd, &err, sizeof err);
  (void)ignored;
  ::_exit(err == ENOENT ? kExitNotFound : kExitCannotExecute);
}

// clone3 with CLONE_INTO_CGROUP: the child is born in the cgroup at
// `cgroup_dir_fd`. Joining one by writing cgroup.procs takes the kernel's
// cgroup_threadgroup_rwsem for writing, which waits for an RCU grace period:
// 10-15 ms on the bench VM, at every start. Without CLONE_VM (the raw system
// call cannot give the child a stack of its own), so the page tables are
// copied as fork does; CLONE_VFORK keeps the parent waiting until the exec.
// -1 with errno when the kernel cannot (before Linux 5.7: ENOSYS).
pid_t clone_into_cgroup(int cgroup_dir_fd) {
  clone_args args{};
  args.flags = CLONE_VFORK | CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(cgroup_dir_fd);
  return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
}

}  // namespace

SpawnResult spawn_command(const std::vector<std::string>& argv, const SpawnOptions& o) {
  SpawnResult result;
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) {
    result.exec_errno = errno;
    return result;
  }
  result.join_errors.assign(o.cgroup_fds.size(), 0);
  pid_t pid = o.cgroup_dir_fd >= 0 ? clone_into_cgroup(o.cgroup_dir_fd) : -1;
  result.cloned_into_cgroup = pid >= 0;
  if (pid == 0) become_command(cargv.data(), o, pipefd[1], nullptr, true);
  if (pid < 0) {
    // vfork: no page tables to copy and no copy-on-write faults, which
    // dominate start-up on virtual machines; no sampler thread exists yet.
    // The child reports each cgroup join in memory it shares with greenrun
    // until exec.
    pid = ::vfork();
    if (pid == 0) become_command(cargv.data(), o, pipefd[1], result.join_errors.data(), false);
  }
  ::close(pipefd[1]);
  if (pid < 0) {
    result.exec_errno = errno;
    ::close(pipefd[0]);
    return result;
  }
  int err = 0;
  ssize_t n;
  do {
    n = ::read(pipefd[0], &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  ::close(pipefd[0]);
  if (n == static_cast<ssize_t>(sizeof err)) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    reclaim_terminal(o.tty_fd);
    result.exec_errno = err;
    return result;
  }
  g_command_pgid = pid;
  forward_held_faults();
  result.pid = pid;
  return result;
}

namespace {

// Where execvp would have found `name`: itself when it has a slash, else the
// first PATH entry where it exists. "" when nowhere.
std::string locate(const std::string& name, const std::string& path_env) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), F_OK) == 0 ? name : "";
  size_t start = 0;
  while (start <= path_env.size()) {
    size_t colon = path_env.find(':', start);
    std::string dir = path_env.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), F_OK) == 0) return candidate;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return "";
}

std::string interpreter_of(const std::string& path) {
  std::string line = read_line(path).value_or("");
  if (line.rfind("#!", 0) != 0) return "";
  std::string_view rest = trim(std::string_view(line).substr(2));
  return std::string(rest.substr(0, rest.find_first_of(" \t")));
}

}  // namespace

std::string exec_failure(const std::string& name, int err, const std::string& path_env) {
  const std::string found = locate(name, path_env);
  const std::string what = "cannot run '" + name + "': ";
  if (err == ENOENT && found.empty())
    return what + (name.find('/') != std::string::npos ? "no such file" : "not found in PATH; check the spelling or give a path");
  if (err == ENOENT) {
    const std::string interp = interpreter_of(found);
    if (!interp.empty()) return what + "its interpreter " + interp + " (the #! line of " + found + ") does not exist";
    return what + "a file it needs to start (its ELF interpreter) does not exist";
  }
  if (err == EACCES && !found.empty()) {
    struct stat st {};
    if (::stat(found.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return what + found + " is a directory";
    if (::access(found.c_str(), X_OK) != 0) return what + found + " is not executable (chmod +x " + found + ")";
  }
  if (err == ENOEXEC) return what + "not an executable format (a script without a #! line?)";
  return what + errno_text(err);
}

int exit_status_for(const CommandExit& e) { return e.signal ? kExitSignalBase + e.signal : e.exit_code; }

void reclaim_terminal(int tty_fd) {
  if (tty_fd < 0) return;
  without_ttou([&] { ::tcsetpgrp(tty_fd, ::getpgrp()); });
}

namespace {

// The terminal stopped the command (Ctrl-Z, a read from the background):
// stop greenrun the same way so that its shell sees the job stopped, then,
// once continued, continue the command, in the foreground if greenrun is.
void follow_stop(pid_t child, int tty_fd, int stop_signal) {
  const bool had_terminal = tty_fd >= 0 && ::tcgetpgrp(tty_fd) == child;
  if (had_terminal) reclaim_terminal(tty_fd);
  ::raise(stop_signal);  // returns when greenrun is continued
  if (tty_fd >= 0 && ::tcgetpgrp(tty_fd) == ::getpgrp()) without_ttou([&] { ::tcsetpgrp(tty_fd, child); });
  ::kill(-child, SIGCONT);
}

// Reaps what has exited. Returns true with `result` set when the command did.
bool reap(pid_t child, std::mutex& reap_mu, const std::function<void(pid_t)>& before_reap, CommandExit& result) {
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return false;
    const pid_t pid = info.si_pid;
    std::lock_guard<std::mutex> lk(reap_mu);
    if (before_reap) before_reap(pid);
    siginfo_t done{};
    while (::waitid(P_PID, static_cast<id_t>(pid), &done, WEXITED) != 0 && errno == EINTR) {
    }
    if (pid == child) {
      if (done.si_code == CLD_EXITED) {
        result.exit_code = done.si_status;
      } else {
        result.signal = done.si_status;
        result.core_dumped = done.si_code == CLD_DUMPED;
      }
      return true;
    }
  }
}

}  // namespace

CommandExit wait_for_command(pid_t child, const WaitOptions& w, std::mutex& reap_mu,
                             const std::function<void(pid_t)>& before_reap) {
  CommandExit result;
  auto deadline = w.on_deadline ? w.deadline : std::chrono::steady_clock::time_point::max();
  for (;;) {
    // Signals first, then the command's exit, the timers, and a bounded
    // amount of the watched input last: nothing the command writes can delay
    // a signal or the exit. The command has a process group of its own:
    // nothing greenrun receives can have reached it already.
    int code = 0;
    for (int n = 0, sig; n < 64 && (sig = take_signal(code)) > 0; ++n) {
      if (sig == SIGCHLD) continue;  // SIGCHLDs coalesce: reap() never counts on one per child
      ::kill(-child, sig);
      if (w.after_forward) w.after_forward(sig);
    }
    if (reap(child, reap_mu, before_reap, result)) break;
    siginfo_t stopped{};
    if (w.tty_fd >= 0 && ::waitid(P_PID, static_cast<id_t>(child), &stopped, WSTOPPED | WNOHANG) == 0 &&
        stopped.si_pid == child && stopped.si_code == CLD_STOPPED &&
        (stopped.si_status == SIGTSTP || stopped.si_status == SIGTTIN || stopped.si_status == SIGTTOU)) {
      follow_stop(child, w.tty_fd, stopped.si_status);
      continue;
    }
    if (deadline <= std::chrono::steady_clock::now()) {
      deadline = w.on_deadline();
      continue;
    }
    if (wait_event(w.watch_fd, deadline) && w.on_readable) w.on_readable();
  }
  return result;
}

}  // namespace greenrun
