#pragma once
// Every exit status greenrun itself uses, in one place (man greenrun, EXIT
// STATUS). Otherwise greenrun exits with the command's own status, or 128+N
// when the command died of signal N, as a shell reports it.

namespace greenrun {

/// A subcommand's usage error (greenrun sensors --bogus).
inline constexpr int kExitUsage = 2;
/// greenrun failed before the command started (bad option, unknown region,
/// unwritable output), or hit an internal error: the command did not run.
inline constexpr int kExitGreenrunFailed = 125;
/// The command succeeded but a budget (--max-energy, --max-emissions,
/// --max-increase) was exceeded with --on-budget fail, or greenrun stopped
/// the command with --on-budget stop. Below 125, and only ever instead of 0.
inline constexpr int kExitBudgetExceeded = 100;
/// The command was found but could not be executed (env(1), timeout(1)).
inline constexpr int kExitCannotExecute = 126;
/// The command was not found.
inline constexpr int kExitNotFound = 127;
/// The command died of signal N: 128 + N.
inline constexpr int kExitSignalBase = 128;

}  // namespace greenrun
