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
#include <climits>
#include <cmath>
#include <cstring>
#include <cstdio>

#include "util/leftovers.h"

namespace greenrun {

std::string errno_text(int err) { return std::strerror(err); }

int read_file(const std::string& path, std::string& out) {
  out.clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  // Most files greenrun reads (all of /proc and /sys) fit in one 4 KiB read:
  // no fstat(2) for them, the first read says. A larger regular file is then
  // sized once and read into one allocation of the right size. (Growing a
  // string 4 KiB at a time touches twice the memory, and fresh pages are what
  // start-up costs most on virtual machines.)
  char buf[4096];
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    ::close(fd);
    return err;
  }
  // A short read of a regular, proc or sysfs file is its end: skip the extra
  // read(2) that would return 0 (it shows in the sampler's cost).
  if (static_cast<size_t>(n) < sizeof buf) {
    out.assign(buf, static_cast<size_t>(n));
    ::close(fd);
    return 0;
  }
  struct stat st {};
  const size_t size = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) : 0;
  out.reserve(std::max(size, 2 * sizeof buf));
  out.assign(buf, sizeof buf);
  while (size == 0 || out.size() < size) {
    if (out.size() == out.capacity()) out.reserve(2 * out.capacity());
    const size_t got = out.size();
    out.resize(out.capacity());
    do {
      n = ::read(fd, out.data() + got, out.size() - got);
    } while (n < 0 && errno == EINTR);
    out.resize(got + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return err;
    }
    if (n == 0) break;
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
  if (!std::isfinite(v)) return std::nullopt;  // "nan", "inf": never a figure greenrun can use
  return v;
}

std::optional<int> whole_in_range(std::optional<double> v, int lo, int hi) {
  if (!v || *v < lo || *v > hi || *v != std::floor(*v)) return std::nullopt;
  return static_cast<int>(*v);
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

std::string base_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// ".NAME.greenrun-": atomic_write's temporaries for NAME, and nothing else.
std::string temporary_prefix(const std::string& base) { return "." + base + ".greenrun-"; }

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

mode_t current_umask() {
  mode_t m = ::umask(0);
  ::umask(m);
  return m;
}

}  // namespace

bool own_descriptor(const std::string& path) {
  return path == "/dev/stdout" || path == "/dev/stderr" || path.rfind("/dev/fd/", 0) == 0 ||
         path.rfind("/proc/self/fd/", 0) == 0;
}

Result<std::string> output_path(const std::string& path, std::string_view what) {
  using R = Result<std::string>;
  if (own_descriptor(path)) return path;  // the kernel follows these to greenrun's own descriptor
  const std::string w(what);
  std::string cur = path;
  for (int depth = 0; depth < 16; ++depth) {
    struct stat st {};
    if (::lstat(cur.c_str(), &st) != 0) return cur;  // a new file (or an error check_writable names)
    if (!S_ISLNK(st.st_mode)) {
      if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
        if (st.st_uid != ::geteuid())
          return R::fail(w + " " + path + " is a FIFO or socket owned by another user (uid " +
                         std::to_string(st.st_uid) + "); greenrun does not write reports into it");
      } else if (S_ISBLK(st.st_mode)) {
        return R::fail(w + " " + path + " is a block device; give a file name");
      }
      return cur;
    }
    // A symlink is followed only when the user running greenrun (or root)
    // owns it, as the kernel's protected_symlinks does in sticky directories:
    // a link planted by someone else is how a privileged program is made to
    // write elsewhere.
    if (st.st_uid != ::geteuid() && st.st_uid != 0)
      return R::fail(w + " " + path + " is a symbolic link owned by another user (uid " + std::to_string(st.st_uid) +
                     "); greenrun does not follow it: give the target's path or remove the link");
    char buf[PATH_MAX];
    ssize_t n = ::readlink(cur.c_str(), buf, sizeof buf - 1);
    if (n < 0) return R::fail("cannot read the link " + cur + ": " + errno_text(errno));
    std::string target(buf, static_cast<size_t>(n));
    cur = target.front() == '/' ? target : dir_of(cur) + "/" + target;
    if (own_descriptor(cur)) return cur;
  }
  return R::fail(w + " " + path + ": too many levels of symbolic links");
}

Status atomic_write(const std::string& path, std::string_view content) {
  auto target = output_path(path, "output");
  if (!target) return Status::fail(target.error());
  // A device or pipe (/dev/null, /dev/stderr, a FIFO) is written in place:
  // renaming a temporary file over it would replace the device with a file.
  struct stat st {};
  const bool exists = ::stat(target->c_str(), &st) == 0;
  if (own_descriptor(*target) || (exists && !S_ISREG(st.st_mode))) {
    int fd = ::open(target->c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return Status::fail("cannot open " + path + ": " + errno_text(errno));
    bool ok = write_all(fd, content);
    int err = errno;
    ::close(fd);
    if (!ok) return Status::fail("cannot write " + path + ": " + errno_text(err));
    return {};
  }
  // An unpredictable name, created exclusively: nothing planted beside the
  // report can be written through. Locked while greenrun lives: a run killed
  // here leaves a temporary that a later run knows for a leftover.
  std::string tmp = dir_of(*target) + "/" + temporary_prefix(base_of(*target)) + "XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return Status::fail("cannot create a temporary file beside " + path + ": " + errno_text(errno));
  hold_while_alive(fd);
  // The report keeps the mode and owner it had; a new one gets the usual 0666 & ~umask.
  ::fchmod(fd, exists ? (st.st_mode & 07777) : (0666 & ~current_umask()));
  if (exists && ::geteuid() == 0 && ::fchown(fd, st.st_uid, st.st_gid) != 0) {
    // keep going: the report is still written, owned by root
  }
  if (!write_all(fd, content) || ::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status::fail("cannot write " + path + ": " + errno_text(err));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), target->c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status::fail("cannot rename " + tmp + " to " + *target + ": " + errno_text(err));
  }
  return {};
}

void remove_leftover_temporaries(const std::string& path) {
  if (path.empty() || path == "-" || own_descriptor(path)) return;
  auto target = output_path(path, "output");
  if (!target) return;
  remove_leftovers(dir_of(*target), temporary_prefix(base_of(*target)), S_IFREG);
}

Status check_writable(const std::string& path, std::string_view what) {
  std::string w(what);
  if (path.empty()) return Status::fail(w + " path is empty");
  auto target = output_path(path, what);
  if (!target) return Status::fail(target.error());
  struct stat st {};
  if (own_descriptor(*target)) {
    if (::access(target->c_str(), W_OK) != 0)
      return Status::fail("cannot write " + w + " to " + path + ": " + errno_text(errno));
    return {};
  }
  if (::stat(target->c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::fail(w + " path " + path + " is a directory; give a file name inside it");
    if (!S_ISREG(st.st_mode)) {  // a device or FIFO: written in place, so it must open for writing
      if (::access(target->c_str(), W_OK) != 0)
        return Status::fail("cannot write " + w + " to " + path + ": " + errno_text(errno));
      return {};
    }
    if (::access(target->c_str(), W_OK) != 0)
      return Status::fail("cannot write " + w + " file " + path + ": " + errno_text(errno) +
                          "; choose another path or fix its permissions");
  }
  std::string dir = dir_of(*target);
  if (!is_directory(dir))
    return Status::fail("cannot write " + w + " file " + path + ": directory " + dir +
                        " does not exist; create it first (mkdir -p " + dir + ")");
  // access(W_OK) is not enough (read-only mounts, ACLs): create and remove a probe file.
  std::string probe = dir + "/.greenrun-probe.XXXXXX";
  int fd = ::mkostemp(probe.data(), O_CLOEXEC);
  if (fd < 0)
    return Status::fail("cannot write " + w + " file " + path + ": " + errno_text(errno) + " in " + dir +
                        "; choose a writable directory");
  ::close(fd);
  ::unlink(probe.c_str());
  return {};
}

CsvHeader classify_header(std::string_view start, uint64_t size, std::string_view header) {
  if (size == 0 || (trim(start).empty() && size == start.size())) return CsvHeader::Empty;
  auto nl = start.find('\n');
  std::string_view first = start.substr(0, nl);
  if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
  return first == header ? CsvHeader::Same : CsvHeader::Different;
}

namespace {

// The first 4 KiB of an open file (enough for a header line).
std::string head_of(int fd) {
  std::string out(4096, '\0');
  ssize_t n = ::pread(fd, out.data(), out.size(), 0);
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

// "FILE.bak", else "FILE.bak.1", ...: never over an earlier backup.
Result<std::string> back_up(const std::string& path) {
  for (int i = 0; i < 1000; ++i) {
    std::string name = path + ".bak" + (i ? "." + std::to_string(i) : "");
    if (::renameat2(AT_FDCWD, path.c_str(), AT_FDCWD, name.c_str(), RENAME_NOREPLACE) == 0) return name;
    if (errno != EEXIST) return Result<std::string>::fail("cannot back up " + path + ": " + errno_text(errno));
  }
  return Result<std::string>::fail("cannot back up " + path + ": 1000 backups exist already");
}

// Opens `path` for appending and locks it, making sure the locked file is
// still the one at `path` (another run may have backed it up meanwhile).
int open_locked(const std::string& path, std::string& error) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0666);
    if (fd < 0) {
      error = "cannot open " + path + ": " + errno_text(errno);
      return -1;
    }
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        error = "cannot lock " + path + ": " + errno_text(errno);
        ::close(fd);
        return -1;
      }
    }
    struct stat mine {}, now {};
    if (::fstat(fd, &mine) == 0 && ::stat(path.c_str(), &now) == 0 && mine.st_ino == now.st_ino &&
        mine.st_dev == now.st_dev) {
      if (!S_ISREG(mine.st_mode)) {
        error = path + " is not a regular file";
        ::close(fd);
        return -1;
      }
      return fd;
    }
    ::close(fd);  // replaced while we waited: open the new one
  }
  error = "cannot lock " + path + ": it keeps being replaced";
  return -1;
}

}  // namespace

Status locked_append(const std::string& path, std::string_view header, std::string_view content,
                     std::string* backed_up) {
  auto target = output_path(path, "output");
  if (!target) return Status::fail(target.error());
  std::string error;
  int fd = open_locked(*target, error);
  if (fd < 0) return Status::fail(error);
  struct stat st {};
  ::fstat(fd, &st);
  std::string out;
  if (!header.empty()) {
    const std::string head = head_of(fd);
    CsvHeader state = classify_header(head, static_cast<uint64_t>(st.st_size), header);
    if (state == CsvHeader::Different) {
      // CodeCarbon's way with an older layout: keep the file under a new name
      // and start afresh. The lock on the old file is held until the new one exists.
      auto name = back_up(*target);
      if (!name) {
        ::close(fd);
        return Status::fail(name.error());
      }
      if (backed_up) *backed_up = *name;
      int fresh = open_locked(*target, error);
      ::close(fd);
      if (fresh < 0) return Status::fail(error);
      fd = fresh;
      ::fstat(fd, &st);
      state = CsvHeader::Empty;
    }
    if (state == CsvHeader::Empty) {
      if (st.st_size > 0 && ::ftruncate(fd, 0) == 0) st.st_size = 0;  // blank lines only
      out.append(header);
      out.push_back('\n');
    } else {
      // Repair a file whose last row lacks its newline rather than glue two rows.
      char last = '\n';
      if (::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') out.push_back('\n');
    }
  }
  out.append(content);
  if (!out.empty() && out.back() != '\n') out.push_back('\n');
  bool ok = write_all(fd, out);
  int err = errno;
  // A row written half-way is taken back while the lock is still held: the
  // next run must not find a torn row to glue its own to.
  if (!ok && ::ftruncate(fd, st.st_size) != 0) err = errno;
  ::close(fd);  // releases the lock
  if (!ok) return Status::fail("cannot append to " + path + ": " + errno_text(err));
  return {};
}

std::string exe_dir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

}  // namespace greenrun
