#pragma once
// What the user asked of the sampler (--interval, --checkpoint); commands/options.cc
// fills it from the option table.

#include <chrono>

namespace greenrun {

struct SamplingOptions {
  std::chrono::nanoseconds interval{std::chrono::seconds(1)};
  std::chrono::nanoseconds checkpoint{std::chrono::seconds(60)};  // 0: never while running
};

}  // namespace greenrun
