#include "helpers.h"

#include "carbon/carbon_data.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace greenrun::test {

std::function<std::optional<std::string>(const std::string&)> env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/greenrun-test-XXXXXX";
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
  ::chmod(path_.c_str(), 0755);  // tests that drop privileges must be able to enter it
}

TempDir::~TempDir() {
  if (std::getenv("GREENRUN_KEEP_TEST_DIRS")) {
    std::fprintf(stderr, "kept %s\n", path_.c_str());
    return;
  }
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void make_dirs(const std::string& path) { fs::create_directories(path); }

void write_file(const std::string& path, const std::string& content) {
  make_dirs(fs::path(path).parent_path().string());
  // Rewrite in place (not via a new inode): greenrun keeps sysfs-like files open.
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw std::runtime_error("cannot write " + path);
  f << content;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

namespace {

std::vector<std::string> merged_env(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto name = kv.substr(0, kv.find('='));
    if (!extra.count(name)) out.push_back(kv);
  }
  for (const auto& [k, v] : extra) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> cstrs(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

// The test runner may have been started with signals ignored or blocked; the
// processes under test must start from the defaults a shell would give them.
void reset_signals() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
}

namespace {

int decode(int status, int* sig) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    if (sig) *sig = WTERMSIG(status);
    return 128 + WTERMSIG(status);
  }
  return -1;
}

}  // namespace

ProcResult run_proc(const std::vector<std::string>& argv, const ProcOptions& opt) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) throw std::runtime_error("pipe");
  auto args = argv;
  auto env = merged_env(opt.env);
  auto cargs = cstrs(args);
  auto cenv = cstrs(env);
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    reset_signals();
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    execvpe(cargs[0], cargs.data(), cenv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  // Feed stdin then close it; the data used in tests fits in a pipe buffer.
  if (!opt.stdin_data.empty()) {
    ssize_t n = write(in[1], opt.stdin_data.data(), opt.stdin_data.size());
    (void)n;
  }
  close(in[1]);
  ProcResult r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  auto deadline = start + std::chrono::duration<double>(opt.timeout_s);
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    int n = poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        sinks[i]->append(buf, static_cast<size_t>(got));
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  waitpid(pid, &status, 0);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.status = decode(status, &r.signal);
  return r;
}

Background start_background(const std::vector<std::string>& argv, const std::string& dir,
                            const std::map<std::string, std::string>& env_extra) {
  static int counter = 0;
  Background b;
  b.out_path = dir + "/bg" + std::to_string(counter) + ".out";
  b.err_path = dir + "/bg" + std::to_string(counter++) + ".err";
  auto args = argv;
  auto env = merged_env(env_extra);
  auto cargs = cstrs(args);
  auto cenv = cstrs(env);
  b.pid = fork();
  if (b.pid == 0) {
    reset_signals();
    int o = open(b.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(b.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int n = open("/dev/null", O_RDONLY);
    dup2(n, 0);
    dup2(o, 1);
    dup2(e, 2);
    execvpe(cargs[0], cargs.data(), cenv.data());
    _exit(127);
  }
  return b;
}

int Background::wait(double timeout_s) {
  int status = 0;
  bool done = eventually([&] { return waitpid(pid, &status, WNOHANG) == pid; }, timeout_s);
  if (!done) return -1;
  return decode(status, nullptr);
}

std::string Background::out() const { return slurp(out_path); }
std::string Background::err() const { return slurp(err_path); }

bool pid_alive(pid_t pid) {
  if (kill(pid, 0) != 0) return false;
  // A zombie is not alive.
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(f, line);
  auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

std::string greenrun_bin() {
  // Another build of greenrun (an installed one, the one before a change) under the same tests.
  if (const char* other = std::getenv("GREENRUN_TEST_BINARY"); other && *other) return other;
  return GREENRUN_BIN;
}
std::string toy_train_bin() { return TOY_TRAIN_BIN; }
std::string tree_workload_bin() { return TREE_WORKLOAD_BIN; }
std::string source_dir() { return SOURCE_DIR; }

void add_powercap_zone(const std::string& sysfs_root, const std::string& id, const std::string& name,
                       uint64_t energy_uj, uint64_t max_range_uj) {
  std::string dir = sysfs_root + "/class/powercap/" + id;
  write_file(dir + "/name", name + "\n");
  make_dirs(dir);
  set_energy(sysfs_root, id, energy_uj);
  write_file(dir + "/max_energy_range_uj", std::to_string(max_range_uj) + "\n");
  write_file(dir + "/enabled", "1\n");
}

void set_energy(const std::string& sysfs_root, const std::string& id, uint64_t energy_uj) {
  write_counter(sysfs_root + "/class/powercap/" + id + "/energy_uj", energy_uj);
}

void write_counter(const std::string& path, uint64_t value) {
  // Fixed width, rewritten in place with one pwrite: a concurrent reader never
  // sees the empty file a truncate would leave (sysfs itself is never torn).
  char text[32];
  std::snprintf(text, sizeof text, "%020llu\n", static_cast<unsigned long long>(value));
  make_dirs(fs::path(path).parent_path().string());
  int fd = open(path.c_str(), O_WRONLY | O_CREAT, 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + path);
  ssize_t n = pwrite(fd, text, 21, 0);
  close(fd);
  if (n != 21) throw std::runtime_error("short write to " + path);
}

const CarbonData& shipped_carbon_data() {
  static std::optional<CarbonData> data;
  if (!data) {
    std::string dir = source_dir();
    dir += "/share";  // not operator+: GCC 12 warns falsely on it here (-Warray-bounds, PR 105329)
    auto loaded = load_carbon_data(dir);
    if (!loaded) throw std::runtime_error(loaded.error());
    data = std::move(*loaded);
  }
  return *data;
}

const nlohmann::json* component(const nlohmann::json& report, const std::string& name) {
  for (const auto& c : report["components"])
    if (c["name"] == name) return &c;
  return nullptr;
}

FakeCounter::FakeCounter(std::string path, double rate_per_s, uint64_t start) : path_(std::move(path)) {
  write_counter(path_, start);
  thread_ = std::thread([this, rate_per_s, start] {
    double value = static_cast<double>(start);
    auto last = std::chrono::steady_clock::now();
    while (!stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      auto now = std::chrono::steady_clock::now();
      value += rate_per_s * std::chrono::duration<double>(now - last).count();
      last = now;
      write_counter(path_, static_cast<uint64_t>(value));
    }
  });
}

FakeCounter::~FakeCounter() {
  stop_ = true;
  thread_.join();
}

FakeRapl::FakeRapl(const std::string& sysfs_root, double package_w, double dram_w, uint64_t start_uj)
    : root_(sysfs_root) {
  const uint64_t range = 262'143'328'850ULL;
  add_powercap_zone(root_, "intel-rapl:0", "package-0", start_uj, range);
  if (dram_w > 0) add_powercap_zone(root_, "intel-rapl:0:0", "dram", 0, range);
  thread_ = std::thread([this, package_w, dram_w, start_uj, range] {
    double pkg = static_cast<double>(start_uj), dram = 0;
    auto last = std::chrono::steady_clock::now();
    while (!stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      auto now = std::chrono::steady_clock::now();
      double dt = std::chrono::duration<double>(now - last).count();
      last = now;
      pkg += package_w * 1e6 * dt;
      if (pkg >= static_cast<double>(range)) pkg -= static_cast<double>(range);
      dram += dram_w * 1e6 * dt;
      set_energy(root_, "intel-rapl:0", static_cast<uint64_t>(pkg));
      if (dram_w > 0) set_energy(root_, "intel-rapl:0:0", static_cast<uint64_t>(dram));
    }
  });
}

FakeRapl::~FakeRapl() {
  stop_ = true;
  thread_.join();
}

}  // namespace greenrun::test
