// The Python helper (python/greenrun.py) in real Python processes: a no-op
// outside greenrun, exact counts under it, nothing lost or blocked when the
// FIFO is full, forked workers, and examples/train.py end to end.

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <nlohmann/json.hpp>

#include "helpers.h"
#include "process/marks.h"

using namespace greenrun;
using namespace greenrun::test;
using nlohmann::json;

namespace {

ProcOptions python_env(std::map<std::string, std::string> env = {}) {
  ProcOptions opt;
  opt.env = {{"PYTHONPATH", source_dir() + "/python"}, {"PYTHONDONTWRITEBYTECODE", "1"}, {"GREENRUN_MARK", ""}};
  for (auto& [k, v] : env) opt.env[k] = v;
  opt.timeout_s = 120;
  return opt;
}

// greenrun with an empty sysfs (estimates) around `argv`.
ProcResult under_greenrun(const TempDir& dir, const std::string& json_path, std::vector<std::string> argv) {
  make_dirs(dir / "sys");
  argv.insert(argv.begin(), {greenrun_bin(), "-q", "--interval", "100ms", "--json", json_path, "--"});
  auto opt = python_env({{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""}});
  opt.env.erase("GREENRUN_MARK");  // greenrun sets its own
  return run_proc(argv, opt);
}

std::map<std::string, double> units_of(const json& units) {
  std::map<std::string, double> out;
  for (const auto& u : units) out[u["unit"].get<std::string>()] = u["count"].get<double>();
  return out;
}

// What a FIFO carried, read with greenrun's own parser.
struct Received {
  std::vector<std::string> marks;
  std::vector<std::map<std::string, double>> counts{1};  // per phase, the first before any mark
  std::vector<double> progress;
  int invalid = 0;
  MarkLines lines;
  void feed(std::string_view bytes) {
    lines.feed(bytes, [&](MarkRecord r) {
      if (r.kind == MarkRecord::Kind::Mark) marks.push_back(r.text), counts.emplace_back();
      if (r.kind == MarkRecord::Kind::Count) counts.back()[r.text] += r.value;
      if (r.kind == MarkRecord::Kind::Progress) progress.push_back(r.value);
      if (r.kind == MarkRecord::Kind::Invalid) ++invalid;
    });
  }
  // Reads `fd` (non-blocking) until `done` is true and nothing is left.
  template <class Done>
  void read_until(int fd, Done done, double timeout_s = 60) {
    char buf[4096];
    eventually([&] {
      const bool finished = done();
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) feed(std::string_view(buf, static_cast<size_t>(n)));
      return finished && n < 0 && errno == EAGAIN;
    }, timeout_s);
  }
};

// A FIFO as greenrun makes one (held open for reading and writing), with the
// smallest buffer the kernel allows (a page): a stand-in greenrun that the
// test reads when it chooses.
struct SmallFifo {
  TempDir dir;
  std::string path = dir / "marks";
  int fd = -1;
  SmallFifo() {
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(::fcntl(fd, F_SETPIPE_SZ, 4096) >= 4096);
  }
  ~SmallFifo() { ::close(fd); }
};

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

}  // namespace

TEST_CASE("python helper: outside greenrun it does nothing, fast, and still rejects bad input", "[python][marks]") {
  TempDir dir;
  write_file(dir / "plain-file", "");
  const std::string script =
      "import time, greenrun\n"
      "t = time.perf_counter()\n"
      "for i in range(20000):\n"
      "    greenrun.count(1, 'samples'); greenrun.progress(i / 20000)\n"
      "    if i % 1000 == 0: greenrun.phase(f'epoch {i}')\n"
      "with greenrun.phase('eval'): pass\n"
      "print(f'{time.perf_counter() - t:.3f}', greenrun.active(), greenrun.flush())\n"
      "for bad in [(-1, 'samples'), (float('nan'), 'samples'), (float('inf'), 'samples'), ('x', 'samples'),\n"
      "            (True, 'samples'), (1, ''), (1, 'a b'), (1, 'x' * 33), (1, 'caf\\u00e9'), (1, 'a\\nb')]:\n"
      "    try: greenrun.count(*bad); print('accepted', bad)\n"
      "    except ValueError: pass\n"
      "try: greenrun.progress(float('nan')); print('accepted nan progress')\n"
      "except ValueError: pass\n"
      "greenrun.count(0.5, 'Tokens_2-b'); greenrun.count(10**3, 'x' * 32); greenrun.progress(7)\n";
  // No GREENRUN_MARK, a path with nothing there, and a plain file (never written to).
  for (const std::string& mark : {std::string(), dir / "no-fifo", dir / "plain-file"}) {
    auto r = run_proc({"python3", "-c", script}, python_env({{"GREENRUN_MARK", mark}}));
    INFO(mark << ": " << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.empty());
    const double seconds = std::stod(r.out);
    CHECK(seconds < 2.0);  // 41,000 calls; about 0.1 s when the machine is idle
    CHECK(r.out.substr(r.out.find(' ')) == " False True\n");
  }
  CHECK(slurp(dir / "plain-file").empty());
  CHECK_FALSE(exists(dir / "no-fifo"));
}

TEST_CASE("python helper: phases, counts and progress from Python reach greenrun's JSON exactly", "[python][marks][cli]") {
  TempDir dir;
  const std::string script =
      "import greenrun, threading\n"
      "assert greenrun.active()\n"
      "greenrun.count(6, 'samples')\n"
      "greenrun.phase('load')\n"
      "for _ in range(1000): greenrun.count(1)\n"
      "greenrun.progress(0.25)\n"
      "greenrun.phase('\\x1e\\x1etrain\\nstep')\n"  // RS bytes at the front go, the newline becomes a space
      "def worker():\n"
      "    for _ in range(50): greenrun.count(1, 'samples'); greenrun.count(0.5, 'tokens')\n"
      "threads = [threading.Thread(target=worker) for _ in range(4)]\n"
      "[t.start() for t in threads]; [t.join() for t in threads]\n"
      "greenrun.count(28, 'samples'); greenrun.progress(0.75)\n"
      "with greenrun.phase('eval'):\n"
      "    greenrun.count(3, 'images')\n"
      "greenrun.progress(1)\n";
  auto r = under_greenrun(dir, dir / "r.json", {"python3", "-c", script});
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto j = json::parse(slurp(dir / "r.json"));
  std::vector<std::string> names;
  for (const auto& p : j["phases"]) names.push_back(p["name"]);
  CHECK(names == std::vector<std::string>{"(before the first mark)", "load", "train step", "eval", "(after eval)"});
  CHECK(units_of(j["units"]) == std::map<std::string, double>{{"images", 3}, {"samples", 1234}, {"tokens", 100}});
  REQUIRE(j["phases"].size() == 5);
  CHECK(units_of(j["phases"][0]["units"]) == std::map<std::string, double>{{"samples", 6}});
  CHECK(units_of(j["phases"][1]["units"]) == std::map<std::string, double>{{"samples", 1000}});
  CHECK(units_of(j["phases"][2]["units"]) == std::map<std::string, double>{{"samples", 228}, {"tokens", 100}});
  CHECK(units_of(j["phases"][3]["units"]) == std::map<std::string, double>{{"images", 3}});
  CHECK(units_of(j["phases"][4]["units"]).empty());
  REQUIRE(j["projection"].is_object());
  CHECK(j["projection"]["fraction"].get<double>() == 1.0);
  CHECK(j["projection"]["method"] == "progress");
}

TEST_CASE("python helper: a full FIFO never blocks the loop, and every count arrives, in its phase", "[python][marks]") {
  SmallFifo fifo;
  // 20,000 counts in 20 phases (about 350 KB of lines) into a 4 KiB buffer
  // nobody reads until the loop is done.
  const std::string script =
      "import time, greenrun\n"
      "worst = queued = 0\n"
      "for i in range(20000):\n"
      "    t = time.perf_counter()\n"
      "    if i % 1000 == 0: greenrun.phase(f'phase {i // 1000}')\n"
      "    greenrun.count(1, 'samples'); greenrun.count(2, 'tokens'); greenrun.progress((i + 1) / 20000)\n"
      "    worst = max(worst, time.perf_counter() - t); queued = max(queued, len(greenrun._channel.queue))\n"
      "print(f'{worst:.4f} {queued}', flush=True)\n";
  Background py = start_background({"python3", "-c", script}, fifo.dir.path(), python_env({{"GREENRUN_MARK", fifo.path}}).env);
  REQUIRE(eventually([&] { return !py.out().empty(); }, 60));
  Received got;
  int status = -1;
  got.read_until(fifo.fd, [&] { return status != -1 || (status = py.wait(0)) != -1; });
  INFO(py.err());
  CHECK(status == 0);
  const double worst = std::stod(py.out());
  const int queued = std::stoi(py.out().substr(py.out().find(' ')));
  CHECK(queued > 0);  // the FIFO was full: lines waited
  CHECK(worst < 1.0);  // one call, at worst (well under 1 ms on an idle machine): it never waited for room
  CHECK(got.invalid == 0);
  REQUIRE(got.marks.size() == 20);
  for (int p = 0; p < 20; ++p) {
    CHECK(got.marks[p] == "phase " + std::to_string(p));
    CHECK(got.counts[p + 1] == std::map<std::string, double>{{"samples", 1000}, {"tokens", 2000}});
  }
  CHECK(got.counts[0].empty());
  REQUIRE_FALSE(got.progress.empty());
  CHECK(got.progress.back() == 1.0);
}

TEST_CASE("python helper: forked workers count once each, and what the parent had waiting is sent once", "[python][marks]") {
  SmallFifo fifo;
  // The parent fills the FIFO (counts wait), then four multiprocessing
  // workers (fork, as DataLoader's) count 500 each and exit; the test reads
  // only after the parent has forked them.
  const std::string script =
      "import multiprocessing as mp, greenrun\n"
      "n = 0\n"
      "while not greenrun._channel.queue and n < 1000000: greenrun.count(1); n += 1\n"
      "assert greenrun._channel.queue, 'the FIFO never filled'\n"
      "for _ in range(100): greenrun.count(1); n += 1\n"
      "def work(_):\n"
      "    for _ in range(500): greenrun.count(1, 'samples')\n"
      "    greenrun.count(1, 'worker')\n"
      "ctx = mp.get_context('fork')\n"
      "procs = [ctx.Process(target=work, args=(i,)) for i in range(4)]\n"
      "[p.start() for p in procs]\n"
      "print(n, flush=True)\n"
      "[p.join() for p in procs]\n"
      "assert all(p.exitcode == 0 for p in procs)\n";
  Background py = start_background({"python3", "-c", script}, fifo.dir.path(), python_env({{"GREENRUN_MARK", fifo.path}}).env);
  REQUIRE(eventually([&] { return !py.out().empty(); }, 60));
  const double parent = std::stod(py.out());
  Received got;
  int status = -1;
  got.read_until(fifo.fd, [&] { return status != -1 || (status = py.wait(0)) != -1; });
  INFO(py.err());
  CHECK(status == 0);
  CHECK(got.invalid == 0);
  CHECK(got.counts[0] == std::map<std::string, double>{{"samples", parent + 4 * 500}, {"worker", 4}});

  SECTION("under greenrun: a fork pool's workers and the parent, exact") {
    TempDir dir;
    const std::string pool =
        "import multiprocessing as mp, greenrun\n"
        "def work(i):\n"
        "    for _ in range(250): greenrun.count(1, 'samples')\n"
        "    return i\n"
        "greenrun.phase('workers')\n"
        "with mp.get_context('fork').Pool(3) as p: assert sorted(p.map(work, range(8))) == list(range(8))\n"
        "greenrun.count(34, 'samples')\n";
    auto r = under_greenrun(dir, dir / "pool.json", {"python3", "-c", pool});
    INFO(r.err);
    REQUIRE(r.status == 0);
    auto j = json::parse(slurp(dir / "pool.json"));
    CHECK(units_of(j["units"]) == std::map<std::string, double>{{"samples", 8 * 250 + 34}});
  }
}

TEST_CASE("examples/train.py under greenrun: epoch phases, energy per sample and a projection from its progress",
          "[python][example][cli]") {
  if (run_proc({"/usr/bin/python3", "-c", "import torch, sklearn"}).status != 0)
    SKIP_UNLESS_CI("python3-torch or python3-sklearn is not installed (tools/setup test installs them)");
  TempDir dir;
  auto r = under_greenrun(dir, dir / "train.json", {"/usr/bin/python3", source_dir() + "/examples/train.py", "--epochs", "3"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("test accuracy: "));
  auto j = json::parse(slurp(dir / "train.json"));
  std::vector<std::string> names;
  for (const auto& p : j["phases"]) names.push_back(p["name"]);
  CHECK(names == std::vector<std::string>{"(before the first mark)", "epoch 1", "epoch 2", "epoch 3", "eval", "(after eval)"});
  REQUIRE(j["units"].size() == 1);
  CHECK(j["units"][0]["unit"] == "samples");
  CHECK(j["units"][0]["count"].get<double>() == 3 * 1437);  // 80% of the 1,797 digits, three times
  CHECK(j["units"][0]["energy_j_per_unit"].get<double>() > 0);
  for (int e = 1; e <= 3; ++e) CHECK(units_of(j["phases"][e]["units"]) == std::map<std::string, double>{{"samples", 1437}});
  REQUIRE(j["projection"].is_object());
  CHECK(j["projection"]["method"] == "progress");
  CHECK(j["projection"]["fraction"].get<double>() == 1.0);
  CHECK(j["projection"]["energy_j"].get<double>() > 0);
}
