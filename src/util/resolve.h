#pragma once
// Name resolution with a deadline. getaddrinfo(3) cannot be cancelled and
// obeys only resolv.conf's own timeouts (5 s x 2 tries by default, per
// server): a name server that never answers would hold greenrun past every
// bound it documents. Here the lookup runs on a thread of its own and is
// abandoned at the deadline (the thread ends by itself later).

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "util/result.h"

namespace greenrun {

struct Address {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = 0;
  std::string text;  // "127.0.0.1", "::1"
};

/// The TCP addresses of `host` (a name or an address) at `port`, or an
/// error once `deadline` has passed: "HOST: no answer from the name server
/// within 2 s".
Result<std::vector<Address>> resolve(const std::string& host, uint16_t port, std::chrono::steady_clock::time_point deadline);

}  // namespace greenrun
