#include "process/cgroup_tree.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "util/log.h"

namespace greenrun {

namespace {

// The share of one core that reading the members may take on average.
constexpr double kMembersBudget = 0.005;

double thread_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The second field of /proc/PID/statm: resident pages.
uint64_t statm_resident_pages(std::string_view text) {
  auto sp = text.find(' ');
  if (sp == std::string_view::npos) return 0;
  auto rest = text.substr(sp + 1);
  return parse_u64(rest.substr(0, rest.find(' '))).value_or(0);
}

}  // namespace

CgroupTreeReader::CgroupTreeReader(CommandCgroups groups, const std::string& procfs_root, double clk_tck,
                                   bool with_meminfo)
    : groups_(std::move(groups)), machine_(procfs_root, clk_tck, with_meminfo) {
  for (const auto& g : groups_.groups()) {
    if (g.cpu && !cpu_.is_open()) {
      v2_cpu_ = g.v2;
      cpu_.open(g.dir + (g.v2 ? "/cpu.stat" : "/cpuacct.usage"));
      if (!g.v2) cpu_split_.open(g.dir + "/cpuacct.stat");
      procs_path_ = g.dir + "/cgroup.procs";
    }
    if (g.memory && !memory_.is_open()) {
      v2_memory_ = g.v2;
      memory_.open(g.dir + "/memory.stat");
    }
  }
}

void CgroupTreeReader::reaped(pid_t pid, const IoCounters& io) {
  TreeReader::reaped(pid, io);
  if (!seen_.count(pid)) ++reaped_unseen_;
}

void CgroupTreeReader::read_cpu(TreeSample& out) {
  std::optional<CgroupCpu> cpu;
  if (v2_cpu_) {
    if (cpu_.read(buf_) == 0) cpu = parse_cgroup_cpu_stat(buf_);
  } else if (cpu_.read(buf_) == 0) {
    std::string split;
    cpu_split_.read(split);
    cpu = parse_cpuacct(buf_, split);
  }
  if (!cpu) return;  // the last values stand (the sampler keeps totals from running backwards)
  // usage is the scheduler's exact run time; user and system split it (older
  // kernels sample them by clock tick, so they need not add up to it).
  const double usage = static_cast<double>(cpu->usage_us) / 1e6;
  const double parts = static_cast<double>(cpu->user_us + cpu->system_us);
  out.system_s = parts > 0 ? usage * static_cast<double>(cpu->system_us) / parts : 0.0;
  out.user_s = usage - out.system_s;
}

bool CgroupTreeReader::members_due(bool final) const {
  if (final) return true;
  // With a memory group, the members give only the I/O and the process count: every 10th read is enough.
  if (memory_.is_open() && reads_ % 10 != 1) return false;
  const double since = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_members_).count();
  return since * kMembersBudget >= members_cost_s_;
}

void CgroupTreeReader::read_members(bool final, TreeSample& out) {
  const double cpu0 = thread_cpu_s();
  const bool full = members_due(final);
  if (read_file(procs_path_, procs_buf_) == 0) parse_cgroup_procs(procs_buf_, pids_);
  {
    std::lock_guard<std::mutex> lk(reap_mu_);
    seen_.insert(pids_.begin(), pids_.end());
    out.processes_seen = seen_.size() + reaped_unseen_;
    if (full) {
      out.io.read_bytes = reaped_io_.read_bytes;
      out.io.write_bytes = reaped_io_.write_bytes;
    }
  }
  out.running = static_cast<int>(pids_.size());
  out.pids = pids_;
  if (!full) return;
  IoCounters io;
  uint64_t pages = 0;
  for (int pid : pids_) {
    const std::string dir = "/proc/" + std::to_string(pid);
    if (read_one_piece(dir + "/io", buf_) == 0)
      if (auto one = parse_pid_io(buf_)) {
        io.read_bytes += one->read_bytes;
        io.write_bytes += one->write_bytes;
      }
    if (!memory_.is_open() && read_one_piece(dir + "/statm", buf_) == 0) pages += statm_resident_pages(buf_);
  }
  out.io.read_bytes += io.read_bytes;
  out.io.write_bytes += io.write_bytes;
  out.io_valid = true;
  members_rss_ = pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  members_cost_s_ = thread_cpu_s() - cpu0;
  last_members_ = std::chrono::steady_clock::now();
  log::trace([&] {
    return "cgroup members: " + std::to_string(pids_.size()) + " processes read in " +
           std::to_string(members_cost_s_ * 1e3) + " ms of CPU";
  });
}

void CgroupTreeReader::read(bool final, TreeSample& out) {
  const bool slow = final || reads_ % 10 == 0;
  ++reads_;
  machine_.read(slow, out);
  read_cpu(out);
  rusage ru{};
  ::getrusage(RUSAGE_CHILDREN, &ru);
  out.max_rss_bytes = static_cast<uint64_t>(ru.ru_maxrss) * 1024;
  out.io_valid = false;
  if (pids_every_read_ || members_due(final)) {
    read_members(final, out);
  } else {
    out.running = static_cast<int>(pids_.size());
    std::lock_guard<std::mutex> lk(reap_mu_);
    out.processes_seen = seen_.size() + reaped_unseen_;
  }
  out.rss_bytes = members_rss_;
  if (memory_.is_open() && memory_.read(buf_) == 0)
    if (auto resident = parse_cgroup_resident(buf_, v2_memory_)) out.rss_bytes = *resident;
}

TreeChoice proc_tree_reader(const std::string& procfs_root, double clk_tck, std::string reason) {
  TreeChoice c;
  c.reader = std::make_unique<ProcfsTreeReader>(procfs_root, "/proc", ::getpid(), clk_tck, true);
  c.description.method = "proc";
  c.description.detail = "/proc walk";
  c.description.reason = std::move(reason);
  log::debug([&] { return "process tree: /proc walk (" + c.description.reason + ")"; });
  return c;
}

Result<TreeChoice> choose_tree_reader(TreeMethod wanted, const std::string& procfs_root, double clk_tck) {
  if (wanted == TreeMethod::Proc) return proc_tree_reader(procfs_root, clk_tck, "--tree proc");
  const long long started = log::now_ns();
  auto groups = CommandCgroups::create();
  log::debug([&] { return "cgroups probed in " + std::to_string(log::ms_since(started)) + " ms"; });
  if (!groups) {
    if (wanted == TreeMethod::Cgroup) return Result<TreeChoice>::fail("--tree cgroup: " + groups.error());
    return proc_tree_reader(procfs_root, clk_tck, "no cgroup: " + groups.error());
  }
  TreeChoice c;
  c.description.method = "cgroup";
  c.description.detail = groups->description();
  c.description.memory_note = groups->memory_note();
  c.description.cgroups = groups->dirs();
  auto reader = std::make_unique<CgroupTreeReader>(std::move(*groups), procfs_root, clk_tck, true);
  c.cgroup = reader.get();
  c.reader = std::move(reader);
  return c;
}

}  // namespace greenrun
