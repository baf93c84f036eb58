#include "util/output_target.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <chrono>

#include "util/fs.h"

namespace greenrun {

namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

void pause_ms(long ms) {
  timespec ts{0, ms * 1'000'000};
  ::nanosleep(&ts, nullptr);
}

// What the streams may still wait, all of them together (outputs are written
// from greenrun's main thread only). A stream that finds its budget spent
// still gets a try that cannot wait.
constexpr double kLastTryS = 0.05;
double open_wait_left_s = OutputTarget::kOpenWaitS;
double stall_left_s = OutputTarget::kStallS;

}  // namespace

int open_stream(const std::string& path, double wait_s) {
  const double deadline = now_s() + wait_s;
  for (;;) {
    int fd = open_output(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);  // walked: see OutputPath
    if (fd >= 0) return fd;
    if (fd == -EINTR) continue;
    if (fd != -ENXIO || now_s() >= deadline) return fd;
    pause_ms(50);  // a FIFO without a reader yet
  }
}

int write_stream(int fd, std::string_view content, double stall_s) {
  size_t done = 0;
  double last_progress = now_s();
  while (done < content.size()) {
    pollfd p{fd, POLLOUT, 0};
    const double left = last_progress + stall_s - now_s();
    if (left <= 0) return ETIMEDOUT;
    int ready = ::poll(&p, 1, static_cast<int>(left * 1000) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return errno;
    if (ready == 0) continue;  // the deadline check above ends it
    if (p.revents & (POLLERR | POLLNVAL)) return EPIPE;
    // PIPE_BUF at a time: a pipe that polls writable has that much room, so
    // even a blocking descriptor never waits.
    const size_t chunk = std::min<size_t>(content.size() - done, PIPE_BUF);
    ssize_t n = ::write(fd, content.data() + done, chunk);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return errno;
    }
    done += static_cast<size_t>(n);
    last_progress = now_s();
  }
  return 0;
}

Result<OutputTarget> OutputTarget::check(const std::string& path, std::string_view what) {
  using R = Result<OutputTarget>;
  OutputTarget t;
  t.path_ = path;
  t.what_ = std::string(what);
  if (path == "-") {
    t.stream_ = t.stdout_ = true;
    return t;
  }
  if (auto st = check_writable(path, what); !st) return R::fail(st.error());
  struct stat st {};
  t.stream_ = own_descriptor(path) || (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode));
  return t;
}

Status OutputTarget::write(std::string_view content) const {
  if (!stream_) return atomic_write(path_, content);
  const std::string name = stdout_ ? "standard output" : path_;
  const double opened_at = now_s();
  int fd = stdout_ ? STDOUT_FILENO : open_stream(path_, std::max(open_wait_left_s, 0.0));
  open_wait_left_s -= now_s() - opened_at;
  if (fd < 0)
    return Status::fail("cannot open " + name + " for " + what_ + ": " + errno_text(-fd) +
                        (-fd == ENXIO ? " (no reader on the FIFO; greenrun waits " + std::to_string(static_cast<int>(kOpenWaitS)) +
                                            " s for the readers of all its FIFOs together)"
                                      : ""));
  const double stall_s = std::max(stall_left_s, kLastTryS);
  const double written_at = now_s();
  int err = write_stream(fd, content, stall_s);
  if (!stdout_) ::close(fd);
  if (err == ETIMEDOUT) stall_left_s -= now_s() - written_at;
  if (err == ETIMEDOUT)
    return Status::fail(what_ + " to " + name + " abandoned: the reader took nothing for " +
                        std::to_string(static_cast<int>(std::ceil(stall_s))) + " s");
  if (err != 0) return Status::fail("cannot write " + what_ + " to " + name + ": " + errno_text(err));
  return {};
}

}  // namespace greenrun
