#include "process/watchdog.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

namespace greenrun {

namespace {

/// The watchdog's life: follow greenrun's messages until "q" or end of file.
[[noreturn]] void watch_loop(int fd) {
  pid_t pgid = 0;
  bool paused = false;
  char c;
  for (;;) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // greenrun is gone
    if (c == 'q') ::_exit(0);
    if (c == 'S') paused = true;
    if (c == 'R') paused = false;
    if (c == 'G') pgid = 0;
    if (c >= '0' && c <= '9') pgid = pgid * 10 + (c - '0');
  }
  if (paused && pgid > 0) ::kill(-pgid, SIGCONT);
  ::_exit(0);
}

[[noreturn]] void become_watchdog(int fd) {
  ::setsid();
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  const int null = ::open("/dev/null", O_RDWR);
  for (int std_fd = 0; std_fd < 3; ++std_fd) ::dup2(null, std_fd);
  // Every other descriptor closed: a pipe the watchdog held open would keep
  // greenrun's reader (a CI runner, a test) waiting for it.
  const int keep = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close_range(3, keep - 1, 0);
  ::close_range(static_cast<unsigned>(keep) + 1, ~0U, 0);
  ::prctl(PR_SET_NAME, "greenrun-watch", 0, 0, 0);
  watch_loop(keep);
}

}  // namespace

Watchdog::Watchdog() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return;
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(p[1]);
    if (::fork() == 0) become_watchdog(p[0]);
    ::_exit(0);
  }
  ::close(p[0]);
  if (child < 0) {
    ::close(p[1]);
    return;
  }
  int status;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  fd_ = p[1];
}

Watchdog::~Watchdog() {
  if (fd_ < 0) return;
  send("q");
  ::close(fd_);
}

void Watchdog::send(const char* text) {
  if (fd_ < 0) return;
  const size_t len = std::strlen(text);
  ssize_t n;
  do {
    n = ::write(fd_, text, len);
  } while (n < 0 && errno == EINTR);
}

void Watchdog::watch(pid_t pgid) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "G%d", static_cast<int>(pgid));
  send(buf);
}

void Watchdog::paused() { send("S"); }
void Watchdog::resumed() { send("R"); }

}  // namespace greenrun
