#pragma once
// The one place that knows every form a grid provider's credential takes on
// the wire, so that no message built from a provider's answer (an error, the
// server's own words, a Content-Type) shows one: the token or password as
// given, percent-encoded, the base64 of "user:password" that HTTP basic auth
// sends, and any "Basic ..." or "Bearer ..." credential a server echoes.

#include <string>
#include <vector>

namespace greenrun {

class Redactor {
 public:
  /// Credentials shorter than this are refused before any request: replacing
  /// a one-letter token in every message would mangle the messages ("te***t")
  /// and could not hide it anyway.
  static constexpr size_t kMinSecretLength = 8;

  /// A token or password greenrun sends (and the token a login answers).
  void add(const std::string& secret);
  /// HTTP basic auth: the password and the base64 of "user:password".
  void add_basic(const std::string& user, const std::string& password);

  /// `text` with every known credential and every "Basic X"/"Bearer X" value
  /// replaced by "***", and control characters by spaces (one line).
  std::string operator()(std::string text) const;

 private:
  std::vector<std::string> forms_;  // longest first
};

/// RFC 4648 base64, standard alphabet with padding.
std::string base64(const std::string& s);

}  // namespace greenrun
