#include "commands/status_line.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "util/units.h"

namespace greenrun {

namespace {

bool window_size(int fd, int& rows, int& cols) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0) return false;
  rows = ws.ws_row;
  cols = ws.ws_col;
  return true;
}

/// Cuts `text` to `width` columns (ASCII and the µ of format_mass_g: one column each).
std::string fit(const std::string& text, int width) {
  std::string out;
  int used = 0;
  for (size_t i = 0; i < text.size() && used < width; ++i) {
    out += text[i];
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++used;
    while (i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80) out += text[++i];
  }
  return out;
}

/// The terminal on `fd` opened again, as a new open file description, with
/// O_NONBLOCK: setting the flag on `fd` itself would set it for the command,
/// which shares it. -1 when it cannot be, or is not the same terminal.
int reopen_nonblocking(int fd) {
  struct stat want {}, got {};
  if (::fstat(fd, &want) != 0 || !S_ISCHR(want.st_mode)) return -1;
  const int out = ::open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (out < 0) return -1;
  if (::fstat(out, &got) != 0 || !S_ISCHR(got.st_mode) || got.st_rdev != want.st_rdev) {
    ::close(out);
    return -1;
  }
  return out;
}

}  // namespace

std::string progress_text(const Progress& p) {
  std::string s = format_seconds(p.elapsed_s);
  if (p.power_w) s += "  " + format_power(*p.power_w) + " now";
  s += "  " + format_energy(p.energy_j);
  if (p.emissions_g) s += "  " + format_mass_g(*p.emissions_g) + " CO2e";
  if (!p.kind.empty()) s += "  " + p.kind;
  if (const auto& t = p.projected) {
    s += "; " + format_done(t->fraction) + " done, projected " + format_energy(t->energy_j);
    if (t->emissions_g) s += ", " + format_mass_g(*t->emissions_g) + " CO2e";
    s += ", ends ~" + format_local_clock(t->ends_at, p.now);
  }
  return s;
}

std::optional<double> PowerMeter::add(double t_s, double energy_j) {
  readings_.emplace_back(t_s, energy_j);
  while (readings_.size() > 2 && readings_.back().first - readings_[1].first >= span_s_) readings_.pop_front();
  const auto& [t0, e0] = readings_.front();
  if (readings_.size() < 2 || t_s <= t0) return std::nullopt;
  return (energy_j - e0) / (t_s - t0);
}

std::string LiveLine::unusable(int fd, const EnvLookup& env) {
  if (!::isatty(fd)) return "standard error is not a terminal";
  const std::string term = env("TERM").value_or("");
  if (term.empty() || term == "dumb") return "the terminal cannot move the cursor (TERM=" + term + ")";
  int rows = 0, cols = 0;
  if (!window_size(fd, rows, cols) || rows < 3 || cols < 20) return "the terminal is too small";
  const int out = reopen_nonblocking(fd);
  if (out < 0) return "the terminal cannot be opened again for writes that never block";
  ::close(out);
  return "";
}

LiveLine::LiveLine(int fd, const EnvLookup& env) : fd_(fd) {
  // https://no-color.org: present and not empty.
  color_ = env("NO_COLOR").value_or("").empty();
  if (!window_size(fd_, rows_, cols_)) return;
  out_ = reopen_nonblocking(fd_);
  if (out_ < 0) return;
  open_ = true;
  // Make sure the last row is free: at the bottom, a new line scrolls the
  // screen by one; the cursor goes back up to where the output continues.
  send("\n\x1b[A");
  reserve_last_row();
}

void LiveLine::reserve_last_row() {
  // Setting the scroll region homes the cursor: save and restore it around.
  send("\x1b" "7\x1b[1;" + std::to_string(rows_ - 1) + "r\x1b" "8");
}

void LiveLine::draw(const std::string& text) {
  if (!open_) return;
  if (!flush()) return;
  if (!pending_.empty()) {  // the terminal took nothing since the last frame: skip this one
    ++dropped_;
    return;
  }
  int rows = rows_, cols = cols_;
  if (window_size(fd_, rows, cols) && (rows != rows_ || cols != cols_)) {
    if (rows < 3) return;
    rows_ = rows;
    cols_ = cols;
    reserve_last_row();
  }
  const std::string body = fit("greenrun  " + text, cols_ - 1);
  const std::string styled = color_ ? "\x1b[7m" + body + "\x1b[0m" : body;
  send("\x1b" "7\x1b[" + std::to_string(rows_) + ";1H\x1b[2K" + styled + "\x1b" "8");
}

void LiveLine::close() {
  if (open_) give_back_row();
  open_ = false;
  if (out_ >= 0) ::close(out_);
  out_ = -1;
}

void LiveLine::give_back_row() {
  pending_ += "\x1b" "7\x1b[" + std::to_string(rows_) + ";1H\x1b[2K\x1b[r\x1b" "8";
  // The row must be given back, but not at any price: a terminal stopped for
  // good gets a bounded wait, then keeps its scroll region.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kCloseWaitMs);
  while (flush() && !pending_.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{out_, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
  }
}

bool LiveLine::send(const std::string& s) {
  pending_ += s;
  return flush();
}

bool LiveLine::flush() {
  while (!pending_.empty()) {
    const ssize_t n = ::write(out_, pending_.data(), pending_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;  // later: never wait here
    if (n <= 0) {  // the terminal is gone (EIO after a hang-up): no more frames
      pending_.clear();
      open_ = false;
      return false;
    }
    pending_.erase(0, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace greenrun
