#pragma once
// A minimal HTTP/1.1 client for pushing metrics to a Pushgateway on the
// cluster's network: http:// only, every step bounded by a deadline, so a
// dead or slow gateway costs greenrun at most that and never the command.
// (libcurl is for the grid-data providers, over TLS.)

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace greenrun {

struct HttpUrl {
  std::string host;
  uint16_t port = 80;
  std::string path;       // without a trailing slash
  std::string authority;  // "host:port", "[::1]:9091": the Host header
};

/// "http://host[:port][/path]", parsed strictly (url.h: no user name or
/// password, no query); anything else is an error saying what is expected.
Result<HttpUrl> parse_http_url(const std::string& url);

/// Sends `method` `url.path + path` with `body`; returns the HTTP status, or
/// an error once `timeout_s` (for everything: name resolution, connect, send,
/// the status line) has passed.
Result<int> http_request(const HttpUrl& url, const std::string& method, const std::string& path, std::string_view body,
                         const std::string& content_type, double timeout_s);

/// RFC 4648 base64 with the URL-safe alphabet (the Pushgateway's @base64 path values).
std::string base64url(std::string_view s);

}  // namespace greenrun
