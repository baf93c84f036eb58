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

void Timeline::extend_last(const Window& w) {
  if (records_.empty()) {
    append(w);
    return;
  }
  ++windows_;
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

void Timeline::remap(std::vector<TimelineComponent> components, const std::vector<int>& from) {
  const size_t n = components.size();
  std::vector<double> energy(records_.size() * n * 2, 0.0);
  for (size_t i = 0; i < records_.size(); ++i) {
    uint64_t missing = 0;
    for (size_t c = 0; c < n; ++c) {
      const int old = c < from.size() ? from[c] : -1;
      if (old < 0 || static_cast<size_t>(old) >= n_) continue;
      energy[(i * n + c) * 2] = energy_[(i * n_ + static_cast<size_t>(old)) * 2];
      energy[(i * n + c) * 2 + 1] = energy_[(i * n_ + static_cast<size_t>(old)) * 2 + 1];
      if ((records_[i].missing >> (old % 64)) & 1) missing |= uint64_t{1} << (c % 64);
    }
    records_[i].missing = missing;
  }
  components_ = std::move(components);
  n_ = n;
  energy_ = std::move(energy);
}

void Timeline::add_energy(size_t record, size_t component, double machine_j, double tree_j) {
  if (record >= records_.size() || component >= n_) return;
  energy_[(record * n_ + component) * 2] += machine_j;
  energy_[(record * n_ + component) * 2 + 1] += tree_j;
}

void Timeline::set_component_resolution(size_t component, double resolution_s, double update_s) {
  if (component >= n_) return;
  components_[component].resolution_s = resolution_s;
  components_[component].update_s = update_s;
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
