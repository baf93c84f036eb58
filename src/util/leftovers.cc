#include "util/leftovers.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

namespace greenrun {

namespace {

bool old_enough(const struct stat& st) {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const double age = static_cast<double>(now.tv_sec - st.st_mtim.tv_sec) +
                     static_cast<double>(now.tv_nsec - st.st_mtim.tv_nsec) / 1e9;
  return age > kLeftoverAgeS;
}

// Whether the entry `name` of `dir_fd` is a leftover: checked on the file
// itself, opened without following a link and without blocking (a FIFO opens
// for reading at once), then locked if nobody holds it.
bool leftover(int dir_fd, const char* name, mode_t type) {
  const int fd = ::openat(dir_fd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  const bool gone = ::fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == type && st.st_uid == ::geteuid() &&
                    old_enough(st) && ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  ::close(fd);
  return gone;
}

}  // namespace

bool hold_while_alive(int fd) { return ::flock(fd, LOCK_EX | LOCK_NB) == 0; }

std::vector<std::string> remove_leftovers(const std::string& dir, std::string_view prefix, mode_t type) {
  std::vector<std::string> removed;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return removed;
  const int dir_fd = ::dirfd(d);
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name.substr(0, prefix.size()) != prefix || name.size() == prefix.size()) continue;
    if (e->d_type != DT_UNKNOWN && e->d_type != (type == S_IFIFO ? DT_FIFO : DT_REG)) continue;
    // In a sticky directory (/tmp) only the owner replaces the name between
    // the check and the unlink; elsewhere whoever could do so could remove it.
    if (leftover(dir_fd, e->d_name, type) && ::unlinkat(dir_fd, e->d_name, 0) == 0) removed.emplace_back(name);
  }
  ::closedir(d);
  return removed;
}

}  // namespace greenrun
