#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/fs.h"
#include "helpers.h"

using namespace greenrun;
using namespace greenrun::test;

TEST_CASE("atomic_write replaces the file and leaves no temporary", "[fs]") {
  TempDir dir;
  auto path = dir / "out.json";
  REQUIRE(atomic_write(path, "one"));
  REQUIRE(atomic_write(path, "two"));
  CHECK(slurp(path) == "two");
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"out.json"});
}

TEST_CASE("atomic_write never replaces a device or FIFO with a file", "[fs]") {
  TempDir dir;
  auto fifo = dir / "pipe";
  REQUIRE(mkfifo(fifo.c_str(), 0644) == 0);
  int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(reader >= 0);
  REQUIRE(check_writable(fifo, "--json"));
  REQUIRE(atomic_write(fifo, "through the pipe"));
  char buf[64] = {};
  CHECK(read(reader, buf, sizeof buf) == 16);
  CHECK(std::string(buf) == "through the pipe");
  close(reader);
  struct stat st {};
  REQUIRE(stat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  REQUIRE(atomic_write("/dev/null", "discarded"));
  REQUIRE(stat("/dev/null", &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
}

TEST_CASE("check_writable names the problem and the fix", "[fs]") {
  TempDir dir;
  CHECK(check_writable(dir / "fine.json", "--json"));
  CHECK_FALSE(path_exists(dir / "fine.json"));  // the probe left nothing behind
  auto missing = check_writable(dir / "no/such/dir/x.json", "--json");
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error(), Catch::Contains("does not exist") && Catch::Contains("mkdir -p"));
  auto isdir = check_writable(dir.path(), "--json");
  REQUIRE_FALSE(isdir);
  CHECK_THAT(isdir.error(), Catch::Contains("is a directory"));
}

TEST_CASE("locked_append writes the header once and backs up a file with another header", "[fs]") {
  TempDir dir;
  auto path = dir / "runs.csv";
  REQUIRE(locked_append(path, "a,b", "1,2\n"));
  REQUIRE(locked_append(path, "a,b", "3,4"));
  CHECK(slurp(path) == "a,b\n1,2\n3,4\n");
  write_file(dir / "other.csv", "x,y\n7,8\n");
  std::string backup;
  REQUIRE(locked_append(dir / "other.csv", "a,b", "1,2\n", &backup));
  CHECK(backup == dir / "other.csv.bak");
  CHECK(slurp(dir / "other.csv.bak") == "x,y\n7,8\n");  // kept, never lost
  CHECK(slurp(dir / "other.csv") == "a,b\n1,2\n");
  write_file(dir / "other.csv", "x,y\n9,9\n");
  REQUIRE(locked_append(dir / "other.csv", "a,b", "5,6\n", &backup));
  CHECK(backup == dir / "other.csv.bak.1");  // never over an earlier backup
  CHECK(slurp(dir / "other.csv.bak") == "x,y\n7,8\n");

  SECTION("a file of blank lines is empty: the check and the append agree") {
    write_file(dir / "blank.csv", "\n");
    CHECK(classify_header("\n", 1, "a,b") == CsvHeader::Empty);
    REQUIRE(check_writable(dir / "blank.csv", "--csv"));
    REQUIRE(locked_append(dir / "blank.csv", "a,b", "1,2"));
    CHECK(slurp(dir / "blank.csv") == "a,b\n1,2\n");
  }
}

TEST_CASE("parallel appends never tear rows", "[fs]") {
  TempDir dir;
  auto path = dir / "runs.csv";
  const int writers = 8, rows = 50;
  std::string row(300, 'x');
  std::vector<pid_t> kids;
  for (int w = 0; w < writers; ++w) {
    pid_t pid = fork();
    if (pid == 0) {
      for (int r = 0; r < rows; ++r)
        if (!locked_append(path, "h", std::to_string(w) + "," + row)) _exit(1);
      _exit(0);
    }
    kids.push_back(pid);
  }
  for (pid_t k : kids) {
    int status;
    waitpid(k, &status, 0);
    CHECK(WEXITSTATUS(status) == 0);
  }
  auto text = slurp(path);
  size_t lines = std::count(text.begin(), text.end(), '\n');
  CHECK(lines == writers * rows + 1);
  CHECK(text.rfind("h\n", 0) == 0);
  CHECK(text.find("\nh\n") == std::string::npos);
}

TEST_CASE("links and FIFOs planted by another user are never written through", "[fs][security]") {
  if (geteuid() != 0) SKIP_TEST("needs root to plant files owned by another user");
  TempDir dir;
  ::chmod(dir.path().c_str(), 01777);  // a shared, sticky directory
  write_file(dir / "secret", "root's\n");
  ::chmod((dir / "secret").c_str(), 0600);
  REQUIRE(symlink((dir / "secret").c_str(), (dir / "report.json").c_str()) == 0);
  REQUIRE(lchown((dir / "report.json").c_str(), 65534, 65534) == 0);
  auto refused = atomic_write(dir / "report.json", "{}");
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error(), Catch::Contains("symbolic link owned by another user"));
  CHECK_FALSE(check_writable(dir / "report.json", "--json"));
  CHECK_FALSE(locked_append(dir / "report.json", "a", "1"));
  CHECK(slurp(dir / "secret") == "root's\n");

  SECTION("a link of greenrun's own user is followed") {
    REQUIRE(lchown((dir / "report.json").c_str(), 0, 0) == 0);
    REQUIRE(atomic_write(dir / "report.json", "{}"));
    CHECK(slurp(dir / "secret") == "{}");
    struct stat st {};
    REQUIRE(lstat((dir / "report.json").c_str(), &st) == 0);
    CHECK(S_ISLNK(st.st_mode));  // the link stays a link
  }
  SECTION("a FIFO owned by another user") {
    REQUIRE(mkfifo((dir / "report.fifo").c_str(), 0666) == 0);
    REQUIRE(chown((dir / "report.fifo").c_str(), 65534, 65534) == 0);
    auto fifo = check_writable(dir / "report.fifo", "--json");
    REQUIRE_FALSE(fifo);
    CHECK_THAT(fifo.error(), Catch::Contains("FIFO or socket owned by another user"));
  }
}

TEST_CASE("a rewritten report keeps its mode and owner, and its temporaries are unpredictable", "[fs][security]") {
  TempDir dir;
  auto path = dir / "r.json";
  write_file(path, "old");
  ::chmod(path.c_str(), 0600);
  if (geteuid() == 0) REQUIRE(chown(path.c_str(), 65534, 65534) == 0);
  // A planted file at the old predictable temporary name is left alone.
  write_file(path + ".tmp." + std::to_string(getpid()), "planted");
  REQUIRE(atomic_write(path, "new"));
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  if (geteuid() == 0) CHECK(st.st_uid == 65534u);
  CHECK(slurp(path) == "new");
  CHECK(slurp(path + ".tmp." + std::to_string(getpid())) == "planted");
  CHECK(list_dir(dir.path()).size() == 2);  // no temporary left behind
  auto fresh = dir / "new.json";
  mode_t old_mask = umask(027);
  REQUIRE(atomic_write(fresh, "x"));
  umask(old_mask);
  REQUIRE(stat(fresh.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
}
