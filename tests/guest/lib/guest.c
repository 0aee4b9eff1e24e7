/* Runtime support for the guest test programs (see guest.h). */
#include "guest.h"

volatile uint64_t guest_fdt;
volatile uint32_t guest_harts_arrived;
volatile uint64_t guest_last_vector_slot[GUEST_MAX_HARTS];
uint64_t guest_mode_sp[GUEST_MAX_HARTS];
static spinlock_t print_spinlock;

void guest_mode_resume(void);

__attribute__((noreturn)) void guest_exit(unsigned code) {
  uint32_t v = code == 0 ? 0x5555u : ((code & 0xffffu) << 16) | 0x3333u;
  __asm__ volatile("fence rw, rw" ::: "memory");
  MMIO32(FINISHER_BASE) = v;
  park();
}

__attribute__((noreturn)) void park(void) {
  for (;;) __asm__ volatile("wfi" ::: "memory");
}

void uart_putc(char c) {
  /* Wait for THR empty (LSR bit 5), but never forever. */
  for (unsigned i = 0; i < 1000000 && !(MMIO8(UART_BASE + 5) & 0x20); i++) {
  }
  MMIO8(UART_BASE) = (uint8_t)c;
}

void uart_puts(const char *s) {
  while (*s) {
    if (*s == '\n') uart_putc('\r');
    uart_putc(*s++);
  }
}

void uart_puthex(uint64_t v) {
  uart_puts("0x");
  for (int i = 60; i >= 0; i -= 4) uart_putc("0123456789abcdef"[(v >> i) & 15]);
}

void uart_putdec(uint64_t v) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) uart_putc(buf[--n]);
}

void print_lock(void) {
  uint64_t start = mtime();
  unsigned spins = 0;
  while (mtime() - start < TIMEBASE_HZ) {
    if (__atomic_exchange_n(&print_spinlock.locked, 1, __ATOMIC_ACQUIRE) == 0) return;
    guest_relax(&spins);
  }
}

void print_unlock(void) { __atomic_store_n(&print_spinlock.locked, 0, __ATOMIC_RELEASE); }

static void fail_header(unsigned code, int line) {
  uart_puts("FAIL check ");
  uart_putdec(code);
  uart_puts(" (line ");
  uart_putdec((uint64_t)line);
  uart_puts("): ");
}

__attribute__((noreturn)) void check_failed(unsigned code, const char *expr, int line) {
  if (code == 0 || code > 240) code = 252;
  print_lock();
  fail_header(code, line);
  uart_puts(expr);
  uart_puts("\n");
  print_unlock();
  guest_exit(code);
}

__attribute__((noreturn)) void check_eq_failed(unsigned code, const char *expr, uint64_t got,
                                               uint64_t want, int line) {
  if (code == 0 || code > 240) code = 252;
  print_lock();
  fail_header(code, line);
  uart_puts(expr);
  uart_puts(": got ");
  uart_puthex(got);
  uart_puts(", want ");
  uart_puthex(want);
  uart_puts("\n");
  print_unlock();
  guest_exit(code);
}

void delay_ticks(uint64_t ticks) {
  uint64_t end = mtime() + ticks;
  while (mtime() < end) cpu_pause();
}

void guest_sleep_ticks(uint64_t ticks) {
  uint64_t h = csr_read(mhartid);
  uint64_t status = csr_read(mstatus) & MSTATUS_MIE;
  csr_clear(mstatus, MSTATUS_MIE);
  uint64_t old_mie = csr_read(mie);
  csr_set(mie, MIP_BIT(IRQ_MTI));
  uint64_t end = mtime() + ticks;
  MMIO64(CLINT_MTIMECMP(h)) = end;
  while (mtime() < end) __asm__ volatile("wfi" ::: "memory");
  MMIO64(CLINT_MTIMECMP(h)) = ~0ull;
  csr_write(mie, old_mie);
  csr_set(mstatus, status);
}

void wait_geq(volatile uint64_t *p, uint64_t v) {
  unsigned spins = 0;
  uint64_t since = 0;
  while (*p < v) {
    if (spins < 100) {
      spins++;
    } else if (since == 0 || mtime() - since < TIMEBASE_HZ / 3333) {
      if (since == 0) since = mtime();
      for (unsigned i = 0; i < 256 && *p < v; i++) cpu_pause();
    } else {
      guest_sleep_ticks(TIMEBASE_HZ / 50000);
    }
  }
}

void guest_relax(unsigned *spins) {
  if (*spins < 64) {
    ++*spins;
    cpu_pause();
  } else {
    guest_sleep_ticks(TIMEBASE_HZ / 20000); /* 50 us */
  }
}

void spin_lock(spinlock_t *l) {
  uint32_t old;
  unsigned spins = 0;
  for (;;) {
    __asm__ volatile("amoswap.w.aq %0, %1, (%2)" : "=r"(old) : "r"(1u), "r"(&l->locked) : "memory");
    if (old == 0) return;
    while (l->locked) guest_relax(&spins);
  }
}

void spin_unlock(spinlock_t *l) {
  __asm__ volatile("amoswap.w.rl zero, zero, (%0)" ::"r"(&l->locked) : "memory");
}

void barrier_wait(barrier_t *b, unsigned n) {
  uint32_t gen = __atomic_load_n(&b->generation, __ATOMIC_ACQUIRE);
  if (__atomic_fetch_add(&b->count, 1, __ATOMIC_ACQ_REL) == n - 1) {
    __atomic_store_n(&b->count, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&b->generation, gen + 1, __ATOMIC_RELEASE);
  } else {
    unsigned spins = 0;
    while (__atomic_load_n(&b->generation, __ATOMIC_ACQUIRE) == gen) guest_relax(&spins);
  }
}

/* Hart 0 decides the hart count and publishes it here; the others wait. */
static volatile uint32_t smp_harts;

static unsigned count_harts(void) {
  unsigned n = fdt_count_harts((const void *)(uintptr_t)guest_fdt);
  if (n == 0) {
    /* No device tree: count arrivals until they stop changing for 50 ms. */
    uint32_t seen = guest_harts_arrived;
    uint64_t since = mtime();
    while (mtime() - since < TIMEBASE_HZ / 20) {
      uint32_t now = guest_harts_arrived;
      if (now != seen) {
        seen = now;
        since = mtime();
      }
      cpu_pause();
    }
    n = seen;
  }
  return n > GUEST_MAX_HARTS ? GUEST_MAX_HARTS : n;
}

unsigned guest_smp_init(void) {
  unsigned me = (unsigned)csr_read(mhartid), n;
  unsigned spins = 0;
  if (me == 0) {
    n = count_harts();
    __atomic_store_n(&smp_harts, n, __ATOMIC_RELEASE);
  } else {
    while ((n = __atomic_load_n(&smp_harts, __ATOMIC_ACQUIRE)) == 0) guest_relax(&spins);
  }
  if (me >= n) park(); /* not counted: stay out of the way */
  uint64_t start = mtime();
  while (__atomic_load_n(&guest_harts_arrived, __ATOMIC_ACQUIRE) < n) {
    /* Generous: under sanitizers 64 host threads start slowly on 2 cores. */
    if (mtime() - start > 30 * TIMEBASE_HZ) {
      print_lock();
      uart_puts("FAIL: only ");
      uart_putdec(guest_harts_arrived);
      uart_puts(" of ");
      uart_putdec(n);
      uart_puts(" harts started\n");
      print_unlock();
      guest_exit(253);
    }
    guest_relax(&spins);
  }
  return n;
}

__attribute__((weak)) int handle_m_trap(struct trap_frame *f) {
  (void)f;
  return 0;
}

__attribute__((weak)) int handle_s_trap(struct trap_frame *f) {
  (void)f;
  return 0;
}

static __attribute__((noreturn)) void unexpected_trap(const char *mode, struct trap_frame *f,
                                                      unsigned code) {
  print_lock();
  uart_puts("FAIL: unexpected ");
  uart_puts(mode);
  uart_puts(" trap: cause ");
  uart_puthex(f->cause);
  uart_puts(" epc ");
  uart_puthex(f->epc);
  uart_puts(" tval ");
  uart_puthex(f->tval);
  uart_puts("\n");
  print_unlock();
  guest_exit(code);
}

void guest_m_trap(struct trap_frame *f) {
  uint64_t c = f->cause;
  if ((c == CAUSE_ECALL_U || c == CAUSE_ECALL_S || c == CAUSE_ECALL_M) &&
      f->x[17] == GUEST_ECALL_EXIT) {
    /* guest_enter_mode's function returned: go back to M-mode. */
    f->epc = (uint64_t)(uintptr_t)guest_mode_resume;
    f->status = (f->status & ~MSTATUS_MPP) | MSTATUS_MPP_M;
    return;
  }
  if (handle_m_trap(f)) return;
  unexpected_trap("M-mode", f, 255);
}

void guest_s_trap(struct trap_frame *f) {
  if (f->cause == CAUSE_ECALL_U && f->x[17] == GUEST_ECALL_EXIT) {
    /* A delegated exit ecall from U: pass it on to M-mode (never returns). */
    register uint64_t a0 __asm__("a0") = f->x[10];
    register uint64_t a7 __asm__("a7") = GUEST_ECALL_EXIT;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
    park();
  }
  if (handle_s_trap(f)) return;
  unexpected_trap("S-mode", f, 254);
}

__attribute__((noreturn)) void guest_start(unsigned hartid) {
  csr_write(mtvec, (uint64_t)(uintptr_t)m_trap_vector);
  int r = main(hartid);
  if (hartid == 0 || r != 0) guest_exit((unsigned)r);
  park();
}
