// bench helper: the floor of any sampler on this machine. A thread that wakes
// on steady_clock deadlines every INTERVAL_MS for N ticks and does nothing
// else; prints its CPU time per tick in microseconds. On virtual machines a
// wake-up after a long sleep costs far more than on bare metal.

#include <time.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: wake-floor INTERVAL_MS TICKS\n");
    return 2;
  }
  const auto interval = std::chrono::microseconds(static_cast<long>(std::atof(argv[1]) * 1000));
  const int ticks = std::atoi(argv[2]);
  std::mutex m;
  std::condition_variable cv;
  double cpu_us = 0;
  std::thread t([&] {
    auto next = std::chrono::steady_clock::now();
    for (int i = 0; i < ticks; ++i) {
      next += interval;
      std::unique_lock<std::mutex> lk(m);
      cv.wait_until(lk, next, [] { return false; });
    }
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    cpu_us = ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
  });
  t.join();
  std::printf("%.3f\n", cpu_us / ticks);
  return 0;
}
