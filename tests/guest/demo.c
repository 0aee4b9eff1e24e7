/* The demo guest that coremu runs when given no program: every hart says
 * hello over the UART (serialised by a spinlock), the harts add up
 * 1..N together (each a slice, combined with amoadd.d), and hart 0 prints
 * the result, checks it and exits through the test finisher. Works for any
 * number of harts: the count comes from the device tree. */
#include "guest.h"

#define N 1000000ull

static barrier_t bar;
static spinlock_t hello_lock;
static volatile uint64_t total;

int main(unsigned hartid) {
  unsigned n = guest_smp_init();

  spin_lock(&hello_lock);
  uart_puts("hello from hart ");
  uart_putdec(hartid);
  uart_puts(" of ");
  uart_putdec(n);
  uart_puts("\n");
  spin_unlock(&hello_lock);

  barrier_wait(&bar, n);
  uint64_t lo = 1 + N * hartid / n, hi = 1 + N * (hartid + 1) / n, sum = 0;
  for (uint64_t k = lo; k < hi; k++) sum += k;
  __asm__ volatile("amoadd.d zero, %0, (%1)" ::"r"(sum), "r"(&total) : "memory");
  barrier_wait(&bar, n);

  if (hartid != 0) return 0;
  spin_lock(&hello_lock);
  uart_puts("demo: ");
  uart_putdec(n);
  uart_puts(" harts computed 1 + 2 + ... + ");
  uart_putdec(N);
  uart_puts(" = ");
  uart_putdec(total);
  uart_puts(total == N * (N + 1) / 2 ? " (correct)\n" : " (WRONG)\n");
  spin_unlock(&hello_lock);
  CHECK_EQ(total, N * (N + 1) / 2);
  return 0;
}
CHECKS_END();
