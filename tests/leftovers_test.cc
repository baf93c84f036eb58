// What greenrun runs killed with SIGKILL leave behind (util/leftovers.h): a
// later run removes the user's own marks FIFOs and report temporaries, and
// nothing a live greenrun holds, nothing fresh, nothing of another user's.

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "helpers.h"
#include "util/fs.h"
#include "util/leftovers.h"

using namespace greenrun;
using namespace greenrun::test;

namespace {

/// Sets a file's modification time `age_s` into the past, without following a link.
void age(const std::string& path, double age_s) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  timespec times[2] = {now, now};
  times[1].tv_sec -= static_cast<time_t>(age_s);
  REQUIRE(utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

std::vector<std::string> names_in(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& n : list_dir(dir))
    if (n.rfind(prefix, 0) == 0) out.push_back(n);
  return out;
}

}  // namespace

TEST_CASE("leftovers: only the user's own, unlocked, old files of the kind asked for go", "[leftovers]") {
  TempDir dir;
  const std::string p = ".r.json.greenrun-";
  write_file(dir / (p + "killed"), "partial report");
  write_file(dir / (p + "fresh"), "being written");
  write_file(dir / (p + "locked"), "held by a live greenrun");
  write_file(dir / ".r.json.XXXXXX", "not ours: no greenrun- in its name");
  write_file(dir / (p + "target"), "a link's target");
  REQUIRE(symlink((dir / (p + "target")).c_str(), (dir / (p + "link")).c_str()) == 0);
  REQUIRE(mkfifo((dir / (p + "fifo")).c_str(), 0600) == 0);
  for (const char* n : {"killed", "locked", "target", "fifo"}) age(dir / (p + n), 60);
  age(dir / ".r.json.XXXXXX", 60);
  age(dir / (p + "link"), 60);
  const int held = open((dir / (p + "locked")).c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(hold_while_alive(held));
  if (geteuid() == 0) {
    write_file(dir / (p + "other-user"), "nobody's");
    REQUIRE(chown((dir / (p + "other-user")).c_str(), 65534, 65534) == 0);
    age(dir / (p + "other-user"), 60);
  }
  auto removed = remove_leftovers(dir.path(), p, S_IFREG);
  close(held);
  std::sort(removed.begin(), removed.end());
  // The target is the user's old unlocked file: it goes; the link itself is never opened through.
  CHECK(removed == std::vector<std::string>{p + "killed", p + "target"});
  for (const char* n : {"fresh", "locked", "link", "fifo"}) CHECK(std::filesystem::symlink_status(dir / (p + n)).type() != std::filesystem::file_type::not_found);
  if (geteuid() == 0) CHECK(path_exists(dir / (p + "other-user")));
  CHECK(path_exists(dir / ".r.json.XXXXXX"));
}

TEST_CASE("a marks FIFO of a greenrun killed with SIGKILL is removed by a later run, a live one's stays", "[leftovers][marks][cli]") {
  TempDir dir;
  make_dirs(dir / "sys");
  make_dirs(dir / "tmp");
  std::map<std::string, std::string> env = {{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""}, {"TMPDIR", dir / "tmp"}};
  auto killed = start_background({greenrun_bin(), "-q", "--", "sleep", "30"}, dir.path(), env);
  auto live = start_background({greenrun_bin(), "-q", "--", "sleep", "30"}, dir.path(), env);
  REQUIRE(eventually([&] { return names_in(dir / "tmp", "greenrun-marks-").size() == 2; }, 20));
  // Which FIFO is whose: each command sees its own in GREENRUN_MARK.
  const auto fifos = names_in(dir / "tmp", "greenrun-marks-");
  kill(killed.pid, SIGKILL);
  killed.wait(10);
  REQUIRE(names_in(dir / "tmp", "greenrun-marks-").size() == 2);  // SIGKILL: nothing removed it
  for (const auto& f : fifos) age(dir / ("tmp/" + f), 60);
  auto later = run_proc({greenrun_bin(), "-q", "--", "true"}, ProcOptions{"", env, 30});
  REQUIRE(later.status == 0);
  // The killed run's FIFO is gone, the live run's stays (and the later run's own went at its exit).
  CHECK(names_in(dir / "tmp", "greenrun-marks-").size() == 1);
  kill(live.pid, SIGTERM);
  live.wait(10);
  CHECK(names_in(dir / "tmp", "greenrun-marks-").empty());
}

TEST_CASE("a report's temporary left by a killed run is removed by the next run writing that report", "[leftovers][outputs][cli]") {
  TempDir dir;
  make_dirs(dir / "sys");
  make_dirs(dir / "out");
  // What a run killed between the temporary's creation and its rename leaves.
  write_file(dir / "out/.r.json.greenrun-Ab12Cd", std::string(1 << 20, 'x'));
  write_file(dir / "out/.r.html.greenrun-Ef34Gh", "partial page");
  age(dir / "out/.r.json.greenrun-Ab12Cd", 60);
  age(dir / "out/.r.html.greenrun-Ef34Gh", 60);
  write_file(dir / "out/.other.json.greenrun-Zz99Zz", "another report's");
  age(dir / "out/.other.json.greenrun-Zz99Zz", 60);
  auto r = run_proc({greenrun_bin(), "-q", "--json", dir / "out/r.json", "--html", dir / "out/r.html", "--", "true"},
                    ProcOptions{"", {{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""}}, 30});
  REQUIRE(r.status == 0);
  std::vector<std::string> names = list_dir(dir / "out");
  CHECK(names == std::vector<std::string>{".other.json.greenrun-Zz99Zz", "r.html", "r.json"});
}
