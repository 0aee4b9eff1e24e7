/* The NS16550A UART and the PLIC: polled output with LSR.THRE, the scratch,
 * line-control and divisor-latch registers, IIR, and the transmitter-empty
 * interrupt (IER.ETBEI) routed through PLIC source 10 to hart 0's M-mode
 * context (an MEI that is claimed and completed) and then to its S-mode
 * context (an SEI delegated through mideleg), with priority/threshold
 * masking and the PLIC pending bits. */
#include "guest.h"

#define UART_THR (UART_BASE + 0)
#define UART_IER (UART_BASE + 1)
#define UART_IIR (UART_BASE + 2)
#define UART_LCR (UART_BASE + 3)
#define UART_LSR (UART_BASE + 5)
#define UART_SCR (UART_BASE + 7)
#define UART_DLL (UART_BASE + 0)
#define UART_DLM (UART_BASE + 1)
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IER_ETBEI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02

#define PLIC_PRIORITY(src) (PLIC_BASE + 4UL * (src))
#define PLIC_PENDING (PLIC_BASE + 0x1000UL)
#define PLIC_ENABLE(ctx) (PLIC_BASE + 0x2000UL + 0x80UL * (ctx))
#define PLIC_THRESHOLD(ctx) (PLIC_BASE + 0x200000UL + 0x1000UL * (ctx))
#define PLIC_CLAIM(ctx) (PLIC_BASE + 0x200004UL + 0x1000UL * (ctx))
#define CTX_M 0 /* hart 0 M-mode */
#define CTX_S 1 /* hart 0 S-mode */
#define TIMEOUT (TIMEBASE_HZ / 2)

static volatile uint64_t m_count, m_cause, m_claim, m_iir;
static volatile uint64_t s_count, s_cause, s_claim, s_iir;

/* Claims, checks the UART's reason, silences it, completes. */
static void serve(unsigned ctx, volatile uint64_t *claim, volatile uint64_t *iir) {
  uint32_t id = MMIO32(PLIC_CLAIM(ctx));
  *claim = id;
  *iir = MMIO8(UART_IIR);
  MMIO8(UART_IER) = 0;
  MMIO32(PLIC_CLAIM(ctx)) = id;
}

int handle_m_trap(struct trap_frame *f) {
  if (f->cause != (CAUSE_INTR | IRQ_MEI)) return 0;
  m_count++;
  m_cause = f->cause;
  serve(CTX_M, &m_claim, &m_iir);
  return 1;
}

int handle_s_trap(struct trap_frame *f) {
  if (f->cause != (CAUSE_INTR | IRQ_SEI)) return 0;
  s_count++;
  s_cause = f->cause;
  serve(CTX_S, &s_claim, &s_iir);
  return 1;
}

/* Polls until (read() & mask) == want; 1 if it happened before the timeout. */
static int poll_mip(uint64_t mask, uint64_t want) {
  uint64_t start = mtime();
  while ((csr_read(mip) & mask) != want)
    if (mtime() - start > TIMEOUT) return 0;
  return 1;
}

static uint64_t s_wait_sei(uint64_t arg) {
  csr_set(sie, MIP_BIT(IRQ_SEI));
  MMIO8(UART_IER) = IER_ETBEI;
  uint64_t start = csr_read(time);
  while (s_count == 0 && csr_read(time) - start < TIMEOUT) wait_for_interrupt_s();
  return s_count;
}

int main(unsigned hartid) {
  if (hartid != 0) park();

  /* ---- polled output ---- */
  const char *msg = "uart: hello from the uart guest test\r\n";
  for (const char *p = msg; *p; p++) {
    uint64_t start = mtime();
    while (!(MMIO8(UART_LSR) & LSR_THRE)) CHECK(mtime() - start < TIMEOUT);
    MMIO8(UART_THR) = (uint8_t)*p;
  }
  {
    uint64_t start = mtime();
    while ((MMIO8(UART_LSR) & (LSR_THRE | LSR_TEMT)) != (LSR_THRE | LSR_TEMT))
      CHECK(mtime() - start < TIMEOUT);
  }

  /* ---- registers ---- */
  MMIO8(UART_SCR) = 0x5a;
  CHECK_EQ(MMIO8(UART_SCR), 0x5a);
  MMIO8(UART_SCR) = 0xa5;
  CHECK_EQ(MMIO8(UART_SCR), 0xa5);
  MMIO8(UART_LCR) = 0x03; /* 8N1 */
  CHECK_EQ(MMIO8(UART_LCR), 0x03);
  MMIO8(UART_LCR) = 0x83; /* DLAB: offsets 0 and 1 are the divisor latch */
  MMIO8(UART_DLL) = 0x0c;
  MMIO8(UART_DLM) = 0x00;
  CHECK_EQ(MMIO8(UART_DLL), 0x0c);
  CHECK_EQ(MMIO8(UART_DLM), 0x00);
  MMIO8(UART_LCR) = 0x03;
  CHECK_EQ(MMIO8(UART_LCR), 0x03);
  MMIO8(UART_IER) = 0;
  CHECK_EQ(MMIO8(UART_IER), 0);
  CHECK_EQ(MMIO8(UART_IIR) & 0x0f, IIR_NONE);

  /* ---- PLIC set-up: source 10 to hart 0's M context ---- */
  csr_write(mie, 0);
  MMIO32(PLIC_PRIORITY(UART_IRQ)) = 1;
  CHECK_EQ(MMIO32(PLIC_PRIORITY(UART_IRQ)), 1);
  MMIO32(PLIC_ENABLE(CTX_M)) = 1u << UART_IRQ;
  CHECK_EQ(MMIO32(PLIC_ENABLE(CTX_M)), 1u << UART_IRQ);
  MMIO32(PLIC_ENABLE(CTX_S)) = 0;
  MMIO32(PLIC_THRESHOLD(CTX_M)) = 0;
  CHECK_EQ(MMIO32(PLIC_THRESHOLD(CTX_M)), 0);
  CHECK_EQ(MMIO32(PLIC_CLAIM(CTX_M)), 0); /* nothing pending */
  CHECK_EQ(csr_read(mip) & MIP_BIT(IRQ_MEI), 0);

  /* ---- THR empty interrupt: pending in the UART, the PLIC and mip ---- */
  MMIO8(UART_IER) = IER_ETBEI;
  CHECK_EQ(MMIO8(UART_IER), IER_ETBEI);
  CHECK(poll_mip(MIP_BIT(IRQ_MEI), MIP_BIT(IRQ_MEI)));
  CHECK(MMIO32(PLIC_PENDING) & (1u << UART_IRQ));
  /* a threshold >= the priority masks it */
  MMIO32(PLIC_THRESHOLD(CTX_M)) = 1;
  CHECK(poll_mip(MIP_BIT(IRQ_MEI), 0));
  MMIO32(PLIC_THRESHOLD(CTX_M)) = 0;
  CHECK(poll_mip(MIP_BIT(IRQ_MEI), MIP_BIT(IRQ_MEI)));
  /* priority 0 never interrupts */
  MMIO32(PLIC_PRIORITY(UART_IRQ)) = 0;
  CHECK(poll_mip(MIP_BIT(IRQ_MEI), 0));
  MMIO32(PLIC_PRIORITY(UART_IRQ)) = 1;
  CHECK(poll_mip(MIP_BIT(IRQ_MEI), MIP_BIT(IRQ_MEI)));

  /* ---- take it as an MEI: claim, silence the UART, complete ---- */
  csr_write(mie, MIP_BIT(IRQ_MEI));
  {
    uint64_t start = mtime();
    while (m_count == 0 && mtime() - start < TIMEOUT) wait_for_interrupt_m();
  }
  CHECK_EQ(m_count, 1);
  CHECK_EQ(m_cause, CAUSE_INTR | IRQ_MEI);
  CHECK_EQ(m_claim, UART_IRQ);
  CHECK_EQ(m_iir & 0x0f, IIR_THRI);
  CHECK(poll_mip(MIP_BIT(IRQ_MEI), 0));
  CHECK_EQ(MMIO32(PLIC_PENDING) & (1u << UART_IRQ), 0);
  CHECK_EQ(MMIO32(PLIC_CLAIM(CTX_M)), 0);
  CHECK_EQ(MMIO8(UART_IIR) & 0x0f, IIR_NONE);
  csr_write(mie, 0);

  /* ---- the same source to the S context, delegated to S-mode ---- */
  MMIO32(PLIC_ENABLE(CTX_M)) = 0;
  MMIO32(PLIC_ENABLE(CTX_S)) = 1u << UART_IRQ;
  MMIO32(PLIC_THRESHOLD(CTX_S)) = 0;
  csr_write(mideleg, MIP_BIT(IRQ_SEI));
  csr_write(mie, MIP_BIT(IRQ_SEI));
  csr_write(stvec, (uint64_t)(uintptr_t)s_trap_vector);
  csr_write(mcounteren, 2);
  CHECK_EQ(guest_enter_mode(PRIV_S, s_wait_sei, 0), 1);
  CHECK_EQ(s_cause, CAUSE_INTR | IRQ_SEI);
  CHECK_EQ(s_claim, UART_IRQ);
  CHECK_EQ(s_iir & 0x0f, IIR_THRI);
  CHECK_EQ(m_count, 1);
  CHECK(poll_mip(MIP_BIT(IRQ_SEI), 0));
  csr_write(mie, 0);
  csr_write(mideleg, 0);
  MMIO32(PLIC_ENABLE(CTX_S)) = 0;
  return 0;
}
CHECKS_END();
