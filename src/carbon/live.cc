#include "carbon/live.h"

#include <algorithm>

namespace greenrun {

void LiveSeries::merge(const IntensitySeries& s) {
  for (size_t i = 0; i < s.steps.size(); ++i) {
    const auto& st = s.steps[i];
    time_point to = st.from + s.period;
    if (i + 1 < s.steps.size()) to = std::min(to, s.steps[i + 1].from);
    auto it = slots_.find(st.from);
    const bool had_answer = it != slots_.end() && (it->second.basis == Basis::Live || it->second.basis == Basis::Estimated);
    if (had_answer && st.basis == Basis::Forecast) continue;
    slots_[st.from] = Slot{to, st.g_per_kwh, st.basis};
  }
}

std::optional<double> LiveSeries::at(time_point t) const {
  auto it = slots_.upper_bound(t);
  if (it == slots_.begin()) return std::nullopt;
  --it;
  if (t >= it->second.to) return std::nullopt;
  return it->second.g_per_kwh;
}

std::optional<LiveSeries::time_point> LiveSeries::next_change(time_point t) const {
  std::optional<time_point> out;
  auto next = slots_.upper_bound(t);
  if (next != slots_.end()) out = next->first;
  if (next != slots_.begin()) {
    auto cur = std::prev(next);
    if (cur->second.to > t && (!out || cur->second.to < *out)) out = cur->second.to;
  }
  return out;
}

IntensityProfile LiveSeries::profile(double yearly) const {
  std::vector<IntensityProfile::Step> steps{{time_point{}, yearly, Basis::Yearly}};
  time_point cursor{};
  for (auto it = slots_.begin(); it != slots_.end(); ++it) {
    auto next = std::next(it);
    const time_point from = std::max(it->first, cursor);
    time_point end = it->second.to;
    if (next != slots_.end()) end = std::min(end, next->first);
    if (from >= end) continue;
    steps.push_back({from, it->second.g_per_kwh, it->second.basis});
    cursor = end;
    if (next == slots_.end() || next->first > end) steps.push_back({end, yearly, Basis::Yearly});
  }
  return IntensityProfile::steps(std::move(steps));
}

std::vector<IntensityProfile::Step> LiveSeries::points() const {
  std::vector<IntensityProfile::Step> out;
  for (const auto& [from, slot] : slots_) out.push_back({from, slot.g_per_kwh, slot.basis});
  return out;
}

IntensityFeed::IntensityFeed(std::unique_ptr<IntensityProvider> provider) : provider_(std::move(provider)) {}

IntensityFeed::~IntensityFeed() {
  if (pending_.valid()) pending_.wait();  // bounded by the HTTP timeout
}

Result<IntensitySeries> IntensityFeed::request(Want want, time_point now, FetchMode mode) {
  return want == Want::Forecast ? provider_->forecast(now, std::chrono::hours(48), mode) : provider_->latest(now, mode);
}

void IntensityFeed::take(const Result<IntensitySeries>& r, FetchMode mode) {
  if (r) {
    series_.merge(*r);
    answered_ = true;
    for (const auto& n : r->notes)
      if (notes_.size() < kMaxNotes && std::find(notes_.begin(), notes_.end(), n) == notes_.end()) notes_.push_back(n);
  } else if (mode == FetchMode::Network && !down_) {
    down_ = true;
    problem_ = r.error();
  }
}

Status IntensityFeed::fetch(Want want, time_point now, FetchMode mode) {
  settle(std::chrono::steady_clock::time_point::max());
  if (down_) return Status::fail(problem_);
  auto r = request(want, now, mode);
  take(r, mode);
  return r ? Status() : Status::fail(r.error());
}

void IntensityFeed::fetch_async(Want want, time_point now) {
  if (down_ || pending_.valid()) return;
  pending_ = std::async(std::launch::async, [this, want, now] { return request(want, now, FetchMode::Network); });
}

bool IntensityFeed::collect() {
  if (!pending_.valid() || pending_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
  auto r = pending_.get();
  take(r, FetchMode::Network);
  return static_cast<bool>(r);
}

void IntensityFeed::settle(std::chrono::steady_clock::time_point deadline) {
  if (!pending_.valid()) return;
  if (deadline == std::chrono::steady_clock::time_point::max()) pending_.wait();
  else pending_.wait_until(deadline);
  collect();
}

void IntensityFeed::fetch_history(time_point from, time_point to, std::chrono::steady_clock::time_point deadline) {
  settle(deadline);
  if (down_) return;
  if (pending_.valid()) {  // still busy at the deadline: no more waiting
    down_ = true;
    problem_ = provider_->source().provider + ": no answer by the deadline after the command ended (--intensity-timeout)";
    return;
  }
  provider_->set_deadline(deadline);
  take(provider_->history(from, to, FetchMode::Network), FetchMode::Network);
}

LiveSource IntensityFeed::source() const {
  LiveSource s = provider_->source();
  s.answered = answered_;
  s.problem = problem_;
  s.notes = notes_;
  return s;
}

}  // namespace greenrun
