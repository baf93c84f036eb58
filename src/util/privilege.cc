#include "util/privilege.h"

#include <linux/capability.h>
#include <sys/auxv.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace greenrun {

namespace {

bool get_caps(__user_cap_data_struct (&data)[2]) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  return ::syscall(SYS_capget, &header, data) == 0;
}

void set_caps(__user_cap_data_struct (&data)[2]) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};  // pid 0: this thread only
  ::syscall(SYS_capset, &header, data);
}

}  // namespace

bool running_privileged() { return ::getauxval(AT_SECURE) != 0; }

std::string temp_dir(const EnvLookup& env, bool privileged) {
  const std::string tmp = privileged ? "" : env("TMPDIR").value_or("");
  return tmp.empty() ? "/tmp" : tmp;
}

AsUser::AsUser() {
  if (!running_privileged()) return;
  active_ = true;
  __user_cap_data_struct data[2] = {};
  if (get_caps(data)) {
    effective_[0] = data[0].effective;
    effective_[1] = data[1].effective;
    data[0].effective = data[1].effective = 0;
    set_caps(data);
  }
  // setfsuid returns the previous value whatever it does.
  fsuid_ = static_cast<uid_t>(::setfsuid(::getuid()));
  fsgid_ = static_cast<gid_t>(::setfsgid(::getgid()));
}

AsUser::~AsUser() {
  if (!active_) return;
  ::setfsgid(fsgid_);
  ::setfsuid(fsuid_);
  __user_cap_data_struct data[2] = {};
  if (!get_caps(data)) return;
  data[0].effective = effective_[0];
  data[1].effective = effective_[1];
  set_caps(data);
}

std::string untrusted_because(const struct stat& st) {
  if (st.st_uid != ::getuid() && st.st_uid != 0)
    return "it belongs to uid " + std::to_string(st.st_uid) + ", neither you nor root";
  if (st.st_mode & (S_IWGRP | S_IWOTH)) return std::string("others may write to it (") + (st.st_mode & S_IWOTH ? "o+w" : "g+w") + ")";
  return "";
}

void drop_inheritable_capabilities() {
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_data_struct data[2] = {};
  if (!get_caps(data)) return;
  data[0].inheritable = data[1].inheritable = 0;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  ::syscall(SYS_capset, &header, data);
}

}  // namespace greenrun
