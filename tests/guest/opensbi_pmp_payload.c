/* An S-mode payload for OpenSBI's fw_jump (at 0x80200000, linked by
 * bench/payload.ld; no guest runtime) that touches OpenSBI's own memory.
 * OpenSBI fences its image (from 0x80000000) off from S-mode with a PMP
 * entry, so a load and a store there must fault with an access fault
 * (OpenSBI passes the trap on to S-mode: scause 5 and 7, stval the
 * address), while the payload's own memory stays usable. Exit through the
 * test finisher: 0 = pass, else the number of the failed check; one line
 * on the UART either way. */
#include <stdint.h>

#define UART 0x10000000UL
#define FINISHER 0x100000UL
#define FIRMWARE 0x80000000UL

__attribute__((used)) uint64_t payload_stack[512] __attribute__((aligned(16)));
volatile uint64_t trap_n, trap_cause, trap_tval;

/* The trap handler records scause/stval and skips the faulting instruction
   (always a 4-byte one here: the accesses below are written out with
   .option norvc). It saves only the two registers it uses. */
__asm__(
    "  .section .text.init, \"ax\", @progbits\n"
    "  .globl _start\n"
    "_start:\n"
    "  .option push\n"
    "  .option norelax\n"
    "  la sp, payload_stack + 4096\n"
    "  .option pop\n"
    "  la t0, s_trap\n"
    "  csrw stvec, t0\n"
    "  call payload_main\n"
    "1:\n"
    "  wfi\n"
    "  j 1b\n"
    "  .balign 4\n"
    "s_trap:\n"
    "  csrw sscratch, t0\n"
    "  la t0, trap_n\n"
    "  ld t1, 0(t0)\n"  /* t1 is caller-saved and unused at the fault sites */
    "  addi t1, t1, 1\n"
    "  sd t1, 0(t0)\n"
    "  csrr t1, scause\n"
    "  la t0, trap_cause\n"
    "  sd t1, 0(t0)\n"
    "  csrr t1, stval\n"
    "  la t0, trap_tval\n"
    "  sd t1, 0(t0)\n"
    "  csrr t0, sepc\n"
    "  addi t0, t0, 4\n"
    "  csrw sepc, t0\n"
    "  csrr t0, sscratch\n"
    "  sret\n"
    "  .text\n");

static void putc_(char c) {
  volatile uint8_t *u = (volatile uint8_t *)UART;
  while (!(u[5] & 0x20)) {
  }
  u[0] = (uint8_t)c;
}
static void puts_(const char *s) {
  for (; *s; s++) {
    if (*s == '\n') putc_('\r');
    putc_(*s);
  }
}
static void puthex(uint64_t v) {
  puts_("0x");
  for (int i = 60; i >= 0; i -= 4) putc_("0123456789abcdef"[(v >> i) & 15]);
}

static uint64_t load(uint64_t a) {
  uint64_t v = 0x77;
  __asm__ volatile(".option push\n.option norvc\nld %0, 0(%1)\n.option pop" : "+r"(v) : "r"(a) : "t1", "memory");
  return v;
}
static void store(uint64_t a, uint64_t v) {
  __asm__ volatile(".option push\n.option norvc\nsd %0, 0(%1)\n.option pop" ::"r"(v), "r"(a) : "t1", "memory");
}

static void finish(unsigned code) {
  if (code) {
    puts_("opensbi_pmp_payload: FAIL ");
    puthex(code);
    puts_(" cause ");
    puthex(trap_cause);
    puts_(" tval ");
    puthex(trap_tval);
    puts_("\n");
    *(volatile uint32_t *)FINISHER = (code << 16) | 0x3333u;
  } else {
    puts_("opensbi_pmp_payload: PASS\n");
    *(volatile uint32_t *)FINISHER = 0x5555u;
  }
  for (;;) __asm__ volatile("wfi");
}

static uint64_t own_word = 0x1234;

void payload_main(void) {
  uint64_t v = load(FIRMWARE);
  if (trap_n != 1 || trap_cause != 5 || trap_tval != FIRMWARE || v != 0x77) finish(1);
  store(FIRMWARE + 8, 0);
  if (trap_n != 2 || trap_cause != 7 || trap_tval != FIRMWARE + 8) finish(2);
  if (load((uint64_t)(uintptr_t)&own_word) != 0x1234 || trap_n != 2) finish(3);
  store((uint64_t)(uintptr_t)&own_word, 5);
  if (own_word != 5 || trap_n != 2) finish(4);
  finish(0);
}
