/* A fake libnvidia-ml.so.1 for greenrun's tests: the NVML calls greenrun
 * makes, with behaviour set by the file named in FAKE_NVML_CONFIG (see
 * fake_config.h): count, init (return code), and per GPU N:
 *   gpuN.name, gpuN.uuid, gpuN.mig_uuid (a MIG device on it, found by
 *   nvmlDeviceGetHandleByUUID), gpuN.mig, gpuN.power_w, gpuN.energy (0: no
 *   energy counter), gpuN.energy_mj (a fixed counter value instead of power x
 *   time), gpuN.step_s (the counter moves in steps this long, 0.1 s by
 *   default as on an H100 or H200; 0: smoothly), gpuN.frozen_after (s: the
 *   counter stops there, as a hypervisor's may), gpuN.power (0: no power
 *   reading), gpuN.util, gpuN.lost_after (s), gpuN.compute_mode (0 default,
 *   2 prohibited, 3 exclusive-process);
 *   shared_counter=1: the energy counters count from the machine's boot
 *   (CLOCK_MONOTONIC's zero) rather than from this process's nvmlInit, so
 *   that every process loading the library (greenrun, a reader beside it,
 *   the fake nvidia-smi) reads the same counter, as on a real machine;
 *   processes: gpuN.procs (children, children+other, other, none),
 *   gpuN.others (how many other processes, default 1), gpuN.pids (more
 *   processes as pid:smUtil,pid:smUtil,...), gpuN.sm_children (split among
 *   the children), gpuN.sm_other (each other process), gpuN.fill_rc (what
 *   the second process-list call returns, e.g. 999);
 *   utilisation samples: gpuN.sample_us (the newest sample's timestamp;
 *   default the wall clock in steps of gpuN.sample_period_s, 0.5 s).
 *
 * The real library's process-utilisation call returns one sample per process
 * with non-zero utilisation, only samples newer than the timestamp given, and
 * NOT_FOUND when there is none; this one does the same.
 *
 * Every call is counted: FAKE_NVML_CALLS names a file that receives the
 * counts ("function count" lines) at nvmlShutdown and at exit.
 *
 * Built three times (tests/fakes/CMakeLists.txt), each exporting what one
 * driver branch exports (see nvitop PR #89 and #94):
 *   default            a current driver (>= 535.104.05): _v3 with the 24-byte
 *                      struct, nvmlDeviceGetRunningProcessDetailList
 *   FAKE_NVML_535_43   535.43.02 to 535.86.05: _v3 writes 32-byte entries
 *                      (usedGpuCcProtectedMemory), nvmlDeviceGetConfCompute-
 *                      MemSizeInfo exists, the detail list does not
 *   FAKE_NVML_R470     before _v3 (R455 to R495, R470 among them): _v2 only
 * All of them export the unversioned call, which writes 16-byte entries. */

#include <stddef.h>
#include <sys/time.h>

#include "fake_config.h"

typedef struct nvmlDevice_st* nvmlDevice_t;
typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t; /* 16 bytes */
typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_v2_t; /* 24 bytes */
typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId, computeInstanceId;
  unsigned long long usedGpuCcProtectedMemory;
} nvmlProcessInfo_535_t; /* 32 bytes: nvmlProcessInfo_t of the 535.43.02 header */
typedef struct {
  unsigned int pid;
  unsigned long long timeStamp;
  unsigned int smUtil, memUtil, encUtil, decUtil;
} nvmlProcessUtilizationSample_t;
typedef struct {
  unsigned int gpu, memory;
} nvmlUtilization_t;

#define ENV "FAKE_NVML_CONFIG"
#define MAX_PROCS 64
#define MIG_HANDLES 1000 /* MIG device handles are 1000 + GPU handle */
static double started;
#define COUNT() fake_count(__func__)

static int index_of(nvmlDevice_t d) { return (int)(long)d - 1; }
static double setting(nvmlDevice_t d, const char* what, double fallback) {
  char key[64];
  snprintf(key, sizeof key, "gpu%d.%s", index_of(d), what);
  return fake_num(ENV, key, fallback);
}
static int text_setting(int gpu, const char* what, char* out, size_t size) {
  char key[64];
  snprintf(key, sizeof key, "gpu%d.%s", gpu, what);
  return fake_get(ENV, key, out, size);
}
static int lost(nvmlDevice_t d) {
  double after = setting(d, "lost_after", -1);
  return after >= 0 && fake_now() - started >= after;
}

int nvmlInit_v2(void) {
  COUNT();
  started = fake_now();
  fake_start_threads(2);
  return (int)fake_num(ENV, "init", 0);
}
int nvmlShutdown(void) {
  COUNT();
  fake_write_counts("FAKE_NVML_CALLS");
  return 0;
}
static __attribute__((destructor)) void write_counts_at_exit(void) { fake_write_counts("FAKE_NVML_CALLS"); }
const char* nvmlErrorString(int rc) {
  COUNT();
  switch (rc) {
    case 3: return "Not Supported";
    case 6: return "Not Found";
    case 9: return "Driver Not Loaded";
    case 15: return "GPU is lost";
    case 999: return "Unknown Error";
    default: return "Fake NVML error";
  }
}
int nvmlDeviceGetCount_v2(unsigned int* n) {
  COUNT();
  *n = (unsigned int)fake_num(ENV, "count", 0);
  return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t* d) {
  COUNT();
  *d = (nvmlDevice_t)(long)(i + 1);
  return 0;
}
static void uuid_of(int gpu, char* out, size_t size) {
  if (!text_setting(gpu, "uuid", out, size)) snprintf(out, size, "GPU-fake-%d", gpu);
}
int nvmlDeviceGetName(nvmlDevice_t d, char* buf, unsigned int size) {
  COUNT();
  char v[96] = "NVIDIA Fake GPU";
  text_setting(index_of(d), "name", v, sizeof v);
  snprintf(buf, size, "%s", v);
  return 0;
}
int nvmlDeviceGetUUID(nvmlDevice_t d, char* buf, unsigned int size) {
  COUNT();
  char v[96];
  uuid_of(index_of(d), v, sizeof v);
  snprintf(buf, size, "%s", v);
  return 0;
}
/* A GPU's UUID gives its handle, a MIG device's UUID (MIG-<uuid>) a MIG device handle. */
int nvmlDeviceGetHandleByUUID(const char* uuid, nvmlDevice_t* d) {
  COUNT();
  int n = (int)fake_num(ENV, "count", 0);
  for (int i = 0; i < n; ++i) {
    char v[96];
    uuid_of(i, v, sizeof v);
    if (strcmp(uuid, v) == 0) {
      *d = (nvmlDevice_t)(long)(i + 1);
      return 0;
    }
    if (text_setting(i, "mig_uuid", v, sizeof v) && strcmp(uuid, v) == 0) {
      *d = (nvmlDevice_t)(long)(MIG_HANDLES + i + 1);
      return 0;
    }
  }
  return 6; /* NOT_FOUND */
}
int nvmlDeviceGetDeviceHandleFromMigDeviceHandle(nvmlDevice_t mig, nvmlDevice_t* d) {
  COUNT();
  if ((long)mig <= MIG_HANDLES) return 2; /* INVALID_ARGUMENT: not a MIG device handle */
  *d = (nvmlDevice_t)((long)mig - MIG_HANDLES);
  return 0;
}
int nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long* mj) {
  COUNT();
  if (lost(d)) return 15;
  if (!setting(d, "energy", 1)) return 3;
  double fixed = setting(d, "energy_mj", -1);
  if (fixed >= 0) {
    *mj = (unsigned long long)fixed;
    return 0;
  }
  /* Counts since "driver load": an offset, then power x time since init, in
   * steps of gpuN.step_s, up to gpuN.frozen_after. */
  double since = fake_stepped_since(fake_num(ENV, "shared_counter", 0) ? 0.0 : started, setting(d, "step_s", 0.1));
  double frozen = setting(d, "frozen_after", -1);
  if (frozen >= 0 && since > frozen) since = frozen;
  *mj = 987654321ULL + (unsigned long long)(setting(d, "power_w", 100) * since * 1000.0);
  return 0;
}
int nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int* mw) {
  COUNT();
  if (lost(d)) return 15;
  if (!setting(d, "power", 1)) return 3;
  *mw = (unsigned int)(setting(d, "power_w", 100) * 1000.0);
  return 0;
}
int nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t* u) {
  COUNT();
  if (lost(d)) return 15;
  u->gpu = (unsigned int)setting(d, "util", 0);
  u->memory = 0;
  return 0;
}
int nvmlDeviceGetComputeMode(nvmlDevice_t d, int* mode) {
  COUNT();
  if (lost(d)) return 15;
  *mode = (int)setting(d, "compute_mode", 0);
  return 0;
}
int nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned int* current, unsigned int* pending) {
  COUNT();
  *current = *pending = (unsigned int)setting(d, "mig", 0);
  return 0;
}

typedef struct {
  unsigned int pid, sm;
} fake_proc;

/* The GPU's processes: the children of the process that loaded the library
 * (the command), then other processes (pids above any pid_max, so never the
 * command's), then gpuN.pids. */
static int fake_procs(nvmlDevice_t d, fake_proc* out) {
  char v[512] = "none";
  text_setting(index_of(d), "procs", v, sizeof v);
  unsigned int pids[MAX_PROCS];
  int n = 0;
  int children = strstr(v, "children") ? fake_children(pids, 16) : 0;
  for (; n < children; ++n) out[n] = (fake_proc){pids[n], (unsigned int)(setting(d, "sm_children", 50) / children)};
  int others = strstr(v, "other") ? (int)setting(d, "others", 1) : 0;
  for (int i = 0; i < others && n < MAX_PROCS; ++i) out[n++] = (fake_proc){4200000u + (unsigned int)i, (unsigned int)setting(d, "sm_other", 50)};
  if (text_setting(index_of(d), "pids", v, sizeof v))
    for (char* p = strtok(v, ","); p && n < MAX_PROCS; p = strtok(NULL, ",")) {
      unsigned int pid = 0, sm = 0;
      if (sscanf(p, "%u:%u", &pid, &sm) >= 1) out[n++] = (fake_proc){pid, sm};
    }
  return n;
}

/* The real calls' protocol: *count = 0 sizes (INSUFFICIENT_SIZE, or SUCCESS
 * when none run), then entries of `stride` bytes. The v1, v2 and 535 layouts
 * share their leading members, so one entry is written as the 32-byte one cut
 * to the stride. */
static int list_processes(nvmlDevice_t d, unsigned int* count, void* infos, size_t stride) {
  if (lost(d)) return 15;
  fake_burn_ms(setting(d, "procs_burn_ms", 0));
  fake_proc p[MAX_PROCS];
  int n = fake_procs(d, p);
  if (!infos || *count < (unsigned int)n) {
    *count = (unsigned int)n;
    return n == 0 ? 0 : 7;
  }
  int rc = (int)setting(d, "fill_rc", 0);
  if (rc) return rc;
  for (int i = 0; i < n; ++i) {
    nvmlProcessInfo_535_t e = {p[i].pid, 1ULL << 30, 0xFFFFFFFFu, 0xFFFFFFFFu, 0};
    memcpy((unsigned char*)infos + (size_t)i * stride, &e, stride);
  }
  *count = (unsigned int)n;
  return 0;
}

int nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t d, unsigned int* count, nvmlProcessInfo_v1_t* infos) {
  COUNT();
  return list_processes(d, count, infos, sizeof(nvmlProcessInfo_v1_t));
}
int nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t d, unsigned int* count, nvmlProcessInfo_v2_t* infos) {
  COUNT();
  return list_processes(d, count, infos, sizeof(nvmlProcessInfo_v2_t));
}
#if defined(FAKE_NVML_535_43)
int nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int* count, nvmlProcessInfo_535_t* infos) {
  COUNT();
  return list_processes(d, count, infos, sizeof(nvmlProcessInfo_535_t));
}
#elif !defined(FAKE_NVML_R470)
int nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int* count, nvmlProcessInfo_v2_t* infos) {
  COUNT();
  return list_processes(d, count, infos, sizeof(nvmlProcessInfo_v2_t));
}
/* Exported as a current library exports it; greenrun only asks whether it exists. */
int nvmlDeviceGetRunningProcessDetailList(nvmlDevice_t d, void* plist) {
  COUNT();
  (void)d;
  (void)plist;
  return 3;
}
#endif
#if !defined(FAKE_NVML_R470)
/* Exported from 535.43.02 on; greenrun only asks whether it exists. */
int nvmlDeviceGetConfComputeMemSizeInfo(nvmlDevice_t d, void* info) {
  COUNT();
  (void)d;
  (void)info;
  return 3;
}
#endif

static unsigned long long sample_us(nvmlDevice_t d) {
  double fixed = setting(d, "sample_us", -1);
  if (fixed >= 0) return (unsigned long long)fixed;
  struct timeval tv;
  gettimeofday(&tv, NULL);
  double period_us = setting(d, "sample_period_s", 0.5) * 1e6;
  double now_us = tv.tv_sec * 1e6 + tv.tv_usec;
  return (unsigned long long)((long long)(now_us / period_us) * period_us);
}

int nvmlDeviceGetProcessUtilization(nvmlDevice_t d, nvmlProcessUtilizationSample_t* s, unsigned int* count,
                                    unsigned long long since) {
  COUNT();
  if (lost(d)) return 15;
  if (setting(d, "mig", 0)) return 3; /* not supported on MIG */
  fake_proc p[MAX_PROCS];
  int n = fake_procs(d, p), busy = 0;
  unsigned long long ts = sample_us(d);
  for (int i = 0; i < n; ++i)
    if (p[i].sm > 0 && ts > since) p[busy++] = p[i];
  if (busy == 0) return 6; /* NOT_FOUND: no sample newer than `since` */
  if (!s || *count < (unsigned int)busy) {
    *count = (unsigned int)busy;
    return 7;
  }
  for (int i = 0; i < busy; ++i) s[i] = (nvmlProcessUtilizationSample_t){p[i].pid, ts, p[i].sm, 0, 0, 0};
  *count = (unsigned int)busy;
  return 0;
}
