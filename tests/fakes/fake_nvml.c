/* A fake libnvidia-ml.so.1 for greenrun's tests: the NVML calls greenrun
 * makes, with behaviour set by the file named in FAKE_NVML_CONFIG (see
 * fake_config.h): count, gpuN.name, gpuN.uuid, gpuN.power_w, gpuN.energy
 * (0: no energy counter), gpuN.power (0: no power reading), gpuN.util,
 * gpuN.procs (children, children+other, other, none), gpuN.sm_children,
 * gpuN.sm_other, gpuN.lost_after (seconds), gpuN.mig, init (return code),
 * gpuN.energy_mj (a fixed counter value instead of power x time). */

#include "fake_config.h"

typedef struct nvmlDevice_st* nvmlDevice_t;
typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_t;
typedef struct {
  unsigned int pid;
  unsigned long long timeStamp;
  unsigned int smUtil, memUtil, encUtil, decUtil;
} nvmlProcessUtilizationSample_t;
typedef struct {
  unsigned int gpu, memory;
} nvmlUtilization_t;

#define ENV "FAKE_NVML_CONFIG"
static double started;

static int index_of(nvmlDevice_t d) { return (int)(long)d - 1; }
static double setting(nvmlDevice_t d, const char* what, double fallback) {
  char key[64];
  snprintf(key, sizeof key, "gpu%d.%s", index_of(d), what);
  return fake_num(ENV, key, fallback);
}
static int lost(nvmlDevice_t d) {
  double after = setting(d, "lost_after", -1);
  return after >= 0 && fake_now() - started >= after;
}

int nvmlInit_v2(void) {
  started = fake_now();
  return (int)fake_num(ENV, "init", 0);
}
int nvmlShutdown(void) { return 0; }
const char* nvmlErrorString(int rc) {
  switch (rc) {
    case 3: return "Not Supported";
    case 9: return "Driver Not Loaded";
    case 15: return "GPU is lost";
    case 999: return "Unknown Error";
    default: return "Fake NVML error";
  }
}
int nvmlDeviceGetCount_v2(unsigned int* n) {
  *n = (unsigned int)fake_num(ENV, "count", 0);
  return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t* d) {
  *d = (nvmlDevice_t)(long)(i + 1);
  return 0;
}
int nvmlDeviceGetName(nvmlDevice_t d, char* buf, unsigned int size) {
  char key[64], v[96] = "NVIDIA Fake GPU";
  snprintf(key, sizeof key, "gpu%d.name", index_of(d));
  fake_get(ENV, key, v, sizeof v);
  snprintf(buf, size, "%s", v);
  return 0;
}
int nvmlDeviceGetUUID(nvmlDevice_t d, char* buf, unsigned int size) {
  char key[64], v[96];
  snprintf(key, sizeof key, "gpu%d.uuid", index_of(d));
  if (!fake_get(ENV, key, v, sizeof v)) snprintf(v, sizeof v, "GPU-fake-%d", index_of(d));
  snprintf(buf, size, "%s", v);
  return 0;
}
int nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long* mj) {
  if (lost(d)) return 15;
  if (!setting(d, "energy", 1)) return 3;
  double fixed = setting(d, "energy_mj", -1);
  if (fixed >= 0) {
    *mj = (unsigned long long)fixed;
    return 0;
  }
  /* Counts since "driver load": an offset, then power x time since init. */
  *mj = 987654321ULL + (unsigned long long)(setting(d, "power_w", 100) * (fake_now() - started) * 1000.0);
  return 0;
}
int nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int* mw) {
  if (lost(d)) return 15;
  if (!setting(d, "power", 1)) return 3;
  *mw = (unsigned int)(setting(d, "power_w", 100) * 1000.0);
  return 0;
}
int nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t* u) {
  if (lost(d)) return 15;
  u->gpu = (unsigned int)setting(d, "util", 0);
  u->memory = 0;
  return 0;
}
int nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned int* current, unsigned int* pending) {
  *current = *pending = (unsigned int)setting(d, "mig", 0);
  return 0;
}

static int fake_pids(nvmlDevice_t d, unsigned int* pids, int* children) {
  char key[64], v[64] = "none";
  snprintf(key, sizeof key, "gpu%d.procs", index_of(d));
  fake_get(ENV, key, v, sizeof v);
  int n = 0;
  if (strstr(v, "children")) n = fake_children(pids, 16);
  *children = n;
  if (strstr(v, "other")) pids[n++] = 1;
  return n;
}

int nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int* count, nvmlProcessInfo_t* infos) {
  if (lost(d)) return 15;
  unsigned int pids[32];
  int children;
  int n = fake_pids(d, pids, &children);
  if (!infos || *count < (unsigned int)n) {
    *count = (unsigned int)n;
    return n == 0 ? 0 : 7;
  }
  for (int i = 0; i < n; ++i) {
    infos[i].pid = pids[i];
    infos[i].usedGpuMemory = 1ULL << 30;
    infos[i].gpuInstanceId = infos[i].computeInstanceId = 0xFFFFFFFFu;
  }
  *count = (unsigned int)n;
  return 0;
}

int nvmlDeviceGetProcessUtilization(nvmlDevice_t d, nvmlProcessUtilizationSample_t* s, unsigned int* count,
                                    unsigned long long since) {
  (void)since;
  if (lost(d)) return 15;
  if (setting(d, "mig", 0)) return 3; /* not supported on MIG */
  unsigned int pids[32];
  int children;
  int n = fake_pids(d, pids, &children);
  if (n == 0) return 6; /* NOT_FOUND: no samples */
  if (!s || *count < (unsigned int)n) {
    *count = (unsigned int)n;
    return 7;
  }
  unsigned long long now = (unsigned long long)(fake_now() * 1e6);
  for (int i = 0; i < n; ++i) {
    s[i].pid = pids[i];
    s[i].timeStamp = now;
    s[i].smUtil = (unsigned int)(i < children ? setting(d, "sm_children", 50) / (children ? children : 1)
                                              : setting(d, "sm_other", 50));
    s[i].memUtil = s[i].encUtil = s[i].decUtil = 0;
  }
  *count = (unsigned int)n;
  return 0;
}
