#include "util/plain_http.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "util/fs.h"
#include "util/resolve.h"
#include "util/url.h"
#include "util/version.h"

namespace greenrun {

namespace {

using clock = std::chrono::steady_clock;

int ms_left(clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

bool wait_for(int fd, short events, clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, ms_left(deadline));
    if (n < 0 && errno == EINTR) continue;
    return n > 0 && (p.revents & (events | POLLERR | POLLHUP));
  }
}

// A non-blocking connection to the first address that answers in time
// (the name resolved within the same deadline).
Result<int> connect_to(const HttpUrl& url, clock::time_point deadline) {
  auto found = resolve(url.host, url.port, deadline);
  if (!found) return Result<int>::fail("cannot resolve " + found.error());
  std::string error = "no address for " + url.host;
  for (const Address& a : *found) {
    int fd = ::socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) == 0 ||
        (errno == EINPROGRESS && wait_for(fd, POLLOUT, deadline))) {
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) return fd;
      error = "cannot connect to " + url.host + ":" + std::to_string(url.port) + ": " + errno_text(err);
    } else {
      error = errno == EINPROGRESS ? "no answer from " + url.host + " in time"
                                   : "cannot connect to " + url.host + ": " + errno_text(errno);
    }
    ::close(fd);
  }
  return Result<int>::fail(error);
}

bool send_all(int fd, std::string_view data, clock::time_point deadline) {
  while (!data.empty()) {
    if (!wait_for(fd, POLLOUT, deadline)) return false;
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

Result<HttpUrl> parse_http_url(const std::string& url) {
  using R = Result<HttpUrl>;
  auto u = parse_url(url);
  if (u && u->scheme != "http") u = Result<Url>::fail(u->text() + ": expected an http:// URL (http://host:9091)");
  if (!u && url.find("://") != std::string::npos && url.substr(0, url.find("://")) != "http")
    return R::fail(url.substr(0, url.find("://")) + ":// " + "is not http: expected an http:// URL (http://host:9091)");
  if (!u) return R::fail(u.error());
  return HttpUrl{u->host, u->port, u->path, u->authority()};
}

Result<int> http_request(const HttpUrl& url, const std::string& method, const std::string& path, std::string_view body,
                         const std::string& content_type, double timeout_s) {
  const auto deadline = clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(timeout_s));
  auto fd = connect_to(url, deadline);
  if (!fd) return Result<int>::fail(fd.error());
  std::string request = method + " " + url.path + path + " HTTP/1.1\r\nHost: " + url.authority +
                        "\r\nUser-Agent: greenrun/" + kVersion + "\r\nContent-Type: " + content_type +
                        "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  request.append(body);
  std::string reply;
  bool sent = send_all(*fd, request, deadline);
  char buf[512];
  while (sent && reply.find("\r\n") == std::string::npos && wait_for(*fd, POLLIN, deadline)) {
    ssize_t n = ::recv(*fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  ::close(*fd);
  if (!sent) return Result<int>::fail("cannot send to " + url.host + " in time");
  if (reply.rfind("HTTP/1.", 0) != 0 || reply.size() < 12)
    return Result<int>::fail(reply.empty() ? "no reply from " + url.host + " in time" : "not an HTTP reply from " + url.host);
  return whole_in_range(parse_double(reply.substr(9, 3)), 100, 599).value_or(0);
}

std::string base64url(std::string_view s) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(s[i]) << 16) | (static_cast<unsigned char>(s[i + 1]) << 8) |
                       static_cast<unsigned char>(s[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < s.size()) {
    unsigned v = static_cast<unsigned char>(s[i]) << 16;
    if (i + 1 < s.size()) v |= static_cast<unsigned char>(s[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < s.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out.empty() ? "=" : out;  // the Pushgateway's form of an empty value
}

}  // namespace greenrun
