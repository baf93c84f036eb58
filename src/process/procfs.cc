#include "process/procfs.h"

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <sys/resource.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace greenrun {

namespace {

// Splits `text` on spaces into at most `max` fields.
size_t split_fields(std::string_view text, std::string_view* out, size_t max) {
  size_t n = 0, i = 0;
  while (i < text.size() && n < max) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\n' && text[i] != '\t') ++i;
    if (i > start) out[n++] = text.substr(start, i - start);
  }
  return n;
}

template <class T>
bool field(std::string_view f, T& out) {
  auto v = parse_u64(f);
  if (!v) return false;
  out = static_cast<T>(*v);
  return true;
}

// A signed field; 0 when malformed (rss and num_threads are never negative in practice).
int64_t signed_field(std::string_view f) {
  int64_t v = 0;
  std::from_chars(f.data(), f.data() + f.size(), v);
  return v;
}

bool is_pid_name(const char* name) {
  if (!*name) return false;
  for (const char* p = name; *p; ++p)
    if (*p < '0' || *p > '9') return false;
  return true;
}

}  // namespace

std::optional<PidStat> parse_pid_stat(std::string_view text) {
  auto open = text.find('(');
  auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return std::nullopt;
  PidStat st;
  if (!field(trim(text.substr(0, open)), st.pid)) return std::nullopt;
  // Fields after comm start at field 3 (state).
  std::string_view f[22];
  size_t n = split_fields(text.substr(close + 1), f, 22);
  if (n < 22) return std::nullopt;
  st.state = f[0].empty() ? '?' : f[0][0];
  // field k (1-based) is f[k-3]
  if (!field(f[4 - 3], st.ppid) || !field(f[14 - 3], st.utime) || !field(f[15 - 3], st.stime)) return std::nullopt;
  // cutime/cstime are signed in the kernel's format but never negative in practice.
  if (!field(f[16 - 3], st.cutime) || !field(f[17 - 3], st.cstime)) return std::nullopt;
  if (!field(f[22 - 3], st.starttime)) return std::nullopt;
  st.threads = signed_field(f[20 - 3]);
  st.rss_pages = signed_field(f[24 - 3]);
  return st;
}

std::optional<uint64_t> parse_schedstat_runtime(std::string_view text) {
  return parse_u64(text.substr(0, text.find(' ')));
}

std::optional<CpuTimes> parse_proc_stat_cpu(std::string_view text) {
  if (text.substr(0, 4) != "cpu ") return std::nullopt;
  std::string_view f[9];
  size_t n = split_fields(text.substr(0, text.find('\n')), f, 9);
  if (n < 5) return std::nullopt;
  CpuTimes t;
  uint64_t* dst[] = {&t.user, &t.nice, &t.system, &t.idle, &t.iowait, &t.irq, &t.softirq, &t.steal};
  for (size_t i = 1; i < n; ++i)
    if (!field(f[i], *dst[i - 1])) return std::nullopt;
  auto pos = text.find("\nprocesses ");
  if (pos != std::string_view::npos) {
    auto line = text.substr(pos + 11);
    field(trim(line.substr(0, line.find('\n'))), t.forks);
  }
  return t;
}

std::optional<IoCounters> parse_pid_io(std::string_view text) {
  IoCounters io;
  bool got_read = false, got_write = false;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto key = line.substr(0, colon);
    auto value = parse_u64(line.substr(colon + 1));
    if (!value) continue;
    if (key == "read_bytes") {
      io.read_bytes = *value;
      got_read = true;
    } else if (key == "write_bytes") {
      io.write_bytes = *value;
      got_write = true;
    }
  }
  if (!got_read || !got_write) return std::nullopt;
  return io;
}

std::vector<pid_t> parse_nspid(std::string_view status) {
  std::vector<pid_t> out;
  auto pos = status.find("\nNSpid:");
  if (pos == std::string_view::npos) return out;
  auto line = status.substr(pos + 7);
  std::string_view f[32];
  size_t n = split_fields(line.substr(0, line.find('\n')), f, 32);
  for (size_t i = 0; i < n; ++i) {
    pid_t pid = 0;
    if (!field(f[i], pid)) return {};
    out.push_back(pid);
  }
  return out;
}

bool in_initial_pid_namespace(const std::string& proc_root) {
  // include/linux/proc_ns.h: PROC_PID_INIT_INO = 0xEFFFFFFCU.
  constexpr const char* kInitialPidNs = "pid:[4026531836]";
  char link[64];
  ssize_t n = ::readlink((proc_root + "/self/ns/pid").c_str(), link, sizeof link - 1);
  if (n > 0) return std::string_view(link, static_cast<size_t>(n)) == kInitialPidNs;
  return parse_nspid(read_file(proc_root + "/self/status").value_or("")).size() <= 1;
}

namespace {

// Descriptors kept open for members stop this far below the limit: greenrun
// still needs some for its reports, /proc/PID/io of reaped children and the
// sources.
constexpr rlim_t kSpareFds = 128;
// Each open /proc file holds a page of kernel memory for its contents. An idle
// member's schedstat is read every tick: up to 16,384 stay open. Its stat file
// is read only when it ran: up to 4,096 stay open (80 MiB at most in all);
// the rest are opened for each read.
constexpr size_t kMaxOpenSchedstat = 16384;
constexpr size_t kMaxOpenStat = 4096;

// greenrun's soft limit on descriptors, raised towards the hard limit when the
// tree needs more. The command was started with the limit greenrun was given
// and its descendants inherit that one, never this.
rlim_t fd_limit(size_t wanted) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < wanted && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, std::max<rlim_t>(wanted, lim.rlim_cur * 2));
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) ::getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur;
}

// Re-reads an open descriptor from offset 0 into `page` (kept at 4 KiB: no
// zero-filling per read), or opens `path` for one read into `whole`. nullopt
// when the file cannot be read (the process is gone).
std::optional<std::string_view> pread_or_read(int fd, const std::string& path, std::string& page, std::string& whole) {
  if (fd < 0) {
    if (read_one_piece(path, whole) != 0) return std::nullopt;
    return whole;
  }
  page.resize(4096);
  ssize_t n;
  do {
    n = ::pread(fd, page.data(), page.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return std::nullopt;
  return std::string_view(page.data(), static_cast<size_t>(n));
}

}  // namespace

ProcessTree::Fd& ProcessTree::Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

ProcessTree::Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

ProcessTree::ProcessTree(std::string procfs_root, pid_t root_pid)
    : root_(std::move(procfs_root)), root_pid_(root_pid), page_size_(::sysconf(_SC_PAGESIZE)) {}

std::string ProcessTree::path(pid_t pid, const char* file) const {
  return root_ + "/" + std::to_string(pid) + "/" + file;
}

bool ProcessTree::read_stat(pid_t pid, int fd, PidStat& st) {
  auto text = pread_or_read(fd, path(pid, "stat"), page_, buf_);
  if (!text) return false;
  auto parsed = parse_pid_stat(*text);
  if (!parsed) return false;
  st = *parsed;
  return true;
}

bool ProcessTree::fd_available() {
  const size_t wanted = open_fds_ + 1 + kSpareFds;
  if (wanted > fd_limit_) fd_limit_ = fd_limit(wanted);
  return wanted <= fd_limit_;
}

void ProcessTree::open_files(pid_t pid, Member& m) {
  if (open_schedstat_ < kMaxOpenSchedstat && fd_available()) {
    m.schedstat = Fd(::open(path(pid, "schedstat").c_str(), O_RDONLY | O_CLOEXEC));
    if (m.schedstat.get() < 0 && errno == ENOENT) m.has_schedstat = false;
    if (m.schedstat.get() >= 0) {
      ++open_schedstat_;
      ++open_fds_;
    }
  }
  if (open_stat_ < kMaxOpenStat && fd_available()) {
    m.stat = Fd(::open(path(pid, "stat").c_str(), O_RDONLY | O_CLOEXEC));
    if (m.stat.get() >= 0) {
      ++open_stat_;
      ++open_fds_;
    }
  }
}

void ProcessTree::close_files(Member& m) {
  open_schedstat_ -= m.schedstat.get() >= 0;
  open_stat_ -= m.stat.get() >= 0;
  open_fds_ -= (m.schedstat.get() >= 0) + (m.stat.get() >= 0);
  m.schedstat = Fd();
  m.stat = Fd();
}

bool ProcessTree::refresh(pid_t pid, Member& m, bool& ran, Snapshot& snap) {
  uint64_t runtime = 0;
  const bool single = m.has_schedstat && m.last.threads == 1;
  bool have_runtime = false;
  if (single) {
    ++snap.schedstat_reads;
    if (auto text = pread_or_read(m.schedstat.get(), path(pid, "schedstat"), page_, buf_))
      if (auto parsed = parse_schedstat_runtime(*text)) {
        if (*parsed == m.runtime_ns) return true;  // has not run: what was read stands
        runtime = *parsed;
        have_runtime = true;
      }
  }
  // Read after schedstat: if the process runs in between, the next tick sees
  // its run time moved and reads it again; nothing is missed. A failure here
  // means the process is gone (a missing schedstat alone means no such file).
  PidStat st;
  ++snap.stat_reads;
  if (!read_stat(pid, m.stat.get(), st) || st.starttime != m.starttime) return false;
  if (single && !have_runtime) m.has_schedstat = false;
  m.last = st;
  m.runtime_ns = have_runtime ? runtime : UINT64_MAX;
  m.io_stale = true;
  ran = true;
  return true;
}

void ProcessTree::read_io(pid_t pid, Member& m, Snapshot& snap) {
  ++snap.io_reads;
  if (read_one_piece(path(pid, "io"), buf_) != 0) return;
  if (auto io = parse_pid_io(buf_)) {
    m.io = *io;
    m.io_stale = m.last.threads != 1 || !m.has_schedstat;
  }
}

void ProcessTree::discover() {
  DIR* d = ::opendir(root_.c_str());
  if (!d) return;
  ++scans_;
  struct Candidate {
    pid_t pid;
    uint64_t ino;
    PidStat st;
    bool member = false;
  };
  std::vector<Candidate> unknown;
  while (dirent* e = ::readdir(d)) {
    if (!is_pid_name(e->d_name)) continue;
    const pid_t pid = static_cast<pid_t>(std::atol(e->d_name));
    if (pid == root_pid_ || members_.count(pid)) continue;
    // procfs gives a /proc/PID entry a fresh inode for each process (1 when it
    // could not make one): the same inode is the same process, no read needed.
    if (auto f = foreign_.find(pid); f != foreign_.end() && e->d_ino > 1 && f->second.ino == e->d_ino) {
      f->second.scan = scans_;
      continue;
    }
    PidStat st;
    if (read_stat(pid, -1, st)) unknown.push_back({pid, e->d_ino, st});
  }
  ::closedir(d);
  // Parents are usually listed before children, but pids wrap: iterate to a fixed point.
  bool changed = true;
  while (changed) {
    changed = false;
    for (auto& c : unknown) {
      if (c.member || (c.st.ppid != root_pid_ && !members_.count(c.st.ppid))) continue;
      Member& m = members_[c.pid];
      m.starttime = c.st.starttime;
      m.last = c.st;
      m.runtime_ns = UINT64_MAX;  // not read yet: the next tick reads it in full
      open_files(c.pid, m);
      ++seen_;
      c.member = true;
      changed = true;
    }
  }
  for (const auto& c : unknown)
    if (!c.member) foreign_[c.pid] = {c.ino, scans_};
  // A pid no longer listed may come back as a new process: forget it.
  for (auto it = foreign_.begin(); it != foreign_.end();) it = it->second.scan == scans_ ? std::next(it) : foreign_.erase(it);
}

ProcessTree::Snapshot ProcessTree::sample(uint64_t forks, bool with_io, bool may_scan) {
  Snapshot snap;
  for (auto it = members_.begin(); it != members_.end();) {
    if (!refresh(it->first, it->second, dirty_, snap)) {
      close_files(it->second);
      it = members_.erase(it);  // exited (its times now belong to its reaper) or pid reused
      dirty_ = true;             // its children, if any, are greenrun's now
      continue;
    }
    ++it;
  }
  const bool forked = forks == 0 || forks != forks_at_scan_;
  if (forked && (dirty_ || members_.empty()) && may_scan) {
    discover();
    snap.scanned = true;
    dirty_ = false;
    forks_at_scan_ = forks;
  } else if (!dirty_) {
    forks_at_scan_ = forks;  // no member ran since the counter was read: those forks are not ours
  }
  for (auto& [pid, m] : members_) {
    snap.user_ticks += m.last.utime + m.last.cutime;
    snap.system_ticks += m.last.stime + m.last.cstime;
    if (m.last.state != 'Z') {
      if (m.last.rss_pages > 0) snap.rss_bytes += static_cast<uint64_t>(m.last.rss_pages) * page_size_;
      ++snap.processes;
    }
    if (with_io && m.io_stale) read_io(pid, m, snap);
    snap.io.read_bytes += m.io.read_bytes;
    snap.io.write_bytes += m.io.write_bytes;
  }
  return snap;
}

void ProcessTree::ignore_existing(uint64_t forks) {
  DIR* d = ::opendir(root_.c_str());
  if (!d) return;
  ++scans_;
  while (dirent* e = ::readdir(d))
    if (is_pid_name(e->d_name)) foreign_[static_cast<pid_t>(std::atol(e->d_name))] = {e->d_ino, scans_};
  ::closedir(d);
  foreign_.erase(root_pid_);
  forks_at_scan_ = forks;
  dirty_ = false;
}

bool ProcessTree::may_have_descendants() const {
  if (!members_.empty()) return true;
  siginfo_t info{};
  return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 || errno != ECHILD;
}

void ProcessTree::member_pids(std::vector<int>& out) const {
  out.clear();
  for (const auto& [pid, member] : members_) out.push_back(pid);
}

}  // namespace greenrun
