/* Benchmark guest: one shared counter under contention, total work fixed.
 *
 * `total=<T>` AMOs in all (kernel command line; default below), split
 * evenly: each of the n harts does T / n `amoadd.d` of 1 to the same
 * doubleword, in a 3-instruction loop (amoadd, decrement, branch). Hart 0
 * checks that the counter holds exactly n * (T / n) and reports. Every AMO
 * hits the same cache line from every host thread. */
#include "bench.h"

#define INSNS_PER_ITER 3
#define DEFAULT_TOTAL 8000000u

static barrier_t bar;
static volatile uint64_t minstret_sum;
/* A line of its own, on a page of its own (away from code and the barrier). */
static volatile uint64_t counter __attribute__((aligned(4096)));

static void hammer(volatile uint64_t *c, uint64_t iters) {
  uint64_t old;
  __asm__ volatile(
      "1:\n\t"
      "amoadd.d %[old], %[one], (%[c])\n\t"
      "addi %[k], %[k], -1\n\t"
      "bnez %[k], 1b\n\t"
      : [old] "=&r"(old), [k] "+r"(iters)
      : [one] "r"(1ull), [c] "r"(c)
      : "memory");
}

int main(unsigned hartid) {
  unsigned n = guest_smp_init();
  uint64_t iters = bench_arg("total", DEFAULT_TOTAL) / n;
  if (iters == 0) iters = 1;
  barrier_wait(&bar, n);
  uint64_t t0 = mtime(), r0 = bench_minstret();
  hammer(&counter, iters);
  __atomic_fetch_add(&minstret_sum, bench_minstret() - r0, __ATOMIC_RELAXED);
  barrier_wait(&bar, n);
  if (hartid != 0) return 0;
  uint64_t ticks = mtime() - t0;
  CHECK_EQ(counter, n * iters);
  bench_report(n * iters * INSNS_PER_ITER, n * iters, ticks, minstret_sum);
  return 0;
}
CHECKS_END();
