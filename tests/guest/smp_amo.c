/* SMP atomics: every hart (as many as the device tree lists, so one ELF
 * runs with any -smp) hammers shared words with amoadd.w, amoadd.d,
 * amoor.d and amomax.d, and draws a ticket with amoadd.w; hart 0 checks the
 * exact totals, that the tickets are a permutation of 0..n-1, and that
 * every hart's bit is set. */
#include "guest.h"

#define WORK 20000 /* total amoadd.w operations, split between the harts */

static barrier_t bar;
static volatile uint32_t counter32;
static volatile uint64_t counter64, maxv, ticket;
static volatile uint64_t bits[GUEST_MAX_HARTS / 64];
static volatile uint32_t seen[GUEST_MAX_HARTS];

static unsigned iterations(unsigned n) { return WORK / n + 16; }

int main(unsigned hartid) {
  unsigned n = guest_smp_init();
  barrier_wait(&bar, n);

  unsigned iters = iterations(n);
  for (unsigned i = 0; i < iters; i++) {
    __asm__ volatile("amoadd.w zero, %0, (%1)" ::"r"(1u), "r"(&counter32) : "memory");
    __asm__ volatile("amoadd.d zero, %0, (%1)" ::"r"((uint64_t)hartid + 1), "r"(&counter64)
                     : "memory");
  }
  __asm__ volatile("amoor.d zero, %0, (%1)" ::"r"(1ull << (hartid % 64)), "r"(&bits[hartid / 64])
                   : "memory");
  __asm__ volatile("amomax.d zero, %0, (%1)" ::"r"((uint64_t)hartid), "r"(&maxv) : "memory");
  uint64_t t;
  __asm__ volatile("amoadd.d %0, %1, (%2)" : "=r"(t) : "r"(1ull), "r"(&ticket) : "memory");
  if (t < GUEST_MAX_HARTS)
    __asm__ volatile("amoadd.w zero, %0, (%1)" ::"r"(1u), "r"(&seen[t]) : "memory");

  barrier_wait(&bar, n);
  if (hartid != 0) return 0;

  CHECK_EQ(counter32, (uint64_t)n * iters);
  CHECK_EQ(counter64, (uint64_t)iters * n * (n + 1) / 2);
  CHECK_EQ(maxv, n - 1);
  CHECK_EQ(ticket, n);
  for (unsigned h = 0; h < n; h++) {
    CHECK_EQ(seen[h], 1);
    CHECK((bits[h / 64] >> (h % 64)) & 1);
  }
  unsigned total = 0;
  for (unsigned w = 0; w < GUEST_MAX_HARTS / 64; w++) total += __builtin_popcountll(bits[w]);
  CHECK_EQ(total, n);
  print_lock();
  uart_puts("smp_amo: ");
  uart_putdec(n);
  uart_puts(" harts x ");
  uart_putdec(iters);
  uart_puts(" AMOs: counters exact\n");
  print_unlock();
  return 0;
}
CHECKS_END();
