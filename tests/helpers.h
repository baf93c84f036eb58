#pragma once
// Test helpers: temporary directories, fixture files, and running real
// processes (greenrun itself included) with captured output.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <atomic>
#include <thread>

namespace greenrun {
struct CarbonData;
}

// Catch2 v2 has no skip. A test that cannot run here says why with SKIP_TEST
// and returns; ctest counts it as skipped, not passed, by the marker
// "skipped: " (SKIP_REGULAR_EXPRESSION in tests/CMakeLists.txt), and
// tools/setup test lists every skip with its reason. Skip before the first
// assertion: ctest counts an output with the marker as skipped whatever else
// failed (tools/check-ctest fails a skipped test with a failed assertion).
#define SKIP_TEST(reason)        \
  do {                           \
    WARN("skipped: " << reason); \
    return;                      \
  } while (0)

// For a component that `tools/setup test` installs (a daemon, a browser, a
// tool): skipped where it is missing or would not start, but a failure under
// CI=true (.ci/run sets it), where it must be there and the test must run.
#define SKIP_UNLESS_CI(reason)                                                             \
  do {                                                                                     \
    if (::greenrun::test::in_ci())                                                         \
      FAIL(reason << " (with CI=true: tools/setup test installs it, this test must run)"); \
    SKIP_TEST(reason);                                                                     \
  } while (0)

namespace greenrun::test {

/// Whether CI=true is set (.ci/run sets it): components tools/setup installs must be there.
bool in_ci();
/// Whether `name` is an executable on PATH.
bool have_command(const std::string& name);

/// An environment holding `vars` and nothing else (an EnvLookup).
std::function<std::optional<std::string>(const std::string&)> env_of(std::map<std::string, std::string> vars);

/// A fresh directory under $TMPDIR, removed at the end unless
/// GREENRUN_KEEP_TEST_DIRS is set (then its path is printed).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

/// Writes `content`, creating parent directories.
void write_file(const std::string& path, const std::string& content);
std::string slurp(const std::string& path);
void make_dirs(const std::string& path);

struct ProcResult {
  int status = -1;         // exit code, or 128+signal as a shell reports it
  int signal = 0;
  std::string out, err;
  double seconds = 0;
  bool timed_out = false;
};

struct ProcOptions {
  std::string stdin_data;
  std::map<std::string, std::string> env;  // added to (or replacing in) the environment
  double timeout_s = 60;
};

/// Runs argv to completion with stdin fed and stdout/stderr captured.
ProcResult run_proc(const std::vector<std::string>& argv, const ProcOptions& opt = {});

/// A process started in the background with stdout/stderr to files.
struct Background {
  pid_t pid = -1;
  std::string out_path, err_path;
  /// Waits (up to timeout) and returns the decoded status; -1 on timeout.
  int wait(double timeout_s = 60);
  std::string out() const;
  std::string err() const;
};
Background start_background(const std::vector<std::string>& argv, const std::string& dir,
                            const std::map<std::string, std::string>& env = {});

/// Polls `pred` until true or timeout; returns its last value.
template <class F>
bool eventually(F pred, double timeout_s = 10) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    struct timespec ts{0, 10'000'000};
    nanosleep(&ts, nullptr);
  }
  return pred();
}

bool pid_alive(pid_t pid);
/// Resets every signal disposition and the mask (call in a forked child).
void reset_signals();

/// The greenrun binary under test, and the example workload.
std::string greenrun_bin();
std::string toy_train_bin();
std::string tree_workload_bin();  // bench/tree_workload.c
std::string source_dir();

/// Whether these tests were built with ASan or TSan (slower forks, dearer ticks).
constexpr bool sanitized() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return true;
#else
  return false;
#endif
}

/// A powercap zone in a fixture sysfs tree: <root>/class/powercap/<id>.
void add_powercap_zone(const std::string& sysfs_root, const std::string& id, const std::string& name,
                       uint64_t energy_uj, uint64_t max_range_uj = 262143328850ULL);
void set_energy(const std::string& sysfs_root, const std::string& id, uint64_t energy_uj);

/// The carbon data shipped in share/, loaded once (a test fails if it does not load).
const CarbonData& shipped_carbon_data();

/// The component `name` of a JSON report, or nullptr.
const nlohmann::json* component(const nlohmann::json& report, const std::string& name);

/// A counter file advancing at `rate` units per second on a background thread,
/// rewritten in place (fixed width) as sysfs counters appear to readers.
class FakeCounter {
 public:
  FakeCounter(std::string path, double rate_per_s, uint64_t start = 0);
  ~FakeCounter();
  FakeCounter(const FakeCounter&) = delete;
  FakeCounter& operator=(const FakeCounter&) = delete;

 private:
  std::string path_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// Writes a fixed-width number in place with one pwrite.
void write_counter(const std::string& path, uint64_t value);

/// A RAPL fixture whose package (and optionally dram) counters advance at a
/// steady power on a background thread, as real counters do.
class FakeRapl {
 public:
  FakeRapl(const std::string& sysfs_root, double package_w, double dram_w = 0, uint64_t start_uj = 0);
  ~FakeRapl();
  FakeRapl(const FakeRapl&) = delete;
  FakeRapl& operator=(const FakeRapl&) = delete;

 private:
  std::string root_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace greenrun::test
