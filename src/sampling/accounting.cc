#include "sampling/accounting.h"

#include <algorithm>

namespace greenrun {

namespace {
constexpr double kMinPeakWindowS = 0.05;
}  // namespace

double cpu_share(double tree_cpu_s, double machine_busy_s, double machine_capacity_s, double resolution_s) {
  if (tree_cpu_s <= 0) return 0;
  if (machine_busy_s < resolution_s && machine_capacity_s > 0) return std::min(1.0, tree_cpu_s / machine_capacity_s);
  if (machine_busy_s <= 0) return 1;
  return std::min(1.0, tree_cpu_s / machine_busy_s);
}

std::vector<TimelineComponent> timeline_components(const std::vector<Channel>& channels,
                                                   std::vector<size_t>* channel_component) {
  std::vector<TimelineComponent> out;
  if (channel_component) channel_component->clear();
  for (const auto& ch : channels) {
    auto it = std::find_if(out.begin(), out.end(), [&](auto& c) { return c.component == ch.component; });
    if (it == out.end()) it = out.insert(out.end(), {ch.component, ch.measured});
    it->measured = it->measured && ch.measured;
    if (channel_component) channel_component->push_back(static_cast<size_t>(it - out.begin()));
  }
  return out;
}

namespace {

constexpr size_t kNone = static_cast<size_t>(-1);

std::vector<Channel> joined(std::vector<Channel> a, const std::vector<Channel>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

bool stands_in(ComponentKind standby, ComponentKind frozen) {
  if (standby == ComponentKind::Cpu) return frozen == ComponentKind::Cpu || frozen == ComponentKind::Platform;
  if (standby == ComponentKind::Ram) return frozen == ComponentKind::Dram || frozen == ComponentKind::Platform;
  return false;
}

Accounting::Accounting(std::vector<Channel> channels, size_t timeline_capacity, double cpu_resolution_s,
                       std::vector<Channel> standby)
    : channels_(joined(std::move(channels), standby)),
      active_(channels_.size() - standby.size()),
      totals_(channels_.size()),
      timeline_(timeline_components(std::vector<Channel>(channels_.begin(), channels_.begin() + static_cast<std::ptrdiff_t>(active_)),
                                    &component_of_),
                timeline_capacity),
      win_machine_j_(channels_.size()),
      win_direct_tree_j_(channels_.size()),
      win_direct_machine_j_(channels_.size()) {
  cpu_resolution_s_ = cpu_resolution_s;
  component_of_.resize(channels_.size(), kNone);
  published_.assign(channels_.size(), false);
  std::fill(published_.begin(), published_.begin() + static_cast<std::ptrdiff_t>(active_), true);
  fraction_.assign(channels_.size(), 1.0);
  std::fill(fraction_.begin() + static_cast<std::ptrdiff_t>(active_), fraction_.end(), 0.0);
  frozen_.assign(channels_.size(), false);
  stands_for_.assign(channels_.size(), kNone);
  shadow_ = Timeline(timeline_components(standby, &shadow_of_), timeline_.capacity());
  window_.machine_j.assign(timeline_.components().size(), 0.0);
  window_.tree_j.assign(timeline_.components().size(), 0.0);
  shadow_window_.machine_j.assign(shadow_.components().size(), 0.0);
  shadow_window_.tree_j.assign(shadow_.components().size(), 0.0);
}

void Accounting::add(const Interval& iv) {
  if (!win_open_) {
    win_start_s_ = iv.end_s - iv.dt_s;
    win_open_ = true;
  }
  window_.end_s = iv.end_s;
  window_.rss_bytes = iv.tree_rss_bytes;
  win_dt_ += iv.dt_s;
  win_tree_cpu_ += iv.tree_cpu_s;
  win_machine_cpu_ += iv.machine_busy_s;
  win_capacity_ += iv.machine_capacity_s;
  duration_s_ += iv.dt_s;
  for (size_t c = 0; c < channels_.size(); ++c) {
    auto e = c < iv.energy_j.size() ? iv.energy_j[c] : std::nullopt;
    if (!e) {
      ++totals_[c].missing;
      if (component_of_[c] != kNone) win_missing_ |= uint64_t{1} << (component_of_[c] % 64);
      continue;
    }
    ++totals_[c].intervals;
    if (auto u = c < iv.utilisation_percent.size() ? iv.utilisation_percent[c] : std::nullopt) {
      totals_[c].utilisation_pct_s += std::clamp(*u, 0.0, 100.0) * iv.dt_s;
      totals_[c].utilisation_s += iv.dt_s;
    }
    auto share = c < iv.share.size() ? iv.share[c] : std::nullopt;
    if (share) {
      win_direct_tree_j_[c] += *e * std::clamp(*share, 0.0, 1.0);
      win_direct_machine_j_[c] += *e;
    } else {
      win_machine_j_[c] += *e;
    }
  }
  if (iv.close_window && win_dt_ + 1e-9 >= min_window_s_) close_window(false);
}

void Accounting::mark(double at_s, std::string name) {
  if (phases_.empty()) phases_.push_back(unmarked_);
  if (phases_.size() + pending_marks_.size() >= kMaxPhases) {
    ++marks_dropped_;
    return;
  }
  Phase p;
  p.name = std::move(name);
  p.start_s = p.end_s = at_s;
  pending_marks_.push_back(std::move(p));
}

void Accounting::count(const std::string& unit, double n) {
  auto it = std::find_if(units_.begin(), units_.end(), [&](const UnitCount& u) { return u.unit == unit; });
  if (it == units_.end() && units_.size() >= kMaxUnits) {
    ++units_merged_;
    it = std::find_if(units_.begin(), units_.end(), [](const UnitCount& u) { return u.unit == "other"; });
    if (it == units_.end()) it = units_.insert(units_.end(), {"other", 0});
  } else if (it == units_.end()) {
    it = units_.insert(units_.end(), {unit, 0});
  }
  it->count += n;
  const auto u = static_cast<size_t>(it - units_.begin());
  Phase& in = !pending_marks_.empty() ? pending_marks_.back() : phases_.empty() ? unmarked_ : phases_.back();
  if (in.counts.size() <= u) in.counts.resize(u + 1, 0.0);
  in.counts[u] += n;
}

// The window [start_s, end_s) goes to the current phase up to the first mark
// inside it, then to each marked phase for its share of the window's time.
void Accounting::split_into_phases(double start_s, double end_s, double tree_j, double machine_j) {
  if (phases_.empty()) {  // no mark yet
    unmarked_.tree_j += tree_j;
    unmarked_.machine_j += machine_j;
    unmarked_.end_s = end_s;
    return;
  }
  const double span = end_s - start_s;
  size_t taken = 0;
  double from = start_s;
  auto credit = [&](double to) {
    const double f = span > 0 ? (to - from) / span : 0.0;
    Phase& p = phases_.back();
    p.tree_j += tree_j * f;
    p.machine_j += machine_j * f;
    p.end_s = to;
    from = to;
  };
  for (; taken < pending_marks_.size() && pending_marks_[taken].start_s < end_s; ++taken) {
    const double at = std::clamp(pending_marks_[taken].start_s, from, end_s);
    credit(at);
    phases_.push_back(std::move(pending_marks_[taken]));
    phases_.back().start_s = phases_.back().end_s = at;
  }
  credit(end_s);
  pending_marks_.erase(pending_marks_.begin(), pending_marks_.begin() + static_cast<std::ptrdiff_t>(taken));
}

void Accounting::flush() {
  if (win_open_) close_window(min_window_s_ > 0 && win_dt_ + 1e-9 < min_window_s_ && timeline_.size() > 0);
  // Marks after the last window: phases of no time at the end.
  const double end = timeline_.size() ? timeline_.record(timeline_.size() - 1).end_s : 0.0;
  for (auto& p : pending_marks_) {
    p.start_s = std::min(p.start_s, end);
    p.end_s = end;
    phases_.push_back(std::move(p));
  }
  pending_marks_.clear();
}

void Accounting::close_window(bool join_last) {
  const double share = cpu_share(win_tree_cpu_, win_machine_cpu_, win_capacity_, cpu_resolution_s_);
  const auto [machine_j, tree_j] = attribute_window(share);
  record_window(join_last);
  split_into_phases(win_start_s_, window_.end_s, tree_j, machine_j);
  curve_tree_j_ += tree_j;
  curve_machine_j_ += machine_j;
  append_bounded(curve_, EnergyPoint{window_.end_s, curve_tree_j_, curve_machine_j_});
  update_peaks(machine_j, tree_j);
  win_dt_ = win_tree_cpu_ = win_machine_cpu_ = win_capacity_ = 0;
  win_missing_ = 0;
  win_open_ = false;
}

std::pair<double, double> Accounting::attribute_window(double share) {
  std::fill(window_.machine_j.begin(), window_.machine_j.end(), 0.0);
  std::fill(window_.tree_j.begin(), window_.tree_j.end(), 0.0);
  std::fill(shadow_window_.machine_j.begin(), shadow_window_.machine_j.end(), 0.0);
  std::fill(shadow_window_.tree_j.begin(), shadow_window_.tree_j.end(), 0.0);
  double machine_j = 0, tree_j = 0;
  if (counts_node_) node_counted_s_ += win_dt_;
  for (size_t c = 0; c < channels_.size(); ++c) {
    // Another rank counts the node's machine-level energy: this run keeps its
    // own share, and the machine figure of what is bound to it.
    const bool ours = counts_node_ || channels_[c].bound;
    double m = ours ? win_machine_j_[c] + win_direct_machine_j_[c] : 0.0;
    double t = win_machine_j_[c] * share + win_direct_tree_j_[c];
    win_machine_j_[c] = win_direct_tree_j_[c] = win_direct_machine_j_[c] = 0;
    if (standby(c)) {
      const size_t k = shadow_of_[c - active_];
      shadow_window_.machine_j[k] += m;
      shadow_window_.tree_j[k] += t;
      m *= fraction_[c];
      t *= fraction_[c];
    }
    totals_[c].machine_j += m;
    totals_[c].tree_j += t;
    if (component_of_[c] != kNone) {
      window_.machine_j[component_of_[c]] += m;
      window_.tree_j[component_of_[c]] += t;
    }
    machine_j += m;
    tree_j += t;
  }
  return {machine_j, tree_j};
}

// Appends the window to the timeline and its shadow (or extends their last record).
void Accounting::record_window(bool join_last) {
  window_.start_s = win_start_s_;
  window_.tree_cpu_s = win_tree_cpu_;
  window_.missing = win_missing_;
  shadow_window_.start_s = win_start_s_;
  shadow_window_.end_s = window_.end_s;
  shadow_window_.tree_cpu_s = win_tree_cpu_;
  shadow_window_.rss_bytes = window_.rss_bytes;
  if (join_last) {
    timeline_.extend_last(window_);
    shadow_.extend_last(shadow_window_);
  } else {
    timeline_.append(window_);
    shadow_.append(shadow_window_);
  }
}

// Peaks over windows of at least 50 ms: a shorter one (the last window of a
// run can be a millisecond long, and a millisecond says nothing about power)
// is pooled with the window before it. No energy escapes the peaks that way,
// so the peak is never below the run's average: /proc/PID/stat counts CPU in
// 10 ms ticks, and a short command's CPU time often appears only when it is
// reaped, in that last window.
void Accounting::update_peaks(double machine_j, double tree_j) {
  if (!(win_dt_ > 0)) return;  // not "<= 0": a NaN span sets no peak
  double dt = win_dt_, mj = machine_j, tj = tree_j;
  if (win_dt_ < kMinPeakWindowS && last_dt_ > 0) {
    dt += last_dt_;
    mj += last_machine_j_;
    tj += last_tree_j_;
  }
  peak_machine_w_ = std::max(peak_machine_w_, mj / dt);
  peak_tree_w_ = std::max(peak_tree_w_, tj / dt);
  last_dt_ = dt;
  last_machine_j_ = mj;
  last_tree_j_ = tj;
}

std::vector<size_t> Accounting::freeze(size_t c, double since_s, bool ever_moved) {
  if (c >= active_ || frozen_[c]) return {};
  frozen_[c] = true;
  if (!ever_moved) published_[c] = false;  // it measured nothing: no "0 J measured" in the report
  const ComponentKind kind = channels_[c].component.kind;
  const auto peers = std::count_if(channels_.begin(), channels_.begin() + static_cast<std::ptrdiff_t>(active_),
                                   [&](const Channel& ch) { return ch.measured && ch.component.kind == kind; });
  std::vector<std::pair<size_t, double>> added;
  for (size_t s = active_; s < channels_.size(); ++s) {
    if (!stands_in(channels_[s].component.kind, kind)) continue;
    const double before = fraction_[s];
    fraction_[s] = std::min(1.0, before + 1.0 / static_cast<double>(std::max<std::ptrdiff_t>(1, peers)));
    published_[s] = true;
    if (stands_for_[s] == kNone) stands_for_[s] = c;
    added.emplace_back(s, fraction_[s] - before);
  }
  relayout();
  std::vector<size_t> out;
  for (const auto& [s, fraction] : added) {
    backfill(s, fraction, since_s);
    out.push_back(s);
  }
  return out;
}

std::vector<size_t> Accounting::published_order() const {
  std::vector<size_t> out;
  for (size_t c = 0; c < active_; ++c) {
    if (published_[c]) out.push_back(c);
    for (size_t s = active_; s < channels_.size(); ++s)
      if (published_[s] && stands_for_[s] == c) out.push_back(s);
  }
  return out;
}

void Accounting::relayout() {
  const std::vector<size_t> which = published_order();
  std::vector<Channel> shown;
  for (size_t c : which) shown.push_back(channels_[c]);
  std::vector<size_t> comp_of;
  std::vector<TimelineComponent> comps = timeline_components(shown, &comp_of);
  const auto& old = timeline_.components();
  std::vector<int> from(comps.size(), -1);
  for (size_t i = 0; i < comps.size(); ++i)
    for (size_t o = 0; o < old.size(); ++o)
      if (old[o].component == comps[i].component) {
        from[i] = static_cast<int>(o);
        comps[i].resolution_s = old[o].resolution_s;
        comps[i].update_s = old[o].update_s;
      }
  uint64_t missing = 0;
  for (size_t i = 0; i < comps.size(); ++i)
    if (from[i] >= 0 && ((win_missing_ >> (from[i] % 64)) & 1)) missing |= uint64_t{1} << (i % 64);
  win_missing_ = missing;
  timeline_.remap(std::move(comps), from);
  std::fill(component_of_.begin(), component_of_.end(), kNone);
  for (size_t j = 0; j < which.size(); ++j) component_of_[which[j]] = comp_of[j];
  window_.machine_j.assign(timeline_.components().size(), 0.0);
  window_.tree_j.assign(timeline_.components().size(), 0.0);
}

void Accounting::backfill(size_t c, double fraction, double since_s) {
  const size_t k = shadow_of_[c - active_], comp = component_of_[c];
  for (size_t i = shadow_.size(); i-- > 0;) {
    const Timeline::Record& rec = shadow_.record(i);
    if (rec.end_s <= since_s) break;
    const double span = rec.end_s - rec.start_s;
    const double part = rec.start_s >= since_s || span <= 0 ? 1.0 : (rec.end_s - since_s) / span;
    const double m = shadow_.machine_j(i, k) * part * fraction, t = shadow_.tree_j(i, k) * part * fraction;
    timeline_.add_energy(i, comp, m, t);
    totals_[c].machine_j += m;
    totals_[c].tree_j += t;
    credit_phases(std::max(rec.start_s, since_s), rec.end_s, t, m);
    if (span > 0) {
      peak_machine_w_ = std::max(peak_machine_w_, timeline_.energy_j(i, true) / span);
      peak_tree_w_ = std::max(peak_tree_w_, timeline_.energy_j(i, false) / span);
    }
  }
}

// Energy found late (a frozen counter's span, estimated) goes to the phases
// by their overlap with its span; what falls outside them to the last one.
void Accounting::credit_phases(double start_s, double end_s, double tree_j, double machine_j) {
  if (phases_.empty()) {
    unmarked_.tree_j += tree_j;
    unmarked_.machine_j += machine_j;
    return;
  }
  const double span = end_s - start_s;
  double given = 0;
  for (auto& p : phases_) {
    const double overlap = std::min(p.end_s, end_s) - std::max(p.start_s, start_s);
    if (overlap <= 0 || span <= 0) continue;
    p.tree_j += tree_j * overlap / span;
    p.machine_j += machine_j * overlap / span;
    given += overlap / span;
  }
  if (given < 1) {
    phases_.back().tree_j += tree_j * (1 - given);
    phases_.back().machine_j += machine_j * (1 - given);
  }
}

void Accounting::published(std::vector<Channel>& channels, std::vector<ChannelTotals>& totals) const {
  channels.clear();
  totals.clear();
  for (size_t c : published_order()) {
    channels.push_back(channels_[c]);
    totals.push_back(totals_[c]);
  }
}

}  // namespace greenrun
