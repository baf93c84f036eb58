#include "util/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "util/fs.h"
#include "util/privilege.h"
#include "util/units.h"

namespace greenrun {

namespace {

std::string named(std::string_view what, const std::string& path) {
  return what.empty() ? path : std::string(what) + " " + path;
}

/// Reads up to `max_bytes` + 1 bytes: a file that grew past the cap since
/// fstat is caught too.
int read_capped(int fd, uint64_t size, uint64_t max_bytes, std::string& out) {
  out.reserve(static_cast<size_t>(std::min(size, max_bytes)) + 1);
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return errno;
    if (n == 0) return 0;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) return EFBIG;
  }
}

}  // namespace

std::string file_kind(unsigned mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO";
    case S_IFSOCK: return "a socket";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    default: return "not a regular file";
  }
}

Result<std::string> read_input_file(const std::string& path, std::string_view what, uint64_t max_bytes, bool as_user,
                                    struct stat* st_out) {
  using R = Result<std::string>;
  // O_NONBLOCK: opening a FIFO without a writer, or some devices, would block.
  int fd = -1;
  {
    std::optional<AsUser> user;
    if (as_user) user.emplace();
    fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  }
  if (fd < 0) return R::fail("cannot read " + named(what, path) + ": " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const unsigned mode = st.st_mode;
    ::close(fd);
    return R::fail(named(what, path) + " is " + file_kind(mode) + ", not a regular file; give a file");
  }
  const std::string cap = max_bytes % (1u << 20) == 0 ? std::to_string(max_bytes >> 20) + " MiB"
                                                      : format_bytes(static_cast<double>(max_bytes));
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return R::fail(named(what, path) + " is " + format_bytes(static_cast<double>(st.st_size)) + "; greenrun reads up to " + cap);
  }
  if (st_out) *st_out = st;
  std::string text;
  const int err = read_capped(fd, static_cast<uint64_t>(st.st_size), max_bytes, text);
  ::close(fd);
  if (err == EFBIG) return R::fail(named(what, path) + " grew past " + cap + " while being read; greenrun reads up to " + cap);
  if (err != 0) return R::fail("cannot read " + named(what, path) + ": " + errno_text(err));
  return text;
}

}  // namespace greenrun
