#include "util/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

namespace greenrun {

std::string errno_text(int err) { return std::strerror(err); }

int read_file(const std::string& path, std::string& out) {
  out.clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  // Regular files: one allocation of the right size and one read. (Growing a
  // string 4 KiB at a time touches twice the memory, and fresh pages are what
  // start-up costs most on virtual machines.)
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 4096) {
    out.resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (got < out.size()) {
      ssize_t n = ::read(fd, out.data() + got, out.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    out.resize(got);
    ::close(fd);
    return 0;
  }
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    // A short read of a regular, proc or sysfs file is its end: skip the
    // extra read(2) that would return 0 (it shows in the sampler's cost).
    if (static_cast<size_t>(n) < sizeof buf) break;
  }
  ::close(fd);
  return 0;
}

std::optional<std::string> read_file(const std::string& path) {
  std::string out;
  if (read_file(path, out) != 0) return std::nullopt;
  return out;
}

std::optional<std::string> read_line(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::nullopt;
  auto nl = text->find('\n');
  if (nl != std::string::npos) text->resize(nl);
  return text;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> parse_u64(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_double(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

bool path_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = ::opendir(path.c_str());
  if (!d) return names;
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

PreadFile::PreadFile(PreadFile&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) { other.fd_ = -1; }

PreadFile& PreadFile::operator=(PreadFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

PreadFile::~PreadFile() {
  if (fd_ >= 0) ::close(fd_);
}

int PreadFile::open(const std::string& path) {
  if (fd_ >= 0) ::close(fd_);
  path_ = path;
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  return fd_ < 0 ? errno : 0;
}

int PreadFile::read(std::string& out) const {
  out.clear();
  if (fd_ < 0) return EBADF;
  char buf[4096];
  off_t offset = 0;
  for (;;) {
    ssize_t n = ::pread(fd_, buf, sizeof buf, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    offset += n;
    if (static_cast<size_t>(n) < sizeof buf) break;
  }
  return 0;
}

namespace {

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool write_all(int fd, std::string_view content) {
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Status atomic_write(const std::string& path, std::string_view content) {
  // A device or pipe (/dev/null, /dev/stderr, a FIFO) is written in place:
  // renaming a temporary file over it would replace the device with a file.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return Status::fail("cannot open " + path + ": " + errno_text(errno));
    bool ok = write_all(fd, content);
    int err = errno;
    ::close(fd);
    if (!ok) return Status::fail("cannot write " + path + ": " + errno_text(err));
    return {};
  }
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::fail("cannot create " + tmp + ": " + errno_text(errno));
  if (!write_all(fd, content) || ::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status::fail("cannot write " + tmp + ": " + errno_text(err));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status::fail("cannot rename " + tmp + " to " + path + ": " + errno_text(err));
  }
  return {};
}

Status check_writable(const std::string& path, std::string_view what) {
  std::string w(what);
  if (path.empty()) return Status::fail(w + " path is empty");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::fail(w + " path " + path + " is a directory; give a file name inside it");
    if (!S_ISREG(st.st_mode)) {  // a device or FIFO: written in place, so it must open for writing
      if (::access(path.c_str(), W_OK) != 0)
        return Status::fail("cannot write " + w + " to " + path + ": " + errno_text(errno));
      return {};
    }
    if (::access(path.c_str(), W_OK) != 0)
      return Status::fail("cannot write " + w + " file " + path + ": " + errno_text(errno) +
                          "; choose another path or fix its permissions");
  }
  std::string dir = dir_of(path);
  if (!is_directory(dir))
    return Status::fail("cannot write " + w + " file " + path + ": directory " + dir +
                        " does not exist; create it first (mkdir -p " + dir + ")");
  // access(W_OK) is not enough (read-only mounts, ACLs): create and remove a probe file.
  std::string probe = path + ".greenrun-probe." + std::to_string(::getpid());
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return Status::fail("cannot write " + w + " file " + path + ": " + errno_text(errno) + " in " + dir +
                        "; choose a writable directory");
  ::close(fd);
  ::unlink(probe.c_str());
  return {};
}

Status locked_append(const std::string& path, std::string_view header, std::string_view content) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::fail("cannot open " + path + ": " + errno_text(errno));
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      int err = errno;
      ::close(fd);
      return Status::fail("cannot lock " + path + ": " + errno_text(err));
    }
  }
  struct stat st {};
  ::fstat(fd, &st);
  std::string out;
  if (!header.empty()) {
    if (st.st_size == 0) {
      out.append(header);
      out.push_back('\n');
    } else {
      std::string first;
      char buf[4096];
      off_t off = 0;
      for (;;) {
        ssize_t n = ::pread(fd, buf, sizeof buf, off);
        if (n <= 0) break;
        first.append(buf, static_cast<size_t>(n));
        off += n;
        if (first.find('\n') != std::string::npos) break;
      }
      auto nl = first.find('\n');
      if (nl != std::string::npos) first.resize(nl);
      if (!first.empty() && first.back() == '\r') first.pop_back();
      if (first != header) {
        ::close(fd);
        return Status::fail(path + " has a different header than greenrun writes; refusing to append (use a new file)");
      }
      // Repair a file whose last row lacks its newline rather than glue two rows.
      char last = '\n';
      if (::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') out.push_back('\n');
    }
  }
  out.append(content);
  if (!out.empty() && out.back() != '\n') out.push_back('\n');
  bool ok = write_all(fd, out);
  int err = errno;
  ::close(fd);  // releases the lock
  if (!ok) return Status::fail("cannot append to " + path + ": " + errno_text(err));
  return {};
}

}  // namespace greenrun
