#include "util/escape.h"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace greenrun {

namespace {

/// The code point at `s[i]` and its length in bytes; length 0 where the bytes
/// are not UTF-8 (overlong forms, surrogates and values past U+10FFFF included).
std::pair<char32_t, size_t> decode(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  if (c < 0x80) return {c, 1};
  size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
  if (n == 0 || c > 0xf4 || i + n > s.size()) return {0, 0};
  char32_t cp = c & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xc0) != 0x80) return {0, 0};
    cp = (cp << 6) | (b(k) & 0x3f);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return {0, 0};
  return {cp, n};
}

/// Whether a terminal or a reader could take the code point for something
/// other than a character: controls, line and paragraph separators, the
/// bidirectional embeddings, overrides and isolates, and every blank but the
/// ASCII space (.NET's TrimStart, which GitHub's runner applies before looking
/// for "::", removes them all).
bool invisible(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
         (cp >= 0x2028 && cp <= 0x202f) || cp == 0x205f || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x3000;
}

std::string escape_of(char32_t cp) {
  switch (cp) {
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case 0x1b: return "\\e";
    default: break;
  }
  char buf[12];
  if (cp < 0x80) std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(cp));
  else std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
  return buf;
}

/// `s` with every invisible code point and every byte that is not UTF-8 as
/// a visible escape: one line of printable text.
std::string visible(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto [cp, n] = decode(s, i);
    if (n == 0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(s[i]));
      out += buf;
      ++i;
      continue;
    }
    if (invisible(cp)) out += escape_of(cp);
    else out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

bool ascii_punctuation(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}

size_t longest_backtick_run(std::string_view s) {
  size_t run = 0, longest = 0;
  for (char c : s) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return longest;
}

}  // namespace

std::string valid_utf8(std::string_view s) {
  bool valid = true;
  for (size_t i = 0; i < s.size() && valid;) {
    const size_t n = decode(s, i).second;
    valid = n > 0;
    i += n;
  }
  if (valid) return std::string(s);
  const std::string quoted = nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return nlohmann::json::parse(quoted).get<std::string>();
}

std::string shell_word(std::string_view s) {
  const bool plain = !s.empty() && s.find_first_of(" \t\n'\"\\$`*?[]{}()<>|&;#~!") == std::string_view::npos &&
                     visible(s) == s;
  if (plain) return std::string(s);
  if (visible(s) == s) {  // printable: single quotes, a quote inside as '\''
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  }
  std::string q = "$'";
  for (size_t i = 0; i < s.size();) {
    const auto [cp, n] = decode(s, i);
    if (n == 0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(s[i]));
      q += buf;
      ++i;
      continue;
    }
    if (invisible(cp)) q += escape_of(cp);
    else if (cp == '\\' || cp == '\'') q += std::string("\\") + static_cast<char>(cp);
    else q.append(s.substr(i, n));
    i += n;
  }
  return q + "'";
}

std::string terminal_text(std::string_view s) {
  std::string out = visible(s);
  for (size_t p = out.find("##["); p != std::string::npos; p = out.find("##[", p + 4)) out.insert(p + 2, "\\");
  const size_t start = out.find_first_not_of(" ");
  if (start != std::string::npos && out.compare(start, 2, "::") == 0) out.insert(start, "\\");
  return out;
}

std::string markdown_text(std::string_view s) {
  std::string out;
  for (char c : visible(s)) {
    if (ascii_punctuation(c)) out += '\\';
    out += c;
  }
  return out;
}

std::string markdown_code_span(std::string_view s, bool in_table) {
  const std::string fence(longest_backtick_run(s) + 1, '`');
  std::string body;
  for (char c : s) {
    if (in_table && c == '|') body += '\\';
    body += c;
  }
  // A space on each side keeps a backtick at either end out of the fence;
  // CommonMark strips exactly one from each side.
  const bool pad = !s.empty() && (s.front() == '`' || s.back() == '`' || (s.front() == ' ' && s.back() == ' '));
  return fence + (pad ? " " : "") + body + (pad ? " " : "") + fence;
}

std::string markdown_code_block(std::string_view s, std::string_view info) {
  const std::string fence(std::max<size_t>(3, longest_backtick_run(s) + 1), '`');
  return fence + std::string(info) + "\n" + std::string(s) + "\n" + fence + "\n";
}

std::string capped(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t cut = max_bytes > 3 ? max_bytes - 3 : 0;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;  // not inside a character
  return std::string(s.substr(0, cut)) + "...";
}

std::string workflow_command_text(std::string_view s, bool property) {
  std::string out;
  for (char c : s) {
    if (c == '%') out += "%25";
    else if (c == '\r') out += "%0D";
    else if (c == '\n') out += "%0A";
    else if (property && c == ':') out += "%3A";
    else if (property && c == ',') out += "%2C";
    else out += c;
  }
  return out;
}

}  // namespace greenrun
