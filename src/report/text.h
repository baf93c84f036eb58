#pragma once
// Small text helpers the renderers share.

#include <string>
#include <vector>

namespace greenrun {

/// An argument quoted for a POSIX shell where it needs to be (util/escape.h:
/// shell_word, so always one printable line).
std::string quote_arg(const std::string& a);
/// argv as a shell command line, as a user would type it.
std::string command_line(const std::vector<std::string>& argv);
std::string pad(std::string s, size_t width);   // left-aligned in `width`
std::string lpad(std::string s, size_t width);  // right-aligned in `width`

}  // namespace greenrun
