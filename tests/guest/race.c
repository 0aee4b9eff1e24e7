/* A data race for record/replay and reverse debugging (tests/gdb/replay_*.gdb,
 * tests/repl/replay_*.repl): every hart increments `counter` RACE_ITERS times
 * with a plain load, add and store (no atomics, no lock), so increments are
 * lost whenever a hart's load and store straddle another hart's. The harts
 * then meet at an atomic barrier and hart 0 prints
 *   race: N harts x RACE_ITERS increments: counter=C lost=L
 * from race_report() (a breakpoint target) and passes (exit 0) whatever
 * the race did. Each hart's loop runs for tens of thousands of
 * instructions, longer than a deterministic quantum, so schedules that
 * preempt a hart between its load and its store lose updates. */
#include "guest.h"

#ifndef RACE_ITERS
#define RACE_ITERS 20000
#endif

/* In .data: the runtime clears .bss on hart 0, which would be a write. */
__attribute__((section(".data"))) volatile uint64_t counter;
static barrier_t bar;

__attribute__((noinline)) void racer(void) {
  for (int i = 0; i < RACE_ITERS; i++) counter = counter + 1; /* ld, addi, sd */
}

__attribute__((noinline)) void race_report(unsigned n, uint64_t value) {
  uint64_t expected = (uint64_t)n * RACE_ITERS;
  print_lock();
  uart_puts("race: ");
  uart_putdec(n);
  uart_puts(" harts x ");
  uart_putdec(RACE_ITERS);
  uart_puts(" increments: counter=");
  uart_putdec(value);
  uart_puts(" lost=");
  uart_putdec(expected - value);
  uart_puts("\n");
  print_unlock();
}

int main(unsigned hartid) {
  unsigned n = guest_smp_init();
  barrier_wait(&bar, n); /* start together */
  racer();
  barrier_wait(&bar, n); /* amoadd arrival: every hart's last store is done */
  if (hartid != 0) return 0;
  uint64_t value = counter;
  race_report(n, value);
  CHECK(value >= 1 && value <= (uint64_t)n * RACE_ITERS);
  return 0;
}

CHECKS_END();
