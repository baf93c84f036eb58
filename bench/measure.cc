// bench helper: runs a command N times and prints the median wall time, the
// median CPU time (user+system of the command and everything it waited for)
// and the largest peak RSS, as "wall_ms cpu_ms maxrss_kib".
// With --mark FILE first, also the median time from the realtime-clock
// nanoseconds the command wrote to FILE last thing before exiting, to the
// moment wait4 returned: "... exit_after_mark_ms".

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <time.h>
#include <vector>

int main(int argc, char** argv) {
  const char* mark = nullptr;
  if (argc > 2 && std::string(argv[1]) == "--mark") {
    mark = argv[2];
    argv += 2;
    argc -= 2;
  }
  if (argc < 3) {
    std::fprintf(stderr, "usage: measure [--mark FILE] N COMMAND [ARGS...]\n");
    return 2;
  }
  int n = std::atoi(argv[1]);
  std::vector<double> walls, cpus, after_mark;
  long maxrss = 0;
  for (int i = 0; i < n; ++i) {
    auto start = std::chrono::steady_clock::now();
    pid_t pid = fork();
    if (pid == 0) {
      execvp(argv[2], argv + 2);
      _exit(127);
    }
    int status;
    rusage ru{};
    wait4(pid, &status, 0, &ru);
    auto end = std::chrono::steady_clock::now();
    if (mark) {
      timespec now{};
      clock_gettime(CLOCK_REALTIME, &now);
      std::ifstream f(mark);
      long long ns = 0;
      f >> ns;
      after_mark.push_back((now.tv_sec * 1e9 + now.tv_nsec - static_cast<double>(ns)) / 1e6);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "measure: %s failed\n", argv[2]);
      return 1;
    }
    walls.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    cpus.push_back((ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3);
    maxrss = std::max(maxrss, ru.ru_maxrss);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("%.4f %.4f %ld", median(walls), median(cpus), maxrss);
  if (mark) std::printf(" %.4f", median(after_mark));
  std::printf("\n");
  return 0;
}
