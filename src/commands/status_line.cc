#include "commands/status_line.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

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

}  // namespace

std::string progress_text(const Progress& p) {
  std::string s = format_seconds(p.elapsed_s);
  if (p.power_w) s += "  " + format_power(*p.power_w) + " now";
  s += "  " + format_energy(p.energy_j);
  if (p.emissions_g) s += "  " + format_mass_g(*p.emissions_g) + " CO2e";
  if (!p.kind.empty()) s += "  " + p.kind;
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
  return "";
}

LiveLine::LiveLine(int fd, const EnvLookup& env) : fd_(fd) {
  // https://no-color.org: present and not empty.
  color_ = env("NO_COLOR").value_or("").empty();
  if (!window_size(fd_, rows_, cols_)) return;
  open_ = true;
  // Make sure the last row is free: at the bottom, a new line scrolls the
  // screen by one; the cursor goes back up to where the output continues.
  write_all("\n\x1b[A");
  reserve_last_row();
}

void LiveLine::reserve_last_row() {
  // Setting the scroll region homes the cursor: save and restore it around.
  write_all("\x1b" "7\x1b[1;" + std::to_string(rows_ - 1) + "r\x1b" "8");
}

void LiveLine::draw(const std::string& text) {
  if (!open_) return;
  int rows = rows_, cols = cols_;
  if (window_size(fd_, rows, cols) && (rows != rows_ || cols != cols_)) {
    if (rows < 3) return;
    rows_ = rows;
    cols_ = cols;
    reserve_last_row();
  }
  const std::string body = fit("greenrun  " + text, cols_ - 1);
  const std::string styled = color_ ? "\x1b[7m" + body + "\x1b[0m" : body;
  write_all("\x1b" "7\x1b[" + std::to_string(rows_) + ";1H\x1b[2K" + styled + "\x1b" "8");
}

void LiveLine::close() {
  if (!open_) return;
  open_ = false;
  write_all("\x1b" "7\x1b[" + std::to_string(rows_) + ";1H\x1b[2K\x1b[r\x1b" "8");
}

void LiveLine::write_all(const std::string& s) {
  // One write: a terminal takes it whole, never interleaved with the command's.
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd_, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace greenrun
