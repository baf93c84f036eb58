#pragma once
// Small file helpers. Hot-path readers keep their descriptor open and pread
// from offset 0, which makes sysfs and procfs regenerate the contents.

#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace greenrun {

/// Reads a whole file into `out`, to a read that returns 0: a short read is
/// not the end of a seq_file of records (/proc/cpuinfo, /proc/PID/mountinfo,
/// cgroup.procs return only the whole records that fit in a page at each
/// read). Returns 0 or the errno.
int read_file(const std::string& path, std::string& out);
/// Reads a whole file; nullopt when it cannot be read.
std::optional<std::string> read_file(const std::string& path);
/// Reads a file that the kernel writes out in one piece at each read: a
/// sysfs attribute, /proc/stat, /proc/meminfo, /proc/PID/{stat,statm,status,
/// io,cgroup}, a cgroup's cpu.stat or memory.stat, or a regular file. A read
/// shorter than asked for is its end, which saves the read(2) that would
/// return 0 (it shows in the sampler's cost and at start-up). Never for a
/// seq_file of records: read_file. Returns 0 or the errno.
int read_one_piece(const std::string& path, std::string& out);
/// First line of a file read in one piece (read_one_piece), without the
/// newline; nullopt when unreadable.
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
  /// Re-reads the whole file into `out`, taking a short read as its end: for
  /// the files read_one_piece() is for. Returns 0 or the errno.
  int read(std::string& out) const;
  bool is_open() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

/// An output path reached one component at a time: each directory opened
/// with openat(O_PATH | O_DIRECTORY | O_NOFOLLOW) from the one before, a
/// symbolic link (in a directory component or the last one) followed only
/// when the user running greenrun or root owns it, as the kernel's
/// protected_symlinks does in sticky directories. What is then written is
/// written through the directory descriptor (openat, renameat): a link
/// planted or swapped in afterwards is never followed. A link of another
/// user's, a FIFO or socket of another user's (except greenrun's own
/// descriptors, /dev/stdout and the like) and a block device are refused:
/// planted in a shared directory, they make a privileged greenrun write where
/// it should not. Errors name `what` (the option), the problem and the fix.
class OutputPath {
 public:
  static Result<OutputPath> walk(const std::string& path, std::string_view what);
  OutputPath() = default;
  OutputPath(const OutputPath&) = delete;
  OutputPath& operator=(const OutputPath&) = delete;
  OutputPath(OutputPath&& other) noexcept;
  OutputPath& operator=(OutputPath&& other) noexcept;
  ~OutputPath();

  /// /dev/stdout, /dev/fd/N and the like: greenrun's own descriptor, opened by its path.
  bool descriptor() const { return dir_ < 0; }
  int dir() const { return dir_; }
  /// The last component within dir() (never a link), or the descriptor's path.
  const std::string& name() const { return name_; }
  /// The path as walked, links resolved: for messages.
  const std::string& shown() const { return shown_; }
  /// fstatat of name() without following; false when it does not exist.
  bool stat(struct ::stat& st) const;
  /// openat(dir(), name(), flags | O_NOFOLLOW), or open() of a descriptor's path; -1 with errno.
  int open(int flags, unsigned mode = 0) const;

 private:
  int dir_ = -1;
  std::string name_, shown_;
};

/// The walked path of `path` (OutputPath::walk, then the FIFO, socket and
/// block-device rules) as text, for what must open it by name.
Result<std::string> output_path(const std::string& path, std::string_view what);
/// Opens `path` for writing as OutputPath does (`flags` gain O_NOFOLLOW for
/// the last component). Returns the fd, or -errno (-ELOOP for a refused link).
int open_output(const std::string& path, int flags, unsigned mode = 0);
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
