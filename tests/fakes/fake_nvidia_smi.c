/* A fake nvidia-smi for tools/real-check's GPU path in the suite: the few
 * uses real-check makes of the real tool, answered from the fake NVML
 * library (fake_nvml.c, configured by FAKE_NVML_CONFIG), so that it reads the
 * same counter and power that greenrun reads through the same library.
 *
 *   nvidia-smi                       a short summary, exit 0
 *   nvidia-smi -L                    GPU 0: NAME (UUID: GPU-...)
 *   nvidia-smi --query-gpu=F,... --format=csv[,noheader][,nounits] [-i N] [-lms MS]
 *
 * Fields: timestamp ("YYYY/MM/DD HH:MM:SS.mmm", local time, as the real tool
 * prints it), index, uuid, name, driver_version, count, compute_mode,
 * power.draw (W), total_energy_consumption (mJ, the counter NVML reads). An
 * unknown field is refused as the real tool refuses it. With -lms the query
 * repeats every MS milliseconds until the tool is killed, a line flushed per
 * GPU per sample. The library is loaded from the path built in (FAKE_NVML_PATH). */

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

typedef void* dev_t_;
static struct {
  int (*init)(void);
  int (*count)(unsigned int*);
  int (*handle)(unsigned int, dev_t_*);
  int (*name)(dev_t_, char*, unsigned int);
  int (*uuid)(dev_t_, char*, unsigned int);
  int (*energy)(dev_t_, unsigned long long*);
  int (*power)(dev_t_, unsigned int*);
  int (*mode)(dev_t_, int*);
} nvml;

static int load(void) {
  void* lib = dlopen(FAKE_NVML_PATH, RTLD_NOW);
  if (!lib) return 0;
  *(void**)&nvml.init = dlsym(lib, "nvmlInit_v2");
  *(void**)&nvml.count = dlsym(lib, "nvmlDeviceGetCount_v2");
  *(void**)&nvml.handle = dlsym(lib, "nvmlDeviceGetHandleByIndex_v2");
  *(void**)&nvml.name = dlsym(lib, "nvmlDeviceGetName");
  *(void**)&nvml.uuid = dlsym(lib, "nvmlDeviceGetUUID");
  *(void**)&nvml.energy = dlsym(lib, "nvmlDeviceGetTotalEnergyConsumption");
  *(void**)&nvml.power = dlsym(lib, "nvmlDeviceGetPowerUsage");
  *(void**)&nvml.mode = dlsym(lib, "nvmlDeviceGetComputeMode");
  return nvml.init && nvml.count && nvml.handle && nvml.name && nvml.uuid && nvml.energy && nvml.power && nvml.mode &&
         nvml.init() == 0;
}

static const char* kFields[] = {"timestamp", "index", "uuid", "name", "driver_version", "count",
                                "compute_mode", "power.draw", "total_energy_consumption"};
static const char* kUnits[] = {"", "", "", "", "", "", "", " [W]", " [mJ]"};

static int field_id(const char* f) {
  for (size_t i = 0; i < sizeof kFields / sizeof kFields[0]; ++i)
    if (strcmp(f, kFields[i]) == 0) return (int)i;
  return -1;
}

static void timestamp(char* out, size_t size) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm tm;
  localtime_r(&tv.tv_sec, &tm);
  char date[32];
  strftime(date, sizeof date, "%Y/%m/%d %H:%M:%S", &tm);
  snprintf(out, size, "%s.%03ld", date, (long)(tv.tv_usec / 1000));
}

static void value(int field, unsigned int gpu, int units, char* out, size_t size) {
  dev_t_ d = NULL;
  nvml.handle(gpu, &d);
  unsigned int n = 0, mw = 0;
  unsigned long long mj = 0;
  int mode = 0;
  char text[96] = "";
  switch (field) {
    case 0: timestamp(out, size); return;
    case 1: snprintf(out, size, "%u", gpu); return;
    case 2: nvml.uuid(d, text, sizeof text); break;
    case 3: nvml.name(d, text, sizeof text); break;
    case 4: snprintf(text, sizeof text, "999.99.99 (fake)"); break;
    case 5: nvml.count(&n); snprintf(text, sizeof text, "%u", n); break;
    case 6:
      nvml.mode(d, &mode);
      snprintf(text, sizeof text, "%s", mode == 3 ? "Exclusive_Process" : mode == 2 ? "Prohibited" : "Default");
      break;
    case 7:
      if (nvml.power(d, &mw) != 0) snprintf(text, sizeof text, "[N/A]");
      else snprintf(text, sizeof text, "%.2f%s", mw / 1000.0, units ? " W" : "");
      break;
    case 8:
      if (nvml.energy(d, &mj) != 0) snprintf(text, sizeof text, "[N/A]");
      else snprintf(text, sizeof text, "%llu%s", mj, units ? " mJ" : "");
      break;
  }
  snprintf(out, size, "%s", text);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int query(char* fields, const char* format, long only, long every_ms) {
  int ids[16], n = 0;
  for (char* f = strtok(fields, ","); f && n < 16; f = strtok(NULL, ",")) {
    while (*f == ' ') ++f;
    if ((ids[n++] = field_id(f)) < 0) {
      printf("Field \"%s\" is not a valid field to query.\n\n", f);
      return 2;
    }
  }
  const int header = !strstr(format, "noheader"), units = !strstr(format, "nounits");
  unsigned int count = 0;
  nvml.count(&count);
  if (header)
    for (int i = 0; i < n; ++i) printf("%s%s%s", kFields[ids[i]], units ? kUnits[ids[i]] : "", i + 1 < n ? ", " : "\n");
  do {
    for (unsigned int g = 0; g < count; ++g) {
      if (only >= 0 && (long)g != only) continue;
      for (int i = 0; i < n; ++i) {
        char v[128];
        value(ids[i], g, units, v, sizeof v);
        printf("%s%s", v, i + 1 < n ? ", " : "\n");
      }
    }
    fflush(stdout);
    if (every_ms > 0) sleep_ms(every_ms);
  } while (every_ms > 0);
  return 0;
}

int main(int argc, char** argv) {
  unsetenv("FAKE_NVML_CALLS");  /* the counts are greenrun's, never this tool's */
  if (!load()) {
    printf("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n");
    return 9;
  }
  char* fields = NULL;
  const char* format = "csv";
  long only = -1, every_ms = 0;
  int list = 0;
  for (int i = 1; i < argc; ++i) {
    if (strncmp(argv[i], "--query-gpu=", 12) == 0) fields = argv[i] + 12;
    else if (strncmp(argv[i], "--format=", 9) == 0) format = argv[i] + 9;
    else if (strcmp(argv[i], "-i") == 0 && i + 1 < argc) only = atol(argv[++i]);
    else if (strcmp(argv[i], "-lms") == 0 && i + 1 < argc) every_ms = atol(argv[++i]);
    else if (strcmp(argv[i], "-L") == 0) list = 1;
    else {
      fprintf(stderr, "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n");
      return 2;
    }
  }
  if (fields) return query(fields, format, only, every_ms);
  unsigned int count = 0;
  nvml.count(&count);
  for (unsigned int g = 0; g < count; ++g) {
    char name[128], uuid[128];
    value(3, g, 1, name, sizeof name);
    value(2, g, 1, uuid, sizeof uuid);
    if (list) printf("GPU %u: %s (UUID: %s)\n", g, name, uuid);
    else printf("| %u  %s  %s |\n", g, name, uuid);
  }
  return 0;
}
