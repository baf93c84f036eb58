/* Shared by the fake vendor libraries: key=value settings re-read from the
 * file named by an environment variable at every call, so that a test can
 * change a fake GPU's behaviour while greenrun runs. */
#ifndef GREENRUN_FAKE_CONFIG_H
#define GREENRUN_FAKE_CONFIG_H

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int fake_get(const char* env, const char* key, char* out, size_t size) {
  const char* path = getenv(env);
  if (!path) return 0;
  FILE* f = fopen(path, "r");
  if (!f) return 0;
  char line[512];
  size_t klen = strlen(key);
  int found = 0;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
      char* v = line + klen + 1;
      v[strcspn(v, "\r\n")] = 0;
      snprintf(out, size, "%s", v);
      found = 1;
    }
  }
  fclose(f);
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

/* Direct children of the process that loaded the library (greenrun): the command. */
static __attribute__((unused)) int fake_children(unsigned int* pids, int max) {
  int n = 0;
  char self[32];
  snprintf(self, sizeof self, "%d", (int)getpid());
  DIR* d = opendir("/proc");
  if (!d) return 0;
  struct dirent* e;
  while ((e = readdir(d)) && n < max) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
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
