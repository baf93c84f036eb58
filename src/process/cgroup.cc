#include "process/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "util/fs.h"
#include "util/log.h"

namespace greenrun {

namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string_view::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 4, v, 8);
      if (ec == std::errc() && p == s.data() + i + 4) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// The value of `key` in a "key value" per line file (cpu.stat, memory.stat).
std::optional<uint64_t> keyed(std::string_view text, std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ' ')
      return parse_u64(line.substr(key.size() + 1));
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return std::nullopt;
}

// The v1 controllers: a hierarchy greenrun uses must hold only the one it reads,
// because a new group gets every co-mounted controller's defaults (cpu shares
// change how the tree is scheduled; an empty cpuset cannot even be joined).
constexpr std::string_view kV1Controllers[] = {"cpu",     "cpuacct",    "cpuset", "memory", "devices", "freezer", "net_cls",
                                               "net_prio", "blkio",     "perf_event", "hugetlb", "pids", "rdma", "misc"};

std::string comounted(const CgroupMount& m, std::string_view wanted) {
  for (auto c : kV1Controllers)
    if (c != wanted && m.has(c)) return std::string(c);
  return "";
}

// v2: a new group gets the controllers the parent enables for its children.
// cpu, cpuset and io would change how the command is scheduled; memory, pids
// and the others impose nothing by default.
std::string scheduling_controller(const std::string& parent_dir) {
  std::string text = read_file(parent_dir + "/cgroup.subtree_control").value_or("");
  for (auto c : split(trim(text), ' '))
    if (c == "cpu" || c == "cpuset" || c == "io") return std::string(c);
  return "";
}

enum class Kind { V2, V1Cpuacct, V1Memory };

const char* kind_name(Kind k) {
  return k == Kind::V2 ? "cgroup v2" : k == Kind::V1Cpuacct ? "cgroup v1 cpuacct" : "cgroup v1 memory";
}

// mkdir greenrun-PID below `parent`. An existing one is a leftover of an
// earlier greenrun that had this pid (this one has not made it): removed
// when empty, else the next free greenrun-PID-N is taken.
Result<std::string> make_dir(const std::string& parent) {
  const std::string base = parent + "/greenrun-" + std::to_string(::getpid());
  for (int n = 1; n < 100; ++n) {
    const std::string dir = n == 1 ? base : base + "-" + std::to_string(n);
    if (::mkdir(dir.c_str(), 0755) == 0) return dir;
    if (errno != EEXIST) return Result<std::string>::fail(errno_text(errno));
    if (::rmdir(dir.c_str()) == 0 && ::mkdir(dir.c_str(), 0755) == 0) return dir;
  }
  return Result<std::string>::fail("too many leftover groups named greenrun-" + std::to_string(::getpid()));
}

// Makes the command's group in the hierarchy mounted at `m`. The error is a
// reason for the report.
Result<CommandGroup> make_group(const CgroupMount& m, const std::vector<CgroupMembership>& own, Kind kind) {
  using R = Result<CommandGroup>;
  const std::string where = std::string(kind_name(kind)) + " (" + m.dir + ")";
  const std::string parent = own_group_dir(m, own);
  if (parent.empty()) return R::fail(where + ": greenrun's own group is not below what is mounted there");
  if (m.read_only) return R::fail(where + ": mounted read-only");
  if (kind == Kind::V2) {
    if (auto c = scheduling_controller(parent); !c.empty())
      return R::fail(where + ": " + parent + " enables the " + c +
                     " controller for its children; a group there would change how the command is scheduled");
  } else {
    const std::string_view wanted = kind == Kind::V1Memory ? "memory" : "cpuacct";
    if (auto c = comounted(m, wanted); !c.empty())
      return R::fail(where + ": mounted together with " + c + ", whose defaults would apply to the command");
    if (kind == Kind::V1Memory && trim(read_file(parent + "/memory.use_hierarchy").value_or("1")) != "1")
      return R::fail(where + ": memory.use_hierarchy is 0 in " + parent + ": a group below would escape its limit");
  }
  auto dir = make_dir(parent);
  if (!dir) return R::fail(where + ": cannot make a group in " + parent + ": " + dir.error());
  CommandGroup g;
  g.dir = *dir;
  g.v2 = kind == Kind::V2;
  g.cpu = kind != Kind::V1Memory;
  g.memory = kind == Kind::V1Memory || ::access((g.dir + "/memory.stat").c_str(), F_OK) == 0;
  const char* needed = kind == Kind::V2 ? "/cpu.stat" : kind == Kind::V1Cpuacct ? "/cpuacct.usage" : "/memory.stat";
  g.procs_fd = ::open((g.dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
  const int err = errno;
  if (g.v2 && g.procs_fd >= 0) g.dir_fd = ::open(g.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (g.procs_fd < 0 || ::access((g.dir + needed).c_str(), R_OK) != 0) {
    if (g.procs_fd >= 0) ::close(g.procs_fd);
    if (g.dir_fd >= 0) ::close(g.dir_fd);
    ::rmdir(g.dir.c_str());
    return R::fail(where + ": " + (g.procs_fd < 0 ? "cannot open cgroup.procs: " + errno_text(err) : "no " + std::string(needed + 1)));
  }
  return g;
}

const CgroupMount* find_mount(const std::vector<CgroupMount>& mounts, Kind kind) {
  for (const auto& m : mounts) {
    if (kind == Kind::V2 ? m.v2 : (!m.v2 && m.has(kind == Kind::V1Memory ? "memory" : "cpuacct"))) return &m;
  }
  return nullptr;
}

// rmdir refuses a group that still holds a process: it stays for a later
// greenrun to remove (remove_leftovers).
void close_fds(CommandGroup& g) {
  if (g.procs_fd >= 0) ::close(g.procs_fd);
  if (g.dir_fd >= 0) ::close(g.dir_fd);
  g.procs_fd = g.dir_fd = -1;
}

void close_and_remove(CommandGroup& g) {
  close_fds(g);
  if (g.dir.empty()) return;
  if (::rmdir(g.dir.c_str()) != 0 && errno != ENOENT) {
    const int err = errno;
    log::debug([&] { return "cgroup " + g.dir + " not removed: " + errno_text(err); });
  } else {
    log::debug([&] { return "cgroup " + g.dir + " removed"; });
  }
  g.dir.clear();
}

}  // namespace

bool CgroupMount::has(std::string_view option) const {
  return std::find(options.begin(), options.end(), option) != options.end();
}

std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mountinfo) {
  std::vector<CgroupMount> out;
  for (auto line : split(mountinfo, '\n')) {
    auto dash = line.find(" - cgroup");  // most lines are not: split only these
    if (dash == std::string_view::npos) continue;
    auto left = split(line.substr(0, dash), ' ');
    auto right = split(line.substr(dash + 3), ' ');
    if (left.size() < 6 || right.size() < 3) continue;
    if (right[0] != "cgroup" && right[0] != "cgroup2") continue;
    CgroupMount m;
    m.v2 = right[0] == "cgroup2";
    m.root = unescape_octal(left[3]);
    m.dir = unescape_octal(left[4]);
    for (auto o : split(right[2], ',')) m.options.emplace_back(o);
    for (auto o : split(left[5], ','))
      if (o == "ro") m.read_only = true;
    if (m.has("ro")) m.read_only = true;
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<CgroupMembership> parse_proc_cgroup(std::string_view text) {
  std::vector<CgroupMembership> out;
  for (auto line : split(text, '\n')) {
    auto c1 = line.find(':');
    auto c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    CgroupMembership m;
    auto controllers = line.substr(c1 + 1, c2 - c1 - 1);
    m.v2 = line.substr(0, c1) == "0" && controllers.empty();
    if (!controllers.empty())
      for (auto c : split(controllers, ',')) m.controllers.emplace_back(c);
    m.path = std::string(line.substr(c2 + 1));
    out.push_back(std::move(m));
  }
  return out;
}

std::string own_group_dir(const CgroupMount& m, const std::vector<CgroupMembership>& own) {
  for (const auto& g : own) {
    if (g.v2 != m.v2) continue;
    if (!m.v2 && (g.controllers.empty() || !std::all_of(g.controllers.begin(), g.controllers.end(),
                                                         [&](const std::string& c) { return m.has(c); })))
      continue;
    const std::string root = m.root == "/" ? "" : m.root;
    if (g.path.compare(0, root.size(), root) != 0) return "";
    std::string rel = g.path.substr(root.size());
    if (!rel.empty() && rel[0] != '/') return "";  // /a is not below /ab
    if (rel == "/") rel.clear();
    return m.dir + rel;
  }
  return "";
}

std::optional<CgroupCpu> parse_cgroup_cpu_stat(std::string_view text) {
  auto usage = keyed(text, "usage_usec");
  auto user = keyed(text, "user_usec");
  auto system = keyed(text, "system_usec");
  if (!usage || !user || !system) return std::nullopt;
  return CgroupCpu{*usage, *user, *system};
}

std::optional<CgroupCpu> parse_cpuacct(std::string_view usage, std::string_view stat) {
  auto ns = parse_u64(usage);
  if (!ns) return std::nullopt;
  const double user = static_cast<double>(keyed(stat, "user").value_or(0));
  const double system = static_cast<double>(keyed(stat, "system").value_or(0));
  CgroupCpu c;
  c.usage_us = *ns / 1000;
  c.system_us = user + system > 0 ? static_cast<uint64_t>(static_cast<double>(c.usage_us) * system / (user + system)) : 0;
  c.user_us = c.usage_us - c.system_us;
  return c;
}

std::optional<uint64_t> parse_cgroup_resident(std::string_view memory_stat, bool v2) {
  auto anon = keyed(memory_stat, v2 ? "anon" : "total_rss");
  auto mapped = keyed(memory_stat, v2 ? "file_mapped" : "total_mapped_file");
  if (!anon || !mapped) return std::nullopt;
  return *anon + *mapped;
}

void parse_cgroup_procs(std::string_view text, std::vector<int>& out) {
  out.clear();
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    int pid = 0;
    auto [next, ec] = std::from_chars(p, end, pid);
    if (ec == std::errc() && pid > 0) out.push_back(pid);
    p = next;
    while (p < end && (*p < '0' || *p > '9')) ++p;
  }
}

pid_t cgroup_owner(std::string_view name) {
  constexpr std::string_view prefix = "greenrun-";
  if (name.substr(0, prefix.size()) != prefix) return 0;
  name.remove_prefix(prefix.size());
  pid_t pid = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
  if (ec != std::errc() || pid <= 0) return 0;
  std::string_view rest(p, static_cast<size_t>(name.data() + name.size() - p));
  if (rest.empty()) return pid;
  unsigned n = 0;
  auto [q, ec2] = std::from_chars(rest.data() + 1, rest.data() + rest.size(), n);
  return rest[0] == '-' && ec2 == std::errc() && q == rest.data() + rest.size() ? pid : 0;
}

Result<CommandCgroups> CommandCgroups::create(const CgroupPaths& paths) {
  using R = Result<CommandCgroups>;
  auto mountinfo = read_file(paths.proc_self + "/mountinfo");
  auto own_text = read_file(paths.proc_self + "/cgroup");
  if (!mountinfo || !own_text) return R::fail("cannot read " + paths.proc_self + "/mountinfo and /cgroup");
  const auto mounts = parse_cgroup_mounts(*mountinfo);
  const auto own = parse_proc_cgroup(*own_text);
  CommandCgroups out;
  std::vector<std::string> why;
  auto try_kind = [&](Kind kind) {
    const CgroupMount* m = find_mount(mounts, kind);
    if (!m) {
      why.push_back(std::string(kind_name(kind)) + ": not mounted");
      return false;
    }
    auto g = make_group(*m, own, kind);
    if (!g) {
      why.push_back(g.error());
      return false;
    }
    out.parents_.push_back(g->dir.substr(0, g->dir.rfind('/')));
    out.groups_.push_back(*g);
    return true;
  };
  if (!try_kind(Kind::V2) && !try_kind(Kind::V1Cpuacct)) {
    std::string text;
    for (const auto& w : why) text += (text.empty() ? "" : "; ") + w;
    return R::fail(text);
  }
  const CommandGroup& cpu = out.groups_.front();
  if (!cpu.memory && cpu.v2) {
    // The command is born in the v2 group (clone3), at no cost; joining a v1
    // group means writing its cgroup.procs, which waits for an RCU grace
    // period (10-15 ms on the bench VM) at every start.
    out.memory_note_ = "the cgroup v2 group has no memory controller, and a cgroup v1 memory group is not joined "
                       "(that waits for an RCU grace period, ~10 ms, at every start)";
  } else if (!cpu.memory) {
    why.clear();
    if (!try_kind(Kind::V1Memory)) out.memory_note_ = why.back();
  }
  log::debug([&] { return "process tree: " + out.description(); });
  return out;
}

CommandCgroups::CommandCgroups(CommandCgroups&& other) noexcept
    : groups_(std::move(other.groups_)), parents_(std::move(other.parents_)), memory_note_(std::move(other.memory_note_)) {
  other.groups_.clear();
}

CommandCgroups& CommandCgroups::operator=(CommandCgroups&& other) noexcept {
  if (this != &other) {
    remove();
    groups_ = std::move(other.groups_);
    parents_ = std::move(other.parents_);
    memory_note_ = std::move(other.memory_note_);
    other.groups_.clear();
  }
  return *this;
}

CommandCgroups::~CommandCgroups() { remove(); }

std::vector<int> CommandCgroups::join_fds() const {
  std::vector<int> fds;
  for (const auto& g : groups_) fds.push_back(g.procs_fd);
  return fds;
}

bool CommandCgroups::keep_joined(const std::vector<int>& join_errors) {
  for (size_t i = groups_.size(); i-- > 0;) {
    const int err = i < join_errors.size() ? join_errors[i] : EINVAL;
    if (err == 0) {
      close_fds(groups_[i]);  // joined: nothing else is ever moved in
      continue;
    }
    if (groups_[i].memory && !groups_[i].cpu)
      memory_note_ = "the command could not join " + groups_[i].dir + ": " + errno_text(err);
    close_and_remove(groups_[i]);
    groups_.erase(groups_.begin() + static_cast<std::ptrdiff_t>(i));
  }
  return std::any_of(groups_.begin(), groups_.end(), [](const CommandGroup& g) { return g.cpu; });
}

std::optional<std::pair<size_t, int>> CommandCgroups::birth_group() const {
  for (size_t i = 0; i < groups_.size(); ++i)
    if (groups_[i].dir_fd >= 0) return std::make_pair(i, groups_[i].dir_fd);
  return std::nullopt;
}

std::string CommandCgroups::description() const {
  std::string out;
  for (const auto& g : groups_) {
    std::string what = g.v2 ? "cgroup v2" : "cgroup v1";
    if (g.cpu) what += g.v2 ? " cpu.stat" : " cpuacct";
    if (g.memory) what += " memory.stat";
    out += (out.empty() ? "" : ", ") + what + " (" + g.dir + ")";
  }
  return out;
}

std::vector<std::string> CommandCgroups::dirs() const {
  std::vector<std::string> out;
  for (const auto& g : groups_) out.push_back(g.dir);
  return out;
}

void CommandCgroups::remove_leftovers() const {
  for (const auto& parent : parents_) {
    DIR* d = ::opendir(parent.c_str());
    if (!d) continue;
    while (dirent* e = ::readdir(d)) {
      const pid_t owner = cgroup_owner(e->d_name);
      if (owner == 0 || owner == ::getpid()) continue;
      if (::kill(owner, 0) == 0 || errno == EPERM) continue;  // that greenrun still runs
      const std::string dir = parent + "/" + e->d_name;
      // rmdir refuses a group with a process in it: only empty ones go.
      const bool removed = ::rmdir(dir.c_str()) == 0;
      const int err = errno;
      log::debug([&] { return "leftover cgroup " + dir + (removed ? " removed" : " kept: " + errno_text(err)); });
    }
    ::closedir(d);
  }
}

void CommandCgroups::remove() {
  for (auto& g : groups_) close_and_remove(g);
  groups_.clear();
}

}  // namespace greenrun
