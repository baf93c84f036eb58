#pragma once
// greenrun may run with more privilege than its user: with file capabilities
// (setcap cap_perfmon+ep, as the README suggests for perf) or setuid. Then
// everything the user names is a way to act with that privilege: a library
// to load, a root directory to read, a file to read. See man greenrun, SECURITY.

#include <sys/stat.h>
#include <sys/types.h>

#include <string>

#include "util/env.h"

namespace greenrun {

/// The kernel's AT_SECURE: greenrun was started with raised privileges.
bool running_privileged();

/// Where greenrun makes its own files of a run (the marks FIFO, the Slurm
/// node lock): TMPDIR, except with raised privileges (the user's variable
/// would choose where a privileged process creates files) or when it is
/// unset or empty: /tmp.
std::string temp_dir(const EnvLookup& env, bool privileged = running_privileged());

/// While an AsUser lives, the calling thread opens files with the real
/// user's permissions only: its effective capabilities are cleared and its
/// filesystem uid and gid are the real ones (a setuid greenrun); both are
/// restored when it ends. Per thread (raw capset, setfsuid): the sampler
/// keeps its capabilities. Does nothing without raised privileges.
class AsUser {
 public:
  AsUser();
  ~AsUser();
  AsUser(const AsUser&) = delete;
  AsUser& operator=(const AsUser&) = delete;

 private:
  bool active_ = false;
  unsigned effective_[2] = {0, 0};
  uid_t fsuid_ = 0;
  gid_t fsgid_ = 0;
};

/// Why a file greenrun would load or trust (a library, a config file naming
/// one) cannot be trusted: it must belong to the user running greenrun or to
/// root and be writable by no one else. "" when it can be trusted. `st` is
/// the open file's fstat.
std::string untrusted_because(const struct stat& st);

/// Clears the inheritable and ambient capability sets of the calling
/// process (the command's, between fork and exec): nothing greenrun was
/// given passes on to the command.
void drop_inheritable_capabilities();

}  // namespace greenrun
