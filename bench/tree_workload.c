// Process trees for the benchmarks and the tree tests, as greenrun's command:
//   tree-workload sleepers N SECONDS     N children that sleep SECONDS, then exit
//   tree-workload burst N MS OUT         N children, 8 at a time, each busy for MS ms of
//                                        wall time; then the CPU seconds of this process
//                                        and every child it waited for (getrusage) to OUT
//   tree-workload daemon MS OUT PIDFILE  a double-forked grandchild, re-parented away from
//                                        this process, busy for MS ms of CPU; it writes its
//                                        CPU seconds to OUT and its pid to PIDFILE, then
//                                        sleeps until killed; this process exits once OUT exists

#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void busy_until(clockid_t clock, double seconds) {
  const double end = now_s(clock) + seconds;
  while (now_s(clock) < end) {
  }
}

static double tv_s(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

static void write_text(const char* path, const char* text) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE* f = fopen(tmp, "w");
  if (!f) exit(3);
  fputs(text, f);
  fclose(f);
  rename(tmp, path);  // readers see the whole file or none
}

static int sleepers(int n, double seconds) {
  for (int i = 0; i < n; ++i) {
    pid_t p = fork();
    if (p < 0) return 1;
    if (p == 0) {
      struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
      nanosleep(&ts, NULL);
      _exit(0);
    }
  }
  while (wait(NULL) > 0) {
  }
  return 0;
}

static int burst(int n, double ms, const char* out) {
  int running = 0;
  for (int i = 0; i < n; ++i) {
    if (running == 8) {
      wait(NULL);
      --running;
    }
    pid_t p = fork();
    if (p < 0) return 1;
    if (p == 0) {
      busy_until(CLOCK_MONOTONIC, ms / 1e3);
      _exit(0);
    }
    ++running;
  }
  while (wait(NULL) > 0) {
  }
  struct rusage self, kids;
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &kids);
  char text[64];
  snprintf(text, sizeof text, "%.6f\n",
           tv_s(self.ru_utime) + tv_s(self.ru_stime) + tv_s(kids.ru_utime) + tv_s(kids.ru_stime));
  write_text(out, text);
  return 0;
}

static int daemon_mode(double ms, const char* out, const char* pidfile) {
  pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    if (fork() != 0) _exit(0);  // the grandchild is orphaned here
    setsid();
    int null = open("/dev/null", O_RDWR);  // a daemon lets go of its caller's terminal and pipes
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    busy_until(CLOCK_PROCESS_CPUTIME_ID, ms / 1e3);
    char text[64];
    snprintf(text, sizeof text, "%d\n", (int)getpid());
    write_text(pidfile, text);
    snprintf(text, sizeof text, "%.6f\n", now_s(CLOCK_PROCESS_CPUTIME_ID));
    write_text(out, text);
    for (;;) pause();
  }
  waitpid(child, NULL, 0);
  while (access(out, F_OK) != 0) usleep(5000);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 4 && strcmp(argv[1], "sleepers") == 0) return sleepers(atoi(argv[2]), atof(argv[3]));
  if (argc == 5 && strcmp(argv[1], "burst") == 0) return burst(atoi(argv[2]), atof(argv[3]), argv[4]);
  if (argc == 5 && strcmp(argv[1], "daemon") == 0) return daemon_mode(atof(argv[2]), argv[3], argv[4]);
  fprintf(stderr, "usage: tree-workload sleepers N SECONDS | burst N MS OUT | daemon MS OUT PIDFILE\n");
  return 2;
}
