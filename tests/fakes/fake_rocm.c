/* A fake librocm_smi64.so for greenrun's tests, set by the file named in
 * FAKE_ROCM_CONFIG: count, gpuN.power_w, gpuN.energy (0: no counter),
 * gpuN.resolution (uJ per count, default 15.3), gpuN.energy_scale (a counter
 * that runs that many times too fast), gpuN.zero (reports 0 W and 0 J, as
 * the odd GCD of an MI250 does), gpuN.count (a fixed counter value). */

#include <stdint.h>

#include "fake_config.h"

#define ENV "FAKE_ROCM_CONFIG"
static double started;

static double setting(uint32_t dv, const char* what, double fallback) {
  char key[64];
  snprintf(key, sizeof key, "gpu%u.%s", dv, what);
  return fake_num(ENV, key, fallback);
}

int rsmi_init(uint64_t flags) {
  (void)flags;
  started = fake_now();
  return 0;
}
int rsmi_shut_down(void) { return 0; }
int rsmi_num_monitor_devices(uint32_t* n) {
  *n = (uint32_t)fake_num(ENV, "count", 0);
  return 0;
}
int rsmi_dev_energy_count_get(uint32_t dv, uint64_t* count, float* resolution, uint64_t* ts) {
  if (!setting(dv, "energy", 1)) return 2;
  double res = setting(dv, "resolution", 15.3);
  double fixed = setting(dv, "count", -1);
  if (fixed >= 0) {
    *count = (uint64_t)fixed;
    *resolution = (float)res;
    *ts = (uint64_t)(fake_now() * 1e9);
    return 0;
  }
  double uj = setting(dv, "zero", 0) ? 0 : setting(dv, "power_w", 100) * (fake_now() - started) * 1e6;
  *count = 1000 + (uint64_t)(uj * setting(dv, "energy_scale", 1) / res);
  *resolution = (float)res;
  *ts = (uint64_t)(fake_now() * 1e9);
  return 0;
}
int rsmi_dev_power_ave_get(uint32_t dv, uint32_t sensor, uint64_t* uw) {
  (void)sensor;
  *uw = setting(dv, "zero", 0) ? 0 : (uint64_t)(setting(dv, "power_w", 100) * 1e6);
  return 0;
}
