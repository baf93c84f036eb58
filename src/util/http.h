#pragma once
// HTTP GET through libcurl for the grid-intensity providers: TLS verified,
// bounded in time and size (name resolution included: greenrun resolves the
// host itself, see resolve.h, and hands libcurl the addresses), a few retries
// on 429 and 5xx, and errors that never contain a credential (headers are
// never echoed; util/redact.h cleans what a server sends back).

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "util/result.h"
#include "util/url.h"

namespace greenrun {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "auth-token: ..." (never logged)
  std::string basic_user, basic_password;  // HTTP basic auth when basic_user is set
};

struct HttpResponse {
  long status = 0;
  std::string content_type;
  std::string body;
};

struct HttpPolicy {
  /// The whole request, retries and their waits included: a provider can
  /// never hold greenrun up longer than this.
  std::chrono::milliseconds total{15000};
  std::chrono::milliseconds connect{5000};
  /// Retries after a 429 or 5xx answer (or a dropped connection): at most this
  /// many, waiting 1 s, then 2 s (or the server's Retry-After, up to 5 s),
  /// and only while the total budget allows the wait.
  int retries = 2;
  size_t max_body_bytes = 8u << 20;
  /// A deadline shared with other work (after the command exits, all of a
  /// provider's requests end by one): `total` never runs past it.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

/// "greenrun/0.1.0 (+https://...)": every request names greenrun and its version.
std::string user_agent();

/// A provider's base URL, parsed strictly (url.h): https, or plain http only
/// to a loopback address (tests, a local proxy): a token must never cross a
/// network in clear text. No user name or password in the URL.
Result<Url> check_base_url(const std::string& url);

/// GET `req.url`. A non-2xx status is a value, not an error (the caller says
/// what a 401 means); errors are transport failures, in one line.
Result<HttpResponse> http_get(const HttpRequest& req, const HttpPolicy& policy);

}  // namespace greenrun
