// The processes of the command's tree (process/fork_events.h): counted from
// the kernel's fork and exit events where it offers them (the proc connector,
// to root), else the processes seen at samples, reported as a lower bound.

#include <catch2/catch.hpp>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "helpers.h"
#include "process/fork_events.h"

using namespace greenrun;
using namespace greenrun::test;
using nlohmann::json;

namespace {

/// One netlink message of the proc connector, as the kernel sends it.
std::string event_message(const proc_event& ev, uint32_t seq = 0, uint32_t ack = 0) {
  std::string out(NLMSG_SPACE(sizeof(cn_msg) + sizeof ev), '\0');
  nlmsghdr h{};
  h.nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(sizeof(cn_msg) + sizeof ev));
  h.nlmsg_type = NLMSG_DONE;
  cn_msg m{};
  m.id = {CN_IDX_PROC, CN_VAL_PROC};
  m.seq = seq;
  m.ack = ack;
  m.len = sizeof ev;
  std::memcpy(out.data(), &h, sizeof h);
  std::memcpy(out.data() + NLMSG_HDRLEN, &m, sizeof m);
  std::memcpy(out.data() + NLMSG_HDRLEN + sizeof m, &ev, sizeof ev);
  return out;
}

std::string fork_event(pid_t parent, pid_t child_pid, pid_t child_tgid) {
  proc_event ev{};
  ev.what = proc_event::PROC_EVENT_FORK;
  ev.event_data.fork = {parent, parent, child_pid, child_tgid};
  return event_message(ev);
}

std::string exit_event(pid_t pid, pid_t tgid) {
  proc_event ev{};
  ev.what = proc_event::PROC_EVENT_EXIT;
  ev.event_data.exit.process_pid = pid;
  ev.event_data.exit.process_tgid = tgid;
  return event_message(ev);
}

}  // namespace

TEST_CASE("process count: forks from the tree join it, threads and strangers do not, an exited pid reused is not a member", "[fork-events]") {
  ProcessCount c;
  c.watch(100);
  // 100 forks 101 and a thread (102 in group 100); 101 forks 103; a stranger (500) forks 501.
  const std::string events = fork_event(100, 101, 101) + fork_event(100, 102, 100) + fork_event(101, 103, 103) +
                             fork_event(500, 501, 501) + exit_event(101, 101) + exit_event(102, 100) +
                             // 101 is reused by a process outside the tree, which forks.
                             fork_event(900, 101, 101) + fork_event(101, 104, 104);
  bool acked = false;
  CHECK(feed_proc_events(events, c, 7, &acked) == 0);
  CHECK_FALSE(acked);
  CHECK(c.started() == 3);  // 100, 101, 103
  CHECK(c.live() == 2);     // 100 (a thread's exit is not its group's) and 103

  SECTION("an acknowledgement of the listen request carries its error") {
    proc_event ack{};
    ack.what = proc_event::PROC_EVENT_NONE;
    ack.event_data.ack.err = EPERM;
    CHECK(feed_proc_events(event_message(ack, 591, 8), c, 7, &acked) == EPERM);  // the kernel's sequence, token + 1
    CHECK(acked);
    bool other = false;
    CHECK(feed_proc_events(event_message(ack, 592, 9), c, 7, &other) == 0);  // another listener's
    CHECK_FALSE(other);
  }
  SECTION("a truncated datagram is read up to where it breaks") {
    const std::string two = fork_event(103, 105, 105) + fork_event(103, 106, 106);
    feed_proc_events(two.substr(0, two.size() - 5), c, kNoToken, nullptr);
    CHECK(c.started() == 4);
  }
}

TEST_CASE("a shell that runs 200 short children: 201 processes as root (the kernel's count), 'at least' otherwise", "[fork-events][cli]") {
  TempDir dir;
  make_dirs(dir / "sys");
  ::chmod(dir.path().c_str(), 0777);
  const std::vector<std::string> cmd = {"--json", dir / "p.json", "--summary-file", dir / "s.txt", "--", "sh", "-c",
                                        "i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done"};
  ProcOptions opt;
  opt.env = {{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
  std::vector<std::string> argv = {greenrun_bin()};
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  if (geteuid() != 0) {
    WARN("the proc connector's count needs root: only the fallback is checked");
  } else if (auto events = ForkEvents::open(); !events) {
    WARN("no proc connector here (" << events.error() << "): only the fallback is checked");
  } else {
    auto r = run_proc(argv, opt);
    REQUIRE(r.status == 0);
    auto j = json::parse(slurp(dir / "p.json"));
    CHECK(j["processes"] == 201);  // the shell and its 200 children, each counted as the kernel started it
    CHECK(j["processes_counted_by"] == "proc connector");
    CHECK_THAT(slurp(dir / "s.txt"), Catch::Contains(", 201 processes"));
    std::filesystem::remove(dir / "p.json");
    std::filesystem::remove(dir / "s.txt");
    if (access("/usr/bin/setpriv", X_OK) != 0) return;
    argv.insert(argv.begin(), {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  }
  // Without the kernel's events: the processes seen at samples, said to be a lower bound.
  auto r = run_proc(argv, opt);
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto j = json::parse(slurp(dir / "p.json"));
  CHECK(j["processes"].get<int>() >= 1);
  CHECK(j["processes"].get<int>() <= 201);
  CHECK(j["processes_counted_by"] == "samples");
  CHECK_THAT(slurp(dir / "s.txt"), Catch::Contains(", at least " + std::to_string(j["processes"].get<int>()) + " process"));
}
