#pragma once
// Files greenrun creates and removes itself: a report's temporary beside it
// (.NAME.greenrun-XXXXXX, renamed over NAME) and the marks FIFO
// (greenrun-marks-XXXXXXXXXXXXXXXX in /tmp). A greenrun killed with SIGKILL
// cannot remove them, so each is created under an exclusive flock that its
// greenrun holds while it lives: the kernel releases the lock when that
// process dies, in whatever PID namespace it ran, and a later run that can
// take the lock knows the file is a leftover. Only the user's own files go,
// and only those older than kLeftoverAgeS, which covers the instant between
// a file's creation and its lock.

#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace greenrun {

/// Takes the exclusive lock that marks `fd`'s file as its greenrun's while it
/// lives. False when it cannot (the file is then an ordinary leftover later).
bool hold_while_alive(int fd);

inline constexpr double kLeftoverAgeS = 10;

/// Removes the entries of `dir` whose names start with `prefix`, of file type
/// `type` (S_IFREG, S_IFIFO), owned by the effective user, last modified more
/// than kLeftoverAgeS ago and not locked by a live greenrun. Links are never
/// followed. Returns the names removed.
std::vector<std::string> remove_leftovers(const std::string& dir, std::string_view prefix, mode_t type);

}  // namespace greenrun
