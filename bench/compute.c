/* Benchmark guest: independent per-hart compute, total work fixed.
 *
 * The run does `total=<T>` iterations in all (kernel command line; default
 * below), split evenly: each of the n harts runs T / n iterations of the
 * same integer kernel (an xorshift generator feeding a small private table:
 * shifts, xors, a multiply, a load-add-store and a dependent load, 21
 * instructions per iteration, written in assembly so that the count is
 * exact). The harts meet at a barrier, and hart 0 checks that every hart got
 * the same checksum (same seed, same iteration count) and reports. With the
 * total fixed, perfect scaling on a 2-core host halves the time from 1 to 2
 * harts and stays flat beyond. */
#include "bench.h"

#define INSNS_PER_ITER 21
#define DEFAULT_TOTAL 48000000u

static barrier_t bar;
static uint64_t results[GUEST_MAX_HARTS] __attribute__((aligned(4096)));
static volatile uint64_t minstret_sum;

/* Page-aligned, away from code: QEMU slows down a lot when data shares a page
   with translated code (it treats the stores as self-modifying code). One
   512-byte table per hart: no two harts write the same cache line. */
static uint64_t tables[GUEST_MAX_HARTS][64] __attribute__((aligned(4096)));

static uint64_t kernel(uint64_t *table, uint64_t seed, uint64_t iters) {
  uint64_t x = seed | 1, acc = 0, i = 0, t0, t1, t2;
  if (iters == 0) return 0;
  __asm__ volatile(
      "1:\n\t"
      "slli %[t0], %[x], 13\n\t"
      "xor %[x], %[x], %[t0]\n\t"
      "srli %[t0], %[x], 7\n\t"
      "xor %[x], %[x], %[t0]\n\t"
      "slli %[t0], %[x], 17\n\t"
      "xor %[x], %[x], %[t0]\n\t"
      /* table[x & 63] += x * 3 + i */
      "andi %[t1], %[x], 63\n\t"
      "sh3add %[t1], %[t1], %[tab]\n\t"
      "ld %[t2], 0(%[t1])\n\t"
      "mul %[t0], %[x], %[three]\n\t"
      "add %[t0], %[t0], %[i]\n\t"
      "add %[t2], %[t2], %[t0]\n\t"
      "sd %[t2], 0(%[t1])\n\t"
      /* acc += table[(x + 1) & 63] >> 3 */
      "addi %[t1], %[x], 1\n\t"
      "andi %[t1], %[t1], 63\n\t"
      "sh3add %[t1], %[t1], %[tab]\n\t"
      "ld %[t1], 0(%[t1])\n\t"
      "srli %[t1], %[t1], 3\n\t"
      "add %[acc], %[acc], %[t1]\n\t"
      "addi %[i], %[i], 1\n\t"
      "bne %[i], %[n], 1b\n\t"
      : [x] "+r"(x), [acc] "+r"(acc), [i] "+r"(i), [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2)
      : [tab] "r"(table), [three] "r"(3ull), [n] "r"(iters)
      : "memory");
  return acc;
}

int main(unsigned hartid) {
  unsigned n = guest_smp_init();
  uint64_t iters = bench_arg("total", DEFAULT_TOTAL) / n;
  if (iters == 0) iters = 1;
  barrier_wait(&bar, n);
  uint64_t t0 = mtime(), r0 = bench_minstret();
  results[hartid] = kernel(tables[hartid], 0x9e3779b97f4a7c15ull, iters);
  __atomic_fetch_add(&minstret_sum, bench_minstret() - r0, __ATOMIC_RELAXED);
  barrier_wait(&bar, n);
  if (hartid != 0) return 0;
  uint64_t ticks = mtime() - t0;
  for (unsigned h = 1; h < n; h++) CHECK_EQ(results[h], results[0]);
  bench_report(n * iters * INSNS_PER_ITER, n * iters, ticks, minstret_sum);
  return 0;
}
CHECKS_END();
