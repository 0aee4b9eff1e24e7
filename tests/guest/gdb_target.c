/* The guest the GDB tests (tests/gdb) debug: every hart spins in spin()
 * bumping its own counter; hart 2 (or the last hart, with fewer) calls
 * writer(), which stores 42 to shared_var; hart 0 first runs
 * set_known_regs(), which loads known values into s2, fs0 and mscratch and
 * passes the label regs_ready, then stores s3 to reg_echo (so a debugger
 * that changes s3 at regs_ready can see its write take effect).
 * The harts spin until a debugger sets `done` (or, without a debugger,
 * for about a minute); hart 0 then checks that writer() ran and exits with
 * `exit_code` (0 unless a debugger changed it). */
#include "guest.h"

volatile uint64_t shared_var;
volatile uint64_t counters[GUEST_MAX_HARTS];
volatile uint64_t reg_echo;
/* In .data, not .bss: a debugger may set them before the runtime clears .bss. */
__attribute__((section(".data"))) volatile int done;
__attribute__((section(".data"))) volatile int exit_code;
static barrier_t bar;

#define SPIN_LIMIT 500000000ull /* bounds a run nobody debugs */

__attribute__((noinline)) void set_known_regs(void) {
  __asm__ volatile(
      "li t0, %1\n"
      "csrs mstatus, t0\n"             /* FS = initial: FP on */
      "li s2, 0x1122334455667788\n"
      "li t0, 0x4004000000000000\n"    /* 2.5 as a double */
      "fmv.d.x fs0, t0\n"
      "li t0, 0xfeedface\n"
      "csrw mscratch, t0\n"
      "li s3, 0\n"
      ".globl regs_ready\n"
      "regs_ready:\n"
      "nop\n"
      "sd s3, 0(%0)\n" ::"r"(&reg_echo), "i"(MSTATUS_FS_INITIAL)
      : "s2", "s3", "t0", "fs0", "memory");
}

__attribute__((noinline)) void writer(void) { shared_var = 42; }

__attribute__((noinline)) void spin(unsigned hartid) {
  while (!done && counters[hartid] < SPIN_LIMIT) counters[hartid]++;
}

int main(unsigned hartid) {
  unsigned n = guest_smp_init();
  barrier_wait(&bar, n);
  if (hartid == 0) {
    csr_set(mstatus, MSTATUS_FS_INITIAL); /* before set_known_regs saves fs0 */
    set_known_regs();
  }
  if (hartid == (n > 2 ? 2 : n - 1)) {
    for (int i = 0; i < 1000; i++) counters[hartid]++;
    writer();
  }
  spin(hartid);
  done = 1;
  barrier_wait(&bar, n);
  if (hartid != 0) return 0;
  CHECK_EQ(shared_var, 42);
  return exit_code;
}
