/* A fake librocm_smi64.so for greenrun's tests, set by the file named in
 * FAKE_ROCM_CONFIG: count, and per GPU N:
 *   gpuN.power_w, gpuN.energy (0: no counter), gpuN.resolution (uJ per count,
 *   default 15.3), gpuN.energy_scale (a counter that runs that many times too
 *   fast), gpuN.count (a fixed counter value: a stalled counter, as in
 *   rocm_smi_lib #180), gpuN.reset_after (s: the counter restarts from 0, as
 *   after a driver reload or GPU reset), gpuN.step_s (the counter moves in
 *   steps this long, 0.1 s by default; 0: smoothly), gpuN.frozen_after (s:
 *   the counter stops there while power goes on);
 *   power: gpuN.current (1: current socket power, as MI300 parts have),
 *   gpuN.average (0: no average power, as on MI300: "newer ASICs will support
 *   current power only"), gpuN.power (0: neither);
 *   MI250-class secondary dies (GCDs): gpuN.secondary (the real library: power
 *   NOT_SUPPORTED, energy count 0), gpuN.zero (older kernels: 0 W and 0 J).
 *
 * rsmi_dev_power_get is what rocm_smi_lib's src/rocm_smi.cc does: current
 * socket power, else average, else NOT_SUPPORTED with RSMI_INVALID_POWER.
 * Built a second time with FAKE_ROCM_5 as a library from before ROCm 6.0,
 * which has no rsmi_dev_power_get. */

#include <stdint.h>

#include "fake_config.h"

#define ENV "FAKE_ROCM_CONFIG"
enum { OK = 0, NOT_SUPPORTED = 2 };
/* RSMI_POWER_TYPE */
#define AVERAGE_POWER 0u
#define CURRENT_POWER 1u
#define INVALID_POWER 0xFFFFFFFFu
static double started;

static double setting(uint32_t dv, const char* what, double fallback) {
  char key[64];
  snprintf(key, sizeof key, "gpu%u.%s", dv, what);
  return fake_num(ENV, key, fallback);
}
static int secondary(uint32_t dv) { return setting(dv, "secondary", 0) != 0; }
static int zero(uint32_t dv) { return setting(dv, "zero", 0) != 0; }
static uint64_t power_uw(uint32_t dv) { return zero(dv) ? 0 : (uint64_t)(setting(dv, "power_w", 100) * 1e6); }

int rsmi_init(uint64_t flags) {
  (void)flags;
  started = fake_now();
  fake_start_threads(1);
  return OK;
}
int rsmi_shut_down(void) { return OK; }
int rsmi_num_monitor_devices(uint32_t* n) {
  *n = (uint32_t)fake_num(ENV, "count", 0);
  return OK;
}
int rsmi_dev_energy_count_get(uint32_t dv, uint64_t* count, float* resolution, uint64_t* ts) {
  if (!setting(dv, "energy", 1)) return NOT_SUPPORTED;
  double res = setting(dv, "resolution", 15.3);
  *resolution = (float)res;
  *ts = (uint64_t)(fake_now() * 1e9);
  double fixed = setting(dv, "count", -1);
  if (secondary(dv) || zero(dv)) fixed = 0;
  if (fixed >= 0) {
    *count = (uint64_t)fixed;
    return OK;
  }
  double since = fake_stepped_since(started, setting(dv, "step_s", 0.1)), reset = setting(dv, "reset_after", -1);
  double frozen = setting(dv, "frozen_after", -1);
  if (frozen >= 0 && since > frozen) since = frozen;
  if (reset >= 0 && since >= reset) {
    *count = (uint64_t)(setting(dv, "power_w", 100) * (since - reset) * 1e6 / res);
    return OK;
  }
  double uj = setting(dv, "power_w", 100) * since * 1e6;
  *count = 1000 + (uint64_t)(uj * setting(dv, "energy_scale", 1) / res);
  return OK;
}
int rsmi_dev_power_ave_get(uint32_t dv, uint32_t sensor, uint64_t* uw) {
  (void)sensor;
  if (secondary(dv) || !setting(dv, "power", 1) || !setting(dv, "average", 1)) return NOT_SUPPORTED;
  *uw = power_uw(dv);
  return OK;
}
#ifndef FAKE_ROCM_5
int rsmi_dev_power_get(uint32_t dv, uint64_t* uw, uint32_t* type) {
  *uw = 0;
  *type = INVALID_POWER;
  if (secondary(dv) || !setting(dv, "power", 1)) return NOT_SUPPORTED;
  if (setting(dv, "current", 0)) {
    *type = CURRENT_POWER;
  } else if (setting(dv, "average", 1)) {
    *type = AVERAGE_POWER;
  } else {
    return NOT_SUPPORTED;
  }
  *uw = power_uw(dv);
  return OK;
}
#endif
