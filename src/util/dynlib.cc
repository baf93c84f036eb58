#include "util/dynlib.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "util/fs.h"
#include "util/privilege.h"

namespace greenrun {

namespace {

/// The name dlopen is given for a library opened as `fd`: /proc/self/fd/N,
/// with a different number of slashes each time. The loader matches names
/// before files: an earlier library loaded as /proc/self/fd/N (never
/// unloaded, -z nodelete) must not be taken for the one now behind N.
std::string fd_name(int fd) {
  static std::atomic<int> loads{0};
  return "/proc/self/fd" + std::string(static_cast<size_t>(loads.fetch_add(1) % 2000) + 1, '/') + std::to_string(fd);
}

}  // namespace

DynLib::~DynLib() {
  if (handle_) ::dlclose(handle_);
}

Status check_trusted_file(const std::string& path, std::string_view what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return {};  // a missing library is not found later, in the usual words
  struct stat st {};
  const bool statted = ::fstat(fd, &st) == 0;
  ::close(fd);
  const std::string why = statted ? untrusted_because(st) : "it cannot be examined";
  if (why.empty()) return {};
  return Status::fail(std::string(what) + " " + path + ": greenrun loads only a library of yours or root's that no one else " +
                      "may write, and " + why + "; chown it or chmod go-w " + path + ", or copy it somewhere of your own");
}

void* DynLib::open_path(const std::string& path) {
  // Checked and loaded through one descriptor: the file examined is the file loaded.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (error_.empty()) error_ = path + ": " + errno_text(errno);
    return nullptr;
  }
  struct stat st {};
  const std::string why = ::fstat(fd, &st) == 0 ? untrusted_because(st) : "it cannot be examined";
  void* handle = nullptr;
  if (!why.empty()) {
    if (error_.empty()) error_ = path + " not loaded: " + why + " (a library greenrun loads must be yours or root's and writable by no one else)";
  } else {
    handle = ::dlopen(fd_name(fd).c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle && error_.empty()) {
      const char* e = ::dlerror();
      error_ = path + ": " + (e ? e : "cannot be loaded");
    }
  }
  ::close(fd);  // the mapping stays
  return handle;
}

bool DynLib::open(const std::vector<std::string>& names) {
  error_.clear();
  for (const auto& n : names) {
    if (n.find('/') != std::string::npos) {
      handle_ = open_path(n);
    } else {
      handle_ = ::dlopen(n.c_str(), RTLD_NOW | RTLD_LOCAL);
      const char* e = handle_ ? nullptr : ::dlerror();
      if (error_.empty() && e) error_ = e;
    }
    if (handle_) {
      path_ = n;
      return true;
    }
  }
  return false;
}

void* DynLib::symbol(std::initializer_list<const char*> names) const {
  if (!handle_) return nullptr;
  for (const char* n : names)
    if (void* p = ::dlsym(handle_, n)) return p;
  return nullptr;
}

}  // namespace greenrun
