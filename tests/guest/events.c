/* The guest of the REPL event-breakpoint tests (tests/repl/events_*.repl):
 * phases with known concurrency bugs and events, separated by barriers.
 * It passes (exit 0) whatever the races do, so a session can let it finish.
 *   1. racy_counter: every hart increments it ITERS times, no atomics.
 *   2. bad_lock: a broken spinlock (test, then set, no atomic, no fence)
 *      guarding locked_counter.
 *   3. mp_data/mp_flag: message passing from hart 0 to hart 1 with no
 *      fences (the consumer may see the flag before the data on RVWMO).
 *   4. amo_var: every hart amoadds to it; hart 1 (the last hart with
 *      fewer) runs an LR/SC pair that must fail (sc_fail_site).
 *   5. hart 0 sends hart 1 an IPI (msip); hart 1 takes it as an interrupt.
 *   6. hart 2 (the last hart with fewer) executes ecall in M-mode.
 * Phases 3 and 5 need two harts; with one they are skipped. */
#include "guest.h"

#define ITERS 50000

/* In .data: the runtime clears .bss on hart 0, which would be a write. */
__attribute__((section(".data"))) volatile uint64_t racy_counter;
__attribute__((section(".data"))) volatile uint32_t bad_lock;
__attribute__((section(".data"))) volatile uint64_t locked_counter;
__attribute__((section(".data"))) volatile uint64_t mp_data;
__attribute__((section(".data"))) volatile uint32_t mp_flag;
__attribute__((section(".data"))) volatile uint64_t amo_var;
__attribute__((section(".data"))) volatile uint32_t lrsc_a, lrsc_b;
__attribute__((section(".data"))) volatile uint32_t ipi_seen, ecall_seen;
static barrier_t bar;
static unsigned nharts;
/* Per phase, the harts that began its loop: a hart counts its iterations
   only from when every hart has begun, so the harts' loops surely overlap
   for that many iterations, even when the host runs the harts in turns. */
__attribute__((section(".data"))) volatile uint8_t began[2][GUEST_MAX_HARTS];

static int all_began(unsigned phase) {
  for (unsigned h = 0; h < nharts; h++)
    if (!began[phase][h]) return 0;
  return 1;
}

int handle_m_trap(struct trap_frame *f) {
  if (f->cause == (CAUSE_INTR | IRQ_MSI)) {
    MMIO32(CLINT_MSIP(csr_read(mhartid))) = 0;
    ipi_seen = 1;
    return 1;
  }
  if (f->cause == 11) { /* ecall from M-mode */
    ecall_seen = 1;
    trap_skip(f);
    return 1;
  }
  return 0;
}

__attribute__((noinline)) void count_racy(unsigned me) {
  began[0][me] = 1;
  int all = 0;
  for (int i = 0; i < ITERS; i++) {
    racy_counter = racy_counter + 1;
    if (!all && !(all = all_began(0))) i = 0;
  }
}

__attribute__((noinline)) void count_locked(unsigned me) {
  began[1][me] = 1;
  int all = 0;
  for (int i = 0; i < ITERS / 4; i++) {
    if (!all && !(all = all_began(1))) i = 0;
    while (bad_lock) {
    }
    bad_lock = 1; /* broken: another hart may have set it since the test */
    locked_counter = locked_counter + 1;
    bad_lock = 0;
  }
}

__attribute__((noinline)) void produce(void) {
  for (uint64_t i = 1; i <= 200; i++) {
    while (mp_flag) {
    }
    mp_data = i; /* no fence between the data and the flag */
    mp_flag = 1;
  }
}

__attribute__((noinline)) uint64_t consume(void) {
  uint64_t sum = 0;
  for (int i = 0; i < 200; i++) {
    while (!mp_flag) {
    }
    sum += mp_data; /* no fence between the flag and the data */
    mp_flag = 0;
  }
  return sum;
}

__attribute__((noinline)) void add_atomic(void) {
  for (int i = 0; i < 100; i++) __atomic_fetch_add(&amo_var, 1, __ATOMIC_RELAXED);
}

/* LR on one word, SC on another: the SC always fails. */
__attribute__((noinline)) uint64_t lrsc_fail(void) {
  uint64_t rc;
  uint32_t v;
  __asm__ volatile(
      "lr.w %1, (%2)\n"
      ".globl sc_fail_site\n"
      "sc_fail_site:\n"
      "sc.w %0, %1, (%3)\n"
      : "=&r"(rc), "=&r"(v)
      : "r"(&lrsc_a), "r"(&lrsc_b)
      : "memory");
  return rc;
}

__attribute__((noinline)) void send_ipi(unsigned to) { MMIO32(CLINT_MSIP(to)) = 1; }

__attribute__((noinline)) void do_ecall(void) { __asm__ volatile("ecall" ::: "memory"); }

int main(unsigned hartid) {
  unsigned n = guest_smp_init();
  nharts = n;
  unsigned h1 = n > 1 ? 1 : 0, h2 = n > 2 ? 2 : n - 1;
  barrier_wait(&bar, n);

  count_racy(hartid); /* phase 1 */
  barrier_wait(&bar, n);

  count_locked(hartid); /* phase 2 */
  barrier_wait(&bar, n);

  if (n > 1) { /* phase 3 */
    if (hartid == 0) produce();
    else if (hartid == 1) consume();
  }
  barrier_wait(&bar, n);

  add_atomic(); /* phase 4 */
  if (hartid == h1) CHECK_EQ(lrsc_fail(), 1);
  barrier_wait(&bar, n);

  if (n > 1) { /* phase 5 */
    if (hartid == 1) {
      csr_write(mie, MIP_BIT(IRQ_MSI));
      while (!ipi_seen) wait_for_interrupt_m();
      csr_write(mie, 0);
    } else if (hartid == 0) {
      send_ipi(1);
    }
  }
  barrier_wait(&bar, n);

  if (hartid == h2) { /* phase 6 */
    do_ecall();
    CHECK_EQ(ecall_seen, 1);
  }
  barrier_wait(&bar, n);
  if (hartid == 0) CHECK_EQ(amo_var, 100 * n);
  return 0;
}

CHECKS_END();
