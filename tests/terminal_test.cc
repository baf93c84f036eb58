// greenrun at a real terminal (a pseudo-terminal): Ctrl-C and Ctrl-Z / fg.

#include <catch2/catch.hpp>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

using namespace greenrun::test;

namespace {

struct Pty {
  int master = -1;
  pid_t pid = -1;
  std::string seen;

  explicit Pty(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               const winsize* size = nullptr) {
    pid = forkpty(&master, nullptr, nullptr, const_cast<winsize*>(size));
    if (pid == 0) {
      reset_signals();
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
  }
  ~Pty() {
    if (pid > 0 && waitpid(pid, nullptr, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (master >= 0) close(master);
  }
  void send(const std::string& s) { REQUIRE(write(master, s.data(), s.size()) == static_cast<ssize_t>(s.size())); }
  /// Reads until `text` has appeared (after `from`), or the timeout.
  bool wait_for(const std::string& text, double timeout_s = 10, size_t from = 0) {
    return eventually(
        [&] {
          pollfd p{master, POLLIN, 0};
          while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
            char buf[1024];
            ssize_t n = read(master, buf, sizeof buf);
            if (n <= 0) break;
            seen.append(buf, static_cast<size_t>(n));
          }
          return seen.find(text, from) != std::string::npos;
        },
        timeout_s);
  }
  int wait_exit(double timeout_s = 10) {
    int status = 0;
    if (!eventually([&] { wait_for("\x01", 0); return waitpid(pid, &status, WNOHANG) == pid; }, timeout_s)) return -1;
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("Ctrl-C at a terminal reaches the command once and greenrun still reports", "[terminal]") {
  TempDir dir;
  make_dirs(dir / "sys");
  Pty t({greenrun_bin(), "--", "sh", "-c", "trap 'echo got-INT; exit 5' INT; echo ready; while :; do sleep 0.02; done"},
        {{"GREENRUN_SYSFS_ROOT", dir / "sys"}});
  REQUIRE(t.wait_for("ready"));
  t.send("\x03");
  CHECK(t.wait_exit() == 5);
  t.wait_for("\x01", 0.2);
  CHECK(count(t.seen, "got-INT\r\n") == 1);  // the summary quotes the script too
  CHECK_THAT(t.seen, Catch::Contains("exited with status 5"));
}

TEST_CASE("Ctrl-Z and fg keep working under a job-control shell", "[terminal]") {
  if (access("/bin/bash", X_OK) != 0) SKIP_UNLESS_CI("needs /bin/bash for job control");
  TempDir dir;
  make_dirs(dir / "sys");
  Pty t({"/bin/bash", "--norc", "--noprofile", "-i"},
        {{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"PS1", "PROMPT> "}, {"TERM", "dumb"}});
  REQUIRE(t.wait_for("PROMPT> "));
  // The terminal echoes what is typed: wait for output that the typed line does not contain.
  t.send(greenrun_bin() + " -- sh -c 'echo ST$((1+1))RT; sleep 1; echo FIN$((2+2))'\n");
  REQUIRE(t.wait_for("ST2RT"));
  // Ctrl-Z while the command runs, not in the instant dash vforks `sleep`: a
  // vfork child stopped before its exec leaves its parent unstoppable (in
  // the kernel's vfork wait), in a plain shell as under greenrun.
  timespec settle{0, 300'000'000};
  nanosleep(&settle, nullptr);
  t.send("\x1a");
  INFO("terminal: " << t.seen);
  REQUIRE(t.wait_for("Stopped"));
  size_t mark = t.seen.size();
  t.send("fg\n");
  CHECK(t.wait_for("FIN4", 10, mark));
  CHECK(t.wait_for("exited with status 0", 10, mark));
  t.send("echo rc=$?\n");
  CHECK(t.wait_for("rc=0", 10, mark));
  t.send("exit\n");
  t.wait_exit();
}

TEST_CASE("live status on a terminal stopped with Ctrl-S: greenrun drops frames, signals still reach the command", "[terminal][live]") {
  TempDir dir;
  make_dirs(dir / "sys");
  const winsize size{24, 80, 0, 0};
  Pty t({greenrun_bin(), "--live", "--", "sh", "-c",
         // Nothing of the command's own goes to the stopped terminal (the shell's
         // "Terminated" for its sleep would block the shell there, not greenrun).
         "exec 2>/dev/null; trap 'echo term > \"$0\"; exit 3' TERM; echo ready; while :; do sleep 0.05; done", dir / "got"},
        {{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""}, {"TERM", "xterm"}, {"TZ", "UTC"}}, &size);
  REQUIRE(t.wait_for("ready"));
  REQUIRE(t.wait_for("greenrun  ", 10));  // the status line is up
  t.send("\x13");                        // Ctrl-S: the terminal takes no more output (IXON)
  // Several frames fall due while the terminal is stopped; a blocking write
  // would hold greenrun's main thread in the first of them.
  timespec frames{3, 0};
  nanosleep(&frames, nullptr);
  REQUIRE(kill(t.pid, SIGTERM) == 0);
  INFO("terminal: " << t.seen);
  CHECK(eventually([&] { return slurp(dir / "got") == "term\n"; }, 5));  // forwarded with the terminal still stopped
  t.send("\x11");  // Ctrl-Q: the summary can be written now
  CHECK(t.wait_exit() == 3);
  CHECK(t.wait_for("\x1b[r", 2));  // the scroll region given back
}
