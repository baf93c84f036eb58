// spdlog compiled into this one file, header-only with fmt header-only
// (SPDLOG_FMT_EXTERNAL, FMT_HEADER_ONLY; see src/CMakeLists.txt): no shared
// library is loaded at start-up for diagnostics that are off by default.

#include "util/log.h"

#include <fcntl.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>

#include "util/fs.h"
#include "util/escape.h"

namespace greenrun::log {

namespace {

std::shared_ptr<spdlog::logger>& logger() {
  static std::shared_ptr<spdlog::logger> l;
  return l;
}

// Appends each line to a descriptor greenrun opened itself (spdlog's own
// file sink would create missing directories and follow a planted link).
class FdSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit FdSink(int fd) : fd_(fd) {}
  ~FdSink() override { ::close(fd_); }
  FdSink(const FdSink&) = delete;
  FdSink& operator=(const FdSink&) = delete;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {  // one write per line in practice (O_APPEND keeps lines whole)
      const ssize_t n = ::write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // a full disk loses diagnostics, never the run
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  void flush_() override {}

 private:
  int fd_;
};

}  // namespace

namespace detail {

void write(Level level, const std::string& message) {
  if (auto& l = logger()) l->log(level == Level::Trace ? spdlog::level::trace : spdlog::level::debug, terminal_text(message));
}

}  // namespace detail

std::optional<Level> parse_level(std::string_view text) {
  if (text == "off") return Level::Off;
  if (text == "debug") return Level::Debug;
  if (text == "trace") return Level::Trace;
  return std::nullopt;
}

Status start(Level level, const std::string& file) {
  if (level == Level::Off) return {};
  try {
    std::shared_ptr<spdlog::sinks::sink> sink;
    if (file.empty()) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    else {
      const int fd = open_output(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
      if (fd < 0) return Status::fail("--log-file " + file + ": cannot open it: " + std::strerror(-fd));
      sink = std::make_shared<FdSink>(fd);
    }
    auto l = std::make_shared<spdlog::logger>("greenrun", std::move(sink));
    l->set_pattern("greenrun: %H:%M:%S.%f %l: %v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);  // a killed greenrun leaves a complete log
    logger() = std::move(l);
  } catch (const spdlog::spdlog_ex& e) {
    return Status::fail("--log-file " + file + ": " + e.what());
  }
  detail::level.store(static_cast<int>(level), std::memory_order_relaxed);
  return {};
}

long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double ms_since(long long start_ns) { return static_cast<double>(now_ns() - start_ns) / 1e6; }

}  // namespace greenrun::log
