// The escapes for each medium (util/escape.h), exact: what a terminal, a
// Markdown renderer and a shell get from outside text.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "util/escape.h"

using namespace greenrun;

TEST_CASE("terminal text: control characters visible, workflow commands inert", "[escape]") {
  CHECK(terminal_text("plain text, é and 日本") == "plain text, é and 日本");
  CHECK(terminal_text("a\nb\r\tc\x1b[31m\x07") == "a\\nb\\r\\tc\\e[31m\\x07");
  CHECK(terminal_text("\x7f \xc2\x9b \xe2\x80\xae \xc2\xa0") == "\\x7F \\u009B \\u202E \\u00A0");  // DEL, CSI, RLO, NBSP
  CHECK(terminal_text("\xff\xc3(") == "\\xFF\\xC3(");  // not UTF-8: byte by byte
  CHECK(terminal_text("\xed\xa0\x80") == "\\xED\\xA0\\x80");  // a surrogate is not UTF-8 either
  CHECK(terminal_text("::error::x") == "\\::error::x");
  CHECK(terminal_text("   ::warning::x") == "   \\::warning::x");
  CHECK(terminal_text("a ::b") == "a ::b");  // only a line's start matters for "::"
  CHECK(terminal_text("x ##[error]y ##[z") == "x ##\\[error]y ##\\[z");
  const std::string once = terminal_text("::a\n##[b\x1b");
  CHECK(terminal_text(once) == once);  // idempotent
}

TEST_CASE("Markdown text: every ASCII punctuation escaped, never a line break", "[escape]") {
  CHECK(markdown_text("a|b") == "a\\|b");
  CHECK(markdown_text("![i](http://x/i.png)") == "\\!\\[i\\]\\(http\\:\\/\\/x\\/i\\.png\\)");
  CHECK(markdown_text("# h\n<b>&amp;") == "\\# h\\\\n\\<b\\>\\&amp\\;");
  CHECK(markdown_text("word 日本") == "word 日本");
}

TEST_CASE("code spans and blocks show their text as it is", "[escape]") {
  CHECK(markdown_code_span("a`b", false) == "``a`b``");
  CHECK(markdown_code_span("`x`", false) == "`` `x` ``");
  CHECK(markdown_code_span("a|b", true) == "`a\\|b`");
  CHECK(markdown_code_block("echo ```", "sh") == "````sh\necho ```\n````\n");
  CHECK(markdown_code_block("ls", "") == "```\nls\n```\n");
}

TEST_CASE("shell words: as typed, one printable line", "[escape]") {
  CHECK(shell_word("make") == "make");
  CHECK(shell_word("") == "''");
  CHECK(shell_word("a b") == "'a b'");
  CHECK(shell_word("it's") == "'it'\\''s'");
  CHECK(shell_word("a\nb") == "$'a\\nb'");
  CHECK(shell_word("it's\t\\") == "$'it\\'s\\t\\\\'");
  CHECK(shell_word("\xff") == "$'\\xFF'");
  CHECK(shell_word("\xc2\xa0") == "$'\\u00A0'");
}

TEST_CASE("valid UTF-8: replaced exactly as the JSON report replaces it", "[escape]") {
  for (const std::string s : {"ok", "\xff", "a\xc3", "\xe2\x82", "\xed\xa0\x80z", "\xf4\x90\x80\x80", "日本\xfe語"}) {
    const std::string json = nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    CHECK(valid_utf8(s) == nlohmann::json::parse(json).get<std::string>());
  }
  CHECK(valid_utf8("a\xff" "b") == "a\xef\xbf\xbd" "b");
}

TEST_CASE("capped: at a character's boundary, marked", "[escape]") {
  CHECK(capped("short", 10) == "short");
  CHECK(capped("abcdefghij", 8) == "abcde...");
  CHECK(capped("ééééé", 8) == "éé...");  // 2-byte characters: never half of one
}
