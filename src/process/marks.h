#pragma once
// Phases marked from inside the command: greenrun creates a private FIFO
// and names it in GREENRUN_MARK; each line written to it
// (`greenrun mark eval`, or `echo eval > "$GREENRUN_MARK"`) starts a phase.
// greenrun holds the FIFO open for reading and writing, so a writer never
// blocks on open, and a 1 MiB buffer absorbs bursts.

#include <functional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace greenrun {

/// The environment variable that names the FIFO for the command.
inline constexpr const char* kMarkVariable = "GREENRUN_MARK";
/// The longest label kept, in bytes: a longer line keeps its first 200 (cut
/// back to a whole UTF-8 character), the rest of it up to its newline is skipped.
inline constexpr size_t kMaxMarkLabel = 200;

/// The marks protocol's lines: bytes in, in any pieces, labels out. Holds at
/// most kMaxMarkLabel bytes of a line, whatever its length.
class MarkLines {
 public:
  void feed(std::string_view bytes, const std::function<void(std::string)>& on_mark);

 private:
  std::string line_;
  bool cut_ = false;  // the line is longer than the label: skipping to its newline
};

class MarkChannel {
 public:
  /// A new FIFO (mode 0600, an unpredictable name: kFifoPrefix and 16 hex
  /// digits) in `tmp_dir`, locked while this greenrun lives (util/leftovers.h).
  static Result<MarkChannel> create(const std::string& tmp_dir);
  /// Removes from `tmp_dir` the FIFOs that killed greenruns of this user left.
  static void remove_leftovers(const std::string& tmp_dir);
  static constexpr const char* kFifoPrefix = "greenrun-marks-";
  MarkChannel() = default;
  MarkChannel(MarkChannel&& o) noexcept { *this = std::move(o); }
  MarkChannel& operator=(MarkChannel&& o) noexcept;
  MarkChannel(const MarkChannel&) = delete;
  MarkChannel& operator=(const MarkChannel&) = delete;
  /// Closes the FIFO and removes it.
  ~MarkChannel();

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  /// Reads what is buffered, at most `max_bytes` (a writer that never
  /// stops cannot keep the caller here), and calls `on_mark` for each
  /// complete line.
  void drain(const std::function<void(std::string)>& on_mark, size_t max_bytes = kDrainBytes);
  /// What one wake-up of the main loop takes; all a FIFO can buffer.
  static constexpr size_t kDrainBytes = 64 << 10, kBufferBytes = 1 << 20;

 private:
  int fd_ = -1;
  std::string path_;
  MarkLines lines_;
};

/// What `greenrun mark LABEL` does: writes the line to the FIFO that
/// GREENRUN_MARK names. Without one (not under greenrun) it does nothing:
/// marking is never an error that stops the command.
void send_mark(const std::string& label, const std::string& fifo);

}  // namespace greenrun
