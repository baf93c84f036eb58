#pragma once
// Every file greenrun reads because a user named it (--config and the
// config files, --baseline, --intensity-file, the reports of `report`,
// `compare` and `plan --like`) is read here, one way: opened with the user's
// own permissions (AsUser: a setcap or setuid greenrun reads nothing for a
// user that the user could not read), without blocking (a FIFO or a device
// never hangs greenrun), and checked on the open descriptor (a regular file,
// no larger than a cap) before a byte is read. No access()-then-open():
// what is checked is what is read. See man greenrun, SECURITY.

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace greenrun {

/// Caps on what greenrun reads, checked before reading.
inline constexpr uint64_t kMaxConfigFileBytes = 1u << 20;    // a config file: 1 MiB
inline constexpr uint64_t kMaxReportFileBytes = 64u << 20;   // a JSON report read back: 64 MiB

/// The whole of `path`, a regular file of at most `max_bytes`. `what` names
/// it in errors ("--intensity-file", "the config file"; "" for none); each
/// error says what is wrong and what to give instead. With `as_user` false
/// (files greenrun itself chose, such as /etc/greenrun/config) the file is
/// opened with greenrun's own permissions. `st_out` gets the open file's fstat.
Result<std::string> read_input_file(const std::string& path, std::string_view what, uint64_t max_bytes, bool as_user = true,
                                    struct stat* st_out = nullptr);

/// "a FIFO", "a directory", "a character device", ...: what st_mode is, for messages.
std::string file_kind(unsigned mode);

}  // namespace greenrun
