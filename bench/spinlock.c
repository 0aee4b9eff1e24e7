/* Benchmark guest: a counter protected by a test-and-test-and-set spinlock,
 * total work fixed, meant to run with more harts than host cores.
 *
 * `total=<T>` lock acquisitions in all (kernel command line; default
 * below), split evenly over the n harts. Each acquisition: read the lock
 * word, `amoswap.w.aq` 1 into it, and on success increment the shared
 * counter with a plain load/add/store and release with `amoswap.w.rl`. A
 * hart that finds the lock taken spins on a plain load with the
 * Zihintpause `pause` hint in the loop, so that an emulator can give the
 * host CPU to the hart holding the lock. The successful path is 10
 * instructions per acquisition (counted in insns); the spinning is not
 * counted. Hart 0 checks the counter (any lost update means the lock did
 * not exclude) and reports. */
#include "bench.h"

#define INSNS_PER_ITER 10
#define DEFAULT_TOTAL 1000000u

static barrier_t bar;
static volatile uint64_t minstret_sum;

/* Lock and counter on lines of their own, on a page of their own. */
static struct {
  volatile uint32_t lock;
  uint8_t pad1[60];
  volatile uint64_t counter;
  uint8_t pad2[56];
} shared __attribute__((aligned(4096)));

static void locked_increments(uint64_t iters) {
  uint64_t t0, t1;
  __asm__ volatile(
      "1:\n\t"
      "lw %[t0], 0(%[lock])\n\t"
      "bnez %[t0], 3f\n\t"
      "amoswap.w.aq %[t0], %[one], (%[lock])\n\t"
      "bnez %[t0], 3f\n\t"
      "ld %[t1], 0(%[cnt])\n\t"
      "addi %[t1], %[t1], 1\n\t"
      "sd %[t1], 0(%[cnt])\n\t"
      "amoswap.w.rl zero, zero, (%[lock])\n\t"
      "addi %[k], %[k], -1\n\t"
      "bnez %[k], 1b\n\t"
      "j 4f\n"
      "3:\n\t" BENCH_PAUSE
      "lw %[t0], 0(%[lock])\n\t"
      "bnez %[t0], 3b\n\t"
      "j 1b\n"
      "4:\n\t"
      : [t0] "=&r"(t0), [t1] "=&r"(t1), [k] "+r"(iters)
      : [lock] "r"(&shared.lock), [cnt] "r"(&shared.counter), [one] "r"(1u)
      : "memory");
}

int main(unsigned hartid) {
  unsigned n = guest_smp_init();
  uint64_t iters = bench_arg("total", DEFAULT_TOTAL) / n;
  if (iters == 0) iters = 1;
  barrier_wait(&bar, n);
  uint64_t t0 = mtime(), r0 = bench_minstret();
  locked_increments(iters);
  __atomic_fetch_add(&minstret_sum, bench_minstret() - r0, __ATOMIC_RELAXED);
  barrier_wait(&bar, n);
  if (hartid != 0) return 0;
  uint64_t ticks = mtime() - t0;
  CHECK_EQ(shared.counter, n * iters);
  CHECK_EQ(shared.lock, 0);
  bench_report(n * iters * INSNS_PER_ITER, n * iters, ticks, minstret_sum);
  return 0;
}
CHECKS_END();
