#include "process/marks.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdio>
#include <string_view>

#include "util/fs.h"
#include "util/leftovers.h"
#include "util/log.h"

namespace greenrun {

namespace {

/// `s` cut to `most` bytes without splitting a UTF-8 character.
void cut_utf8(std::string& s, size_t most) {
  if (s.size() <= most) return;
  size_t cut = most;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
}

std::string clean_label(std::string s) {
  cut_utf8(s, kMaxMarkLabel);
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  return s;
}

}  // namespace

Result<MarkChannel> MarkChannel::create(const std::string& tmp_dir) {
  using R = Result<MarkChannel>;
  // An unpredictable name, created by mkfifo, which never follows a link
  // and fails if anything is there: safe in a shared /tmp, and a third of
  // the cost of a private directory (this runs before every command).
  MarkChannel c;
  for (int attempt = 0;; ++attempt) {
    unsigned char bytes[8];
    if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes))
      return R::fail("cannot name the marks FIFO: " + errno_text(errno));
    char name[48];
    std::snprintf(name, sizeof name, "%s%02x%02x%02x%02x%02x%02x%02x%02x", kFifoPrefix, bytes[0], bytes[1], bytes[2],
                  bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]);
    c.path_ = tmp_dir + "/" + name;
    if (::mkfifo(c.path_.c_str(), 0600) == 0) break;
    if (errno != EEXIST || attempt == 10) {
      const int err = errno;
      c.path_.clear();
      return R::fail("cannot create the marks FIFO in " + tmp_dir + ": " + errno_text(err));
    }
  }
  c.fd_ = ::open(c.path_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (c.fd_ < 0) return R::fail("cannot open the marks FIFO: " + errno_text(errno));
  hold_while_alive(c.fd_);
  ::fcntl(c.fd_, F_SETPIPE_SZ, static_cast<int>(kBufferBytes));  // bursts of marks; the default 64 KiB is what is left if refused
  return c;
}

void MarkChannel::remove_leftovers(const std::string& tmp_dir) {
  for (const auto& name : greenrun::remove_leftovers(tmp_dir, kFifoPrefix, S_IFIFO))
    log::debug([&] { return "leftover marks FIFO " + tmp_dir + "/" + name + " removed"; });
}

MarkChannel& MarkChannel::operator=(MarkChannel&& o) noexcept {
  if (this != &o) {
    this->~MarkChannel();
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    lines_ = std::move(o.lines_);
    o.fd_ = -1;
    o.path_.clear();
  }
  return *this;
}

MarkChannel::~MarkChannel() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!path_.empty()) ::unlink(path_.c_str());
}

void MarkChannel::drain(const std::function<void(std::string)>& on_mark, size_t max_bytes) {
  char buf[65536];
  for (size_t taken = 0; taken < max_bytes;) {
    ssize_t n = ::read(fd_, buf, std::min(sizeof buf, max_bytes - taken));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    taken += static_cast<size_t>(n);
    lines_.feed(std::string_view(buf, static_cast<size_t>(n)), on_mark);
  }
}

void MarkLines::feed(std::string_view bytes, const std::function<void(std::string)>& on_mark) {
  while (!bytes.empty()) {
    const size_t nl = bytes.find('\n');
    const std::string_view piece = bytes.substr(0, nl);
    // One byte past the label tells clean_label where a character was cut.
    if (!cut_) line_.append(piece.substr(0, kMaxMarkLabel + 1 - line_.size()));
    cut_ = line_.size() > kMaxMarkLabel;
    if (nl == std::string_view::npos) return;
    std::string label = clean_label(std::move(line_));
    line_.clear();
    cut_ = false;
    if (!label.empty()) on_mark(std::move(label));
    bytes.remove_prefix(nl + 1);
  }
}

void send_mark(const std::string& label, const std::string& fifo) {
  if (fifo.empty()) return;
  int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return;  // greenrun is gone: nobody to tell
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
    ::close(fd);
    return;
  }
  // Blocking from here: a full buffer means greenrun is reading, the mark waits its turn.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  std::string line;
  for (char c : label) line += (c == '\n' || c == '\r') ? ' ' : c;
  line = clean_label(line) + "\n";
  ssize_t ignored = ::write(fd, line.data(), line.size());  // one write: atomic below PIPE_BUF
  (void)ignored;
  ::close(fd);
}

}  // namespace greenrun
