#include "util/url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

namespace greenrun {

namespace {

using R = Result<Url>;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string shown(const std::string& text) { return without_userinfo(text).substr(0, 200); }

/// Four decimal numbers 0-255 without leading zeros (inet_aton's "127.1",
/// octal and hex forms are refused: two parsers must not disagree).
bool dotted_quad(const std::string& host, unsigned& first) {
  int parts = 0;
  size_t pos = 0;
  while (pos <= host.size()) {
    size_t dot = host.find('.', pos);
    if (dot == std::string::npos) dot = host.size();
    const std::string part = host.substr(pos, dot - pos);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0') ||
        !std::all_of(part.begin(), part.end(), [](unsigned char c) { return std::isdigit(c); }))
      return false;
    const unsigned v = static_cast<unsigned>(std::stoul(part));
    if (v > 255) return false;
    if (parts == 0) first = v;
    ++parts;
    pos = dot + 1;
  }
  return parts == 4;
}

bool name_char(unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_'; }

/// RFC 3986 path characters: unreserved, sub-delims, ':', '@', '/' and %XX.
bool path_char(unsigned char c) {
  return std::isalnum(c) || std::strchr("-._~!$&'()*+,;=:@/%", c) != nullptr;
}

Status parse_host(const std::string& hostport, const std::string& what, Url& u) {
  std::string host = hostport, port;
  if (!host.empty() && host[0] == '[') {
    const size_t close = host.find(']');
    if (close == std::string::npos) return Status::fail(what + ": an IPv6 address without its closing ']'");
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
    in6_addr a{};
    if (host.find('%') != std::string::npos || ::inet_pton(AF_INET6, host.c_str(), &a) != 1)
      return Status::fail(what + ": [" + host + "] is not an IPv6 address");
    u.ipv6 = true;
    if (!port.empty() && port[0] != ':') return Status::fail(what + ": unexpected text after the IPv6 address");
  } else if (const size_t colon = host.find(':'); colon != std::string::npos) {
    port = host.substr(colon);
    host.resize(colon);
  }
  if (!port.empty()) {
    port.erase(0, 1);
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }) ||
        std::stoul(port) == 0 || std::stoul(port) > 65535)
      return Status::fail(what + ": the port is not a number from 1 to 65535");
    u.port = static_cast<uint16_t>(std::stoul(port));
    u.port_given = true;
  }
  if (host.empty()) return Status::fail(what + ": no host");
  if (!u.ipv6) {
    if (!std::all_of(host.begin(), host.end(), name_char))
      return Status::fail(what + ": the host may hold only letters, digits, '-', '_' and '.'");
    unsigned first = 0;
    const bool numeric = std::all_of(host.begin(), host.end(), [](unsigned char c) { return std::isdigit(c) || c == '.'; });
    if (numeric && !dotted_quad(host, first))
      return Status::fail(what + ": write an IPv4 address as four decimal numbers (127.0.0.1)");
  }
  u.host = lower(host);
  return {};
}

}  // namespace

std::string without_userinfo(const std::string& text) {
  const size_t start = text.find("://");
  if (start == std::string::npos) return text;
  const size_t end = text.find_first_of("/?#", start + 3);
  const size_t at = text.substr(0, end).rfind('@');
  if (at == std::string::npos || at < start + 3) return text;
  return text.substr(0, start + 3) + "***" + text.substr(at);
}

std::string Url::authority() const {
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Url::text() const {
  const bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  return scheme + "://" + (ipv6 ? "[" + host + "]" : host) + (default_port && !port_given ? "" : ":" + std::to_string(port)) +
         path;
}

Result<Url> parse_url(const std::string& text) {
  const std::string what = shown(text);
  Url u;
  const size_t sep = text.find("://");
  u.scheme = lower(sep == std::string::npos ? "" : text.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") return R::fail(what + ": expected an https:// (or http://) URL");
  u.port = u.scheme == "https" ? 443 : 80;
  for (unsigned char c : text)
    if (c <= 0x20 || c >= 0x7f || c == '\\')
      return R::fail(what + ": a URL may not hold spaces, control characters, backslashes or non-ASCII bytes");
  const std::string rest = text.substr(sep + 3);
  const size_t end = rest.find_first_of("/?#");
  const std::string authority = rest.substr(0, end);
  if (authority.find('@') != std::string::npos)
    return R::fail(what + ": a user name or password in the URL is refused (it would be sent, and shown, as part of "
                          "the address); credentials go in their own variables or a config file");
  u.path = end == std::string::npos ? "" : rest.substr(end);
  if (u.path.find_first_of("?#") != std::string::npos) return R::fail(what + ": a base URL has no query or fragment");
  if (!std::all_of(u.path.begin(), u.path.end(), path_char)) return R::fail(what + ": unexpected characters in the path");
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  if (auto st = parse_host(authority, what, u); !st) return R::fail(st.error());
  return u;
}

bool is_loopback_host(const Url& u) {
  if (u.ipv6) return u.host == "::1" || is_loopback_address(u.host);
  unsigned first = 0;
  if (dotted_quad(u.host, first)) return first == 127;
  return u.host == "localhost";
}

bool is_loopback_address(const std::string& address) {
  in_addr v4{};
  if (::inet_pton(AF_INET, address.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, address.c_str(), &v6) == 1) return std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
  return false;
}

std::string percent_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace greenrun
