#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "helpers.h"
#include "process/procfs.h"

using namespace greenrun;
using namespace greenrun::test;

namespace {
std::string stat_line(int pid, const std::string& comm, char state, int ppid, int utime, int stime, int cutime,
                      int cstime, int starttime, int rss, int threads = 0) {
  // Fields 1..24 with the ones greenrun does not read set to 0.
  std::string s = std::to_string(pid) + " (" + comm + ") " + state + " " + std::to_string(ppid);
  for (int f = 5; f <= 13; ++f) s += " 0";
  s += " " + std::to_string(utime) + " " + std::to_string(stime) + " " + std::to_string(cutime) + " " +
       std::to_string(cstime);
  s += " 0 0 " + std::to_string(threads) + " 0";  // fields 18..21: priority, nice, num_threads, itrealvalue
  s += " " + std::to_string(starttime) + " 0 " + std::to_string(rss);
  for (int f = 25; f <= 52; ++f) s += " 0";
  return s + "\n";
}
}  // namespace

TEST_CASE("pid stat: comm with spaces and parentheses", "[procfs]") {
  auto st = parse_pid_stat(stat_line(42, "evil) (name 1 2", 'R', 7, 11, 12, 13, 14, 999, 100));
  REQUIRE(st);
  CHECK(st->pid == 42);
  CHECK(st->ppid == 7);
  CHECK(st->state == 'R');
  CHECK(st->utime == 11);
  CHECK(st->stime == 12);
  CHECK(st->cutime == 13);
  CHECK(st->cstime == 14);
  CHECK(st->starttime == 999);
  CHECK(st->rss_pages == 100);
  CHECK(st->threads == 0);
  CHECK(parse_pid_stat(stat_line(42, "x", 'S', 1, 0, 0, 0, 0, 5, 7, 12))->threads == 12);
  CHECK_FALSE(parse_pid_stat("42 (truncated"));
  CHECK_FALSE(parse_pid_stat("42 (x) R 1 2 3"));
}

TEST_CASE("pid stat parses the real /proc/self/stat", "[procfs]") {
  std::string text = slurp("/proc/self/stat");
  auto st = parse_pid_stat(text);
  REQUIRE(st);
  CHECK(st->pid == getpid());
  CHECK(st->ppid == getppid());
  CHECK(st->rss_pages > 0);
}

TEST_CASE("/proc/stat cpu line", "[procfs]") {
  auto t = parse_proc_stat_cpu("cpu  100 5 50 1000 20 1 2 3 0 0\ncpu0 1 2 3 4\nctxt 9\nprocesses 4242\nprocs_running 1\n");
  REQUIRE(t);
  CHECK(t->forks == 4242);
  CHECK(t->busy() == 100 + 5 + 50 + 1 + 2 + 3);
  CHECK(t->total() == t->busy() + 1000 + 20);
  CHECK_FALSE(parse_proc_stat_cpu("cpu0 1 2 3\n"));
  CHECK_FALSE(parse_proc_stat_cpu("cpu  x y z w\n"));
}

TEST_CASE("/proc/PID/io", "[procfs]") {
  auto io = parse_pid_io("rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 8192\n"
                         "cancelled_write_bytes: 0\n");
  REQUIRE(io);
  CHECK(io->read_bytes == 4096);
  CHECK(io->write_bytes == 8192);
  CHECK_FALSE(parse_pid_io("rchar: 10\n"));
}

TEST_CASE("process tree follows descendants in a fixture /proc", "[procfs]") {
  TempDir dir;
  const std::string proc = dir.path();
  const int self = 100;
  auto put = [&](int pid, int ppid, int ut, int st, int cut, int start, int rss, char state = 'S') {
    write_file(proc + "/" + std::to_string(pid) + "/stat",
               stat_line(pid, "p" + std::to_string(pid), state, ppid, ut, st, cut, 0, start, rss));
    write_file(proc + "/" + std::to_string(pid) + "/io", "read_bytes: " + std::to_string(pid) +
                                                             "\nwrite_bytes: " + std::to_string(2 * pid) + "\n");
  };
  put(1, 0, 500, 500, 0, 1, 10);    // init: not ours
  put(self, 1, 7, 7, 0, 50, 10);    // greenrun itself: never counted
  put(90, 1, 900, 0, 0, 60, 10);    // unrelated
  put(101, self, 10, 1, 0, 200, 100);
  put(205, 101, 20, 2, 5, 300, 50);  // grandchild, listed after its parent
  put(150, 205, 3, 0, 0, 310, 25);   // pid wrapped: lower pid than its parent
  put(120, self, 1, 0, 0, 320, 4, 'Z');  // a zombie counts for CPU, not as running or for memory
  write_file(proc + "/self/stat", "not a pid\n");

  ProcessTree tree(proc, self);
  auto snap = tree.sample(1, true);
  const long page = sysconf(_SC_PAGESIZE);
  CHECK(snap.processes == 3);
  CHECK(snap.user_ticks == 10 + 20 + 5 + 3 + 1);
  CHECK(snap.system_ticks == 1 + 2);
  CHECK(snap.rss_bytes == static_cast<uint64_t>((100 + 50 + 25) * page));
  CHECK(snap.io.read_bytes == 101 + 205 + 150 + 120);
  CHECK(tree.processes_seen() == 4);

  SECTION("an exited member drops out and a reused pid is a new process") {
    // A reaped process's stat file fails to read, even through a descriptor
    // opened before (greenrun keeps members' files open): emptied here.
    write_file(proc + "/150/stat", "");
    std::filesystem::remove_all(proc + "/150");
    put(101, 90, 10, 1, 0, 999, 100);  // pid 101 reused by a child of an unrelated process
    auto later = tree.sample(1, false);  // nothing forked: no scan
    CHECK_FALSE(later.scanned);
    CHECK(later.processes == 1);  // only 205 left among the running ones
    CHECK(later.user_ticks == 20 + 5 + 1);
    auto rescanned = tree.sample(2, false);
    CHECK(rescanned.scanned);
    CHECK(rescanned.processes == 1);  // the new 101 is not ours: its parent is not in the tree
  }
  SECTION("processes that existed before the command are never read") {
    ProcessTree fresh(proc, self);
    fresh.ignore_existing(1);
    CHECK(fresh.sample(2, false).processes == 0);
    put(300, self, 1, 1, 0, 400, 8);  // started after: found
    CHECK(fresh.sample(3, false).processes == 1);
  }
  SECTION("known non-members are not re-read") {
    put(90, self, 900, 0, 0, 60, 10);  // same pid, same /proc entry: cannot have changed parent
    CHECK(tree.sample(2, false).processes == 3);
  }
}

TEST_CASE("process tree sees a real child", "[procfs]") {
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  ProcessTree tree("/proc", getpid());
  CHECK(tree.may_have_descendants());
  auto snap = tree.sample(0, false);
  CHECK(snap.processes >= 1);
  std::vector<int> pids;
  tree.member_pids(pids);
  CHECK(std::find(pids.begin(), pids.end(), child) != pids.end());
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  tree.sample(0, false);  // the member is gone
  CHECK_FALSE(tree.may_have_descendants());
}

TEST_CASE("a member whose run time has not moved is not read again", "[procfs]") {
  TempDir dir;
  const std::string proc = dir.path();
  const int self = 100;
  auto put = [&](int pid, int ppid, int ut, int threads, uint64_t runtime_ns) {
    write_file(proc + "/" + std::to_string(pid) + "/stat", stat_line(pid, "p", 'S', ppid, ut, 0, 0, 0, pid, 10, threads));
    write_file(proc + "/" + std::to_string(pid) + "/schedstat", std::to_string(runtime_ns) + " 0 0\n");
    write_file(proc + "/" + std::to_string(pid) + "/io", "read_bytes: 1\nwrite_bytes: 2\n");
  };
  put(101, self, 10, 1, 5000);  // single-threaded
  put(102, self, 20, 4, 7000);  // four threads: schedstat covers only the main one
  ProcessTree tree(proc, self);
  auto first = tree.sample(1, true);
  CHECK(first.scanned);
  CHECK(first.user_ticks == 30);
  auto second = tree.sample(1, true);  // both read in full once after discovery
  CHECK(second.stat_reads == 2);
  CHECK(second.schedstat_reads == 1);

  put(101, self, 11, 1, 5000);  // a changed stat behind an unchanged run time cannot happen: not read
  put(102, self, 21, 4, 7000);  // the threaded one is read every time
  auto idle = tree.sample(1, true);
  CHECK(idle.schedstat_reads == 1);
  CHECK(idle.stat_reads == 1);
  CHECK(idle.io_reads == 1);  // the idle member's I/O is what was read before
  CHECK(idle.user_ticks == 10 + 21);
  CHECK(idle.io.read_bytes == 2);

  put(101, self, 12, 1, 6000);  // it ran
  auto ran = tree.sample(1, false);
  CHECK(ran.stat_reads == 2);
  CHECK(ran.user_ticks == 12 + 21);

  SECTION("a scan only when a member may have forked") {
    put(300, 101, 1, 1, 100);  // 101 forked (it ran), seen once the machine's fork counter moves
    CHECK(tree.sample(2, false).processes == 3);
    put(102, self, 21, 1, 7000);  // 102 is down to one thread
    tree.sample(3, false);        // learns that, and reads the new 300 in full: they ran (as far as is known)
    tree.sample(3, false);        // 102's run time, now that it counts
    CHECK(tree.sample(4, false).scanned);  // the counter moved after members ran: scanned
    put(301, 300, 1, 1, 100);  // 300 forks, yet its run time is unchanged in this fixture: not looked for
    auto quiet = tree.sample(5, false);
    CHECK_FALSE(quiet.scanned);
    CHECK(quiet.stat_reads == 0);
    CHECK(quiet.processes == 3);
    put(300, 101, 2, 1, 200);  // as a real fork would show: 300 ran and the counter moved
    auto found = tree.sample(6, false);
    CHECK(found.scanned);
    CHECK(found.processes == 4);
  }
}

TEST_CASE("sleeping real children cost one schedstat read each per sample", "[procfs]") {
  if (access("/proc/self/schedstat", R_OK) != 0) SKIP_TEST("no /proc/PID/schedstat on this kernel");
  std::vector<pid_t> kids;
  for (int i = 0; i < 50; ++i) {
    pid_t p = fork();
    if (p == 0) {  // exec: a sanitizer's runtime may start a thread in a forked child of this process
      execlp("sleep", "sleep", "60", static_cast<char*>(nullptr));
      _exit(127);
    }
    kids.push_back(p);
  }
  ProcessTree tree("/proc", getpid());
  REQUIRE(eventually([&] { return tree.sample(0, false).processes == 50; }));
  // Each was read in full once after being found; they are asleep since.
  auto full = tree.sample(0, false);
  eventually([&] {
    full = tree.sample(0, false);
    return full.stat_reads == 0;
  });
  CHECK(full.stat_reads == 0);
  CHECK(full.schedstat_reads == 50);
  CHECK(full.processes == 50);
  for (pid_t p : kids) kill(p, SIGKILL);
  for (pid_t p : kids) waitpid(p, nullptr, 0);
}

TEST_CASE("NSpid: the pid in each namespace, outermost first", "[procfs]") {
  CHECK(parse_nspid("Name:\tpython\nTgid:\t7\nNgid:\t0\nPid:\t7\nNStgid:\t40007\t7\nNSpid:\t40007\t7\nNSpgid:\t1\n") ==
        std::vector<pid_t>{40007, 7});
  CHECK(parse_nspid("Name:\tpython\nNSpid:\t22160\n") == std::vector<pid_t>{22160});
  CHECK(parse_nspid("Name:\tpython\nPid:\t7\n").empty());  // a kernel without CONFIG_PID_NS
}
