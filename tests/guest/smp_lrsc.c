/* SMP LR/SC: a spinlock built from lr.w/sc.w protects a plain (non-atomic)
 * read-modify-write of a shared counter and an owner field that must not
 * change inside the critical section; a lock-free lr.d/sc.d retry loop
 * increments a second counter. n harts x m iterations must give exactly
 * n*m in both. The unlock is a plain store, which must break the other
 * harts' reservations. */
#include "guest.h"

#define WORK 4000 /* total critical sections, split between the harts */

static barrier_t bar;
static volatile uint32_t lock;
static volatile uint64_t counter, owner, lockfree, violations;

static void lr_sc_lock(volatile uint32_t *l) {
  unsigned spins = 0;
  for (;;) {
    uint32_t busy;
    /* busy = 0 only if the lock read 0 and the SC stored 1 */
    __asm__ volatile("lr.w.aq %0, (%1)\n\t"
                     "bnez %0, 1f\n\t"
                     "sc.w %0, %2, (%1)\n"
                     "1:"
                     : "=&r"(busy)
                     : "r"(l), "r"(1u)
                     : "memory");
    if (!busy) return;
    while (*l) guest_relax(&spins);
  }
}

static void unlock(volatile uint32_t *l) {
  __asm__ volatile("fence rw, w\n\tsw zero, 0(%0)" ::"r"(l) : "memory");
}

int main(unsigned hartid) {
  unsigned n = guest_smp_init();
  unsigned iters = WORK / n + 8;
  barrier_wait(&bar, n);

  for (unsigned i = 0; i < iters; i++) {
    lr_sc_lock(&lock);
    owner = hartid + 1;
    uint64_t c = counter; /* plain load ... */
    for (volatile int d = 0; d < 3; d++) {
    }
    counter = c + 1; /* ... and store: only correct under the lock */
    if (owner != hartid + 1) violations++;
    owner = 0;
    unlock(&lock);

    uint64_t v, fail;
    __asm__ volatile("1: lr.d %0, (%2)\n\t"
                     "addi %0, %0, 1\n\t"
                     "sc.d %1, %0, (%2)\n\t"
                     "bnez %1, 1b"
                     : "=&r"(v), "=&r"(fail)
                     : "r"(&lockfree)
                     : "memory");
  }

  barrier_wait(&bar, n);
  if (hartid != 0) return 0;
  CHECK_EQ(violations, 0);
  CHECK_EQ(counter, (uint64_t)n * iters);
  CHECK_EQ(lockfree, (uint64_t)n * iters);
  CHECK_EQ(lock, 0);
  print_lock();
  uart_puts("smp_lrsc: ");
  uart_putdec(n);
  uart_puts(" harts x ");
  uart_putdec(iters);
  uart_puts(" locked increments: exact\n");
  print_unlock();
  return 0;
}
CHECKS_END();
