/* Support for the COREMU guest test programs: no C library, M-mode start.
 *
 * A program defines `int main(unsigned hartid)`, which every hart calls
 * (single-hart tests park the other harts with `if (hartid) park();`).
 * Returning 0 from hart 0 passes the test; returning non-zero from any hart
 * fails it with that code. Checks: CHECK(cond) and CHECK_EQ(got, want) fail
 * the program with a code that is distinct per check site (1..240) and
 * print the line, the expression and the values on the UART.
 *
 * Codes the runtime itself uses: 251 trap before the runtime was up,
 * 252 a check code out of range, 253 harts missing at start,
 * 254 unexpected S-mode trap, 255 unexpected M-mode trap.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "guest_asm.h"

/* ---- the virt board ---- */
#define FINISHER_BASE 0x100000UL
#define CLINT_BASE 0x2000000UL
#define CLINT_MSIP(h) (CLINT_BASE + 4UL * (h))
#define CLINT_MTIMECMP(h) (CLINT_BASE + 0x4000UL + 8UL * (h))
#define CLINT_MTIME (CLINT_BASE + 0xbff8UL)
#define PLIC_BASE 0xc000000UL
#define UART_BASE 0x10000000UL
#define UART_IRQ 10
#define DRAM_BASE 0x80000000UL
#define TIMEBASE_HZ 10000000UL

#define MMIO8(a) (*(volatile uint8_t *)(uintptr_t)(a))
#define MMIO32(a) (*(volatile uint32_t *)(uintptr_t)(a))
#define MMIO64(a) (*(volatile uint64_t *)(uintptr_t)(a))

/* ---- CSRs: by name (mstatus) or number (0x14d, or a macro for one) ---- */
#define CSR_STR_(x) #x
#define CSR_STR(x) CSR_STR_(x)
#define csr_read(csr)                                                 \
  ({                                                                  \
    uint64_t _v;                                                      \
    __asm__ volatile("csrr %0, " CSR_STR(csr) : "=r"(_v)::"memory");  \
    _v;                                                               \
  })
#define csr_write(csr, v) \
  __asm__ volatile("csrw " CSR_STR(csr) ", %0" ::"r"((uint64_t)(v)) : "memory")
#define csr_set(csr, v) \
  __asm__ volatile("csrs " CSR_STR(csr) ", %0" ::"r"((uint64_t)(v)) : "memory")
#define csr_clear(csr, v) \
  __asm__ volatile("csrc " CSR_STR(csr) ", %0" ::"r"((uint64_t)(v)) : "memory")
#define csr_swap(csr, v)                                                                       \
  ({                                                                                           \
    uint64_t _o;                                                                               \
    __asm__ volatile("csrrw %0, " CSR_STR(csr) ", %1" : "=r"(_o) : "r"((uint64_t)(v)) : "memory"); \
    _o;                                                                                        \
  })

#define MSTATUS_SIE (1UL << 1)
#define MSTATUS_MIE (1UL << 3)
#define MSTATUS_SPIE (1UL << 5)
#define MSTATUS_MPIE (1UL << 7)
#define MSTATUS_SPP (1UL << 8)
#define MSTATUS_MPP (3UL << 11)
#define MSTATUS_MPP_S (1UL << 11)
#define MSTATUS_MPP_M (3UL << 11)
#define MSTATUS_FS (3UL << 13)
#define MSTATUS_FS_INITIAL (1UL << 13)
#define MSTATUS_MPRV (1UL << 17)
#define MSTATUS_SUM (1UL << 18)
#define MSTATUS_MXR (1UL << 19)
#define MSTATUS_TVM (1UL << 20)
#define MSTATUS_TW (1UL << 21)
#define MSTATUS_TSR (1UL << 22)
#define MSTATUS_SD (1UL << 63)

#define IRQ_SSI 1
#define IRQ_MSI 3
#define IRQ_STI 5
#define IRQ_MTI 7
#define IRQ_SEI 9
#define IRQ_MEI 11
#define MIP_BIT(irq) (1UL << (irq))
#define CAUSE_INTR (1UL << 63)

#define CAUSE_INSN_MISALIGNED 0
#define CAUSE_INSN_ACCESS 1
#define CAUSE_ILLEGAL 2
#define CAUSE_BREAKPOINT 3
#define CAUSE_LOAD_MISALIGNED 4
#define CAUSE_LOAD_ACCESS 5
#define CAUSE_STORE_MISALIGNED 6
#define CAUSE_STORE_ACCESS 7
#define CAUSE_ECALL_U 8
#define CAUSE_ECALL_S 9
#define CAUSE_ECALL_M 11
#define CAUSE_INSN_PAGE 12
#define CAUSE_LOAD_PAGE 13
#define CAUSE_STORE_PAGE 15

#define PRIV_U 0
#define PRIV_S 1
#define PRIV_M 3

/* ---- exit, output, checks ---- */
__attribute__((noreturn)) void guest_exit(unsigned code); /* 0 = pass */
__attribute__((noreturn)) void park(void);                /* wfi forever */
void uart_putc(char c);
void uart_puts(const char *s);
void uart_puthex(uint64_t v);
void uart_putdec(uint64_t v);
/* Serialises output between harts (bounded wait, so a dead hart holding it
   cannot hang a failure report). */
void print_lock(void);
void print_unlock(void);

__attribute__((noreturn)) void check_failed(unsigned code, const char *expr, int line);
__attribute__((noreturn)) void check_eq_failed(unsigned code, const char *expr, uint64_t got,
                                               uint64_t want, int line);

#define CHECK_CODE_S(code, cond, text)                 \
  do {                                                 \
    if (!(cond)) check_failed((code), text, __LINE__); \
  } while (0)
#define CHECK_EQ_CODE_S(code, got, want, text)                            \
  do {                                                                    \
    uint64_t _g = (uint64_t)(got), _w = (uint64_t)(want);                 \
    if (_g != _w) check_eq_failed((code), text, _g, _w, __LINE__);        \
  } while (0)
#define CHECK_CODE(code, cond) CHECK_CODE_S(code, cond, #cond)
#define CHECK_EQ_CODE(code, got, want) CHECK_EQ_CODE_S(code, got, want, #got " == " #want)
/* One distinct failure code per check site, numbered in source order. */
#define CHECK(cond) CHECK_CODE_S(__COUNTER__ + 1, cond, #cond)
#define CHECK_EQ(got, want) CHECK_EQ_CODE_S(__COUNTER__ + 1, got, want, #got " == " #want)
/* Put once at the end of a test file: the codes must fit in an exit status. */
#define CHECKS_END() _Static_assert(__COUNTER__ <= 240, "too many checks for distinct exit codes")

/* ---- traps ---- */
struct trap_frame {
  uint64_t x[32];
  uint64_t epc, cause, tval, status;  /* status: mstatus or sstatus */
};
/* Tests may define these; return non-zero if the trap was handled (the frame
   is written back, including epc and status). Unhandled traps fail the test. */
int handle_m_trap(struct trap_frame *f);
int handle_s_trap(struct trap_frame *f);
void m_trap_vector(void);
void s_trap_vector(void);
void m_vector_table(void);  /* 256-aligned; install with mtvec = addr | 1 */
extern volatile uint64_t guest_last_vector_slot[GUEST_MAX_HARTS];

/* Runs fn(arg) in mode (PRIV_U or PRIV_S) from M-mode and returns its result
   in M-mode. fn's code and stack must be accessible in that mode. */
uint64_t guest_enter_mode(unsigned mode, uint64_t (*fn)(uint64_t), uint64_t arg);

static inline unsigned insn_len_at(uint64_t pc) {
  return (*(volatile uint16_t *)(uintptr_t)pc & 3) == 3 ? 4 : 2;
}
/* Resumes after the instruction that trapped. */
static inline void trap_skip(struct trap_frame *f) { f->epc += insn_len_at(f->epc); }

/* Race-free waiting for an interrupt handler to set a flag: keep the
   global enable (mstatus.MIE, or sstatus.SIE in S-mode) off, and loop
     while (!flag) wait_for_interrupt_m();   (or _s)
   WFI wakes on a pending and enabled (mie/sie) interrupt even with the
   global enable off; the interrupt is then taken in the one-instruction
   window that follows. With the enable on, an interrupt taken between the
   check and the wfi would leave the hart asleep. */
static inline void wait_for_interrupt_m(void) {
  __asm__ volatile("wfi\n\tcsrsi mstatus, 8\n\tcsrci mstatus, 8" ::: "memory");
}
static inline void wait_for_interrupt_s(void) {
  __asm__ volatile("wfi\n\tcsrsi sstatus, 2\n\tcsrci sstatus, 2" ::: "memory");
}

/* ---- time ---- */
static inline uint64_t mtime(void) { return MMIO64(CLINT_MTIME); }
void delay_ticks(uint64_t ticks);

/* ---- SMP ---- */
extern volatile uint64_t guest_fdt;               /* a1 at entry (hart 0's) */
extern volatile uint32_t guest_harts_arrived;     /* harts that reached main */

static inline void cpu_pause(void) { __asm__ volatile(".4byte 0x0100000f" ::: "memory"); }
/* Sleeps in WFI until this hart's mtimecmp fires `ticks` from now, with
   MIE off meanwhile (interrupts that became pending are taken after).
   Uses and then disarms this hart's mtimecmp. */
void guest_sleep_ticks(uint64_t ticks);
/* Waits until *p >= v: a short tight spin (notices the partner soonest),
   then pause-spins for up to 300 us (coremu yields the host CPU on pause),
   then sleeps 20 us at a time in WFI so that, with more harts than host
   CPUs, the partner gets to run. Machine mode (it uses the CLINT timer). */
void wait_geq(volatile uint64_t *p, uint64_t v);
/* One step of a wait loop: pause for the first 64 calls, then sleep 50 us
   per call, so that waiting harts leave the host CPUs to the others. */
void guest_relax(unsigned *spins);

typedef struct {
  volatile uint32_t locked;
} spinlock_t;
void spin_lock(spinlock_t *l);   /* amoswap.w.aq, then waits with guest_relax() */
void spin_unlock(spinlock_t *l); /* amoswap.w.rl */

typedef struct {
  volatile uint32_t count;
  volatile uint32_t generation;
} barrier_t;
/* Barrier for n harts: arrival counted with amoadd.w, release by bumping
   the generation; waiters use guest_relax(). Reusable back to back. */
void barrier_wait(barrier_t *b, unsigned n);

/* Number of cpu@ nodes under /cpus in a flattened device tree, or 0 if fdt
   is not a valid device tree (fdt_harts.c). */
unsigned fdt_count_harts(const void *fdt);
/* The value of property `prop` of the top-level node `node` (e.g. "chosen",
   "bootargs"), its length in *len; NULL if absent or the tree is invalid. */
const uint8_t *fdt_top_prop(const void *fdt, const char *node, const char *prop, uint32_t *len);
/* The walker behind them: calls visit(ctx, depth, node, NULL, NULL, 0) at
   each node's start (the root at depth 1) and visit(ctx, depth, NULL, prop,
   value, len) for each property (depth: its node's). A non-zero return
   stops the walk. Returns 0 (walked, or stopped by visit) or -1 (not a
   valid tree: bounds, alignment, magic, tokens). */
typedef int (*fdt_visit_fn)(void *ctx, int depth, const char *node, const char *prop, const uint8_t *val,
                            uint32_t len);
int fdt_walk(const void *fdt, fdt_visit_fn visit, void *ctx);
/* Whether node name s is `want` (exactly, or followed by @unit-address),
   or with prefix_only just starts with it. */
int fdt_name_is(const char *s, const char *want, int prefix_only);
/* The number of harts in this run, the same for every hart: hart 0 counts
   them in the device tree, or if there is none, counts the harts that
   checked in until that number stayed unchanged for 50 ms, and publishes
   the count. Harts with mhartid >= the count park. Then waits (at most 30 s,
   else fails with 253) until that many harts have reached main, so all of
   them can be counted on. Every hart taking part must call it. */
unsigned guest_smp_init(void);

int main(unsigned hartid);

#endif
