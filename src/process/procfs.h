#pragma once
// Parsers for the /proc files greenrun reads, and the tracker that follows the
// wrapped command's process tree from tick to tick.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "util/fs.h"

namespace greenrun {

/// The fields of /proc/PID/stat that greenrun uses (times in clock ticks).
struct PidStat {
  pid_t pid = 0;
  pid_t ppid = 0;
  char state = '?';
  uint64_t utime = 0, stime = 0, cutime = 0, cstime = 0;
  uint64_t starttime = 0;
  int64_t rss_pages = 0;
};
/// Splits after the last ')' because comm may contain spaces and parentheses.
std::optional<PidStat> parse_pid_stat(std::string_view text);

/// The aggregate "cpu" line of /proc/stat, in USER_HZ ticks.
struct CpuTimes {
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  /// "processes": forks since boot (threads included); 0 when absent.
  uint64_t forks = 0;
  uint64_t busy() const { return user + nice + system + irq + softirq + steal; }
  uint64_t total() const { return busy() + idle + iowait; }
};
std::optional<CpuTimes> parse_proc_stat_cpu(std::string_view text);

/// Storage-level I/O from /proc/PID/io.
struct IoCounters {
  uint64_t read_bytes = 0;
  uint64_t write_bytes = 0;
};
std::optional<IoCounters> parse_pid_io(std::string_view text);

/// The NSpid line of /proc/PID/status: the process's pid in each PID namespace
/// it is in, from the namespace of the procfs that was read down to its own
/// (proc(5); one entry where that is the same namespace). Empty when absent.
std::vector<pid_t> parse_nspid(std::string_view status);

/// Whether the process whose /proc/self is under `proc_root` is in the initial
/// PID namespace: its self/ns/pid link names the initial namespace's inode
/// (PROC_PID_INIT_INO, fixed by the kernel). Where the link cannot be read,
/// more than one NSpid entry in self/status means a nested namespace.
bool in_initial_pid_namespace(const std::string& proc_root);

/// Follows the descendants of `root_pid` (greenrun itself, a child subreaper)
/// through a /proc tree. New processes are found by a directory scan; a pid
/// seen once and found not to descend from the root is not read again, so a
/// tick costs one read per tree member, plus a getdents of /proc when the
/// caller asks for discovery (the sampler does only when something forked).
class ProcessTree {
 public:
  ProcessTree(std::string procfs_root, pid_t root_pid);

  struct Snapshot {
    /// utime+cutime and stime+cstime of the live members, in clock ticks.
    uint64_t user_ticks = 0;
    uint64_t system_ticks = 0;
    uint64_t rss_bytes = 0;
    /// Live members, zombies not counted.
    int processes = 0;
    /// Storage I/O of the live members (includes their reaped children).
    IoCounters io;
  };

  /// Reads every known member; with `discover`, first scans /proc for new ones.
  /// With `with_io`, also reads /proc/PID/io of each member.
  Snapshot sample(bool discover, bool with_io);

  /// Marks every process that exists now as not ours without reading it;
  /// called before the command starts, when greenrun has no descendants, so
  /// that the first scan reads only processes started since.
  void ignore_existing();

  /// Whether a scan is needed at all: greenrun has a child (alive or zombie)
  /// or known members remain. A subreaper with no child has no descendants.
  bool may_have_descendants() const;

  /// Pids of the members as of the last sample.
  void member_pids(std::vector<int>& out) const;

  /// Distinct processes that have been members since the start, and those
  /// greenrun reaped without a scan having seen them.
  uint64_t processes_seen() const { return seen_; }
  /// A descendant greenrun reaps: counted if no scan saw it.
  void count_reaped(pid_t pid) {
    if (!members_.count(pid)) ++seen_;
  }

 private:
  struct Member {
    uint64_t starttime = 0;
    PreadFile stat;  // kept open (up to kMaxOpen members): a tick then costs one pread
  };
  static constexpr size_t kMaxOpen = 256;

  void discover();
  bool read_member(pid_t pid, PidStat& st, const PreadFile* open_stat = nullptr);

  std::string root_;
  pid_t root_pid_;
  long page_size_;
  std::unordered_map<pid_t, Member> members_;
  size_t open_files_ = 0;
  std::unordered_set<pid_t> foreign_;
  uint64_t seen_ = 0;
  std::string buf_;
};


}  // namespace greenrun
