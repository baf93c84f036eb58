#include "util/privilege.h"

#include <linux/capability.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace greenrun {

bool running_privileged() { return ::getauxval(AT_SECURE) != 0; }

bool user_may_read(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

void drop_inheritable_capabilities() {
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return;
  data[0].inheritable = data[1].inheritable = 0;
  ::syscall(SYS_capset, &header, data);
}

}  // namespace greenrun
