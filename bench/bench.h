/* What the benchmark guests share (bench.c): their work size from the
 * kernel command line, the report line bench/run.sh parses, and the
 * Zihintpause hint.
 *
 * Every guest counts the instructions it was asked to do from a known
 * per-iteration count (its inner loops are written in assembly, so the count
 * does not depend on the compiler) and reports it on the UART as
 *
 *   bench: insns=<N> ops=<M> ticks=<T> minstret=<R>
 *
 * insns: instructions of the measured work, summed over harts (waiting in
 *        spin loops and WFI is not counted);
 * ops:   the workload's own unit (iterations, AMOs, lock acquisitions,
 *        IPI round trips, bytes streamed), see bench/README.md;
 * ticks: mtime ticks (10 MHz) hart 0 saw between the start and the end
 *        barrier of the measured region;
 * minstret: minstret deltas over the region, summed over harts. Exact on
 *        coremu (so it includes spinning); QEMU 7.2 without -icount returns
 *        host TSC ticks there, so run.sh does not use it.
 */
#ifndef BENCH_H
#define BENCH_H

#include "guest.h"

/* The Zihintpause hint (FENCE with pred = W, succ = 0, fm = 0). Written as
   an .insn so that older assemblers without Zihintpause build it too. */
#define BENCH_PAUSE ".insn i 0x0f, 0, x0, x0, 0x010\n\t"

/* The value of `key=<decimal>` in the kernel command line (-append, which
   both emulators put in /chosen/bootargs of the device tree), or `def` if
   it is absent or malformed. */
uint64_t bench_arg(const char *key, uint64_t def);

/* Prints the report line (from one hart, under the print lock). */
void bench_report(uint64_t insns, uint64_t ops, uint64_t ticks, uint64_t minstret);

static inline uint64_t bench_minstret(void) { return csr_read(minstret); }

#endif
