#pragma once
// The command's own cgroups. Where greenrun may make a group below its own
// (cgroup v2, else a v1 cpuacct hierarchy; a memory controller in either),
// the command joins it before exec, and its whole tree, daemons that
// double-fork included, is read from a few files per tick whatever its size.
// greenrun never touches a group it did not make, never moves a process it did
// not start and never writes a limit; where it cannot, it says why and the
// caller walks /proc instead.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace greenrun {

/// A cgroup hierarchy mounted somewhere, from /proc/self/mountinfo.
struct CgroupMount {
  std::string dir;   // the mount point: /sys/fs/cgroup/unified
  std::string root;  // the hierarchy's path mounted there: "/", or a cgroup namespace's root
  bool v2 = false;
  std::vector<std::string> options;  // super options: rw, cpuacct, memory, name=systemd, nsdelegate
  bool read_only = false;            // the mount or the superblock
  bool has(std::string_view option) const;
};
std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mountinfo);

/// One line of /proc/self/cgroup: "4:memory:/a/b", or "0::/a/b" for v2.
struct CgroupMembership {
  bool v2 = false;
  std::vector<std::string> controllers;  // v1: memory, cpu, cpuacct, name=systemd
  std::string path;
};
std::vector<CgroupMembership> parse_proc_cgroup(std::string_view text);

/// The directory of greenrun's own group in the hierarchy mounted at `m`:
/// "/sys/fs/cgroup/memory/a/b". Empty when greenrun's group is not below what is mounted there.
std::string own_group_dir(const CgroupMount& m, const std::vector<CgroupMembership>& own);

/// The tree's CPU time from cpu.stat (v2), microseconds.
struct CgroupCpu {
  uint64_t usage_us = 0, user_us = 0, system_us = 0;
};
std::optional<CgroupCpu> parse_cgroup_cpu_stat(std::string_view text);
/// The same from v1 cpuacct.usage (nanoseconds, exact) split by the ratio of
/// cpuacct.stat's user and system (clock ticks, sampled).
std::optional<CgroupCpu> parse_cpuacct(std::string_view usage, std::string_view stat);
/// Resident memory charged to the group from memory.stat: anonymous memory
/// plus mapped file pages (v1: total_rss + total_mapped_file; v2: anon + file_mapped).
std::optional<uint64_t> parse_cgroup_resident(std::string_view memory_stat, bool v2);
/// The pids of a cgroup.procs file.
void parse_cgroup_procs(std::string_view text, std::vector<int>& out);

/// One group greenrun made for the command.
struct CommandGroup {
  std::string dir;
  bool v2 = false;
  bool cpu = false;     // the tree's CPU time is read here
  bool memory = false;  // and its memory
  int procs_fd = -1;    // cgroup.procs, open for writing: the command joins through it
  int dir_fd = -1;      // v2: the directory, for clone3 CLONE_INTO_CGROUP
};

/// Where greenrun looks for its own groups: the live /proc/self (tests give a fixture).
struct CgroupPaths {
  std::string proc_self = "/proc/self";
};

/// The command's groups: made before the spawn, removed (once empty) when destroyed.
class CommandCgroups {
 public:
  /// Makes a group for the command below greenrun's own, one per hierarchy
  /// used. Fails with the reason for each hierarchy that was not usable when
  /// none can count CPU time.
  static Result<CommandCgroups> create(const CgroupPaths& paths = {});
  CommandCgroups(CommandCgroups&& other) noexcept;
  CommandCgroups& operator=(CommandCgroups&& other) noexcept;
  CommandCgroups(const CommandCgroups&) = delete;
  CommandCgroups& operator=(const CommandCgroups&) = delete;
  ~CommandCgroups();

  const std::vector<CommandGroup>& groups() const { return groups_; }
  /// The descriptors the command writes "0" to before exec.
  std::vector<int> join_fds() const;
  /// The v2 group the command is born in (its index in join_fds() and its
  /// directory), if any: joining it that way costs nothing.
  std::optional<std::pair<size_t, int>> birth_group() const;
  /// After the spawn, with the errno of each join (0: joined, or born there),
  /// in join_fds() order: drops the groups the command is not in. False when
  /// none that counts CPU time remains.
  bool keep_joined(const std::vector<int>& join_errors);
  /// Why memory is not read from a group ("" when it is).
  const std::string& memory_note() const { return memory_note_; }
  /// "cgroup v2 cpu.stat (DIR), cgroup v1 memory.stat (DIR)"
  std::string description() const;
  std::vector<std::string> dirs() const;
  /// Removes the empty groups that earlier greenrun runs, now gone, left next
  /// to this run's (a killed greenrun cannot remove its own). Done after the
  /// spawn: it costs the command's start nothing.
  void remove_leftovers() const;

 private:
  CommandCgroups() = default;
  /// Removes the groups; one where a descendant still runs stays.
  void remove();
  std::vector<CommandGroup> groups_;
  std::vector<std::string> parents_;  // where leftovers are looked for
  std::string memory_note_;
};

/// The name greenrun gives its groups: "greenrun-PID" (with "-N" when a
/// leftover of an earlier greenrun of the same pid is still populated).
/// Returns the pid of such a name, or 0.
pid_t cgroup_owner(std::string_view name);

}  // namespace greenrun
