#pragma once
// Where an output goes, decided before the command starts: a regular file
// (rewritten atomically at checkpoints and at the end), or a stream (a pipe,
// FIFO, terminal or device, or "-" for standard output) that receives the
// final document only, written without ever blocking greenrun for long.

#include <string>
#include <string_view>

#include "util/result.h"

namespace greenrun {

class OutputTarget {
 public:
  /// Classifies `path` and checks that it can be written, without opening a
  /// stream (a FIFO with no reader would block) and without reading it. The
  /// error names the option (`what`, e.g. "--json"), the problem and the fix.
  static Result<OutputTarget> check(const std::string& path, std::string_view what);

  bool is_stream() const { return stream_; }
  const std::string& path() const { return path_; }

  /// The whole document: a regular file is replaced atomically; a stream gets
  /// it once, opened non-blocking and written without blocking. The waits are
  /// shared by every stream of the process: FIFOs without a reader wait
  /// kOpenWaitS for their readers together, not each in turn, and readers
  /// that take nothing stall greenrun kStallS together.
  Status write(std::string_view content) const;

  static constexpr double kOpenWaitS = 5;
  static constexpr double kStallS = 10;

 private:
  std::string path_;
  std::string what_;
  bool stream_ = false;
  bool stdout_ = false;  // "-"
};

/// Opens a stream for writing without blocking: O_NONBLOCK, retrying a FIFO
/// that has no reader yet (ENXIO) for up to `wait_s`. Returns the fd or -errno.
int open_stream(const std::string& path, double wait_s);
/// Writes all of `content` to `fd` (blocking or not), giving up when no byte
/// could be written for `stall_s`. Returns 0 or the errno (ETIMEDOUT on a stall).
int write_stream(int fd, std::string_view content, double stall_s);

}  // namespace greenrun
