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
/// A finite number; "nan", "inf" and garbage are nullopt.
std::optional<double> parse_double(std::string_view text);
/// A whole number in [lo, hi] (from a number field such as "2024" or "16.0"); nullopt otherwise.
std::optional<int> whole_in_range(std::optional<double> v, int lo, int hi);
std::string_view trim(std::string_view s);

bool path_exists(const std::string& path);
/// The directory of greenrun's own executable; "" when unknown.
std::string exe_dir();
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

/// Where greenrun may write for `path`: the path itself, or the target of a
/// symbolic link owned by the user running greenrun or by root. A link owned
/// by anyone else, a FIFO or socket owned by anyone else (except greenrun's
/// own descriptors, /dev/stdout and the like) and a block device are refused:
/// planted in a shared directory, they make a privileged greenrun write where
/// it should not. `what` names the option in errors.
Result<std::string> output_path(const std::string& path, std::string_view what);
/// /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: a descriptor greenrun
/// holds. Always written in place, whatever it refers to.
bool own_descriptor(const std::string& path);

/// Writes `content` to an unpredictable temporary file created exclusively
/// beside `path` (after output_path), flushes it and renames it over `path`:
/// readers see the old or the new file, never a torn one. An existing report
/// keeps its mode and owner; a new one gets 0666 & ~umask.
Status atomic_write(const std::string& path, std::string_view content);

/// Removes the temporaries atomic_write left beside `path` in runs that were
/// killed (util/leftovers.h: the user's own, no longer locked by a live greenrun).
void remove_leftover_temporaries(const std::string& path);

/// Checks that `path` can be written later: output_path allows it, its
/// directory exists and accepts a new file, and `path` itself is not a
/// directory or a read-only file. The error names the problem and the fix.
Status check_writable(const std::string& path, std::string_view what);

/// What the first bytes of a CSV say about appending `header` rows to it.
/// Empty: no bytes, or blank lines only (the header is written).
enum class CsvHeader { Empty, Same, Different };
CsvHeader classify_header(std::string_view start, uint64_t size, std::string_view header);

/// Appends `content` to `path` under an exclusive flock. With `header`, an
/// empty file gets the header first; a file with another header is renamed
/// to FILE.bak (FILE.bak.1, ... never over an earlier one; `backed_up` gets
/// the name) and a new file started. A write that fails half-way is truncated
/// back before the lock is released.
Status locked_append(const std::string& path, std::string_view header, std::string_view content,
                     std::string* backed_up = nullptr);

std::string errno_text(int err);

}  // namespace greenrun
