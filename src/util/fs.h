#pragma once
// Small file helpers. Hot-path readers keep their descriptor open and pread
// from offset 0, which makes sysfs and procfs regenerate the contents.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace greenrun {

/// Reads a whole (small) file into `out`. Returns 0 or the errno.
int read_file(const std::string& path, std::string& out);
/// Reads a whole file; nullopt when it cannot be read.
std::optional<std::string> read_file(const std::string& path);
/// First line of a file without the newline; nullopt when unreadable.
std::optional<std::string> read_line(const std::string& path);

std::optional<uint64_t> parse_u64(std::string_view text);  // leading/trailing spaces allowed
std::optional<double> parse_double(std::string_view text);
std::string_view trim(std::string_view s);

bool path_exists(const std::string& path);
bool is_directory(const std::string& path);
/// Names in a directory (no "." or ".."), sorted; empty when unreadable.
std::vector<std::string> list_dir(const std::string& path);

/// A file kept open for repeated whole-file reads.
class PreadFile {
 public:
  PreadFile() = default;
  PreadFile(const PreadFile&) = delete;
  PreadFile& operator=(const PreadFile&) = delete;
  PreadFile(PreadFile&& other) noexcept;
  PreadFile& operator=(PreadFile&& other) noexcept;
  ~PreadFile();

  /// Returns 0 or the errno of open(2).
  int open(const std::string& path);
  /// Re-reads the whole file into `out`. Returns 0 or the errno.
  int read(std::string& out) const;
  bool is_open() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

/// Writes `content` to a temporary file beside `path`, flushes it to disk and
/// renames it over `path`: readers see the old or the new file, never a torn one.
Status atomic_write(const std::string& path, std::string_view content);

/// Checks that `path` can be written later: its directory exists and accepts a
/// new file, and `path` itself is not a directory or a read-only file. The
/// error names the problem and the fix.
Status check_writable(const std::string& path, std::string_view what);

/// Appends `content` to `path` under an exclusive flock. With `header`, a new
/// or empty file gets the header first; an existing file whose first line
/// differs from `header` is left untouched and reported.
Status locked_append(const std::string& path, std::string_view header, std::string_view content);

std::string errno_text(int err);

}  // namespace greenrun
