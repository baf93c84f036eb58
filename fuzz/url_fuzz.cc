// libFuzzer target: the URL parser every request's host goes through (a
// provider's base URL, the Pushgateway's), and the redactor over the same
// bytes as a server's message.
#include <cstddef>
#include <cstdint>
#include <string>

#include "util/http.h"
#include "util/plain_http.h"
#include "util/redact.h"
#include "util/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto u = greenrun::parse_url(text)) {
    (void)greenrun::is_loopback_host(*u);
    auto again = greenrun::parse_url(u->text());  // the normalised text parses to the same host
    if (!again || again->host != u->host || again->port != u->port) __builtin_trap();
  }
  (void)greenrun::check_base_url(text);
  (void)greenrun::parse_http_url(text);
  greenrun::Redactor redact;
  redact.add_basic("grid-user", "grid-pass-s3cr3t");
  redact.add("token-s3cr3t");
  const std::string out = redact(text + " token-s3cr3t grid-pass-s3cr3t");
  if (out.find("token-s3cr3t") != std::string::npos || out.find("grid-pass-s3cr3t") != std::string::npos ||
      out.find('\n') != std::string::npos)
    __builtin_trap();
  return 0;
}
