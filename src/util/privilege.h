#pragma once
// greenrun may run with more privilege than its user: with file capabilities
// (setcap cap_perfmon+ep, as the README suggests for perf) or setuid. Then
// everything the user names is a way to act with that privilege: a library
// to load, a root directory to read, a file to read. See man greenrun, SECURITY.

#include <string>

namespace greenrun {

/// The kernel's AT_SECURE: greenrun was started with raised privileges.
bool running_privileged();

/// Whether the real user (not greenrun's capabilities) may read `path`:
/// access(2) checks with the real uid and without effective capabilities.
bool user_may_read(const std::string& path);

/// Clears the inheritable and ambient capability sets of the calling
/// process (the command's, between fork and exec): nothing greenrun was
/// given passes on to the command.
void drop_inheritable_capabilities();

}  // namespace greenrun
