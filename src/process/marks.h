#pragma once
// Phases, counts and progress from inside the command: greenrun creates a
// private FIFO and names it in GREENRUN_MARK; each line written to it
// (`greenrun mark eval`, or `echo eval > "$GREENRUN_MARK"`) starts a phase.
// A line that starts with kRecordByte is a record instead (`greenrun count`,
// `greenrun progress`, python/greenrun.py): "count N UNIT", "progress F".
// greenrun holds the FIFO open for reading and writing, so a writer never
// blocks on open, and a 1 MiB buffer absorbs bursts.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace greenrun {

/// The environment variable that names the FIFO for the command.
inline constexpr const char* kMarkVariable = "GREENRUN_MARK";
/// The longest label kept, in bytes: a longer line keeps its first 200 (cut
/// back to a whole UTF-8 character), the rest of it up to its newline is skipped.
inline constexpr size_t kMaxMarkLabel = 200;

/// The byte (ASCII RS, record separator) that starts a record line. No label
/// starts with it: `greenrun mark` and the Python helper remove it from the
/// front of a label, and a line that starts with it is never a mark.
inline constexpr char kRecordByte = '\x1e';
/// The longest unit name (`count N UNIT`): letters, digits, '_' and '-'.
inline constexpr size_t kMaxUnitName = 32;

/// One line of the marks protocol.
struct MarkRecord {
  enum class Kind { Mark, Count, Progress, Invalid };
  Kind kind = Kind::Mark;
  std::string text;  // Mark: the phase's name; Count: the unit; Invalid: the line, escaped later
  double value = 0;  // Count: how many (>= 0); Progress: the fraction done (0..1)
};

/// Whether `unit` can name a count: 1 to kMaxUnitName letters, digits, '_' or '-'.
bool valid_unit(std::string_view unit);
/// A count's or a fraction's number: plain decimal ("12", "0.25", "1e3"),
/// finite and >= 0; nullopt otherwise.
std::optional<double> parse_record_number(std::string_view text);
/// A record line without its kRecordByte: "count N UNIT" or "progress F".
MarkRecord parse_record(std::string_view line);
/// The line a record is sent as (kRecordByte, the record, a newline).
std::string count_line(double n, const std::string& unit);
std::string progress_line(double fraction);

/// The marks protocol's lines: bytes in, in any pieces, records out. Holds at
/// most kMaxMarkLabel bytes of a line, whatever its length.
class MarkLines {
 public:
  void feed(std::string_view bytes, const std::function<void(MarkRecord)>& on_record);

 private:
  void line_done(const std::function<void(MarkRecord)>& on_record);
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
  /// stops cannot keep the caller here), and calls `on_record` for each
  /// complete line.
  void drain(const std::function<void(MarkRecord)>& on_record, size_t max_bytes = kDrainBytes);
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
/// What `greenrun count` and `greenrun progress` do: `line` (count_line,
/// progress_line) to the FIFO, as send_mark does.
void send_record(const std::string& line, const std::string& fifo);

}  // namespace greenrun
