#include "process/child.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace greenrun {

namespace {

sigset_t handled_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (int sig : kForwardedSignals) sigaddset(&set, sig);
  return set;
}

}  // namespace

SignalBlock::SignalBlock() {
  sigset_t set = handled_set();
  pthread_sigmask(SIG_BLOCK, &set, &original_);
}

SignalBlock::~SignalBlock() {
  // Drop signals that arrived after the command ended rather than act on them now.
  sigset_t set = handled_set();
  timespec zero{0, 0};
  while (sigtimedwait(&set, nullptr, &zero) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &original_, nullptr);
}

bool become_subreaper() { return ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0; }

SpawnResult spawn_command(const std::vector<std::string>& argv, const sigset_t& child_mask) {
  SpawnResult result;
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) {
    result.exec_errno = errno;
    return result;
  }
  // vfork: no page tables to copy and no copy-on-write faults, which dominate
  // start-up on virtual machines; no sampler thread exists yet. The child only
  // sets its mask, execs (execvp's PATH search and /bin/sh fallback), or
  // reports the errno through the close-on-exec pipe.
  pid_t pid = ::vfork();
  if (pid == 0) {
    ::sigprocmask(SIG_SETMASK, &child_mask, nullptr);
    ::execvp(cargv[0], cargv.data());
    int err = errno;
    ssize_t ignored = ::write(pipefd[1], &err, sizeof err);
    (void)ignored;
    ::_exit(err == ENOENT ? kExitNotFound : kExitCannotExecute);
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
    result.exec_errno = err;
    return result;
  }
  result.pid = pid;
  return result;
}

int exit_status_for(const CommandExit& e) { return e.signal ? 128 + e.signal : e.exit_code; }

CommandExit wait_for_command(pid_t child, std::mutex& reap_mu, const std::function<void(pid_t)>& before_reap,
                             std::chrono::steady_clock::time_point deadline, const DeadlineFn& on_deadline) {
  const sigset_t set = handled_set();
  CommandExit result;
  if (!on_deadline) deadline = std::chrono::steady_clock::time_point::max();
  for (;;) {
    // Reap everything that has exited; SIGCHLDs coalesce, so never count on one per child.
    for (;;) {
      siginfo_t info{};
      if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) break;
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
        return result;
      }
    }
    siginfo_t si{};
    int sig;
    if (deadline != std::chrono::steady_clock::time_point::max()) {
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) {
        deadline = on_deadline();
        continue;
      }
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
      sig = ::sigtimedwait(&set, &si, &ts);
    } else {
      sig = ::sigwaitinfo(&set, &si);
    }
    if (sig < 0 || sig == SIGCHLD) continue;
    // Ctrl-C, Ctrl-\ and a terminal hang-up come from the kernel (SI_KERNEL)
    // and already reached the command through its process group.
    if (si.si_code != SI_KERNEL) ::kill(child, sig);
  }
}

}  // namespace greenrun
