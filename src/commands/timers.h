#pragma once
// Work done on greenrun's main thread while the command runs, each task on
// its own deadline: starting the sampler thread, checkpoints, budget checks.
// wait_for_command() calls fire() when next() has passed.

#include <chrono>
#include <functional>
#include <vector>

namespace greenrun {

class Timers {
 public:
  using clock = std::chrono::steady_clock;

  /// `fn` at `at`, once.
  /// A spent one-off's slot is reused: a task that re-arms itself never grows the list.
  void once(clock::time_point at, std::function<void()> fn) {
    for (auto& t : tasks_)
      if (t.at == clock::time_point::max() && t.every.count() == 0) {
        t = {at, {}, std::move(fn)};
        return;
      }
    tasks_.push_back({at, {}, std::move(fn)});
  }
  /// `fn` at `first`, then every `every` (deadlines skipped when late, never bunched).
  void every(clock::time_point first, clock::duration every, std::function<void()> fn) {
    tasks_.push_back({first, every, std::move(fn)});
  }

  /// The earliest deadline; time_point::max() when nothing is due ever.
  clock::time_point next() const {
    auto t = clock::time_point::max();
    for (const auto& task : tasks_) t = std::min(t, task.at);
    return t;
  }

  /// Runs the tasks that are due and returns next().
  clock::time_point fire() {
    const auto now = clock::now();
    // Tasks may add tasks: run by index, over the ones that existed.
    const size_t n = tasks_.size();
    for (size_t i = 0; i < n; ++i) {
      if (tasks_[i].at > now) continue;
      auto fn = tasks_[i].fn;  // a copy: fn may add tasks and move the vector
      if (tasks_[i].every.count() > 0) {
        auto& t = tasks_[i];
        t.at += t.every * ((clock::now() - t.at) / t.every + 1);
      } else {
        tasks_[i].at = clock::time_point::max();
      }
      fn();
    }
    return next();
  }

 private:
  struct Task {
    clock::time_point at;
    clock::duration every;
    std::function<void()> fn;
  };
  std::vector<Task> tasks_;
};

}  // namespace greenrun
