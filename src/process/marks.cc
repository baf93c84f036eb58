#include "process/marks.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
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

/// The next space-separated word of `rest`, taken off its front.
std::string_view next_word(std::string_view& rest) {
  const size_t space = rest.find(' ');
  const std::string_view word = rest.substr(0, space);
  rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  return word;
}

std::string shortest(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "0";
}

}  // namespace

bool valid_unit(std::string_view unit) {
  if (unit.empty() || unit.size() > kMaxUnitName) return false;
  return std::all_of(unit.begin(), unit.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::optional<double> parse_record_number(std::string_view text) {
  // Digits first: from_chars would also take "inf", "nan" and hexadecimal.
  if (text.empty() || !((text[0] >= '0' && text[0] <= '9') || text[0] == '.')) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::general);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v) || v < 0) return std::nullopt;
  return v;
}

MarkRecord parse_record(std::string_view line) {
  MarkRecord bad{MarkRecord::Kind::Invalid, std::string(line), 0};
  std::string_view rest = line;
  const std::string_view key = next_word(rest);
  const auto number = parse_record_number(next_word(rest));
  if (!number) return bad;
  if (key == "progress" && rest.empty() && *number <= 1) return {MarkRecord::Kind::Progress, "", *number};
  const std::string_view unit = next_word(rest);
  if (key == "count" && rest.empty() && valid_unit(unit)) return {MarkRecord::Kind::Count, std::string(unit), *number};
  return bad;
}

std::string count_line(double n, const std::string& unit) {
  return std::string(1, kRecordByte) + "count " + shortest(n) + " " + unit + "\n";
}

std::string progress_line(double fraction) { return std::string(1, kRecordByte) + "progress " + shortest(fraction) + "\n"; }

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

void MarkChannel::drain(const std::function<void(MarkRecord)>& on_record, size_t max_bytes) {
  char buf[65536];
  for (size_t taken = 0; taken < max_bytes;) {
    ssize_t n = ::read(fd_, buf, std::min(sizeof buf, max_bytes - taken));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    taken += static_cast<size_t>(n);
    lines_.feed(std::string_view(buf, static_cast<size_t>(n)), on_record);
  }
}

void MarkLines::feed(std::string_view bytes, const std::function<void(MarkRecord)>& on_record) {
  while (!bytes.empty()) {
    const size_t nl = bytes.find('\n');
    const std::string_view piece = bytes.substr(0, nl);
    // One byte past the label tells clean_label where a character was cut.
    if (!cut_) line_.append(piece.substr(0, kMaxMarkLabel + 1 - line_.size()));
    cut_ = line_.size() > kMaxMarkLabel;
    if (nl == std::string_view::npos) return;
    line_done(on_record);
    bytes.remove_prefix(nl + 1);
  }
}

void MarkLines::line_done(const std::function<void(MarkRecord)>& on_record) {
  std::string line = clean_label(std::move(line_));
  const bool cut = cut_;
  line_.clear();
  cut_ = false;
  if (!line.empty() && line[0] == kRecordByte)  // a record (no record is as long as a label)
    return on_record(cut ? MarkRecord{MarkRecord::Kind::Invalid, line.substr(1), 0} : parse_record(std::string_view(line).substr(1)));
  if (!line.empty()) on_record({MarkRecord::Kind::Mark, std::move(line), 0});
}

namespace {

// One write, atomic below PIPE_BUF (a label and a record are far shorter).
void write_line(const std::string& line, const std::string& fifo) {
  if (fifo.empty()) return;
  int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return;  // greenrun is gone: nobody to tell
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
    ::close(fd);
    return;
  }
  // Blocking from here: a full buffer means greenrun is reading, the line waits its turn.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  ssize_t ignored = ::write(fd, line.data(), line.size());
  (void)ignored;
  ::close(fd);
}

}  // namespace

void send_mark(const std::string& label, const std::string& fifo) {
  std::string line;
  for (char c : label) line += (c == '\n' || c == '\r') ? ' ' : c;
  // A label never starts with the record byte: the line would be a record.
  line.erase(0, std::min(line.size(), line.find_first_not_of(kRecordByte)));
  line = clean_label(line);
  if (!line.empty()) write_line(line + "\n", fifo);
}

void send_record(const std::string& line, const std::string& fifo) { write_line(line, fifo); }

}  // namespace greenrun
