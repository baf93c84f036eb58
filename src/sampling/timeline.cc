#include "sampling/timeline.h"

#include <algorithm>

namespace greenrun {

size_t Timeline::capacity_for(size_t components) {
  const size_t per_record = sizeof(Record) + components * 2 * sizeof(double);
  return std::max<size_t>(std::min(kMaxRecords, (kBudgetBytes - 4096) / per_record), 2);
}

Timeline::Timeline(std::vector<TimelineComponent> components, size_t capacity)
    : components_(std::move(components)), n_(components_.size()) {
  capacity_ = std::max<size_t>(capacity > 0 ? capacity : capacity_for(n_), 2);
}

void Timeline::append(const Window& w) {
  ++windows_;
  // The last record takes windows until it holds as many as the others.
  if (records_.empty() || records_.back().windows >= per_record_) {
    if (records_.size() == capacity_) merge_pairs();
    if (records_.size() == records_.capacity()) {  // grow by doubling, never past the capacity
      const size_t want = std::min(capacity_, std::max<size_t>(16, records_.size() * 2));
      records_.reserve(want);
      energy_.reserve(want * n_ * 2);
    }
    records_.push_back({w.start_s, w.start_s, 0, 0, 0, 0});
    energy_.resize(energy_.size() + n_ * 2, 0.0);
  }
  Record& r = records_.back();
  const size_t at = (records_.size() - 1) * n_ * 2;
  r.end_s = w.end_s;
  ++r.windows;
  r.tree_cpu_s += w.tree_cpu_s;
  r.rss_bytes = std::max(r.rss_bytes, w.rss_bytes);
  r.missing |= w.missing;
  for (size_t c = 0; c < n_; ++c) {
    energy_[at + c * 2] += c < w.machine_j.size() ? w.machine_j[c] : 0.0;
    energy_[at + c * 2 + 1] += c < w.tree_j.size() ? w.tree_j[c] : 0.0;
  }
}

void Timeline::merge_pairs() {
  size_t out = 0;
  for (size_t i = 0; i < records_.size(); i += 2, ++out) {
    Record r = records_[i];
    const size_t dst = out * n_ * 2, a = i * n_ * 2;
    for (size_t k = 0; k < n_ * 2; ++k) energy_[dst + k] = energy_[a + k];
    if (i + 1 < records_.size()) {
      const Record& b = records_[i + 1];
      r.end_s = b.end_s;
      r.windows += b.windows;
      r.tree_cpu_s += b.tree_cpu_s;
      r.rss_bytes = std::max(r.rss_bytes, b.rss_bytes);
      r.missing |= b.missing;
      const size_t bb = (i + 1) * n_ * 2;
      for (size_t k = 0; k < n_ * 2; ++k) energy_[dst + k] += energy_[bb + k];
    }
    records_[out] = r;
  }
  records_.resize(out);
  energy_.resize(out * n_ * 2);
  per_record_ *= 2;
}

void Timeline::restore(const Record& r, const std::vector<double>& machine_j, const std::vector<double>& tree_j,
                       uint32_t windows_per_record) {
  records_.push_back(r);
  for (size_t c = 0; c < n_; ++c) {
    energy_.push_back(c < machine_j.size() ? machine_j[c] : 0.0);
    energy_.push_back(c < tree_j.size() ? tree_j[c] : 0.0);
  }
  windows_ += r.windows;
  per_record_ = std::max<uint32_t>(1, windows_per_record);
}

double Timeline::energy_j(size_t record, bool machine) const {
  double sum = 0;
  for (size_t c = 0; c < n_; ++c) sum += machine ? machine_j(record, c) : tree_j(record, c);
  return sum;
}

size_t Timeline::memory_bytes() const {
  return sizeof(*this) + records_.capacity() * sizeof(Record) + energy_.capacity() * sizeof(double) +
         components_.capacity() * sizeof(TimelineComponent);
}

}  // namespace greenrun
