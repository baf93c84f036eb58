#include "process/tree_reader.h"

#include <sys/resource.h>

#include <algorithm>

#include "util/log.h"

namespace greenrun {

namespace {

double timeval_s(const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

}  // namespace

std::optional<MemoryInUse> parse_meminfo(std::string_view text) {
  std::optional<uint64_t> total, available;
  uint64_t free = 0, buffers = 0, cached = 0, reclaimable = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto key = line.substr(0, colon);
    auto value = trim(line.substr(colon + 1));
    if (value.size() > 3 && value.substr(value.size() - 3) == " kB") value.remove_suffix(3);
    auto kb = [&] { return parse_u64(value).value_or(0); };
    if (key == "MemTotal") total = parse_u64(value);
    else if (key == "MemAvailable") available = parse_u64(value);
    else if (key == "MemFree") free = kb();
    else if (key == "Buffers") buffers = kb();
    else if (key == "Cached") cached = kb();
    else if (key == "SReclaimable") reclaimable = kb();
  }
  if (!total || !available || *available > *total) return std::nullopt;
  const double t = static_cast<double>(*total);
  double psutil = t - static_cast<double>(free) - static_cast<double>(buffers) - static_cast<double>(cached + reclaimable);
  if (psutil < 0) psutil = t - static_cast<double>(free);
  return MemoryInUse{(t - static_cast<double>(*available)) * 1024.0, std::max(0.0, psutil) * 1024.0};
}

std::optional<double> parse_meminfo_used(std::string_view text) {
  if (auto m = parse_meminfo(text)) return m->used_bytes;
  return std::nullopt;
}

MachineStat::MachineStat(const std::string& procfs_root, double clk_tck, bool with_meminfo) : clk_tck_(clk_tck) {
  stat_.open(procfs_root + "/stat");
  if (with_meminfo) meminfo_.open(procfs_root + "/meminfo");
}

uint64_t MachineStat::read(bool slow, TreeSample& out) {
  uint64_t forks = 0;
  if (stat_.is_open() && stat_.read(buf_) == 0)
    if (auto cpu = parse_proc_stat_cpu(buf_)) {
      out.machine_busy_s = static_cast<double>(cpu->busy()) / clk_tck_;
      out.machine_total_s = static_cast<double>(cpu->total()) / clk_tck_;
      forks = cpu->forks;
    }
  out.meminfo_valid = false;
  if (slow && meminfo_.is_open() && meminfo_.read(buf_) == 0)
    if (auto used = parse_meminfo(buf_)) {
      out.machine_used_bytes = used->used_bytes;
      out.machine_psutil_used_bytes = used->psutil_used_bytes;
      out.meminfo_valid = true;
    }
  return forks;
}

ProcfsTreeReader::ProcfsTreeReader(const std::string& procfs_root, const std::string& process_root, pid_t self_pid,
                                   double clk_tck, bool with_meminfo)
    : tree_(process_root, self_pid), machine_(procfs_root, clk_tck, with_meminfo), clk_tck_(clk_tck) {}

void ProcfsTreeReader::prime() {
  TreeSample ignored;
  const uint64_t forks = machine_.read(false, ignored);
  std::lock_guard<std::mutex> lk(reap_mu_);
  tree_.ignore_existing(forks);
}

void ProcfsTreeReader::reaped(pid_t pid, const IoCounters& io) {
  TreeReader::reaped(pid, io);
  tree_.count_reaped(pid);
}

void ProcfsTreeReader::read(bool final, TreeSample& out) {
  // Disk I/O and machine memory only feed the report and the memory
  // estimate, which change slowly: every 10th read and the last.
  const bool slow_fields = final || reads_ % 10 == 0;
  ++reads_;
  const uint64_t forks = machine_.read(slow_fields, out);
  ProcessTree::Snapshot snap;
  rusage ru{};
  IoCounters reaped;
  {
    std::lock_guard<std::mutex> lk(reap_mu_);
    // At the end, a subreaper with no child and no member left has no descendant to find.
    snap = tree_.sample(forks, slow_fields, !final || tree_.may_have_descendants());
    ::getrusage(RUSAGE_CHILDREN, &ru);
    reaped = reaped_io_;
  }
  out.user_s = static_cast<double>(snap.user_ticks) / clk_tck_ + timeval_s(ru.ru_utime);
  out.system_s = static_cast<double>(snap.system_ticks) / clk_tck_ + timeval_s(ru.ru_stime);
  out.rss_bytes = snap.rss_bytes;
  out.max_rss_bytes = static_cast<uint64_t>(ru.ru_maxrss) * 1024;
  out.io_valid = slow_fields;
  if (slow_fields) {
    out.io.read_bytes = snap.io.read_bytes + reaped.read_bytes;
    out.io.write_bytes = snap.io.write_bytes + reaped.write_bytes;
  }
  out.running = snap.processes;
  out.processes_seen = tree_.processes_seen();
  tree_.member_pids(out.pids);
  log::trace([&] {
    return "proc walk: " + std::to_string(snap.schedstat_reads) + " schedstat, " + std::to_string(snap.stat_reads) +
           " stat, " + std::to_string(snap.io_reads) + " io reads" + (snap.scanned ? ", /proc scanned" : "");
  });
}

}  // namespace greenrun
