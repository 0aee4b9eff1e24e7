/* Benchmark guest: IPI ping-pong between harts 0 and 1 through the CLINT's
 * msip registers (run with -smp 2; further harts park).
 *
 * `rounds=<R>` round trips (kernel command line; default below). Hart 0
 * writes the round number to shared memory and raises hart 1's msip; hart 1,
 * asleep in WFI (mie.MSIE = 1, mstatus.MIE = 0, so WFI wakes without a
 * trap), sees MSIP pending in mip, clears its msip, checks the round number,
 * echoes it and raises hart 0's msip; hart 0, likewise asleep, clears its
 * msip, checks the echo and starts the next round. Both loops are assembly:
 * 11 instructions per hart per round trip on the path that finds the IPI
 * pending (insns = 22 * R); the extra turns of the WFI loop are not counted.
 * A lost IPI hangs the guest (bench/run.sh's timeout catches it); a wrong
 * round number fails it. */
#include "bench.h"

#define INSNS_PER_ROUND 22
#define DEFAULT_ROUNDS 20000u

static barrier_t bar;
static volatile uint64_t minstret_sum;
static struct {
  volatile uint64_t token;
  uint8_t pad1[56];
  volatile uint64_t echo;
  uint8_t pad2[56];
} shared __attribute__((aligned(4096)));

/* Returns 0, or the round at which the echo was wrong. */
static uint64_t pinger(uint64_t rounds) {
  uint64_t r = 0, bad = 0, t0, t1;
  __asm__ volatile(
      "1:\n\t"
      "addi %[r], %[r], 1\n\t"
      "sd %[r], 0(%[token])\n\t"
      "fence rw, rw\n\t"
      "sw %[one], 4(%[msip])\n\t"   /* msip[1] = 1 */
      "2:\n\t"
      "csrr %[t0], mip\n\t"
      "andi %[t0], %[t0], 8\n\t"    /* MSIP */
      "bnez %[t0], 3f\n\t"
      "wfi\n\t"
      "j 2b\n"
      "3:\n\t"
      "sw zero, 0(%[msip])\n\t"     /* msip[0] = 0 */
      "ld %[t1], 0(%[echo])\n\t"
      "bne %[t1], %[r], 9f\n\t"
      "bne %[r], %[n], 1b\n\t"
      "j 8f\n"
      "9:\n\t"
      "mv %[bad], %[r]\n"
      "8:\n\t"
      : [r] "+r"(r), [bad] "+r"(bad), [t0] "=&r"(t0), [t1] "=&r"(t1)
      : [n] "r"(rounds), [one] "r"(1u), [msip] "r"(CLINT_MSIP(0)), [token] "r"(&shared.token),
        [echo] "r"(&shared.echo)
      : "memory");
  return bad;
}

static uint64_t ponger(uint64_t rounds) {
  uint64_t r = 0, bad = 0, t0, t1;
  __asm__ volatile(
      "1:\n\t"
      "csrr %[t0], mip\n\t"
      "andi %[t0], %[t0], 8\n\t"
      "bnez %[t0], 3f\n\t"
      "wfi\n\t"
      "j 1b\n"
      "3:\n\t"
      "sw zero, 4(%[msip])\n\t"     /* msip[1] = 0 */
      "addi %[r], %[r], 1\n\t"
      "ld %[t1], 0(%[token])\n\t"
      "bne %[t1], %[r], 9f\n\t"
      "sd %[r], 0(%[echo])\n\t"
      "fence rw, rw\n\t"
      "sw %[one], 0(%[msip])\n\t"   /* msip[0] = 1 */
      "bne %[r], %[n], 1b\n\t"
      "j 8f\n"
      "9:\n\t"
      "mv %[bad], %[r]\n"
      "8:\n\t"
      : [r] "+r"(r), [bad] "+r"(bad), [t0] "=&r"(t0), [t1] "=&r"(t1)
      : [n] "r"(rounds), [one] "r"(1u), [msip] "r"(CLINT_MSIP(0)), [token] "r"(&shared.token),
        [echo] "r"(&shared.echo)
      : "memory");
  return bad;
}

int main(unsigned hartid) {
  unsigned n = guest_smp_init();
  CHECK(n >= 2);
  if (hartid >= 2) park();
  uint64_t rounds = bench_arg("rounds", DEFAULT_ROUNDS);
  if (rounds == 0) rounds = 1;
  csr_clear(mstatus, MSTATUS_MIE);
  MMIO32(CLINT_MSIP(hartid)) = 0;
  csr_write(mie, MIP_BIT(IRQ_MSI));
  barrier_wait(&bar, 2);
  uint64_t t0 = mtime(), r0 = bench_minstret();
  uint64_t bad = hartid == 0 ? pinger(rounds) : ponger(rounds);
  __atomic_fetch_add(&minstret_sum, bench_minstret() - r0, __ATOMIC_RELAXED);
  if (bad) {
    print_lock();
    uart_puts("ipi: wrong round number at round ");
    uart_putdec(bad);
    uart_puts("\n");
    print_unlock();
    guest_exit(200);
  }
  barrier_wait(&bar, 2);
  if (hartid != 0) return 0;
  uint64_t ticks = mtime() - t0;
  CHECK_EQ(shared.echo, rounds);
  bench_report(rounds * INSNS_PER_ROUND, rounds, ticks, minstret_sum);
  return 0;
}
CHECKS_END();
