#include "util/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
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
#include <deque>
#include <utility>

#include "util/leftovers.h"

namespace greenrun {

std::string errno_text(int err) { return std::strerror(err); }

namespace {

int read_errno(int fd) {
  const int err = errno;
  ::close(fd);
  return err;
}

// Reads `fd` from where it is into `out` (which holds what came before),
// until a read returns 0, or, with `one_piece`, until one returns less than
// asked for.
int read_rest(int fd, std::string& out, bool one_piece) {
  // A larger regular file is sized once and read into one allocation of the
  // right size. (Growing a string 4 KiB at a time touches twice the memory,
  // and fresh pages are what start-up costs most on virtual machines.)
  struct stat st {};
  const size_t size = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) : 0;
  out.reserve(std::max(size + 1, 2 * out.size()));
  for (;;) {
    if (out.size() == out.capacity()) out.reserve(2 * out.capacity());
    const size_t got = out.size(), want = out.capacity() - got;
    out.resize(out.capacity());
    ssize_t n;
    do {
      n = ::read(fd, out.data() + got, want);
    } while (n < 0 && errno == EINTR);
    out.resize(got + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    if (n < 0) return read_errno(fd);
    if (n == 0 || (one_piece && static_cast<size_t>(n) < want)) break;
  }
  ::close(fd);
  return 0;
}

int read_from(const std::string& path, std::string& out, bool one_piece) {
  out.clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  // Most files greenrun reads fit in 4 KiB: the first read goes to the stack,
  // with no fstat(2) and no allocation beyond what the contents need.
  char buf[4096];
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return read_errno(fd);
  out.assign(buf, static_cast<size_t>(n));
  if (n == 0 || (one_piece && static_cast<size_t>(n) < sizeof buf)) {
    ::close(fd);
    return 0;
  }
  return read_rest(fd, out, one_piece);
}

}  // namespace

int read_file(const std::string& path, std::string& out) { return read_from(path, out, false); }

int read_one_piece(const std::string& path, std::string& out) { return read_from(path, out, true); }

std::optional<std::string> read_file(const std::string& path) {
  std::string out;
  if (read_file(path, out) != 0) return std::nullopt;
  return out;
}

std::optional<std::string> read_line(const std::string& path) {
  std::optional<std::string> text(std::in_place);
  if (read_one_piece(path, *text) != 0) return std::nullopt;
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

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos < path.size();) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    if (slash > pos) out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

std::string joined(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

/// An unpredictable name: `prefix` and six random characters, created exclusively in `dir`
/// (mkostemp, by descriptor). Returns the fd (name in `name`), or -1.
int create_temporary(int dir, const std::string& prefix, std::string& name) {
  static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  for (int attempt = 0; attempt < 100; ++attempt) {
    unsigned char random[6];
    if (::getrandom(random, sizeof random, 0) != static_cast<ssize_t>(sizeof random)) return -1;
    name = prefix;
    for (unsigned char r : random) name += kChars[r % (sizeof kChars - 1)];
    const int fd = ::openat(dir, name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  errno = EEXIST;
  return -1;
}

/// The target of the link `name` in `dir`, or why it is not followed: only
/// a link of the user running greenrun (or root's) is; one planted by
/// someone else is how a privileged program is made to write elsewhere.
std::optional<std::string> trusted_link(int dir, const std::string& name, const struct stat& st, int links, std::string& target) {
  if (st.st_uid != ::geteuid() && st.st_uid != 0)
    return "is a symbolic link owned by another user (uid " + std::to_string(st.st_uid) +
           "); greenrun does not follow it: give the target's path or remove the link";
  if (links > 40) return std::string("has too many levels of symbolic links");
  char buf[PATH_MAX];
  const ssize_t n = ::readlinkat(dir, name.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return "is a link that cannot be read: " + errno_text(errno);
  target.assign(buf, static_cast<size_t>(n));
  return std::nullopt;
}

/// The rules for what the walk ended on: another user's FIFO or socket, a block device.
Status check_special(const OutputPath& p, const std::string& path, std::string_view what) {
  struct stat st {};
  if (p.descriptor() || !p.stat(st)) return {};
  const std::string w(what);
  if ((S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) && st.st_uid != ::geteuid())
    return Status::fail(w + " " + path + " is a FIFO or socket owned by another user (uid " + std::to_string(st.st_uid) +
                        "); greenrun does not write reports into it");
  if (S_ISBLK(st.st_mode)) return Status::fail(w + " " + path + " is a block device; give a file name");
  return {};
}

}  // namespace

bool own_descriptor(const std::string& path) {
  return path == "/dev/stdout" || path == "/dev/stderr" || path.rfind("/dev/fd/", 0) == 0 ||
         path.rfind("/proc/self/fd/", 0) == 0;
}

OutputPath::OutputPath(OutputPath&& other) noexcept
    : dir_(other.dir_), name_(std::move(other.name_)), shown_(std::move(other.shown_)) {
  other.dir_ = -1;
}

OutputPath& OutputPath::operator=(OutputPath&& other) noexcept {
  if (this != &other) {
    if (dir_ >= 0) ::close(dir_);
    dir_ = other.dir_;
    name_ = std::move(other.name_);
    shown_ = std::move(other.shown_);
    other.dir_ = -1;
  }
  return *this;
}

OutputPath::~OutputPath() {
  if (dir_ >= 0) ::close(dir_);
}

bool OutputPath::stat(struct ::stat& st) const {
  if (descriptor()) return ::stat(name_.c_str(), &st) == 0;
  return ::fstatat(dir_, name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int OutputPath::open(int flags, unsigned mode) const {
  if (descriptor()) return ::open(name_.c_str(), flags, static_cast<mode_t>(mode));
  return ::openat(dir_, name_.c_str(), flags | O_NOFOLLOW, static_cast<mode_t>(mode));
}

Result<OutputPath> OutputPath::walk(const std::string& path, std::string_view what) {
  using R = Result<OutputPath>;
  const std::string w(what);
  OutputPath out;
  out.name_ = out.shown_ = path;
  if (own_descriptor(path)) return out;  // the kernel follows these to greenrun's own descriptor
  if (path.empty()) return R::fail(w + " path is empty");
  const std::vector<std::string> parts = components(path);
  std::deque<std::string> rest(parts.begin(), parts.end());
  out.dir_ = ::open(path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  out.shown_ = path[0] == '/' ? "/" : "";
  if (out.dir_ < 0) return R::fail("cannot write " + w + " file " + path + ": " + errno_text(errno));
  for (int links = 0; !rest.empty();) {
    const std::string name = rest.front();
    rest.pop_front();
    struct stat st {};
    const bool exists = ::fstatat(out.dir_, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    const int err = errno;
    const std::string here = joined(out.shown_, name);
    if (exists && S_ISLNK(st.st_mode)) {
      std::string target;
      if (auto refused = trusted_link(out.dir_, name, st, ++links, target))
        return R::fail(w + " " + path + (here == path ? "" : ": " + here) + " " + *refused);
      if (rest.empty() && own_descriptor(target)) {
        ::close(out.dir_);
        out.dir_ = -1;
        out.name_ = out.shown_ = target;
        return out;
      }
      const std::vector<std::string> more = components(target);
      rest.insert(rest.begin(), more.begin(), more.end());
      if (target[0] == '/') {
        ::close(out.dir_);
        out.dir_ = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        out.shown_ = "/";
      }
      continue;
    }
    if (rest.empty()) {
      out.name_ = name;
      out.shown_ = here;
      return out;
    }
    std::string dir = here;
    for (size_t i = 0; i + 1 < rest.size(); ++i) dir += "/" + rest[i];
    if (!exists && err == ENOENT)
      return R::fail("cannot write " + w + " file " + path + ": directory " + dir + " does not exist; create it first (mkdir -p " +
                     dir + ")");
    if (exists && !S_ISDIR(st.st_mode)) return R::fail("cannot write " + w + " file " + path + ": " + here + " is not a directory");
    const int next = exists ? ::openat(out.dir_, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
    if (next < 0) return R::fail("cannot write " + w + " file " + path + ": " + errno_text(exists ? errno : err) + " at " + here);
    ::close(out.dir_);
    out.dir_ = next;
    out.shown_ = here;
  }
  out.name_ = ".";  // the path names a directory: "/", "dir/"
  return out;
}

Result<std::string> output_path(const std::string& path, std::string_view what) {
  auto p = OutputPath::walk(path, what);
  if (!p) return Result<std::string>::fail(p.error());
  if (auto st = check_special(*p, path, what); !st) return Result<std::string>::fail(st.error());
  return p->shown();
}

int open_output(const std::string& path, int flags, unsigned mode) {
  auto p = OutputPath::walk(path, "output");
  if (!p || !check_special(*p, path, "output")) return -ELOOP;
  const int fd = p->open(flags, mode);
  return fd >= 0 ? fd : -errno;
}

Status atomic_write(const std::string& path, std::string_view content) {
  auto p = OutputPath::walk(path, "output");
  if (!p) return Status::fail(p.error());
  if (auto st = check_special(*p, path, "output"); !st) return st;
  // A device or pipe (/dev/null, /dev/stderr, a FIFO) is written in place:
  // renaming a temporary file over it would replace the device with a file.
  struct stat st {};
  const bool exists = p->stat(st);
  if (p->descriptor() || (exists && !S_ISREG(st.st_mode))) {
    int fd = p->open(O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return Status::fail("cannot open " + path + ": " + errno_text(errno));
    bool ok = write_all(fd, content);
    int err = errno;
    ::close(fd);
    if (!ok) return Status::fail("cannot write " + path + ": " + errno_text(err));
    return {};
  }
  // An unpredictable name, created exclusively in the walked directory:
  // nothing planted beside the report can be written through. Locked while
  // greenrun lives: a run killed here leaves a temporary that a later run
  // knows for a leftover.
  std::string tmp;
  int fd = create_temporary(p->dir(), temporary_prefix(p->name()), tmp);
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
    ::unlinkat(p->dir(), tmp.c_str(), 0);
    return Status::fail("cannot write " + path + ": " + errno_text(err));
  }
  ::close(fd);
  if (::renameat(p->dir(), tmp.c_str(), p->dir(), p->name().c_str()) != 0) {
    int err = errno;
    ::unlinkat(p->dir(), tmp.c_str(), 0);
    return Status::fail("cannot rename " + tmp + " to " + p->shown() + ": " + errno_text(err));
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
  auto p = OutputPath::walk(path, what);
  if (!p) return Status::fail(p.error());
  if (auto st = check_special(*p, path, what); !st) return st;
  struct stat st {};
  if (p->descriptor()) {
    if (::access(p->name().c_str(), W_OK) != 0)
      return Status::fail("cannot write " + w + " to " + path + ": " + errno_text(errno));
    return {};
  }
  if (p->stat(st)) {
    if (S_ISDIR(st.st_mode)) return Status::fail(w + " path " + path + " is a directory; give a file name inside it");
    if (::faccessat(p->dir(), p->name().c_str(), W_OK, AT_SYMLINK_NOFOLLOW) != 0) {
      if (!S_ISREG(st.st_mode))  // a device or FIFO: written in place, so it must open for writing
        return Status::fail("cannot write " + w + " to " + path + ": " + errno_text(errno));
      return Status::fail("cannot write " + w + " file " + path + ": " + errno_text(errno) +
                          "; choose another path or fix its permissions");
    }
    if (!S_ISREG(st.st_mode)) return {};
  }
  // access(W_OK) is not enough (read-only mounts, ACLs): create and remove a probe file.
  std::string probe;
  int fd = create_temporary(p->dir(), ".greenrun-probe.", probe);
  if (fd < 0)
    return Status::fail("cannot write " + w + " file " + path + ": " + errno_text(errno) + " in the directory of " +
                        p->shown() + "; choose a writable directory");
  ::close(fd);
  ::unlinkat(p->dir(), probe.c_str(), 0);
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

// "FILE.bak", else "FILE.bak.1", ...: never over an earlier backup (in the walked directory).
Result<std::string> back_up(const OutputPath& p) {
  for (int i = 0; i < 1000; ++i) {
    std::string name = p.name() + ".bak" + (i ? "." + std::to_string(i) : "");
    if (::renameat2(p.dir(), p.name().c_str(), p.dir(), name.c_str(), RENAME_NOREPLACE) == 0)
      return p.shown() + ".bak" + (i ? "." + std::to_string(i) : "");
    if (errno != EEXIST) return Result<std::string>::fail("cannot back up " + p.shown() + ": " + errno_text(errno));
  }
  return Result<std::string>::fail("cannot back up " + p.shown() + ": 1000 backups exist already");
}

// Opens the walked file for appending and locks it, making sure the locked
// file is still the one there (another run may have backed it up meanwhile).
int open_locked(const OutputPath& p, std::string& error) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    int fd = p.open(O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0666);
    if (fd < 0) {
      error = "cannot open " + p.shown() + ": " + errno_text(errno);
      return -1;
    }
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        error = "cannot lock " + p.shown() + ": " + errno_text(errno);
        ::close(fd);
        return -1;
      }
    }
    struct stat mine {}, now {};
    if (::fstat(fd, &mine) == 0 && p.stat(now) && mine.st_ino == now.st_ino && mine.st_dev == now.st_dev) {
      if (!S_ISREG(mine.st_mode)) {
        error = p.shown() + " is not a regular file";
        ::close(fd);
        return -1;
      }
      return fd;
    }
    ::close(fd);  // replaced while we waited: open the new one
  }
  error = "cannot lock " + p.shown() + ": it keeps being replaced";
  return -1;
}

}  // namespace

Status locked_append(const std::string& path, std::string_view header, std::string_view content,
                     std::string* backed_up) {
  auto p = OutputPath::walk(path, "output");
  if (!p) return Status::fail(p.error());
  if (auto st = check_special(*p, path, "output"); !st) return st;
  std::string error;
  int fd = open_locked(*p, error);
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
      auto name = back_up(*p);
      if (!name) {
        ::close(fd);
        return Status::fail(name.error());
      }
      if (backed_up) *backed_up = *name;
      int fresh = open_locked(*p, error);
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
