#pragma once
// One escape per medium for text that comes from outside greenrun (the
// command line, --label values, host and file names, provider messages,
// phase labels): terminals and logs, Markdown, and UTF-8 for the formats that
// require it. A renderer applies its medium's function once, where it writes
// the text; nothing is escaped twice.

#include <cstddef>
#include <string>
#include <string_view>

namespace greenrun {

/// `s` with each sequence that is not UTF-8 replaced by U+FFFD, exactly as
/// the JSON report replaces them (nlohmann::json's error_handler_t::replace).
std::string valid_utf8(std::string_view s);

/// One argument as a POSIX shell user would type it: bare where that is
/// safe, else in single quotes; with a control character, a blank other than
/// the space or bytes that are not UTF-8, in ANSI-C quotes ($'a\nb', as bash,
/// ksh, zsh and POSIX.1-2024 sh read them). Always one printable line.
std::string shell_word(std::string_view s);

/// Text for a terminal or a log line (standard error, `greenrun report` and
/// `compare`): control characters (C0, DEL, C1), Unicode line separators and
/// bidirectional controls as visible escapes (\n, \t, \r, \e, \xHH, \uHHHH),
/// bytes that are not UTF-8 as \xHH; and the two forms GitHub's runner reads as
/// workflow commands made inert: "::" at the start (after blanks: the runner
/// trims them) gets a backslash before it, "##[" anywhere becomes "##\[".
std::string terminal_text(std::string_view s);

/// Text for Markdown, a table cell included: the escapes above for control
/// characters, then every ASCII punctuation character backslash-escaped
/// (CommonMark allows it for all of them), so that nothing in it is a line
/// break, a cell separator, emphasis, a link, an image, a heading, an entity
/// or HTML: it reads as it is.
std::string markdown_text(std::string_view s);

/// A code span showing `s` character for character (one line: give it
/// command_line()'s output); `in_table` escapes '|' as GFM tables need, even
/// inside a span.
std::string markdown_code_span(std::string_view s, bool in_table);

/// A fenced code block showing the one line `s` exactly (GitHub adds a copy
/// button to it); `info` is the block's language ("sh").
std::string markdown_code_block(std::string_view s, std::string_view info);

/// A GitHub Actions workflow command's message (or, `property`, a property
/// value) as the runner decodes it: % as %25, CR as %0D, LF as %0A (and in
/// properties ':' and ',' as %3A and %2C).
std::string workflow_command_text(std::string_view s, bool property);

/// `s` cut at a UTF-8 boundary to at most `max_bytes`, with "..." when cut.
std::string capped(std::string_view s, size_t max_bytes);

}  // namespace greenrun
