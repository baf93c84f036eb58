// bench helper: what the marks FIFO costs a run that never marks: creating
// and removing it (directory, FIFO, open) N times; prints microseconds each.

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "process/marks.h"

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  const char* tmp = std::getenv("TMPDIR");
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  for (int i = 0; i < n; ++i)
    if (!greenrun::MarkChannel::create(tmp && *tmp ? tmp : "/tmp")) return 1;
  std::printf("%.1f\n", std::chrono::duration<double, std::micro>(clock::now() - t0).count() / n);
  return 0;
}
