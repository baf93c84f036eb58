#pragma once
// The processes started in the command's tree, counted as the kernel starts
// them. The proc connector (netlink, CN_IDX_PROC) reports every fork and exit
// on the machine; a fork whose parent is in the tree adds its child to it.
// The kernel offers it to CAP_NET_ADMIN in the initial user and PID namespaces
// only (root on the host): elsewhere the report counts the processes seen at
// samples, a lower bound, and says so.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "util/result.h"

namespace greenrun {

/// The tree's processes from fork and exit events, in the kernel's order.
class ProcessCount {
 public:
  /// The tree's first process (the command), counted.
  void watch(pid_t root);
  /// A new task: a process (child_pid == child_tgid) whose parent process is
  /// in the tree joins it; a thread does not count.
  void fork(pid_t parent_tgid, pid_t child_pid, pid_t child_tgid);
  /// A task ended; a process (pid == tgid) leaves the tree, so that its pid,
  /// reused, is not taken for a member.
  void exit(pid_t pid, pid_t tgid);
  /// Processes started in the tree, the first included.
  uint64_t started() const { return started_; }
  size_t live() const { return members_.size(); }

 private:
  std::unordered_set<pid_t> members_;
  uint64_t started_ = 0;
};

/// Feeds the proc connector's events in one netlink datagram to `count`.
/// Returns the error of the kernel's answer to a request that carried
/// `ack_token` (the answer carries ack_token + 1) if the datagram holds it
/// (0: none, or a success; `acked` says which), so that the listener's start
/// can be checked.
int feed_proc_events(std::string_view datagram, ProcessCount& count, uint32_t ack_token, bool* acked);
/// A token no request carries.
inline constexpr uint32_t kNoToken = 0xfffffffe;

/// The proc connector's socket, listening.
class ForkEvents {
 public:
  /// Listening before the command starts, or why not (not root, a namespace
  /// of its own, an old kernel).
  static Result<std::unique_ptr<ForkEvents>> open();
  ~ForkEvents();
  ForkEvents(const ForkEvents&) = delete;
  ForkEvents& operator=(const ForkEvents&) = delete;

  void watch(pid_t root) { count_.watch(root); }
  /// Takes every event queued (never waits). From one thread at a time.
  void drain();
  uint64_t started() const { return count_.started(); }
  /// False once the socket's buffer overflowed: events were lost, and the
  /// count is a lower bound.
  bool complete() const { return !lost_; }

 private:
  explicit ForkEvents(int fd) : fd_(fd) {}
  int fd_;
  ProcessCount count_;
  bool lost_ = false;
};

}  // namespace greenrun
