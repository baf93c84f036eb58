#include "commands/help_cmd.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "commands/options.h"
#include "util/exit_codes.h"
#include "util/fs.h"
#include "util/privilege.h"
#include "util/escape.h"

namespace greenrun {

namespace {

// "LIVE INTENSITY, PLAN AND PAUSE" -> "live-intensity-plan-and-pause"; a topic the same way.
std::string topic_of(std::string_view heading) {
  std::string out;
  for (char c : heading) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) out += static_cast<char>(std::tolower(u));
    else if ((c == ' ' || c == '-' || c == '_') && !out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

struct Section {
  std::string heading, text;
};

// Rendered man output: a heading starts at column 0; the text is indented.
std::vector<Section> sections(const std::string& rendered) {
  std::vector<Section> out;
  size_t pos = 0;
  while (pos < rendered.size()) {
    size_t nl = rendered.find('\n', pos);
    if (nl == std::string::npos) nl = rendered.size();
    const std::string line = rendered.substr(pos, nl - pos);
    pos = nl + 1;
    const bool heading = !line.empty() && !std::isspace(static_cast<unsigned char>(line[0]));
    if (heading && line.find("GREENRUN(1)") != std::string::npos) continue;  // the page's header and footer
    if (heading) out.push_back({line, ""});
    else if (!out.empty()) out.back().text += line + "\n";
  }
  return out;
}

// The page itself, for a binary in its build directory; else the installed one.
std::string man_page() {
  const std::string dir = exe_dir();
  const std::string build = GREENRUN_BINARY_DIR;
  std::vector<std::string> candidates;
  if (!build.empty() && !dir.empty() && (dir == build || dir.rfind(build + "/", 0) == 0))
    candidates.push_back(GREENRUN_SOURCE_MAN_PAGE);
  if (!dir.empty()) candidates.push_back(dir + "/../share/man/man1/greenrun.1.gz");
  candidates.push_back(GREENRUN_INSTALL_MAN_PAGE);
  for (const auto& c : candidates)
    if (path_exists(c)) return c;
  return "";
}

// `man -l -P cat PAGE` at 80 columns; nullopt when man cannot run.
std::optional<std::string> render(const std::string& page) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    const int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, STDIN_FILENO);
      ::dup2(null, STDERR_FILENO);
    }
    ::setenv("MANWIDTH", "80", 1);
    ::unsetenv("MAN_KEEP_FORMATTING");
    ::execlp("man", "man", "--nh", "--nj", "-l", "-P", "cat", page.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string out;
  char buf[8192];
  ssize_t n;
  while (pid > 0 && (n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || out.empty())
    return std::nullopt;
  return out;
}

// The manual as text, or why not.
Result<std::string> rendered_manual() {
  if (running_privileged())
    return Result<std::string>::fail("greenrun runs with raised privileges and does not start man; run man greenrun");
  const std::string page = man_page();
  if (page.empty()) return Result<std::string>::fail("the manual is not installed; see man greenrun");
  auto text = render(page);
  if (!text) return Result<std::string>::fail("cannot run man on " + page + "; install man-db (apt install man-db)");
  return *text;
}

std::string topic_list(const std::vector<std::string>& sections) {
  std::string out = "subcommands:";
  for (const char* s : kHelpSubcommands) out += std::string(" ") + s;
  if (sections.empty()) return out + "\n";
  out += "\nsections of man greenrun:";
  size_t col = 100;
  for (const auto& s : sections) {
    if (col + s.size() + 1 > 100) {
      out += "\n ";
      col = 1;
    }
    out += " " + s;
    col += s.size() + 1;
  }
  return out + "\n";
}

}  // namespace

std::string man_section(const std::string& rendered, const std::string& topic) {
  const std::string want = topic_of(topic);
  std::string out;
  for (const auto& s : sections(rendered)) {
    const std::string t = topic_of(s.heading);
    if (!want.empty() && (t == want || t.rfind(want + "-", 0) == 0)) out += s.heading + "\n" + s.text;
  }
  return out;
}

std::vector<std::string> man_topics(const std::string& rendered) {
  std::vector<std::string> out;
  for (const auto& s : sections(rendered)) out.push_back(topic_of(s.heading));
  return out;
}

int help_command(const std::vector<std::string>& args, const std::function<int(const std::string&)>& subcommand_help) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::fputs(parse_cli({"--help"}).message.c_str(), stdout);
    return 0;
  }
  const std::string topic = args[0];
  if (std::find(std::begin(kHelpSubcommands), std::end(kHelpSubcommands), topic) != std::end(kHelpSubcommands))
    return subcommand_help(topic);
  auto manual = rendered_manual();
  if (topic == "topics") {
    std::fputs(topic_list(manual ? man_topics(*manual) : std::vector<std::string>{}).c_str(), stdout);
    return 0;
  }
  if (manual)
    if (const std::string text = man_section(*manual, topic); !text.empty()) {
      std::fputs(text.c_str(), stdout);
      return 0;
    }
  std::fprintf(stderr, "greenrun help: no topic '%s'%s; the topics:\n%s", terminal_text(topic).c_str(),
               manual ? "" : (" (" + manual.error() + ")").c_str(),
               topic_list(manual ? man_topics(*manual) : std::vector<std::string>{}).c_str());
  return kExitUsage;
}

}  // namespace greenrun
