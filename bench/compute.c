/* Benchmark guest: independent per-hart compute. Every hart runs the same
 * integer kernel (an xorshift generator feeding a small private table, with
 * loads, stores, shifts, multiplies and branches) for ITERS iterations, then
 * the harts meet at a barrier and hart 0 checks each hart's checksum against
 * the single-hart value and exits through the finisher. The work per hart is
 * fixed, so with N harts the guest executes N times the instructions. */
#include "guest.h"

#ifndef ITERS
#define ITERS 20000000u
#endif

static barrier_t bar;
static uint64_t results[GUEST_MAX_HARTS] __attribute__((aligned(4096)));

/* Page-aligned, away from code: QEMU slows down a lot when data shares a page
   with translated code (it treats the stores as self-modifying code). */
static uint64_t tables[GUEST_MAX_HARTS][64] __attribute__((aligned(4096)));

static uint64_t kernel(uint64_t *table, uint64_t seed) {
  uint64_t x = seed | 1, acc = 0;
  for (unsigned i = 0; i < ITERS; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    unsigned k = (unsigned)(x & 63);
    table[k] += x * 3 + i;
    acc += table[(k + 1) & 63] >> 3;
  }
  return acc;
}

int main(unsigned hartid) {
  unsigned n = guest_smp_init();
  barrier_wait(&bar, n);
  results[hartid] = kernel(tables[hartid], 0x9e3779b97f4a7c15ull);
  barrier_wait(&bar, n);
  if (hartid != 0) return 0;
  for (unsigned h = 1; h < n; h++)
    if (results[h] != results[0]) guest_exit(1);
  guest_exit(0);
}
