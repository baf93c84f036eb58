#pragma once
// Diagnostics (-v, --log-level, --log-file) through spdlog. Off by default; a
// call site costs one relaxed atomic load and a branch when its level is off,
// and builds its message only when it is on (the message is a callable).

#include <atomic>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace greenrun::log {

enum class Level { Off = 0, Debug = 1, Trace = 2 };

namespace detail {
inline std::atomic<int> level{0};
void write(Level level, const std::string& message);
}  // namespace detail

inline bool enabled(Level l) { return detail::level.load(std::memory_order_relaxed) >= static_cast<int>(l); }

/// Probe decisions, data files loaded, the process-tree method, checkpoints.
template <class MessageFn>
void debug(MessageFn&& message) {
  if (enabled(Level::Debug)) detail::write(Level::Debug, message());
}
/// Per tick: what was read and how long it took.
template <class MessageFn>
void trace(MessageFn&& message) {
  if (enabled(Level::Trace)) detail::write(Level::Trace, message());
}

/// "off", "debug", "trace"; nullopt for anything else.
std::optional<Level> parse_level(std::string_view text);

/// Starts logging at `level` to `file` (appended), or to stderr when `file`
/// is empty. Call before any thread starts.
Status start(Level level, const std::string& file);

/// Milliseconds since `start_ns` (a steady_clock reading), for "took" figures.
double ms_since(long long start_ns);
long long now_ns();

}  // namespace greenrun::log
