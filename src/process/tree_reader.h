#pragma once
// What the sampler needs to know about the command's process tree and the
// machine's CPU at each CPU read: cumulative CPU seconds, memory, disk I/O
// and the members. Two readers implement it: the command's cgroup
// (cgroup_tree.h) and the /proc walk (here); tests drive the sampler with a
// fake one.

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "process/procfs.h"
#include "util/fs.h"

namespace greenrun {

struct TreeSample {
  /// Cumulative CPU seconds of the tree: live members plus reaped children.
  double user_s = 0, system_s = 0;
  /// Cumulative CPU seconds of the whole machine (busy, and busy + idle); 0 when unreadable.
  double machine_busy_s = 0, machine_total_s = 0;
  uint64_t rss_bytes = 0;       // resident memory of the live members now
  uint64_t max_rss_bytes = 0;   // the largest reaped child's peak (getrusage)
  bool io_valid = false;        // disk I/O is read every 10th time and at the end
  IoCounters io;
  bool meminfo_valid = false;   // machine memory in use: every 10th time and at the end
  double machine_used_bytes = 0;
  double machine_psutil_used_bytes = 0;  // as psutil counts "used" (see MemoryInUse)
  int running = 0;              // live members
  uint64_t processes_seen = 0;  // distinct members since the start
  std::vector<int> pids;        // live members
};

/// Which reader follows the command's tree, and why: for the report, the
/// summary, `greenrun sensors` and the log.
struct TreeDescription {
  std::string method;       // "cgroup" or "proc"
  std::string detail;       // cgroup: the files and groups read
  std::string reason;       // proc: why not a cgroup
  std::string memory_note;  // cgroup: why memory comes from /proc instead ("" when it does not)
  std::vector<std::string> cgroups;  // the groups made for the command
};

class TreeReader {
 public:
  virtual ~TreeReader() = default;
  /// Before the command starts (greenrun has no descendants yet).
  virtual void prime() = 0;
  /// The tree and the machine now; `final`: the command has exited.
  virtual void read(bool final, TreeSample& out) = 0;

  /// A source needs the members' pids at every read (a GPU's per-process
  /// share), not only with the slow fields.
  virtual void want_pids_every_read() {}

  /// Held by whoever reaps children, so that a child's CPU time moves from
  /// /proc into getrusage(RUSAGE_CHILDREN) between two reads, never during one.
  std::mutex& reap_mutex() { return reap_mu_; }
  /// A descendant greenrun reaps, with its storage I/O read from its zombie;
  /// call under reap_mutex().
  virtual void reaped(pid_t pid, const IoCounters& io) {
    (void)pid;
    reaped_io_.read_bytes += io.read_bytes;
    reaped_io_.write_bytes += io.write_bytes;
  }

 protected:
  std::mutex reap_mu_;
  IoCounters reaped_io_;  // guarded by reap_mu_
};

/// The machine-wide half of a read: /proc/stat every time, /proc/meminfo with the slow fields.
class MachineStat {
 public:
  MachineStat(const std::string& procfs_root, double clk_tck, bool with_meminfo);
  /// Sets the machine fields of `out`; returns the fork counter (0: unknown).
  uint64_t read(bool slow, TreeSample& out);

 private:
  PreadFile stat_, meminfo_;
  std::string buf_;
  double clk_tck_;
};

/// The /proc walk: greenrun's descendants (it is a child subreaper) found by
/// scanning /proc when a member may have forked, each member's files kept open.
class ProcfsTreeReader : public TreeReader {
 public:
  /// `procfs_root`: machine-wide files (stat, meminfo); `process_root`: the
  /// command's processes; `clk_tck`: clock ticks per second of the stat files.
  ProcfsTreeReader(const std::string& procfs_root, const std::string& process_root, pid_t self_pid, double clk_tck,
                   bool with_meminfo);
  void prime() override;
  void read(bool final, TreeSample& out) override;
  /// Also counts a process no tick saw (it lived between two).
  void reaped(pid_t pid, const IoCounters& io) override;

 private:
  ProcessTree tree_;
  MachineStat machine_;
  double clk_tck_;
  uint64_t reads_ = 0;
};

/// Machine memory in use from /proc/meminfo, bytes, two ways.
struct MemoryInUse {
  double used_bytes = 0;  // MemTotal - MemAvailable
  /// psutil 6.1.1's virtual_memory().used (CodeCarbon's ram_used_gb): MemTotal
  /// - MemFree - Buffers - Cached - SReclaimable, or MemTotal - MemFree where
  /// that is negative.
  double psutil_used_bytes = 0;
};
std::optional<MemoryInUse> parse_meminfo(std::string_view text);
/// MemTotal - MemAvailable, bytes.
std::optional<double> parse_meminfo_used(std::string_view text);

}  // namespace greenrun
