/* SMP inter-processor interrupts through the CLINT's msip registers.
 * Part 1: a token goes round a ring (hart i -> hart (i+1) % n) for ROUNDS
 * rounds; each hart sleeps in WFI with MIE = 0 (WFI still wakes on a
 * pending, enabled MSI), checks the round number carried in shared memory,
 * clears its msip and passes the token on. Part 2: hart 0 sends an IPI to
 * every other hart at once; each takes it as a trap (opening MIE after each
 * wfi), clears msip in the handler and acknowledges with amoadd. */
#include "guest.h"

#define ROUNDS 8
#define TIMEOUT (2 * TIMEBASE_HZ)

static barrier_t bar;
static volatile uint64_t token_round;
static volatile uint32_t received[GUEST_MAX_HARTS];
static volatile uint32_t acks, bad_round;
static volatile uint32_t handled[GUEST_MAX_HARTS];

int handle_m_trap(struct trap_frame *f) {
  if (f->cause != (CAUSE_INTR | IRQ_MSI)) return 0;
  unsigned h = (unsigned)csr_read(mhartid);
  MMIO32(CLINT_MSIP(h)) = 0;
  handled[h]++;
  __atomic_fetch_add(&acks, 1, __ATOMIC_ACQ_REL);
  return 1;
}

static void send_ipi(unsigned h) {
  __asm__ volatile("fence rw, rw" ::: "memory");
  MMIO32(CLINT_MSIP(h)) = 1;
}

/* Sleeps until this hart's MSI is pending, then clears it. */
static int wait_ipi(unsigned me) {
  uint64_t start = mtime();
  while (!(csr_read(mip) & MIP_BIT(IRQ_MSI))) {
    if (mtime() - start > TIMEOUT) return 0;
    __asm__ volatile("wfi" ::: "memory");
  }
  MMIO32(CLINT_MSIP(me)) = 0;
  __asm__ volatile("fence rw, rw" ::: "memory");
  return 1;
}

int main(unsigned hartid) {
  unsigned n = guest_smp_init();
  csr_clear(mstatus, MSTATUS_MIE);
  MMIO32(CLINT_MSIP(hartid)) = 0;
  csr_write(mie, MIP_BIT(IRQ_MSI));
  barrier_wait(&bar, n);

  /* ---- part 1: the ring ---- */
  unsigned next = (hartid + 1) % n;
  for (unsigned r = 1; r <= ROUNDS; r++) {
    if (hartid == 0) {
      token_round = r;
      send_ipi(next);
      if (!wait_ipi(hartid)) {
        CHECK(!"hart 0: token did not come back");
      }
    } else {
      if (!wait_ipi(hartid)) {
        CHECK(!"token did not arrive");
      }
      if (token_round != r) bad_round++;
      send_ipi(next);
    }
    received[hartid]++;
  }
  barrier_wait(&bar, n);
  if (hartid == 0) {
    CHECK_EQ(bad_round, 0);
    for (unsigned h = 0; h < n; h++) CHECK_EQ(received[h], ROUNDS);
  }

  /* ---- part 2: broadcast, taken as interrupts ---- */
  barrier_wait(&bar, n);
  if (hartid == 0) {
    for (unsigned h = 1; h < n; h++) send_ipi(h);
    uint64_t start = mtime();
    unsigned spins = 0;
    while (__atomic_load_n(&acks, __ATOMIC_ACQUIRE) < n - 1) {
      CHECK(mtime() - start < TIMEOUT);
      guest_relax(&spins);
    }
  } else {
    uint64_t start = mtime();
    while (!handled[hartid]) {
      CHECK(mtime() - start < TIMEOUT);
      wait_for_interrupt_m(); /* the IPI is taken right after the wfi */
    }
  }
  barrier_wait(&bar, n);
  if (hartid != 0) return 0;
  CHECK_EQ(acks, n - 1);
  CHECK_EQ(handled[0], 0);
  for (unsigned h = 1; h < n; h++) CHECK_EQ(handled[h], 1);
  print_lock();
  uart_puts("smp_ipi: ");
  uart_putdec(n);
  uart_puts(" harts, ");
  uart_putdec(ROUNDS);
  uart_puts(" ring rounds and a broadcast\n");
  print_unlock();
  return 0;
}
CHECKS_END();
