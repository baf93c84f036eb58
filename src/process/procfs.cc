#include "process/procfs.h"

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
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
  std::string rss(f[24 - 3]);
  st.rss_pages = std::strtoll(rss.c_str(), nullptr, 10);
  return st;
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

ProcessTree::ProcessTree(std::string procfs_root, pid_t root_pid)
    : root_(std::move(procfs_root)), root_pid_(root_pid), page_size_(::sysconf(_SC_PAGESIZE)) {}

bool ProcessTree::read_member(pid_t pid, PidStat& st, const PreadFile* open_stat) {
  int err = open_stat && open_stat->is_open() ? open_stat->read(buf_)
                                              : read_file(root_ + "/" + std::to_string(pid) + "/stat", buf_);
  if (err != 0) return false;
  auto parsed = parse_pid_stat(buf_);
  if (!parsed) return false;
  st = *parsed;
  return true;
}

void ProcessTree::discover() {
  DIR* d = ::opendir(root_.c_str());
  if (!d) return;
  struct Candidate {
    pid_t pid, ppid;
    uint64_t starttime;
  };
  std::vector<Candidate> unknown;
  std::unordered_set<pid_t> present;
  while (dirent* e = ::readdir(d)) {
    if (!is_pid_name(e->d_name)) continue;
    pid_t pid = static_cast<pid_t>(std::atol(e->d_name));
    present.insert(pid);
    if (pid == root_pid_ || members_.count(pid) || foreign_.count(pid)) continue;
    PidStat st;
    if (read_member(pid, st)) unknown.push_back({pid, st.ppid, st.starttime});
  }
  ::closedir(d);
  // A pid that vanished may come back as a new process: forget it.
  for (auto it = foreign_.begin(); it != foreign_.end();)
    it = present.count(*it) ? std::next(it) : foreign_.erase(it);
  // Parents are usually listed before children, but pids wrap: iterate to a fixed point.
  bool changed = true;
  while (changed) {
    changed = false;
    for (auto& c : unknown) {
      if (c.pid == 0) continue;
      if (c.ppid == root_pid_ || members_.count(c.ppid)) {
        Member& m = members_[c.pid];
        m.starttime = c.starttime;
        if (open_files_ < kMaxOpen && m.stat.open(root_ + "/" + std::to_string(c.pid) + "/stat") == 0) ++open_files_;
        ++seen_;
        c.pid = 0;
        changed = true;
      }
    }
  }
  for (const auto& c : unknown)
    if (c.pid != 0) foreign_.insert(c.pid);
}

ProcessTree::Snapshot ProcessTree::sample(bool discover_new, bool with_io) {
  if (discover_new) discover();
  Snapshot snap;
  for (auto it = members_.begin(); it != members_.end();) {
    PidStat st;
    if (!read_member(it->first, st, &it->second.stat) || st.starttime != it->second.starttime) {
      if (it->second.stat.is_open()) --open_files_;
      it = members_.erase(it);  // exited (its times now belong to its reaper) or pid reused
      continue;
    }
    snap.user_ticks += st.utime + st.cutime;
    snap.system_ticks += st.stime + st.cstime;
    if (st.state != 'Z') {
      if (st.rss_pages > 0) snap.rss_bytes += static_cast<uint64_t>(st.rss_pages) * page_size_;
      ++snap.processes;
    }
    if (with_io && read_file(root_ + "/" + std::to_string(it->first) + "/io", buf_) == 0) {
      if (auto io = parse_pid_io(buf_)) {
        snap.io.read_bytes += io->read_bytes;
        snap.io.write_bytes += io->write_bytes;
      }
    }
    ++it;
  }
  return snap;
}

void ProcessTree::ignore_existing() {
  DIR* d = ::opendir(root_.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d))
    if (is_pid_name(e->d_name)) foreign_.insert(static_cast<pid_t>(std::atol(e->d_name)));
  ::closedir(d);
  foreign_.erase(root_pid_);
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
