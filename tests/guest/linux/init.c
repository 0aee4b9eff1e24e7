// COREMU's Linux test init (PID 1 of the initramfs built by
// scripts/guest/build-linux.sh). Static, riscv64-linux-gnu glibc.
//
// It reports the online CPU count and the kernel command line, runs one
// pthread per online CPU (each pinned to its CPU with sched_setaffinity):
// every thread sums k*k over its share of [0, work) and adds the partial sum
// atomically into a shared total, and increments a mutex-protected counter
// `lock` times. It then checks the exact results and prints one line:
//
//   init: PASS cpus=N threads=N pinned=N sum=S expected=S counter=C expected=C ms=T
//   init: FAIL ...   (the same figures, and what was wrong)
//
// and powers the machine off: reboot(RB_POWER_OFF) after a PASS (the board
// exits with status 0); after a FAIL it writes the sifive_test finisher's
// FAIL code (0x3333 | 1 << 16) through /dev/mem, so coremu (and QEMU) exit
// with status 1.
//
// Kernel command-line words it understands (from /proc/cmdline):
//   work=N   the range summed (default 4000000)
//   lock=N   mutex increments per thread (default 200)
//   cpus=N   the expected online CPU count: a different count is a FAIL
//   race=N   the kernel race demo instead of the workload: every thread
//            writes N to /proc/coremu_race at once (tests/guest/linux/
//            coremu_race.c: N unsynchronised increments of a kernel
//            counter), then init prints
//              init: RACE cpus=N per_cpu=N counter=C expected=E lost=L
//            and powers off with status 0 if no update was lost, or with
//            the FAIL code (status 1) if the race struck.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <time.h>
#include <unistd.h>

#define TEST_BASE 0x100000UL  // the sifive_test finisher on the virt board

static char cmdline[4096];
static uint64_t work = 4000000, lock_iters = 200;
static long want_cpus = -1;
static uint64_t race_n;  // race=N: 0 = no race demo
static pthread_barrier_t race_start;

static _Atomic uint64_t total;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t counter;  // under mu

struct task {
  pthread_t tid;
  int cpu;          // pinned to this CPU
  int pinned_ok;    // sched_setaffinity succeeded and sched_getcpu() agreed
  int race_ok;      // race=N: the write to /proc/coremu_race succeeded
  uint64_t lo, hi;  // sums k*k for k in [lo, hi)
};

static void say(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  fflush(stdout);
}

static void read_cmdline(void) {
  FILE* f = fopen("/proc/cmdline", "r");
  if (!f) return;
  if (!fgets(cmdline, sizeof cmdline, f)) cmdline[0] = 0;
  fclose(f);
  cmdline[strcspn(cmdline, "\n")] = 0;
  char copy[sizeof cmdline];
  strcpy(copy, cmdline);
  for (char* w = strtok(copy, " "); w; w = strtok(NULL, " ")) {
    if (!strncmp(w, "work=", 5)) work = strtoull(w + 5, NULL, 0);
    else if (!strncmp(w, "lock=", 5)) lock_iters = strtoull(w + 5, NULL, 0);
    else if (!strncmp(w, "cpus=", 5)) want_cpus = strtol(w + 5, NULL, 0);
    else if (!strncmp(w, "race=", 5)) race_n = strtoull(w + 5, NULL, 0);
  }
}

static void* worker(void* arg) {
  struct task* t = arg;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(t->cpu, &set);
  t->pinned_ok = sched_setaffinity(0, sizeof set, &set) == 0 && sched_getcpu() == t->cpu;
  if (race_n) {
    // Every CPU enters the kernel's racy loop at (nearly) the same time.
    char num[32];
    int len = snprintf(num, sizeof num, "%llu\n", (unsigned long long)race_n);
    int fd = open("/proc/coremu_race", O_WRONLY);
    pthread_barrier_wait(&race_start);
    t->race_ok = fd >= 0 && write(fd, num, (size_t)len) == len;
    if (fd >= 0) close(fd);
    return NULL;
  }
  uint64_t s = 0;
  for (uint64_t k = t->lo; k < t->hi; ++k) s += k * k;
  atomic_fetch_add_explicit(&total, s, memory_order_relaxed);
  for (uint64_t i = 0; i < lock_iters; ++i) {
    pthread_mutex_lock(&mu);
    ++counter;
    pthread_mutex_unlock(&mu);
  }
  return NULL;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// The kernel counter of /proc/coremu_race, or -1 if it cannot be read.
static long long race_counter(void) {
  FILE* f = fopen("/proc/coremu_race", "r");
  long long v = -1;
  if (f) {
    if (fscanf(f, "%lld", &v) != 1) v = -1;
    fclose(f);
  }
  return v;
}

static void power_off(int pass) {
  if (!pass) {
    // The finisher's FAIL code: the emulator exits with status 1.
    int fd = open("/dev/mem", O_RDWR | O_SYNC);
    if (fd >= 0) {
      volatile uint32_t* p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, TEST_BASE);
      if (p != MAP_FAILED) *p = 0x3333 | (1u << 16);
    }
    say("init: could not reach the test finisher through /dev/mem; halting\n");
    reboot(RB_HALT_SYSTEM);
  } else {
    reboot(RB_POWER_OFF);
  }
  for (;;) pause();
}

int main(void) {
  double t0 = now_ms();
  mount("proc", "/proc", "proc", 0, NULL);
  mount("sysfs", "/sys", "sysfs", 0, NULL);
  read_cmdline();
  say("init: started (COREMU Linux test init)\n");
  say("init: cmdline: %s\n", cmdline);
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  say("init: %ld CPUs online\n", ncpu);
  if (ncpu < 1) ncpu = 1;

  struct task* tasks = calloc((size_t)ncpu, sizeof *tasks);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  int created = 0;
  long long race_before = 0;
  if (race_n) {
    say("init: race demo: every CPU adds %llu to /proc/coremu_race at once, without a lock\n",
        (unsigned long long)race_n);
    race_before = race_counter();
    pthread_barrier_init(&race_start, NULL, (unsigned)ncpu);
  }
  for (long i = 0; i < ncpu; ++i) {
    tasks[i].cpu = (int)i;
    tasks[i].lo = work * (uint64_t)i / (uint64_t)ncpu;
    tasks[i].hi = work * (uint64_t)(i + 1) / (uint64_t)ncpu;
    if (pthread_create(&tasks[i].tid, &attr, worker, &tasks[i]) != 0) break;
    ++created;
  }
  int pinned = 0;
  for (int i = 0; i < created; ++i) {
    pthread_join(tasks[i].tid, NULL);
    pinned += tasks[i].pinned_ok;
  }
  double t1 = now_ms();

  if (race_n) {
    long long after = race_counter();
    int ok = created == ncpu && pinned == ncpu && race_before >= 0 && after >= 0;
    for (int i = 0; i < created; ++i) ok = ok && tasks[i].race_ok;
    uint64_t expected = race_n * (uint64_t)ncpu, got = (uint64_t)(after - race_before);
    if (!ok) {
      say("init: FAIL race demo: cpus=%ld threads=%d pinned=%d counter=%lld: /proc/coremu_race did not work\n", ncpu,
          created, pinned, after);
      power_off(0);
    }
    say("init: RACE cpus=%ld per_cpu=%llu counter=%llu expected=%llu lost=%llu ms=%.0f\n", ncpu,
        (unsigned long long)race_n, (unsigned long long)got, (unsigned long long)expected,
        (unsigned long long)(expected - got), t1 - t0);
    say(got == expected ? "init: no update was lost this time\n" : "init: the race struck: updates were lost\n");
    say("init: powering off\n");
    power_off(got == expected);
  }

  // sum of k^2 for k in [0, work) = (work-1) work (2 work - 1) / 6, mod 2^64
  unsigned __int128 n = work;
  uint64_t expected = work ? (uint64_t)((n - 1) * n * (2 * n - 1) / 6) : 0;
  uint64_t sum = atomic_load(&total);
  uint64_t want_counter = lock_iters * (uint64_t)ncpu;
  int pass = created == ncpu && pinned == ncpu && sum == expected && counter == want_counter &&
             (want_cpus < 0 || want_cpus == ncpu);
  say("init: %s cpus=%ld threads=%d pinned=%d sum=%llu expected=%llu counter=%llu expected=%llu ms=%.0f%s\n",
      pass ? "PASS" : "FAIL", ncpu, created, pinned, (unsigned long long)sum, (unsigned long long)expected,
      (unsigned long long)counter, (unsigned long long)want_counter, t1 - t0,
      (want_cpus >= 0 && want_cpus != ncpu) ? " (not the cpus= of the command line)" : "");
  say("init: powering off\n");
  power_off(pass);
  return 0;
}
