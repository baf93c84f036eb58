#pragma once
// The tree reader for a command in cgroups of its own (cgroup.h): CPU time
// (and memory, with a memory group) from a few cgroup files per read,
// whatever the number of processes, exact for processes that lived between
// two reads and for daemons that left the tree's parentage. The member list
// (cgroup.procs), their disk I/O, the count of processes and, without a
// memory group, their memory are read less often (members_due).

#include <chrono>
#include <memory>
#include <unordered_set>

#include "process/cgroup.h"
#include "process/tree_options.h"
#include "process/tree_reader.h"

namespace greenrun {

class CgroupTreeReader : public TreeReader {
 public:
  /// `groups`: the command's groups, already joined (CommandCgroups::keep_joined).
  CgroupTreeReader(CommandCgroups groups, const std::string& procfs_root, double clk_tck, bool with_meminfo);
  /// The groups are empty until the command joins them: nothing to exclude.
  void prime() override {}
  void read(bool final, TreeSample& out) override;
  void reaped(pid_t pid, const IoCounters& io) override;
  void want_pids_every_read() override { pids_every_read_ = true; }
  CommandCgroups& groups() { return groups_; }

 private:
  void read_cpu(TreeSample& out);
  void read_members(bool final, TreeSample& out);
  /// The last read, and others as often as 0.5% of a core allows (every
  /// read for a small tree, every 20 s or so for 10,000 processes); with a
  /// memory group, at most every 10th read.
  bool members_due(bool final) const;

  CommandCgroups groups_;
  MachineStat machine_;
  PreadFile cpu_, cpu_split_, memory_;
  bool v2_cpu_ = false, v2_memory_ = false;
  std::string procs_path_;
  std::string buf_, procs_buf_;
  bool pids_every_read_ = false;
  uint64_t reads_ = 0;
  std::chrono::steady_clock::time_point last_members_{};
  double members_cost_s_ = 0;
  // From the last member read:
  std::vector<int> pids_;
  std::unordered_set<int> seen_;
  uint64_t reaped_unseen_ = 0;  // guarded by reap_mu_
  uint64_t members_rss_ = 0;  // only without a memory group
};

/// The reader for a run, chosen before the command starts.
struct TreeChoice {
  std::unique_ptr<TreeReader> reader;
  CgroupTreeReader* cgroup = nullptr;  // `reader`, when it reads cgroups
  TreeDescription description;
};

/// --tree auto: the command's cgroups where they can be made, else the /proc
/// walk with the reason; cgroup: fails with the reason instead; proc: the walk.
Result<TreeChoice> choose_tree_reader(TreeMethod wanted, const std::string& procfs_root, double clk_tck);
/// The /proc walk, with why it is used.
TreeChoice proc_tree_reader(const std::string& procfs_root, double clk_tck, std::string reason);

}  // namespace greenrun
