/* A data race for record/replay: every hart adds 1 to a shared counter
 * ROUNDS times with a plain load, add and store (no atomic, no lock), so
 * two harts interleaved between one's load and its store lose an update.
 * Hart 0 prints the counter and how many updates were lost, and exits 0
 * either way: whether the race strikes depends on the schedule (under
 * `coremu --deterministic --chaos SEED` on the seed), which is what the
 * record/replay tests check. `racy_add` is a function of its own so that
 * a debugger can break on it; `counter` is what they watch. */
#include "guest.h"

#define ROUNDS 2000

static barrier_t bar;
volatile uint64_t counter;

__attribute__((noinline)) void racy_add(void) {
  uint64_t v = counter; /* load */
  __asm__ volatile("" ::: "memory");
  counter = v + 1; /* store: an update another hart made in between is lost */
}

int main(unsigned hartid) {
  unsigned n = guest_smp_init();
  barrier_wait(&bar, n);
  for (unsigned i = 0; i < ROUNDS; i++) racy_add();
  barrier_wait(&bar, n);
  if (hartid != 0) return 0;
  uint64_t want = (uint64_t)n * ROUNDS;
  print_lock();
  uart_puts("race: counter ");
  uart_putdec(counter);
  uart_puts(" of ");
  uart_putdec(want);
  uart_puts(", lost ");
  uart_putdec(want - counter);
  uart_puts("\n");
  print_unlock();
  return 0;
}
CHECKS_END();
