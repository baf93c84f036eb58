#include "sampling/sampler.h"

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <cmath>

#include "util/log.h"
#include "util/units.h"

namespace greenrun {

namespace {

std::vector<Channel> all_channels(const std::vector<std::unique_ptr<EnergySource>>& sources, bool standby) {
  std::vector<Channel> out;
  for (const auto& s : sources)
    for (const auto& c : standby ? s->standby() : s->channels()) out.push_back(c);
  return out;
}

std::string kind_words(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
  return out;
}

double seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

double thread_cpu_s(clockid_t clock) {
  timespec ts{};
  if (::clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

}  // namespace

Sampler::Sampler(SamplerOptions options, std::vector<std::unique_ptr<EnergySource>> sources,
                 std::unique_ptr<TreeReader> tree)
    : opt_(std::move(options)),
      sources_(std::move(sources)),
      tree_(std::move(tree)),
      accounting_(all_channels(sources_, false), opt_.timeline_capacity, opt_.cpu_resolution_s,
                  all_channels(sources_, true)) {
  size_t active = 0, standby = 0;
  for (const auto& s : sources_) active += s->channels().size();
  slot_.resize(sources_.size());
  size_t next = 0;
  for (size_t s = 0; s < sources_.size(); ++s) {
    for (size_t i = 0; i < sources_[s]->channels().size(); ++i) slot_[s].push_back(next++);
    for (size_t i = 0; i < sources_[s]->standby().size(); ++i) slot_[s].push_back(active + standby++);
  }
  const size_t n = active + standby;
  last_energy_.assign(n, 0.0);
  have_energy_.assign(n, false);
  frozen_.assign(n, false);
  watch_.resize(n);
  for (size_t c = 0; c < active; ++c)
    if (accounting_.channels()[c].counter) watch_[c].emplace(accounting_.channels()[c].update_s);
  pass_pid_needs();
  const double per = std::chrono::duration<double>(opt_.interval).count();
  cpu_every_ = per >= kCpuWindowS ? 1 : static_cast<int>(std::ceil(kCpuWindowS / std::max(per, 1e-3) - 1e-9));
  window_s_ = per * cpu_every_;
  accounting_.set_min_window_s(counters_min_window_s());
  accounting_.published(m_.channels, m_.totals);
}

Sampler::~Sampler() {
  if (thread_.joinable()) finish();
}

void Sampler::baseline() {
  tree_->prime();
  safe_step(false);
}

bool Sampler::safe_step(bool final) {
  if (failed_) return false;
  try {
    step(final);
    return true;
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> lk(data_mu_);
    failed_ = true;
    m_.notes.push_back(std::string("sampling stopped after an internal error (") + e.what() +
                       "); the figures cover the run until then");
    return false;
  }
}

void Sampler::replace_tree(std::unique_ptr<TreeReader> tree) {
  std::lock_guard<std::mutex> lk(data_mu_);
  tree_ = std::move(tree);
  pass_pid_needs();
}

void Sampler::pass_pid_needs() {
  if (std::any_of(sources_.begin(), sources_.end(), [](const auto& s) { return s->uses_tree_pids(); }))
    tree_->want_pids_every_read();
}

void Sampler::start() { first_deadline_ = opt_.now() + opt_.interval; }

void Sampler::launch() {
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
}

void Sampler::finish() {
  if (!thread_.joinable()) {
    safe_step(true);
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
  auto next = first_deadline_;
  for (;;) {
    bool final;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait_until(lk, next, [this] { return stop_; });
      final = stop_;
    }
    if (!safe_step(final) || final) break;
    const auto now = std::chrono::steady_clock::now();
    // Deadlines advance by whole intervals from the start: no drift, and a
    // late tick skips the deadlines it missed instead of bunching up.
    if (next <= now) next += opt_.interval * ((now - next) / opt_.interval + 1);
  }
  const double cpu = thread_cpu_s(CLOCK_THREAD_CPUTIME_ID);
  std::lock_guard<std::mutex> lk(data_mu_);
  m_.sampler_cpu_s = cpu;
}

void Sampler::read_tree(bool final) {
  tree_->read(final, tree_sample_);
  const TreeSample& t = tree_sample_;
  // A child reaped by its parent between two reads of one scan can be counted
  // twice for one tick; the envelope keeps the total from running backwards.
  const double tree_cpu = std::max(last_tree_cpu_, t.user_s + t.system_s);
  const bool valid = primed_;
  ctx_.cpu_valid = valid;
  ctx_.cpu_dt_s = valid ? seconds(ctx_.now - last_cpu_time_) : 0.0;
  ctx_.tree_cpu_s = valid ? tree_cpu - last_tree_cpu_ : 0.0;
  ctx_.machine_busy_s = valid ? std::max(0.0, t.machine_busy_s - last_machine_busy_) : 0.0;
  ctx_.machine_capacity_s = valid ? std::max(0.0, t.machine_total_s - last_machine_total_) : 0.0;
  ctx_.tree_rss_bytes = static_cast<double>(t.rss_bytes);
  if (t.meminfo_valid) {
    ctx_.machine_used_bytes = t.machine_used_bytes;
    psutil_used_bytes_ = t.machine_psutil_used_bytes;
  }
  ctx_.tree_pids = t.pids;
  last_cpu_time_ = ctx_.now;
  last_tree_cpu_ = tree_cpu;
  last_machine_busy_ = t.machine_busy_s;
  last_machine_total_ = t.machine_total_s;

  m_.user_s = std::max(m_.user_s, t.user_s);
  m_.system_s = std::max(m_.system_s, t.system_s);
  m_.peak_rss_bytes = std::max({m_.peak_rss_bytes, t.rss_bytes, t.max_rss_bytes});
  if (t.io_valid) {
    m_.io.read_bytes = std::max(m_.io.read_bytes, t.io.read_bytes);
    m_.io.write_bytes = std::max(m_.io.write_bytes, t.io.write_bytes);
  }
  m_.processes_seen = t.processes_seen;
  if (forks_) {
    forks_->drain();
    m_.processes_seen = std::max<uint64_t>(t.processes_seen, forks_->started());
    m_.processes_exact = forks_->complete();
  }
  m_.running = t.running;
  m_.machine_busy_s += ctx_.machine_busy_s;
  m_.machine_capacity_s += ctx_.machine_capacity_s;
  if (valid && ctx_.machine_used_bytes > 0) {
    m_.machine_memory_byte_s += ctx_.machine_used_bytes * ctx_.cpu_dt_s;
    m_.machine_psutil_memory_byte_s += psutil_used_bytes_ * ctx_.cpu_dt_s;
    m_.memory_s += ctx_.cpu_dt_s;
  }
}

void Sampler::read_sources(Interval& iv) {
  iv.energy_j.assign(last_energy_.size(), std::nullopt);
  iv.share.assign(last_energy_.size(), std::nullopt);
  iv.utilisation_percent.assign(last_energy_.size(), std::nullopt);
  for (size_t s = 0; s < sources_.size(); ++s) {
    sources_[s]->read(ctx_, readings_);
    for (size_t i = 0; i < readings_.size() && i < slot_[s].size(); ++i) {
      const size_t c = slot_[s][i];
      const auto& r = readings_[i];
      if (!r.ok) continue;
      if (have_energy_[c]) {
        // A frozen counter counts nothing more, even if it moves again: what
        // it moved by then belongs to the span the estimate covered.
        iv.energy_j[c] = frozen_[c] ? 0.0 : std::max(0.0, r.energy_j - last_energy_[c]);
        iv.share[c] = r.tree_share;
        iv.utilisation_percent[c] = sources_[s]->utilisation_percent(i);
      }
      last_energy_[c] = r.energy_j;
      have_energy_[c] = true;
      // A source may stop reading a channel as a counter (a GPU lost: its energy until then is kept).
      if (watch_[c] && i < sources_[s]->channels().size() && !sources_[s]->channels()[i].counter) watch_[c].reset();
      if (watch_[c] && watch_[c]->observe(iv.end_s, r.energy_j, ctx_.machine_busy_s)) counter_frozen(s, i, c, iv.end_s);
    }
  }
  accounting_.set_min_window_s(counters_min_window_s());
}

double Sampler::counters_min_window_s() const {
  double want = 0;
  for (const auto& w : watch_)
    if (w && !w->frozen()) want = std::max(want, w->min_record_s());
  return want > window_s_ + 1e-9 ? want : 0.0;
}

void Sampler::counter_frozen(size_t s, size_t i, size_t c, double now_s) {
  const CounterWatch w = *watch_[c];
  const Channel& ch = accounting_.channels()[c];
  FrozenCounter f{ch.source, ch.label, ch.component, w.last_move_s(), now_s, !w.ever_moved(), ""};
  const std::string what = ch.component.name() + " (" + ch.source + " " + ch.label + ")";
  const std::string seen = "while the machine used " + significant(w.busy_since_move_s(), 2) + " CPU-seconds";
  f.reason = f.from_start ? "did not advance in " + format_seconds(w.unmoved_s()) + " " + seen +
                                ": frozen (a hypervisor may expose a counter it never updates)"
                          : "stopped advancing after " + format_seconds(w.last_move_s()) + " (still at " +
                                format_seconds(now_s) + " " + seen + "): frozen";
  std::string instead = sources_[s]->replace_frozen(i);
  if (!instead.empty()) {
    watch_[c].reset();
    f.reason += "; " + instead + " from then on";
  } else {
    frozen_[c] = true;
    std::vector<std::string> names;
    for (size_t k : accounting_.freeze(c, w.last_move_s(), w.ever_moved()))
      names.push_back(accounting_.channels()[k].component.kind == ComponentKind::Ram ? "memory" : "CPU");
    f.reason += names.empty() ? "; nothing else measures it, so it is left out (no estimate stands in for it)"
                              : "; " + kind_words(names) + " estimated instead" +
                                    (f.from_start ? ", from the start" : " for the rest of the run");
  }
  m_.frozen.push_back(f);
  if (!f.from_start) m_.notes.push_back(what + " " + f.reason);
}

void Sampler::set_resolutions(Timeline& t) const {
  for (size_t k = 0; k < t.components().size(); ++k) {
    double resolution = window_s_, update = 0;
    for (size_t c = 0; c < watch_.size(); ++c)
      if (watch_[c] && !watch_[c]->frozen() && accounting_.channels()[c].component == t.components()[k].component) {
        update = std::max(update, watch_[c]->update_s());
        resolution = std::max(resolution, watch_[c]->min_record_s());
      }
    t.set_component_resolution(k, resolution, update);
  }
}

void Sampler::step(bool final) {
  std::lock_guard<std::mutex> lk(data_mu_);
  const long long started_ns = log::enabled(log::Level::Trace) ? log::now_ns() : 0;
  const auto now = opt_.now();
  if (!primed_) {
    origin_ = now;
    m_.origin = opt_.wall();
  }
  // CPU times (the tree, the machine) are read every tick at long intervals and
  // every ~100 ms at short ones: shares are computed per window between reads.
  // The first tick after the start always does: it finds the command's processes.
  const bool cpu_tick = final || !primed_ || ticks_ == 1 || ticks_ % static_cast<uint64_t>(cpu_every_) == 0;
  ++ticks_;
  ctx_.now = now;
  ctx_.dt_s = primed_ ? seconds(now - last_time_) : 0.0;
  if (cpu_tick) {
    read_tree(final);
  } else {
    ctx_.cpu_valid = false;
    ctx_.cpu_dt_s = ctx_.tree_cpu_s = ctx_.machine_busy_s = ctx_.machine_capacity_s = 0;
  }
  Interval iv;
  iv.end_s = seconds(now - origin_);
  iv.dt_s = ctx_.dt_s;
  iv.tree_cpu_s = ctx_.tree_cpu_s;
  iv.machine_busy_s = ctx_.machine_busy_s;
  iv.machine_capacity_s = ctx_.machine_capacity_s;
  iv.tree_rss_bytes = static_cast<uint64_t>(ctx_.tree_rss_bytes);
  iv.close_window = cpu_tick;
  read_sources(iv);
  if (primed_) accounting_.add(iv);
  if (final) accounting_.flush();
  last_time_ = now;
  primed_ = true;
  ++m_.samples;
  log::trace([&] {
    return "tick " + std::to_string(ticks_) + (cpu_tick ? " with CPU times" : "") + (final ? " (final)" : "") + ": " +
           std::to_string(log::ms_since(started_ns)) + " ms";
  });
}

void Sampler::set_counts_node(bool counts) {
  std::lock_guard<std::mutex> lk(data_mu_);
  accounting_.set_counts_node(counts);
}

void Sampler::mark(std::chrono::steady_clock::time_point at, std::string name) {
  std::lock_guard<std::mutex> lk(data_mu_);
  accounting_.mark(primed_ ? seconds(at - origin_) : 0.0, std::move(name));
}

void Sampler::count(const std::string& unit, double n) {
  std::lock_guard<std::mutex> lk(data_mu_);
  accounting_.count(unit, n);
}

void Sampler::progress(std::chrono::steady_clock::time_point at, double fraction) {
  std::lock_guard<std::mutex> lk(data_mu_);
  append_bounded(progress_, ProgressPoint{primed_ ? seconds(at - origin_) : 0.0, fraction});
}

void Sampler::bad_record() {
  std::lock_guard<std::mutex> lk(data_mu_);
  ++bad_records_;
}

ProjectionInputs Sampler::projection_inputs() const {
  std::lock_guard<std::mutex> lk(data_mu_);
  return {accounting_.energy_curve(), progress_};
}

double Sampler::energy_so_far(bool machine) const {
  std::lock_guard<std::mutex> lk(data_mu_);
  double sum = 0;
  for (const auto& t : accounting_.totals()) sum += machine ? t.machine_j : t.tree_j;
  return sum;
}

Measurements Sampler::measurements() const {
  std::lock_guard<std::mutex> lk(data_mu_);
  Measurements m = m_;
  accounting_.published(m.channels, m.totals);
  m.timeline = accounting_.timeline();
  set_resolutions(m.timeline);
  m.window_s = std::max(window_s_, accounting_.min_window_s());
  m.peak_machine_w = accounting_.peak_machine_w();
  m.peak_tree_w = accounting_.peak_tree_w();
  m.sampled_s = accounting_.duration_s();
  m.phases = accounting_.phases();
  m.node_counted_s = accounting_.node_counted_s();
  m.units = accounting_.units();
  m.projection = {accounting_.energy_curve(), progress_};
  if (accounting_.marks_dropped())
    m.notes.push_back(std::to_string(accounting_.marks_dropped()) + " marks after the first " +
                      std::to_string(Accounting::kMaxPhases) + " phases were joined to the last phase");
  if (accounting_.units_merged())
    m.notes.push_back(std::to_string(accounting_.units_merged()) + " counts in units beyond the first " +
                      std::to_string(Accounting::kMaxUnits) + " were counted as \"other\"");
  if (bad_records_)
    m.notes.push_back(std::to_string(bad_records_) +
                      " lines on the marks FIFO began with the record byte but were not a count or progress record: ignored");
  for (const auto& s : sources_)
    for (auto& n : s->notes()) m.notes.push_back(std::move(n));
  // The thread's own CPU time, read through its clock while it runs.
  if (const_cast<std::thread&>(thread_).joinable() && m.sampler_cpu_s == 0) {
    clockid_t clock;
    if (::pthread_getcpuclockid(const_cast<std::thread&>(thread_).native_handle(), &clock) == 0)
      m.sampler_cpu_s = thread_cpu_s(clock);
  }
  return m;
}

}  // namespace greenrun
