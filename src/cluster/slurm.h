#pragma once
// greenrun under Slurm: the step it runs in, per-rank output paths, and the
// election that makes one rank per node count the node's machine-level
// counters (RAPL, psys, unbound GPUs), so that the ranks' reports add up to
// the node's energy once, not once per rank.

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "util/env.h"
#include "util/result.h"

namespace greenrun {

/// The Slurm task greenrun runs as (from srun's environment).
struct SlurmStep {
  std::string job_id, step_id;
  int task = -1;        // SLURM_PROCID: the global rank
  int local_task = -1;  // SLURM_LOCALID: the rank on this node
  int node = -1;        // SLURM_NODEID
  int nodes = 0;        // SLURM_JOB_NUM_NODES
  int tasks = 0;        // SLURM_NTASKS
  std::string node_name;  // SLURMD_NODENAME
  std::string gpus;       // SLURM_STEP_GPUS, else CUDA_VISIBLE_DEVICES
};

/// The step, when SLURM_JOB_ID and SLURM_PROCID are set.
std::optional<SlurmStep> slurm_step(const EnvLookup& env);

/// Whether a value from outside (a job id, a host name) may become part of a
/// file name: no '/', no "..", no control character (bytes below 0x20, 0x7f).
bool safe_in_file_name(std::string_view value);

/// An output path with its placeholders expanded: %j job id, %s step, %t task
/// rank, %n node id, %h host, %p greenrun's pid, %% a percent sign. Outside
/// Slurm %j, %s, %t and %n are empty. Any other %x is an error, and so is a
/// value that is not safe_in_file_name (SLURM_JOB_ID=../../x would leave the
/// directory the path names): refused, never altered into another name.
Result<std::string> expand_placeholders(const std::string& path, const std::optional<SlurmStep>& step,
                                        const std::string& host, pid_t pid);

/// One rank per node of a job step counts the node's machine-level
/// counters: the one holding an exclusive lock on a file in a directory
/// private to the user and the step (/dev/shm, else TMPDIR; /tmp with raised privileges). The others try
/// again at every tick, so when that rank ends another takes over.
class NodeElection {
 public:
  /// Outside Slurm there is nothing to elect: always the meter. Where
  /// `shm_dir` is missing, the lock is under temp_dir(env) (util/privilege.h).
  static NodeElection open(const std::optional<SlurmStep>& step, const EnvLookup& env = real_env,
                           const std::string& shm_dir = "/dev/shm");
  NodeElection() = default;
  NodeElection(NodeElection&& o) noexcept { *this = std::move(o); }
  NodeElection& operator=(NodeElection&& o) noexcept;
  NodeElection(const NodeElection&) = delete;
  NodeElection& operator=(const NodeElection&) = delete;
  ~NodeElection();

  /// Tries to become the node's meter; true when this rank is (now or already).
  bool try_lead();
  bool leading() const { return leading_; }
  const std::string& problem() const { return problem_; }

 private:
  int fd_ = -1;
  bool leading_ = false;
  bool always_ = false;
  std::string problem_;
};

}  // namespace greenrun
