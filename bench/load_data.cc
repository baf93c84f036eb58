// bench helper: what loading greenrun's data costs per run. Loads the carbon
// data (share/intensity) and the hardware tables (share/hardware, with one
// CPU match) N times; prints microseconds per load of each.

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "carbon/carbon_data.h"
#include "sensors/hardware_data.h"

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 200;
  const std::string dir = greenrun::find_data_dir();
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  for (int i = 0; i < n; ++i)
    if (!greenrun::load_carbon_data(dir)) return 1;
  auto t1 = clock::now();
  for (int i = 0; i < n; ++i) {
    auto hw = greenrun::HardwareData::load(dir);
    if (!hw || !hw->match_cpu("Intel(R) Xeon(R) Platinum 8272CL CPU @ 2.60GHz")) return 1;
  }
  auto t2 = clock::now();
  std::printf("%.1f %.1f\n", std::chrono::duration<double, std::micro>(t1 - t0).count() / n,
              std::chrono::duration<double, std::micro>(t2 - t1).count() / n);
  return 0;
}
