// /proc and /sys files read to their end. A seq_file of records
// (/proc/cpuinfo, /proc/PID/mountinfo, cgroup.procs) returns only the whole
// records that fit in a page at each read: a short read is not its end. The
// fixtures here are FIFOs fed in pieces of random sizes, so that every read
// greenrun makes comes back short; and one real seq_file, a mountinfo made
// long by a private mount namespace.

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "helpers.h"
#include "process/cgroup.h"
#include "process/procfs.h"
#include "sensors/hardware.h"
#include "util/fs.h"

using namespace greenrun;
using namespace greenrun::test;
using nlohmann::json;

namespace {

// A FIFO at `path` that serves `text` once, to the first reader, in pieces
// of 1 to 700 bytes with a pause between them: each read the reader makes
// returns one piece.
class SplitFile {
 public:
  SplitFile(std::string path, std::string text, unsigned seed) : path_(std::move(path)) {
    ::unlink(path_.c_str());
    REQUIRE(::mkfifo(path_.c_str(), 0600) == 0);
    thread_ = std::thread([this, text = std::move(text), seed] { serve(text, seed); });
  }
  ~SplitFile() {
    stop_ = true;
    thread_.join();
  }
  SplitFile(const SplitFile&) = delete;
  SplitFile& operator=(const SplitFile&) = delete;

 private:
  void serve(const std::string& text, unsigned seed) {
    int fd = -1;
    for (int tries = 0; fd < 0 && !stop_ && tries < 2000; ++tries) {  // no reader yet: ENXIO
      fd = ::open(path_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) ::usleep(5000);
    }
    if (fd < 0) return;
    ::fcntl(fd, F_SETFL, 0);
    std::mt19937 rng(seed);
    std::uniform_int_distribution<size_t> piece(1, 700);
    for (size_t at = 0; at < text.size();) {
      const size_t n = std::min(piece(rng), text.size() - at);
      if (::write(fd, text.data() + at, n) != static_cast<ssize_t>(n)) break;
      at += n;
      ::usleep(1000);  // the reader takes this piece alone
    }
    ::close(fd);
  }
  std::string path_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string cpuinfo(int cpus) {
  std::string s;
  for (int n = 0; n < cpus; ++n)
    s += "processor\t: " + std::to_string(n) +
         "\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\nphysical id\t: 0\n"
         "siblings\t: " + std::to_string(cpus) + "\ncore id\t\t: " + std::to_string(n) +
         "\ncpu cores\t: " + std::to_string(cpus) +
         "\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov hypervisor lahf_lm\n\n";
  return s;
}

std::string mountinfo_with_cgroup2_last(const std::string& v2_dir, int before) {
  std::string s;
  for (int i = 0; i < before; ++i)
    s += std::to_string(100 + i) + " 27 0:" + std::to_string(200 + i) + " / /tmp/greenrun-test-mount/" +
         std::to_string(i) + " rw,relatime - tmpfs tmpfs rw,size=1024k\n";
  return s + "41 31 0:38 / " + v2_dir + " ro,relatime - cgroup2 cgroup2 rw\n";
}

}  // namespace

TEST_CASE("read_file returns every piece of a file that comes in short reads", "[procfs][seq]") {
  TempDir dir;
  // What greenrun parses, each larger than one read.
  std::string pids;
  for (int p = 1; p <= 3000; ++p) pids += std::to_string(p) + "\n";
  const std::vector<std::pair<std::string, std::string>> files = {
      {"cpuinfo", cpuinfo(24)},
      {"mountinfo", mountinfo_with_cgroup2_last("/sys/fs/cgroup", 80)},
      {"cgroup.procs", pids},
  };
  unsigned seed = 1;
  for (const auto& [name, text] : files) {
    INFO(name);
    REQUIRE(text.size() > 4096);
    SplitFile fifo(dir / name, text, seed++);
    std::string got;
    CHECK(read_file(dir / name, got) == 0);
    CHECK(got == text);
  }
}

TEST_CASE("hardware detection counts every CPU of a /proc/cpuinfo read in pieces", "[procfs][seq][hardware]") {
  TempDir dir;
  make_dirs(dir / "sys");
  make_dirs(dir / "proc");
  for (unsigned seed : {7u, 8u, 9u}) {
    SplitFile fifo(dir / "proc/cpuinfo", cpuinfo(32), seed);
    const Hardware h = detect_hardware(dir / "sys", dir / "proc");
    CHECK(h.cpu.logical == 32);
    CHECK(h.cpu.model == "Intel(R) Xeon(R) Platinum 8480+");
  }
}

TEST_CASE("the cgroup v2 mount is found past the first page of a mountinfo read in pieces", "[procfs][seq][cgroup]") {
  TempDir dir;
  make_dirs(dir / "v2");
  write_file(dir / "self/cgroup", "0::/\n");
  // Read-only, so that the rules give a reason naming the mount: proof it was seen.
  SplitFile fifo(dir / "self/mountinfo", mountinfo_with_cgroup2_last(dir / "v2", 100), 3);
  auto groups = CommandCgroups::create({dir / "self"});
  REQUIRE_FALSE(groups);
  CHECK_THAT(groups.error(), Catch::Contains("cgroup v2 (" + dir.path() + "/v2): mounted read-only"));
}

TEST_CASE("a real mountinfo longer than a page: the cgroup v2 mount past it is used", "[procfs][seq][cgroup][root]") {
  if (::geteuid() != 0 || !path_exists("/usr/bin/unshare")) {
    SKIP_TEST("needs root and unshare(1) for a private mount namespace");
  }
  // The cgroup2 mount this machine has, from the whole of our own mountinfo.
  std::string v2;
  for (const auto& m : parse_cgroup_mounts(read_file("/proc/self/mountinfo").value_or("")))
    if (m.v2 && !m.read_only && m.root == "/") v2 = m.dir;
  if (v2.empty()) {
    SKIP_TEST("no writable cgroup v2 mount here");
  }
  TempDir dir;
  const std::string report = dir / "r.json", mounts = dir / "m", sizes = dir / "sizes";
  // 80 tmpfs mounts, then cgroup2 mounted again after them: its line is past
  // the first 4 KiB. `dd bs=4096` shows what one read of the real file returns.
  const std::string script = "set -e; for i in $(seq 80); do mkdir -p " + mounts + "/$i; mount -t tmpfs -o size=4k t " +
                             mounts + "/$i; done; umount -l " + v2 + "; mount -t cgroup2 cgroup2 " + v2 +
                             "; dd if=/proc/self/mountinfo bs=4096 count=1 2>/dev/null | wc -c > " + sizes + "; " +
                             "grep -c cgroup2 /proc/self/mountinfo >> " + sizes + "; exec " + greenrun_bin() +
                             " --tree cgroup --json " + report + " -- true";
  ProcOptions opt;
  opt.env = {{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""}};
  make_dirs(dir / "sys");
  auto r = run_proc({"unshare", "-m", "--propagation", "private", "sh", "-c", script}, opt);
  if (r.status != 0 && !std::ifstream(report).good()) {
    SKIP_TEST("a private mount namespace cannot be made here: " << r.err);
  }
  REQUIRE(r.status == 0);
  INFO("one read of 4096 bytes returned, then cgroup2 lines: " << slurp(sizes));
  CHECK(std::stoi(slurp(sizes)) < 4096);  // a real short read
  auto j = json::parse(slurp(report));
  bool in_v2 = false;
  for (const auto& g : j["process_tree"]["cgroups"]) in_v2 = in_v2 || g.get<std::string>().rfind(v2 + "/", 0) == 0;
  INFO(j["process_tree"].dump());
  CHECK(in_v2);
}
