#pragma once
// The URLs greenrun sends requests to (a grid provider's base URL, the
// Pushgateway), parsed strictly: a subset of RFC 3986 that libcurl and
// plain_http read the same way, so that the host greenrun checks is the host
// it connects to. No user name or password before '@', no query or fragment,
// no percent-encoding or spaces in the host. See man greenrun, SECURITY.

#include <cstdint>
#include <string>

#include "util/result.h"

namespace greenrun {

struct Url {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // lower case; an IPv6 address without its brackets
  bool ipv6 = false;
  uint16_t port = 0;   // as given, else the scheme's (80, 443)
  bool port_given = false;
  std::string path;    // "" or "/..." without a trailing slash

  /// "host:port" as a Host header or CURLOPT_RESOLVE names it ("[::1]:8080").
  std::string authority() const;
  /// The URL again, normalised: scheme://host[:port]path.
  std::string text() const;
};

/// Parses `text` as an http:// or https:// URL. Errors say what is wrong and
/// never repeat a user name or password the text holds.
Result<Url> parse_url(const std::string& text);

/// 127.0.0.0/8 written as four decimal numbers, ::1, or the name "localhost"
/// (whose addresses greenrun checks again when it resolves them).
bool is_loopback_host(const Url& u);

/// `s` as a URL's query value or path segment: RFC 3986's unreserved
/// characters as they are, every other byte as %XX.
std::string percent_encode(const std::string& s);

/// `text` as a message may show it: whatever stands before an '@' in a URL's
/// authority (a user name, a password) becomes "***". Other text is unchanged.
std::string without_userinfo(const std::string& text);

/// Whether a resolved address (as inet_ntop writes it) is a loopback address.
bool is_loopback_address(const std::string& address);

}  // namespace greenrun
