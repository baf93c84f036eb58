#include "cluster/slurm.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "util/fs.h"
#include "util/privilege.h"

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

bool safe_in_file_name(std::string_view value) {
  if (value.find('/') != std::string_view::npos || value.find("..") != std::string_view::npos) return false;
  return std::none_of(value.begin(), value.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

namespace {

/// A value for a message: control characters and bytes outside ASCII as \xNN.
std::string shown(std::string_view value) {
  std::string out;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    }
  }
  return out;
}

}  // namespace

Result<std::string> expand_placeholders(const std::string& path, const std::optional<SlurmStep>& step,
                                        const std::string& host, pid_t pid) {
  using R = Result<std::string>;
  auto num = [](int v) { return v >= 0 ? std::to_string(v) : std::string(); };
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '%') {
      out += path[i];
      continue;
    }
    if (i + 1 == path.size()) return R::fail(path + ": a % at the end; write %% for a percent sign");
    const char c = path[++i];
    std::string value, from;
    switch (c) {
      case '%': value = "%"; break;
      case 'j': value = step ? step->job_id : "", from = "SLURM_JOB_ID"; break;
      case 's': value = step ? step->step_id : "", from = "SLURM_STEP_ID"; break;
      case 't': value = step ? num(step->task) : ""; break;
      case 'n': value = step ? num(step->node) : ""; break;
      case 'h': value = host, from = "the host name"; break;
      case 'p': value = std::to_string(pid); break;
      default:
        return R::fail(path + ": unknown placeholder %" + std::string(1, c) +
                       " (use %j job, %s step, %t task, %n node, %h host, %p pid, %% a percent sign)");
    }
    if (c != '%' && !safe_in_file_name(value))
      return R::fail(path + ": %" + std::string(1, c) + " would be " + from + " '" + shown(value) +
                     "', which holds '/', '..' or a control character; it cannot be part of a file name");
    out += value;
  }
  return out;
}

NodeElection NodeElection::open(const std::optional<SlurmStep>& step, const EnvLookup& env, const std::string& shm_dir) {
  NodeElection e;
  if (!step) {
    e.always_ = e.leading_ = true;
    return e;
  }
  if (!safe_in_file_name(step->job_id) || !safe_in_file_name(step->step_id)) {
    e.problem_ = "the job or step id holds '/', '..' or a control character: no node lock";
    e.always_ = e.leading_ = true;
    return e;
  }
  // /dev/shm is the node's own; a TMPDIR may be shared by the nodes, so its lock names the node.
  const bool shm = is_directory(shm_dir);
  auto dir = private_dir((shm ? shm_dir : temp_dir(env)) + "/greenrun-" + std::to_string(::geteuid()) + "-job" + step->job_id +
                         "-step" + (step->step_id.empty() ? "0" : step->step_id) +
                         (shm ? "" : "-node" + std::to_string(std::max(step->node, 0))));
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
