/* Interrupts on one hart: the CLINT timer (mtimecmp) and software interrupt
 * (msip), WFI waking on a pending-and-enabled interrupt even with MIE = 0,
 * the fixed priority order MEI > MSI > MTI > SEI > SSI > STI (all but MEI,
 * which uart.c covers), vectored mtvec, M interrupts preempting S with MIE
 * = 0, delegated S interrupts through mideleg (SSIP written by S itself,
 * Sstc stimecmp when menvcfg.STCE is available), and the rule that a
 * delegated interrupt is never taken in M but always in U. */
#include "guest.h"

#define CSR_STIMECMP 0x14d
#define MENVCFG_STCE (1ull << 63)
#define TIMEOUT (TIMEBASE_HZ / 2) /* 0.5 s */

static volatile uint64_t order[16], norder;
static volatile uint64_t m_mpp, m_epc, m_exceptions;
static volatile uint64_t s_count, s_cause, s_spp;
static volatile int sstc; /* stimecmp drives STIP (menvcfg.STCE set) */
#define ECALL_CLEAR_STIP 1

static void set_mtimecmp(uint64_t v) { MMIO64(CLINT_MTIMECMP(0)) = v; }

int handle_m_trap(struct trap_frame *f) {
  if (!(f->cause & CAUSE_INTR)) {
    if (f->cause != CAUSE_ECALL_M && f->cause != CAUSE_ECALL_S) return 0;
    if (f->x[17] == ECALL_CLEAR_STIP) {
      csr_clear(mip, MIP_BIT(IRQ_STI));
      trap_skip(f);
      return 1;
    }
    m_exceptions++;
    trap_skip(f);
    return 1;
  }
  uint64_t irq = f->cause & 0xff;
  if (norder < 16) order[norder] = irq;
  norder++;
  m_mpp = (f->status & MSTATUS_MPP) >> 11;
  m_epc = f->epc;
  switch (irq) {
    case IRQ_MSI: MMIO32(CLINT_MSIP(0)) = 0; break;
    case IRQ_MTI: set_mtimecmp(~0ull); break;
    case IRQ_SSI: csr_clear(mip, MIP_BIT(IRQ_SSI)); break;
    case IRQ_STI: csr_clear(mip, MIP_BIT(IRQ_STI)); break;
    case IRQ_SEI: csr_clear(mip, MIP_BIT(IRQ_SEI)); break;
    default: return 0;
  }
  return 1;
}

int handle_s_trap(struct trap_frame *f) {
  if (!(f->cause & CAUSE_INTR)) return 0;
  if (norder < 16) order[norder] = f->cause & 0xff;
  norder++;
  s_count++;
  s_cause = f->cause;
  s_spp = (f->status & MSTATUS_SPP) != 0;
  switch (f->cause & 0xff) {
    case IRQ_SSI: csr_clear(sip, MIP_BIT(IRQ_SSI)); break;
    case IRQ_STI:
      if (csr_read(sip) & MIP_BIT(IRQ_STI)) {
        if (sstc) {
          csr_write(CSR_STIMECMP, ~0ull);
        } else { /* only M can clear mip.STIP: ask it */
          register uint64_t a7 __asm__("a7") = ECALL_CLEAR_STIP;
          __asm__ volatile("ecall" ::"r"(a7) : "memory");
        }
      }
      break;
    default: return 0;
  }
  return 1;
}

static void reset_order(void) {
  norder = 0;
  for (int i = 0; i < 16; i++) order[i] = 0;
}

/* Sleeps until an interrupt handler makes `*flag` non-zero (mstatus.MIE
   stays 0 but for the window after each wfi); 0 on timeout. */
static int wait_flag(volatile uint64_t *flag) {
  uint64_t start = mtime();
  while (!*flag) {
    if (mtime() - start > TIMEOUT) return 0;
    wait_for_interrupt_m();
  }
  return 1;
}

/* S-mode bodies */
static uint64_t s_wait_for_m_timer(uint64_t arg) {
  /* S cannot mask an M interrupt, so no wfi here (it could sleep after the
     interrupt was already taken): just spin. */
  uint64_t start = csr_read(time);
  while (norder == 0 && csr_read(time) - start < TIMEOUT) cpu_pause();
  return norder;
}
static uint64_t s_sstc_timer(uint64_t arg) {
  csr_set(sie, MIP_BIT(IRQ_STI));
  uint64_t start = csr_read(time);
  csr_write(CSR_STIMECMP, start + 1000);
  while (s_count == 0 && csr_read(time) - start < TIMEOUT) wait_for_interrupt_s();
  return s_count;
}
static uint64_t s_self_ssi(uint64_t arg) {
  csr_set(sie, MIP_BIT(IRQ_SSI));
  csr_set(sstatus, MSTATUS_SIE);
  csr_set(sip, MIP_BIT(IRQ_SSI)); /* taken right here */
  uint64_t n = s_count;
  csr_clear(sstatus, MSTATUS_SIE);
  return n;
}
static uint64_t s_ssi_masked(uint64_t arg) { /* SIE = 0 in S: not taken */
  for (volatile int i = 0; i < 100; i++) {
  }
  return s_count;
}
static uint64_t u_wait_5(uint64_t arg) {
  for (volatile int i = 0; i < 100000 && norder < 5; i++) {
  }
  return norder;
}
static uint64_t u_spin(uint64_t arg) { /* in U, S interrupts are always enabled */
  for (volatile int i = 0; i < 100; i++) {
  }
  return s_count;
}

int main(unsigned hartid) {
  if (hartid != 0) park();
  csr_write(mie, 0);
  csr_write(mideleg, 0);

  /* ---- mtimecmp drives mip.MTIP ---- */
  set_mtimecmp(~0ull);
  CHECK_EQ(csr_read(mip) & MIP_BIT(IRQ_MTI), 0);
  set_mtimecmp(0);
  CHECK(csr_read(mip) & MIP_BIT(IRQ_MTI));
  set_mtimecmp(~0ull);
  CHECK_EQ(csr_read(mip) & MIP_BIT(IRQ_MTI), 0);
  CHECK_EQ(MMIO64(CLINT_MTIMECMP(0)), ~0ull);
  {
    uint64_t t0 = mtime();
    delay_ticks(100);
    CHECK(mtime() > t0);
    uint64_t rt = csr_read(time);
    CHECK(rt >= t0 && rt - t0 < TIMEBASE_HZ);
  }

  /* ---- timer interrupt, taken from wfi ---- */
  reset_order();
  csr_write(mie, MIP_BIT(IRQ_MTI));
  {
    uint64_t deadline = mtime() + 1000;
    set_mtimecmp(deadline);
    CHECK(wait_flag(&norder));
    CHECK(mtime() >= deadline);
  }
  CHECK_EQ(norder, 1);
  CHECK_EQ(order[0], IRQ_MTI);
  CHECK_EQ(m_mpp, PRIV_M);
  CHECK_EQ(csr_read(mip) & MIP_BIT(IRQ_MTI), 0);

  /* ---- wfi wakes on pending & enabled even with MIE = 0; no trap ---- */
  reset_order();
  {
    uint64_t deadline = mtime() + 1000, start = mtime();
    set_mtimecmp(deadline);
    while (!(csr_read(mip) & MIP_BIT(IRQ_MTI)) && mtime() - start < TIMEOUT)
      __asm__ volatile("wfi");
    CHECK(csr_read(mip) & MIP_BIT(IRQ_MTI));
    CHECK_EQ(norder, 0);
    set_mtimecmp(~0ull);
  }

  /* ---- software interrupt: msip ---- */
  reset_order();
  csr_write(mie, MIP_BIT(IRQ_MSI));
  MMIO32(CLINT_MSIP(0)) = 1;
  CHECK(csr_read(mip) & MIP_BIT(IRQ_MSI));
  CHECK_EQ(MMIO32(CLINT_MSIP(0)), 1);
  csr_set(mstatus, MSTATUS_MIE); /* taken here */
  csr_clear(mstatus, MSTATUS_MIE);
  CHECK_EQ(norder, 1);
  CHECK_EQ(order[0], IRQ_MSI);
  CHECK_EQ(MMIO32(CLINT_MSIP(0)), 0);
  CHECK_EQ(csr_read(mip) & MIP_BIT(IRQ_MSI), 0);

  /* ---- priorities, all pending at once, taken in U-mode ----
     M-level (not delegated) MSI, MTI, SEI first, then the delegated S-level
     SSI, STI. The spec's full order is MEI > MSI > MTI > SEI > SSI > STI;
     QEMU 7.2 (without AIA) takes pending interrupts of one level lowest
     number first, so MEI vs MSI and SEI vs SSI within one level are not
     checked: the orders checked here hold for both. */
  reset_order();
  s_count = 0;
  csr_write(stvec, (uint64_t)(uintptr_t)s_trap_vector);
  csr_write(mideleg, MIP_BIT(IRQ_SSI) | MIP_BIT(IRQ_STI));
  csr_write(sie, MIP_BIT(IRQ_SSI) | MIP_BIT(IRQ_STI));
  MMIO32(CLINT_MSIP(0)) = 1;
  set_mtimecmp(0);
  csr_set(mip, MIP_BIT(IRQ_SEI) | MIP_BIT(IRQ_SSI) | MIP_BIT(IRQ_STI));
  csr_write(mie, MIP_BIT(IRQ_MSI) | MIP_BIT(IRQ_MTI) | MIP_BIT(IRQ_SEI) | MIP_BIT(IRQ_SSI) |
                     MIP_BIT(IRQ_STI));
  CHECK_EQ(csr_read(mip) & 0x2aa, 0x2aa);
  CHECK_EQ(guest_enter_mode(PRIV_U, u_wait_5, 0), 5);
  CHECK_EQ(order[0], IRQ_MSI);
  CHECK_EQ(order[1], IRQ_MTI);
  CHECK_EQ(order[2], IRQ_SEI);
  CHECK_EQ(order[3], IRQ_SSI);
  CHECK_EQ(order[4], IRQ_STI);
  CHECK_EQ(s_count, 2);
  CHECK_EQ(csr_read(mip) & 0x2aa, 0);
  csr_write(mideleg, 0);
  csr_write(sie, 0);
  csr_write(mie, 0);

  /* ---- vectored mtvec: interrupt n enters at base + 4n ---- */
  reset_order();
  csr_write(mtvec, (uint64_t)(uintptr_t)m_vector_table | 1);
  csr_write(mie, MIP_BIT(IRQ_MSI) | MIP_BIT(IRQ_MTI));
  guest_last_vector_slot[0] = 99;
  MMIO32(CLINT_MSIP(0)) = 1;
  csr_set(mstatus, MSTATUS_MIE);
  csr_clear(mstatus, MSTATUS_MIE);
  CHECK_EQ(norder, 1);
  CHECK_EQ(guest_last_vector_slot[0], IRQ_MSI);
  set_mtimecmp(0);
  csr_set(mstatus, MSTATUS_MIE);
  csr_clear(mstatus, MSTATUS_MIE);
  CHECK_EQ(norder, 2);
  CHECK_EQ(guest_last_vector_slot[0], IRQ_MTI);
  csr_write(mtvec, (uint64_t)(uintptr_t)m_trap_vector);

  /* ---- an M interrupt preempts S even with mstatus.MIE = 0 ---- */
  reset_order();
  csr_write(mie, MIP_BIT(IRQ_MTI));
  csr_write(mcounteren, 2); /* S may read time */
  set_mtimecmp(mtime() + 1000);
  CHECK_EQ(guest_enter_mode(PRIV_S, s_wait_for_m_timer, 0), 1);
  CHECK_EQ(order[0], IRQ_MTI);
  CHECK_EQ(m_mpp, PRIV_S);
  csr_write(mie, 0);

  /* ---- delegated supervisor software interrupt, raised by S itself ---- */
  csr_write(stvec, (uint64_t)(uintptr_t)s_trap_vector);
  csr_write(mideleg, MIP_BIT(IRQ_SSI) | MIP_BIT(IRQ_STI) | MIP_BIT(IRQ_SEI));
  CHECK_EQ(csr_read(mideleg) & MIP_BIT(IRQ_SSI), MIP_BIT(IRQ_SSI));
  s_count = 0;
  reset_order();
  CHECK_EQ(guest_enter_mode(PRIV_S, s_self_ssi, 0), 1);
  CHECK_EQ(s_cause, CAUSE_INTR | IRQ_SSI);
  CHECK_EQ(s_spp, 1);
  CHECK_EQ(norder, s_count); /* none taken in M */
  CHECK_EQ(csr_read(sip) & MIP_BIT(IRQ_SSI), 0);

  /* ---- a delegated interrupt is not taken in M, nor in S with SIE = 0, but is in U ---- */
  s_count = 0;
  reset_order();
  csr_write(sie, MIP_BIT(IRQ_SSI));
  csr_set(mip, MIP_BIT(IRQ_SSI));
  csr_set(mstatus, MSTATUS_MIE);
  for (volatile int i = 0; i < 100; i++) {
  }
  csr_clear(mstatus, MSTATUS_MIE);
  CHECK_EQ(norder, s_count); /* none taken in M */
  CHECK_EQ(s_count, 0);
  CHECK_EQ(guest_enter_mode(PRIV_S, s_ssi_masked, 0), 0);
  CHECK_EQ(guest_enter_mode(PRIV_U, u_spin, 0), 1);
  CHECK_EQ(s_cause, CAUSE_INTR | IRQ_SSI);
  CHECK_EQ(s_spp, 0);
  CHECK_EQ(norder, s_count); /* none taken in M */

  /* ---- Sstc: S-mode timer through stimecmp ---- */
  csr_write(menvcfg, MENVCFG_STCE);
  if (csr_read(menvcfg) & MENVCFG_STCE) {
    sstc = 1;
    csr_write(CSR_STIMECMP, 0);
    CHECK(csr_read(mip) & MIP_BIT(IRQ_STI)); /* stimecmp <= time: STIP */
    csr_write(CSR_STIMECMP, ~0ull);
    CHECK_EQ(csr_read(mip) & MIP_BIT(IRQ_STI), 0);
    s_count = 0;
    reset_order();
    csr_write(mcounteren, 2); /* TM: S may use time and stimecmp */
    CHECK_EQ(guest_enter_mode(PRIV_S, s_sstc_timer, 0), 1);
    CHECK_EQ(s_cause, CAUSE_INTR | IRQ_STI);
    CHECK_EQ(csr_read(mip) & MIP_BIT(IRQ_STI), 0);
    CHECK_EQ(norder, s_count); /* none taken in M */
    csr_write(menvcfg, 0);
    sstc = 0;
  } else {
    uart_puts("interrupts: no Sstc (menvcfg.STCE reads 0), stimecmp part skipped\n");
  }
  csr_write(mideleg, 0);
  csr_write(sie, 0);
  CHECK_EQ(m_exceptions, 0);
  return 0;
}
CHECKS_END();
