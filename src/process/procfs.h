#pragma once
// Parsers for the /proc files greenrun reads, and the tracker that follows the
// wrapped command's process tree from tick to tick.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
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
  int64_t threads = 0;  // num_threads (field 20)
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

/// The first field of /proc/PID/schedstat: the nanoseconds the process's main
/// thread has run. Cheap to read (three numbers), exact, and it grows whenever
/// that thread runs at all.
std::optional<uint64_t> parse_schedstat_runtime(std::string_view text);

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
/// seen once and found not to descend from the root is not read again while
/// its /proc entry stays the same.
///
/// A tick costs one pread per member: a single-threaded member whose own run
/// time (/proc/PID/schedstat) has not moved since its last full read cannot
/// have changed its CPU times, its children's (it would have had to wait() for
/// them), its memory or its I/O, so its stat file is not read again. Members
/// with several threads are read in full every time (schedstat covers only the
/// main thread). The scan runs only when the caller saw the machine fork and a
/// member may have forked (one ran, one vanished, one has threads, or there is
/// none yet).
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
    /// Files read this time: stat, schedstat and io files, and whether /proc was scanned.
    int stat_reads = 0, schedstat_reads = 0, io_reads = 0;
    bool scanned = false;
  };

  /// Reads every known member, then scans /proc for new ones when
  /// `may_scan`, the machine's fork counter `forks` moved since the last scan
  /// (0: unknown) and a member may have forked since. With `with_io`, also
  /// reads the I/O of the members that ran since theirs was read.
  Snapshot sample(uint64_t forks, bool with_io, bool may_scan = true);

  /// Marks every process that exists now as not ours without reading it;
  /// called before the command starts, when greenrun has no descendants, so
  /// that the first scan reads only processes started since. `forks`: the
  /// machine's fork counter now.
  void ignore_existing(uint64_t forks = 0);

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
  /// A descriptor closed on destruction.
  class Fd {
   public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Fd& operator=(Fd&& o) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd();
    int get() const { return fd_; }

   private:
    int fd_ = -1;
  };
  struct Member {
    uint64_t starttime = 0;
    Fd stat, schedstat;  // kept open while descriptors allow: a tick then costs one pread
    bool has_schedstat = true;
    uint64_t runtime_ns = 0;  // schedstat at the last full read
    PidStat last;             // the last full read
    IoCounters io;
    bool io_stale = true;     // ran since its I/O was read
  };
  /// A pid that is not ours, with the inode of its /proc entry when it was
  /// judged: a new process under the same pid gets a new entry.
  struct Foreign {
    uint64_t ino = 0;
    uint64_t scan = 0;  // the last scan that listed it
  };

  void discover();
  bool read_stat(pid_t pid, int fd, PidStat& st);
  /// Reads a member; false when it is gone. Sets `ran` when it may have run since the last read.
  bool refresh(pid_t pid, Member& m, bool& ran, Snapshot& snap);
  /// Keeps a member's files open while descriptors allow (see procfs.cc).
  void open_files(pid_t pid, Member& m);
  void close_files(Member& m);
  bool fd_available();
  void read_io(pid_t pid, Member& m, Snapshot& snap);
  std::string path(pid_t pid, const char* file) const;

  std::string root_;
  pid_t root_pid_;
  long page_size_;
  std::unordered_map<pid_t, Member> members_;
  size_t open_schedstat_ = 0, open_stat_ = 0, open_fds_ = 0;
  uint64_t fd_limit_ = 0;  // the soft limit on descriptors as last seen
  std::unordered_map<pid_t, Foreign> foreign_;
  uint64_t scans_ = 0;
  uint64_t forks_at_scan_ = 0;
  /// A member ran or vanished since the last scan: it may have forked.
  bool dirty_ = true;
  uint64_t seen_ = 0;
  std::string buf_, page_;
};

}  // namespace greenrun
