#include "cluster/slurm.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "util/fs.h"

namespace greenrun {

namespace {

int env_int(const EnvLookup& env, const char* name) {
  auto v = env(name);
  if (!v) return -1;
  return whole_in_range(parse_double(*v), 0, 1 << 30).value_or(-1);
}

// A directory only this user can use: created 0700, or an existing one that
// is a real directory owned by the user with mode 0700.
Result<std::string> private_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
    return Result<std::string>::fail("cannot create " + path + ": " + errno_text(errno));
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0)
    return Result<std::string>::fail(path + " is not a private directory of this user");
  return path;
}

}  // namespace

std::optional<SlurmStep> slurm_step(const EnvLookup& env) {
  auto job = env("SLURM_JOB_ID");
  if (!job || job->empty() || !env("SLURM_PROCID")) return std::nullopt;
  SlurmStep s;
  s.job_id = *job;
  s.step_id = env("SLURM_STEP_ID").value_or("");
  s.task = env_int(env, "SLURM_PROCID");
  s.local_task = env_int(env, "SLURM_LOCALID");
  s.node = env_int(env, "SLURM_NODEID");
  s.nodes = std::max(0, env_int(env, "SLURM_JOB_NUM_NODES"));
  s.tasks = std::max(0, env_int(env, "SLURM_NTASKS"));
  s.node_name = env("SLURMD_NODENAME").value_or("");
  s.gpus = env("SLURM_STEP_GPUS").value_or(env("CUDA_VISIBLE_DEVICES").value_or(""));
  return s;
}

Result<std::string> expand_placeholders(const std::string& path, const std::optional<SlurmStep>& step,
                                        const std::string& host, pid_t pid) {
  auto num = [](int v) { return v >= 0 ? std::to_string(v) : std::string(); };
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '%') {
      out += path[i];
      continue;
    }
    if (i + 1 == path.size()) return Result<std::string>::fail(path + ": a % at the end; write %% for a percent sign");
    const char c = path[++i];
    switch (c) {
      case '%': out += '%'; break;
      case 'j': out += step ? step->job_id : ""; break;
      case 's': out += step ? step->step_id : ""; break;
      case 't': out += step ? num(step->task) : ""; break;
      case 'n': out += step ? num(step->node) : ""; break;
      case 'h': out += host; break;
      case 'p': out += std::to_string(pid); break;
      default:
        return Result<std::string>::fail(path + ": unknown placeholder %" + std::string(1, c) +
                                         " (use %j job, %s step, %t task, %n node, %h host, %p pid, %% a percent sign)");
    }
  }
  return out;
}

NodeElection NodeElection::open(const std::optional<SlurmStep>& step, const std::string& shm_dir) {
  NodeElection e;
  if (!step) {
    e.always_ = e.leading_ = true;
    return e;
  }
  const std::string base = is_directory(shm_dir) ? shm_dir : real_env("TMPDIR").value_or("/tmp");
  auto dir = private_dir(base + "/greenrun-" + std::to_string(::geteuid()) + "-job" + step->job_id + "-step" +
                         (step->step_id.empty() ? "0" : step->step_id));
  if (dir) e.fd_ = ::open((*dir + "/node.lock").c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (e.fd_ < 0) {
    // Without a lock every rank counts the node: said in the report, never silent.
    e.problem_ = dir ? "cannot open the node lock: " + errno_text(errno) : dir.error();
    e.always_ = e.leading_ = true;
  }
  return e;
}

NodeElection& NodeElection::operator=(NodeElection&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    leading_ = o.leading_;
    always_ = o.always_;
    problem_ = std::move(o.problem_);
    o.fd_ = -1;
  }
  return *this;
}

NodeElection::~NodeElection() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock: another rank takes over at its next tick
}

bool NodeElection::try_lead() {
  if (leading_ || fd_ < 0) return leading_;
  leading_ = ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
  return leading_;
}

}  // namespace greenrun
