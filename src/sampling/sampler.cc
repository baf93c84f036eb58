#include "sampling/sampler.h"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace greenrun {

namespace {

double timeval_s(const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

std::vector<Channel> all_channels(const std::vector<std::unique_ptr<EnergySource>>& sources) {
  std::vector<Channel> out;
  for (const auto& s : sources)
    for (const auto& c : s->channels()) out.push_back(c);
  return out;
}

}  // namespace

std::optional<double> parse_meminfo_used(std::string_view text) {
  std::optional<uint64_t> total, available;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto key = line.substr(0, colon);
    auto value = trim(line.substr(colon + 1));
    if (value.size() > 3 && value.substr(value.size() - 3) == " kB") value.remove_suffix(3);
    if (key == "MemTotal") total = parse_u64(value);
    else if (key == "MemAvailable") available = parse_u64(value);
  }
  if (!total || !available || *available > *total) return std::nullopt;
  return static_cast<double>(*total - *available) * 1024.0;
}

Sampler::Sampler(SamplerOptions options, std::vector<std::unique_ptr<EnergySource>> sources)
    : opt_(std::move(options)),
      sources_(std::move(sources)),
      accounting_(all_channels(sources_), opt_.intensity),
      tree_(opt_.process_root, opt_.self_pid),
      clk_tck_(static_cast<double>(::sysconf(_SC_CLK_TCK))) {
  size_t n = 0;
  for (const auto& s : sources_) {
    first_channel_.push_back(n);
    n += s->channels().size();
  }
  last_energy_.assign(n, 0.0);
  have_energy_.assign(n, false);
  auto per = std::chrono::duration<double>(opt_.interval).count();
  cpu_every_ = per >= kCpuWindowS ? 1 : static_cast<int>(std::ceil(kCpuWindowS / std::max(per, 1e-3) - 1e-9));
  proc_stat_.open(opt_.procfs_root + "/stat");
  if (opt_.need_meminfo) meminfo_.open(opt_.procfs_root + "/meminfo");
  m_.channels = accounting_.channels();
}

Sampler::~Sampler() {
  if (thread_.joinable()) finish();
}

void Sampler::add_reaped_io(const IoCounters& io) {
  reaped_io_.read_bytes += io.read_bytes;
  reaped_io_.write_bytes += io.write_bytes;
}

void Sampler::baseline() { tick(false, false); }

void Sampler::start(CheckpointFn checkpoint) {
  checkpoint_ = std::move(checkpoint);
  started_ = std::chrono::steady_clock::now();
  first_deadline_ = started_ + opt_.interval;
}

void Sampler::launch() {
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
}

void Sampler::finish() {
  if (!thread_.joinable()) {
    tick(true, false);
    return;
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Sampler::loop() {
  using clock = std::chrono::steady_clock;
  const auto start = started_;
  auto next = first_deadline_;
  auto next_checkpoint = opt_.checkpoint.count() > 0 ? start + opt_.checkpoint : clock::time_point::max();
  for (;;) {
    bool final;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait_until(lk, next, [this] { return stop_; });
      final = stop_;
    }
    checkpoint_due_ = checkpoint_ && clock::now() >= next_checkpoint;
    tick(final, true);
    if (final) break;
    auto now = clock::now();
    // Deadlines advance by whole intervals from the start: no drift, and a
    // late tick skips the deadlines it missed instead of bunching up.
    if (next <= now) next += opt_.interval * ((now - next) / opt_.interval + 1);
    if (checkpoint_due_) {
      checkpoint_(measurements());
      next_checkpoint += opt_.checkpoint * ((clock::now() - next_checkpoint) / opt_.checkpoint + 1);
    }
  }
}

void Sampler::tick(bool final, bool on_thread) {
  const auto now = std::chrono::steady_clock::now();
  const auto wall = std::chrono::system_clock::now();
  // CPU times (the tree, the machine) are read every tick at long intervals and
  // every ~100 ms at short ones: shares are computed per window between reads.
  // The first tick after the start always does: it finds the command's processes.
  const bool cpu_tick = final || !primed_ || ticks_ == 1 || ticks_ % cpu_every_ == 0;
  ++ticks_;
  double tree_cpu = last_tree_cpu_, machine_busy = last_machine_busy_, machine_total = last_machine_total_;
  if (cpu_tick) {
    uint64_t forks = 0;
    if (proc_stat_.is_open() && proc_stat_.read(buf_) == 0) {
      if (auto cpu = parse_proc_stat_cpu(buf_)) {
        machine_busy = static_cast<double>(cpu->busy()) / clk_tck_;
        machine_total = static_cast<double>(cpu->total()) / clk_tck_;
        forks = cpu->forks;
      }
    }
    ProcessTree::Snapshot snap;
    rusage ru{};
    IoCounters reaped;
    {
      std::lock_guard<std::mutex> lk(reap_mu_);
      // Scanning /proc costs more than the rest of a tick: skip it when nothing
      // forked anywhere since the last scan, and at the end when greenrun has
      // no descendant left at all.
      bool discover = primed_ && (forks == 0 || forks != forks_at_scan_);
      if (final && discover) discover = tree_.may_have_descendants();
      if (discover) forks_at_scan_ = forks;
      // Disk I/O only feeds the report: every 10th CPU read and the last.
      const bool with_io = final || cpu_reads_ % 10 == 0;
      if (primed_) {
        snap = tree_.sample(discover, with_io);
      } else {
        tree_.ignore_existing();
        forks_at_scan_ = forks;
      }
      ::getrusage(RUSAGE_CHILDREN, &ru);
      reaped = reaped_io_;
    }
    const double user_s = static_cast<double>(snap.user_ticks) / clk_tck_ + timeval_s(ru.ru_utime);
    const double system_s = static_cast<double>(snap.system_ticks) / clk_tck_ + timeval_s(ru.ru_stime);
    // A child reaped by its parent between two reads of one scan can be counted
    // twice for one tick; the envelope keeps the total from running backwards.
    tree_cpu = std::max(last_tree_cpu_, user_s + system_s);
    m_.user_s = std::max(m_.user_s, user_s);
    m_.system_s = std::max(m_.system_s, system_s);
    m_.peak_rss_bytes =
        std::max<uint64_t>({m_.peak_rss_bytes, snap.rss_bytes, static_cast<uint64_t>(ru.ru_maxrss) * 1024});
    if (final || cpu_reads_ % 10 == 0) {
      m_.io.read_bytes = std::max(m_.io.read_bytes, snap.io.read_bytes + reaped.read_bytes);
      m_.io.write_bytes = std::max(m_.io.write_bytes, snap.io.write_bytes + reaped.write_bytes);
    }
    ++cpu_reads_;
    m_.processes_seen = tree_.processes_seen();
    m_.running = snap.processes;
    ctx_.tree_rss_bytes = static_cast<double>(snap.rss_bytes);
    // Memory in use changes slowly: every 10th CPU read is enough for the estimate.
    if (meminfo_.is_open() && (final || cpu_reads_ % 10 == 1 || ctx_.machine_used_bytes == 0) && meminfo_.read(buf_) == 0)
      ctx_.machine_used_bytes = parse_meminfo_used(buf_).value_or(0);
    tree_.member_pids(ctx_.tree_pids);
  }

  ctx_.now = now;
  ctx_.dt_s = primed_ ? std::chrono::duration<double>(now - last_time_).count() : 0.0;
  ctx_.cpu_valid = cpu_tick && primed_;
  ctx_.cpu_dt_s = ctx_.cpu_valid ? std::chrono::duration<double>(now - last_cpu_time_).count() : 0.0;
  ctx_.tree_cpu_s = ctx_.cpu_valid ? tree_cpu - last_tree_cpu_ : 0.0;
  ctx_.machine_busy_s = ctx_.cpu_valid ? std::max(0.0, machine_busy - last_machine_busy_) : 0.0;
  ctx_.machine_capacity_s = ctx_.cpu_valid ? std::max(0.0, machine_total - last_machine_total_) : 0.0;

  Interval iv;
  iv.dt_s = ctx_.dt_s;
  iv.tree_cpu_s = ctx_.tree_cpu_s;
  iv.machine_busy_s = ctx_.machine_busy_s;
  iv.close_window = cpu_tick;
  iv.end = wall;
  iv.energy_j.resize(last_energy_.size());
  iv.share.resize(last_energy_.size());
  for (size_t s = 0; s < sources_.size(); ++s) {
    sources_[s]->read(ctx_, readings_);
    for (size_t i = 0; i < readings_.size() && i < sources_[s]->channels().size(); ++i) {
      size_t c = first_channel_[s] + i;
      const auto& r = readings_[i];
      if (!r.ok) continue;
      if (have_energy_[c]) {
        iv.energy_j[c] = std::max(0.0, r.energy_j - last_energy_[c]);
        iv.share[c] = r.tree_share;
      }
      last_energy_[c] = r.energy_j;
      have_energy_[c] = true;
    }
  }
  if (primed_) accounting_.add(iv);
  if (final) accounting_.flush();

  last_time_ = now;
  if (cpu_tick) {
    last_cpu_time_ = now;
    last_tree_cpu_ = tree_cpu;
    last_machine_busy_ = machine_busy;
    last_machine_total_ = machine_total;
    m_.machine_busy_s += ctx_.machine_busy_s;
  }
  primed_ = true;
  ++m_.samples;
  // The thread's own CPU time is read when someone will look at it (a
  // checkpoint, the end), not every tick.
  if (on_thread && (final || checkpoint_due_)) {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    m_.sampler_cpu_s = static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
  }
}

Measurements Sampler::measurements() const {
  Measurements m = m_;
  m.totals = accounting_.totals();
  m.peak_machine_w = accounting_.peak_machine_w();
  m.peak_tree_w = accounting_.peak_tree_w();
  m.sampled_s = accounting_.duration_s();
  for (const auto& s : sources_)
    for (auto& n : s->notes()) m.notes.push_back(std::move(n));
  return m;
}

}  // namespace greenrun
