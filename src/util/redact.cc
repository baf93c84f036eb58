#include "util/redact.h"
#include "util/url.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string_view>

namespace greenrun {

namespace {

bool credential_char(unsigned char c) { return std::isalnum(c) || std::string_view("-._~+/").find(c) != std::string_view::npos; }

bool iequal_at(const std::string& text, size_t pos, std::string_view word) {
  if (pos + word.size() > text.size()) return false;
  for (size_t i = 0; i < word.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[pos + i])) != word[i]) return false;
  return true;
}

/// "Basic dXNlcjpwYXNz", "bearer eyJ...": the value after an HTTP auth
/// scheme, whatever greenrun sent (a server may echo another client's).
void mask_schemes(std::string& text) {
  for (std::string_view scheme : {"basic", "bearer"}) {
    for (size_t pos = 0; pos < text.size(); ++pos) {
      if (!iequal_at(text, pos, scheme) || (pos > 0 && std::isalnum(static_cast<unsigned char>(text[pos - 1])))) continue;
      size_t start = pos + scheme.size();
      if (start >= text.size() || text[start] != ' ') continue;
      while (start < text.size() && text[start] == ' ') ++start;
      size_t end = start;
      while (end < text.size() && credential_char(static_cast<unsigned char>(text[end]))) ++end;
      while (end < text.size() && text[end] == '=') ++end;
      if (end - start < Redactor::kMinSecretLength) continue;
      text.replace(start, end - start, "***");
    }
  }
}

}  // namespace

std::string base64(const std::string& s) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < s.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(s[i]) << 16;
    if (i + 1 < s.size()) v |= static_cast<unsigned char>(s[i + 1]) << 8;
    if (i + 2 < s.size()) v |= static_cast<unsigned char>(s[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < s.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < s.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

void Redactor::add(const std::string& secret) {
  if (secret.empty()) return;
  for (const std::string& form : {secret, percent_encode(secret)})
    if (std::find(forms_.begin(), forms_.end(), form) == forms_.end()) forms_.push_back(form);
  std::stable_sort(forms_.begin(), forms_.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

void Redactor::add_basic(const std::string& user, const std::string& password) {
  add(password);
  if (password.empty()) return;
  std::string b64 = base64(user + ":" + password);
  add(b64);
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  add(b64);  // echoed without its padding
}

std::string Redactor::operator()(std::string text) const {
  for (const auto& s : forms_)
    for (size_t pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + 3)) text.replace(pos, s.size(), "***");
  mask_schemes(text);
  for (auto& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return text;
}

}  // namespace greenrun
