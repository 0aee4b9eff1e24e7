/* Benchmark payload for the OpenSBI boot workload: a tiny S-mode "kernel"
 * that OpenSBI's fw_jump (or fw_dynamic) starts at 0x80200000 on the boot
 * hart (a0 = hartid, a1 = device tree). Linked by bench/payload.ld; no
 * guest runtime (that one starts in M-mode).
 *
 * It prints one line on the UART, so that bench/run.sh can tell a real boot
 * from an early exit:
 *   bench: opensbi payload reached on hart <h>: time=<t> instret=<n>
 * time: mtime (10 MHz ticks since the machine started, so the boot time
 * without the emulator's own start-up); instret: this hart's instret, the
 * instructions it retired during the boot (exact on coremu; QEMU 7.2 without
 * -icount gives host TSC ticks there). OpenSBI lets S-mode read both
 * (mcounteren). Then it asks OpenSBI to power off through the SBI System
 * Reset extension (SRST, EID 0x53525354, FID 0, type 0 = shutdown, reason 0);
 * OpenSBI writes the test finisher and the emulator exits 0. If the call
 * returns, the payload fails the run through the finisher with code 3. */
#include <stdint.h>

#define UART 0x10000000UL
#define FINISHER 0x100000UL
#define SBI_EXT_SRST 0x53525354UL

/* The stack (4 KiB), set up by _start below. */
__attribute__((used)) uint64_t payload_stack[512] __attribute__((aligned(16)));

__asm__(
    "  .section .text.init, \"ax\", @progbits\n"
    "  .globl _start\n"
    "_start:\n"
    "  .option push\n"
    "  .option norelax\n"
    "  la sp, payload_stack + 4096\n"
    "  .option pop\n"
    "  call payload_main\n"
    "1:\n"
    "  wfi\n"
    "  j 1b\n"
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

static void putdec(uint64_t v) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) putc_(buf[--n]);
}

void payload_main(uint64_t hartid) {
  uint64_t time, instret;
  __asm__ volatile("rdtime %0" : "=r"(time));
  __asm__ volatile("rdinstret %0" : "=r"(instret));
  puts_("bench: opensbi payload reached on hart ");
  putdec(hartid);
  puts_(": time=");
  putdec(time);
  puts_(" instret=");
  putdec(instret);
  puts_("\n");

  register uint64_t a0 __asm__("a0") = 0; /* shutdown */
  register uint64_t a1 __asm__("a1") = 0; /* no reason */
  register uint64_t a6 __asm__("a6") = 0; /* sbi_system_reset */
  register uint64_t a7 __asm__("a7") = SBI_EXT_SRST;
  __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a6), "r"(a7) : "memory");

  puts_("bench: SBI SRST returned\n");
  *(volatile uint32_t *)FINISHER = (3u << 16) | 0x3333u;
}
