#include "util/resolve.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>


namespace greenrun {

namespace {

struct Lookup {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  int rc = 0;
  std::vector<Address> found;
};

int lookup(const std::string& host, uint16_t port, int flags, std::vector<Address>& out) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list);
  if (rc != 0) return rc;
  for (addrinfo* a = list; a; a = a->ai_next) {
    if (a->ai_addrlen > sizeof(sockaddr_storage)) continue;
    Address addr;
    std::memcpy(&addr.addr, a->ai_addr, a->ai_addrlen);
    addr.len = a->ai_addrlen;
    addr.family = a->ai_family;
    char buf[INET6_ADDRSTRLEN] = {};
    const void* raw = a->ai_family == AF_INET6 ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr)
                                               : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr);
    if (::inet_ntop(a->ai_family, raw, buf, sizeof buf)) addr.text = buf;
    out.push_back(std::move(addr));
  }
  ::freeaddrinfo(list);
  return 0;
}

}  // namespace

Result<std::vector<Address>> resolve(const std::string& host, uint16_t port, std::chrono::steady_clock::time_point deadline) {
  using R = Result<std::vector<Address>>;
  std::vector<Address> numeric;
  if (lookup(host, port, AI_NUMERICHOST, numeric) == 0) return numeric;  // an address: nothing to ask
  auto state = std::make_shared<Lookup>();
  try {
    std::thread([state, host, port] {
      std::vector<Address> found;
      const int rc = lookup(host, port, AI_ADDRCONFIG, found);
      std::lock_guard<std::mutex> lock(state->mutex);
      state->rc = rc;
      state->found = std::move(found);
      state->done = true;
      state->done_cv.notify_all();
    }).detach();
  } catch (const std::system_error&) {
    return R::fail(host + ": cannot start a name lookup (no threads left)");
  }
  std::unique_lock<std::mutex> lock(state->mutex);
  if (!state->done_cv.wait_until(lock, deadline, [&] { return state->done; })) {
    return R::fail(host + ": no answer from the name server in time");
  }
  if (state->rc != 0) return R::fail(host + ": host not found (" + std::string(::gai_strerror(state->rc)) + ")");
  if (state->found.empty()) return R::fail(host + ": host not found");
  return std::move(state->found);
}

}  // namespace greenrun
