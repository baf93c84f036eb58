/* Shared by the fake vendor libraries: key=value settings re-read from the
 * file named by an environment variable at every call, so that a test can
 * change a fake GPU's behaviour while greenrun runs. */
#ifndef GREENRUN_FAKE_CONFIG_H
#define GREENRUN_FAKE_CONFIG_H

#include <dirent.h>
#include <sys/stat.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The settings file, re-read only when it changed (inode, size or mtime):
 * reading it at every call cost more CPU than the calls it configures, and
 * the sampler's CPU time is what some tests measure. */
static pthread_mutex_t fake_config_mu = PTHREAD_MUTEX_INITIALIZER;
static char fake_config_text[16384];
static struct stat fake_config_seen;
static int fake_config_loaded;

static void fake_config_refresh(const char* path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fake_config_text[0] = 0;
    fake_config_loaded = 0;
    return;
  }
  if (fake_config_loaded && st.st_ino == fake_config_seen.st_ino && st.st_size == fake_config_seen.st_size &&
      st.st_mtim.tv_sec == fake_config_seen.st_mtim.tv_sec && st.st_mtim.tv_nsec == fake_config_seen.st_mtim.tv_nsec)
    return;
  FILE* f = fopen(path, "r");
  size_t n = f ? fread(fake_config_text, 1, sizeof fake_config_text - 1, f) : 0;
  if (f) fclose(f);
  fake_config_text[n] = 0;
  fake_config_seen = st;
  fake_config_loaded = 1;
}

static int fake_get(const char* env, const char* key, char* out, size_t size) {
  const char* path = getenv(env);
  if (!path) return 0;
  size_t klen = strlen(key);
  int found = 0;
  pthread_mutex_lock(&fake_config_mu);
  fake_config_refresh(path);
  for (const char* line = fake_config_text; *line;) {
    const char* end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == '=') {
      size_t vlen = len - klen - 1;
      if (vlen > 0 && line[klen + 1 + vlen - 1] == '\r') --vlen;
      snprintf(out, size, "%.*s", (int)vlen, line + klen + 1);
      found = 1;
    }
    line += len + (end ? 1 : 0);
  }
  pthread_mutex_unlock(&fake_config_mu);
  return found;
}

static double fake_num(const char* env, const char* key, double fallback) {
  char v[128];
  return fake_get(env, key, v, sizeof v) ? atof(v) : fallback;
}

static double fake_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Spends `ms` milliseconds of this thread's CPU time: what a real library's
 * expensive call (NVML's process queries) costs its caller. */
static __attribute__((unused)) void fake_burn_ms(double ms) {
  if (ms <= 0) return;
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  const double until = ts.tv_sec + ts.tv_nsec / 1e9 + ms / 1000.0;
  volatile unsigned long spin = 0;
  do {
    for (int i = 0; i < 1000; ++i) spin = spin + 1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  } while (ts.tv_sec + ts.tv_nsec / 1e9 < until);
}

/* Call counting: every call of a fake's exported function is counted by
 * name, and the counts are written as "name count" lines to the file named by
 * the environment variable `env` (FAKE_NVML_CALLS) when the library is shut
 * down and when the process exits, for tests that bound how often greenrun
 * calls a library. */
#define FAKE_MAX_CALLS 64
static const char* fake_call_names[FAKE_MAX_CALLS];
static unsigned long fake_call_counts[FAKE_MAX_CALLS];
static pthread_mutex_t fake_calls_mu = PTHREAD_MUTEX_INITIALIZER;

static __attribute__((unused)) void fake_count(const char* name) {
  pthread_mutex_lock(&fake_calls_mu);
  for (int i = 0; i < FAKE_MAX_CALLS; ++i) {
    if (!fake_call_names[i]) fake_call_names[i] = name;
    if (fake_call_names[i] == name || strcmp(fake_call_names[i], name) == 0) {
      ++fake_call_counts[i];
      break;
    }
  }
  pthread_mutex_unlock(&fake_calls_mu);
}

static __attribute__((unused)) void fake_write_counts(const char* env) {
  const char* path = getenv(env);
  if (!path) return;
  pthread_mutex_lock(&fake_calls_mu);
  FILE* f = fopen(path, "w");
  if (f) {
    for (int i = 0; i < FAKE_MAX_CALLS && fake_call_names[i]; ++i) fprintf(f, "%s %lu\n", fake_call_names[i], fake_call_counts[i]);
    fclose(f);
  }
  pthread_mutex_unlock(&fake_calls_mu);
}

/* A counter that moves in steps, as NVML's total-energy counter does (about
 * every 100 ms on an H100 or H200): the time since `started` rounded down to
 * whole steps of the monotonic clock, so that the steps keep their own phase
 * whatever the reader's ticks. step_s <= 0: a smooth counter. */
static __attribute__((unused)) double fake_stepped_since(double started, double step_s) {
  const double now = fake_now();
  if (step_s <= 0) return now - started;
  const double since = (double)(long long)(now / step_s) * step_s - (double)(long long)(started / step_s) * step_s;
  return since > 0 ? since : 0;
}

/* Like the real libraries (NVML starts threads in nvmlInit, ROCm SMI in
 * rsmi_init), the fakes leave threads of their own behind at init: threads
 * that unblock every signal, so that a process-directed signal (SIGCHLD,
 * SIGTERM) may be delivered to them rather than to a thread that blocked it.
 * FAKE_THREADS=0 in the environment turns them off. The libraries are linked
 * with -z nodelete so that dlclose cannot unmap code these threads run. */
static void* fake_thread_main(void* unused) {
  (void)unused;
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, NULL);
  for (;;) pause();
  return NULL;
}
static __attribute__((unused)) void fake_start_threads(int n) {
  const char* off = getenv("FAKE_THREADS");
  if (off && strcmp(off, "0") == 0) return;
  for (int i = 0; i < n; ++i) {
    pthread_t t;
    if (pthread_create(&t, NULL, fake_thread_main, NULL) == 0) pthread_detach(t);
  }
}

/* Direct children of the process that loaded the library (greenrun): the
 * command. Only pids above greenrun's are read, unless pids wrapped since it
 * started (the last pid given is below it): children are born after it, and
 * a scan of every /proc/PID/stat on a busy machine cost the fake more CPU
 * than the query's configured cost. */
static __attribute__((unused)) int fake_children(unsigned int* pids, int max) {
  int n = 0;
  char self[32];
  snprintf(self, sizeof self, "%d", (int)getpid());
  int above = (int)getpid();
  FILE* last = fopen("/proc/sys/kernel/ns_last_pid", "r");
  int last_pid = 0;
  if (!last || fscanf(last, "%d", &last_pid) != 1 || last_pid < above) above = 0;
  if (last) fclose(last);
  DIR* d = opendir("/proc");
  if (!d) return 0;
  struct dirent* e;
  while ((e = readdir(d)) && n < max) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9' || atoi(e->d_name) <= above) continue;
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    FILE* f = fopen(path, "r");
    if (!f) continue;
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = 0;
    char* close = strrchr(buf, ')');
    if (!close) continue;
    char state;
    int ppid;
    if (sscanf(close + 2, "%c %d", &state, &ppid) == 2 && ppid == (int)getpid() && state != 'Z')
      pids[n++] = (unsigned int)atoi(e->d_name);
  }
  closedir(d);
  return n;
}

#endif
