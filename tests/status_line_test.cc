// --live on a real terminal (tmux, read back with capture-pane): the status
// line stays on the last row while the command's output scrolls above it,
// untouched, and is gone before the summary; off without a terminal or with
// TERM=dumb; NO_COLOR honoured. --progress: plain lines for logs.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>

#include <sstream>

#include "commands/status_line.h"
#include "helpers.h"
#include "util/fs.h"

using namespace greenrun;
using namespace greenrun::test;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

/// A tmux server of its own (its own socket), one 80x12 window running `command`.
class Tmux {
 public:
  // A socket per server: a new server on the name of one just killed can meet it still exiting.
  explicit Tmux(const std::string& command)
      : socket_("greenrun-test-" + std::to_string(::getpid()) + "-" + std::to_string(++servers_)) {
    auto r = run_proc({"tmux", "-L", socket_, "-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "12", command});
    REQUIRE(r.status == 0);
  }
  ~Tmux() { run_proc({"tmux", "-L", socket_, "kill-server"}); }
  /// The visible screen (`history`: with everything scrolled off), `escapes`: with SGR sequences.
  std::string capture(bool history = false, bool escapes = false) const {
    std::vector<std::string> argv = {"tmux", "-L", socket_, "capture-pane", "-p"};
    if (history) argv.insert(argv.end(), {"-S", "-"});
    if (escapes) argv.push_back("-e");
    return run_proc(argv).out;
  }
  bool wait_for(const std::function<bool(const std::string&)>& pred, double timeout_s = 20) const {
    return eventually([&] { return pred(capture()); }, timeout_s);
  }

 private:
  static inline int servers_ = 0;
  std::string socket_;
};

std::string live_command(const TempDir& dir, const std::string& env, int lines) {
  return "env GREENRUN_SYSFS_ROOT=" + (dir / "sys") + " GREENRUN_CONFIG= TZ=UTC " + env + " " + greenrun_bin() +
         " --live --region FR -- sh -c 'i=0; while [ $i -lt " + std::to_string(lines) +
         " ]; do i=$((i+1)); echo line$i; sleep 0.15; done' 2>&1; echo GREENRUN-DONE; sleep 60";
}

bool status_on_last_row(const std::string& screen) {
  auto rows = lines_of(screen);
  return rows.size() == 12 && rows[11].rfind("greenrun  ", 0) == 0 && rows[11].find("CO2e") != std::string::npos;
}

}  // namespace

TEST_CASE("progress text and the power over the last seconds", "[live]") {
  Progress p;
  p.elapsed_s = 65;
  p.power_w = 34.9;
  p.energy_j = 2260;
  p.emissions_g = 0.105;
  p.kind = "estimated";
  CHECK(progress_text(p) == "1 min 05 s  34.9 W now  2260 J  105 mg CO2e  estimated");
  // With a projection: how far, the total, and the end in local time (here UTC).
  const char* old_tz = std::getenv("TZ");
  const std::string saved_tz = old_tz ? old_tz : "";
  setenv("TZ", "UTC", 1);
  tzset();
  ProjectedTotal t;
  t.fraction = 0.25;
  t.energy_j = 9040;
  t.emissions_g = 0.42;
  t.method = "progress";
  p.now = std::chrono::system_clock::from_time_t(1796600000);  // 2026-12-06 23:33:20 UTC
  t.ends_at = p.now + std::chrono::minutes(3);
  p.projected = t;
  CHECK(progress_text(p) == "1 min 05 s  34.9 W now  2260 J  105 mg CO2e  estimated; 25% done, projected 2.51 Wh, "
                            "420 mg CO2e, ends ~23:36");
  p.projected->ends_at = p.now + std::chrono::hours(1);  // past midnight: the date too
  CHECK_THAT(progress_text(p), Catch::EndsWith("ends ~2026-12-07 00:33"));
  p.projected.reset();
  if (old_tz) setenv("TZ", saved_tz.c_str(), 1);
  else unsetenv("TZ");
  tzset();
  PowerMeter m(5);
  CHECK_FALSE(m.add(1, 10));
  CHECK(*m.add(2, 30) == Approx(20));
  CHECK(*m.add(3, 30) == Approx(10));  // a window that has not closed yet does not read as 0 W
  for (int t = 4; t <= 10; ++t) m.add(t, 30 + 10.0 * (t - 3));
  CHECK(*m.add(11, 110) == Approx(10));  // only the last few seconds count
}

TEST_CASE("the live line is off without a terminal, silently", "[live]") {
  std::map<std::string, std::string> env = {{"TERM", "dumb"}};
  auto lookup = [&](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  CHECK(LiveLine::unusable(pipefd[1], lookup) == "standard error is not a terminal");
  ::close(pipefd[0]);
  ::close(pipefd[1]);

  TempDir dir;
  make_dirs(dir / "sys");
  ProcOptions opt;
  opt.env = {{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""}, {"TERM", "xterm"}};
  auto r = run_proc({greenrun_bin(), "--live", "--", "sleep", "1.2"}, opt);
  CHECK(r.status == 0);
  CHECK(r.err.find('\x1b') == std::string::npos);  // no terminal control into a pipe or a log
  CHECK(r.err.find("--live") == std::string::npos);
}

TEST_CASE("progress lines: a plain line every interval, for logs", "[live]") {
  TempDir dir;
  make_dirs(dir / "sys");
  ProcOptions opt;
  opt.env = {{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
  auto r = run_proc({greenrun_bin(), "-q", "--region", "FR", "--progress", "1s", "--", toy_train_bin(), "3"}, opt);
  REQUIRE(r.status == 0);
  size_t n = 0;
  for (const auto& l : lines_of(r.err))
    if (l.rfind("greenrun: progress: ", 0) == 0) {
      ++n;
      CHECK_THAT(l, Catch::Contains(" J") && Catch::Contains("CO2e") && Catch::EndsWith("estimated so far"));
    }
  CHECK(n >= 2);
  CHECK(n <= 4);
  CHECK(r.err.find('\x1b') == std::string::npos);
}

TEST_CASE("the live line in tmux: the last row is greenrun's, the output above intact, the summary clean", "[live][terminal]") {
  if (!path_exists("/usr/bin/tmux")) SKIP_UNLESS_CI("tmux is not installed");
  TempDir dir;
  make_dirs(dir / "sys");
  Tmux t(live_command(dir, "TERM=xterm", 40));
  // While it runs: the status line on row 12, the command's lines scrolling in rows 1-11.
  REQUIRE(t.wait_for(status_on_last_row));
  REQUIRE(t.wait_for([](const std::string& s) { return s.find("line15") != std::string::npos; }));
  const std::string during = t.capture();
  INFO(during);
  CHECK(status_on_last_row(during));
  const auto rows = lines_of(during);
  for (size_t i = 0; i + 1 < rows.size(); ++i)
    if (!rows[i].empty()) CHECK((rows[i].rfind("line", 0) == 0 && rows[i].find("greenrun") == std::string::npos));
  CHECK_THAT(t.capture(false, true), Catch::Contains("\x1b[7m"));  // reverse video where colour is allowed

  // At the end: every line once and whole, the status line gone, the summary after the output.
  REQUIRE(t.wait_for([](const std::string& s) { return s.find("GREENRUN-DONE") != std::string::npos; }, 30));
  const std::string all = t.capture(true);
  INFO(all);
  auto out = lines_of(all);
  for (int i = 1; i <= 40; ++i)
    CHECK(std::count(out.begin(), out.end(), "line" + std::to_string(i)) == 1);
  CHECK(all.find(" now  ") == std::string::npos);
  const auto last_line = std::find(out.begin(), out.end(), "line40");
  const auto summary = std::find_if(out.begin(), out.end(), [](auto& l) { return l.rfind("greenrun: sh -c", 0) == 0; });
  CHECK(last_line < summary);
  CHECK(summary != out.end());
  CHECK(status_on_last_row(t.capture()) == false);
}

TEST_CASE("the live line with NO_COLOR draws no attributes, and TERM=dumb turns it off with a word", "[live][terminal]") {
  if (!path_exists("/usr/bin/tmux")) SKIP_UNLESS_CI("tmux is not installed");
  TempDir dir;
  make_dirs(dir / "sys");
  {
    Tmux t(live_command(dir, "TERM=xterm NO_COLOR=1", 30));
    REQUIRE(t.wait_for(status_on_last_row));
    const std::string screen = t.capture(false, true);
    const auto rows = lines_of(screen);
    REQUIRE(rows.size() >= 12);
    CHECK(rows[11].find('\x1b') == std::string::npos);
  }
  {
    Tmux t(live_command(dir, "TERM=dumb", 10));
    REQUIRE(t.wait_for([](const std::string& s) { return s.find("GREENRUN-DONE") != std::string::npos; }, 30));
    const std::string all = t.capture(true);
    CHECK_THAT(all, Catch::Contains("greenrun: --live is off: the terminal cannot move the cursor (TERM=dumb)"));
    CHECK(all.find(" now  ") == std::string::npos);
  }
}
