#pragma once
// Provider answers kept on disk ($XDG_CACHE_HOME/greenrun, mode 0600) for a
// time to live, so that a hundred CI jobs an hour on one machine make a
// handful of requests, and a cached lookup costs a file read at start-up.

#include <chrono>
#include <optional>
#include <string>

#include "util/env.h"

namespace greenrun {

class ResponseCache {
 public:
  using time_point = std::chrono::system_clock::time_point;
  /// `dir` empty or `ttl` zero: nothing is cached.
  ResponseCache(std::string dir, std::chrono::nanoseconds ttl) : dir_(std::move(dir)), ttl_(ttl) {}

  /// $XDG_CACHE_HOME/greenrun, else ~/.cache/greenrun; "" when neither is
  /// set or greenrun runs with raised privileges (a root-owned file in a
  /// directory the user names is a way to write where the user may not).
  static std::string default_dir(const EnvLookup& env);

  /// The body stored under `key` (a URL without credentials) when it is
  /// younger than the TTL at `now`.
  std::optional<std::string> get(const std::string& key, time_point now) const;
  /// Stores `body` (best effort: a cache that cannot be written is no cache).
  void put(const std::string& key, const std::string& body, time_point now) const;
  bool enabled() const { return !dir_.empty() && ttl_.count() > 0; }

 private:
  std::string path_for(const std::string& key) const;

  std::string dir_;
  std::chrono::nanoseconds ttl_;
};

}  // namespace greenrun
