/* Benchmark guest: memory streaming through Sv39 paging, one hart.
 *
 * In M-mode hart 0 builds an Sv39 page table: DRAM identity-mapped by a
 * gigapage (code, stack and the tables themselves), and a buffer of
 * `mib=<M>` MiB (kernel command line; default 4, at most 8) mapped at
 * virtual 0x40000000 through 4 KiB pages (one PTE per page, A and D preset).
 * It drops to S-mode with satp set and makes `passes=<P>` read-modify-write
 * passes over the buffer through those pages: 32 bytes per 14-instruction
 * iteration (four ld, four add, four sd, pointer bump, branch) plus 3
 * instructions per pass. Back in M-mode it checks every doubleword through
 * the physical addresses and reports; ops = bytes read (each also written).
 * Other harts park. */
#include "bench.h"

#define PTE_V 0x01
#define PTE_R 0x02
#define PTE_W 0x04
#define PTE_X 0x08
#define PTE_G 0x20
#define PTE_A 0x40
#define PTE_D 0x80
#define SATP_SV39 (8ull << 60)

#define MAX_MIB 8
#define BUF_VA 0x40000000ull
#define STEP 0x0101010101010101ull
#define DEFAULT_PASSES 256u

static uint64_t root[512] __attribute__((aligned(4096)));
static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l0[MAX_MIB / 2][512] __attribute__((aligned(4096)));
static uint64_t buf[MAX_MIB << 17] __attribute__((aligned(4096)));
static uint64_t buf_bytes;

static uint64_t pte(const void *pa, uint64_t flags) {
  return (((uint64_t)(uintptr_t)pa >> 12) << 10) | flags;
}

/* Runs in S-mode, through the page table. */
static uint64_t s_stream(uint64_t passes) {
  uint64_t p, t0, t1, t2, t3;
  uint64_t end = BUF_VA + buf_bytes;
  __asm__ volatile(
      "2:\n\t"
      "mv %[p], %[base]\n"
      "1:\n\t"
      "ld %[t0], 0(%[p])\n\t"
      "ld %[t1], 8(%[p])\n\t"
      "ld %[t2], 16(%[p])\n\t"
      "ld %[t3], 24(%[p])\n\t"
      "add %[t0], %[t0], %[c]\n\t"
      "add %[t1], %[t1], %[c]\n\t"
      "add %[t2], %[t2], %[c]\n\t"
      "add %[t3], %[t3], %[c]\n\t"
      "sd %[t0], 0(%[p])\n\t"
      "sd %[t1], 8(%[p])\n\t"
      "sd %[t2], 16(%[p])\n\t"
      "sd %[t3], 24(%[p])\n\t"
      "addi %[p], %[p], 32\n\t"
      "bltu %[p], %[end], 1b\n\t"
      "addi %[k], %[k], -1\n\t"
      "bnez %[k], 2b\n\t"
      : [p] "=&r"(p), [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3),
        [k] "+r"(passes)
      : [base] "r"(BUF_VA), [end] "r"(end), [c] "r"(STEP)
      : "memory");
  return 0;
}

int main(unsigned hartid) {
  if (hartid != 0) park();
  uint64_t mib = bench_arg("mib", 4), passes = bench_arg("passes", DEFAULT_PASSES);
  if (mib < 2) mib = 2;
  if (mib > MAX_MIB) mib = MAX_MIB;
  mib &= ~1ull; /* whole l0 tables (2 MiB each) */
  if (passes == 0) passes = 1;
  buf_bytes = mib << 20;
  uint64_t words = buf_bytes / 8;
  for (uint64_t i = 0; i < words; i++) buf[i] = i;

  root[2] = pte((void *)DRAM_BASE, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | PTE_G);
  root[BUF_VA >> 30] = pte(l1, PTE_V);
  for (uint64_t t = 0; t < mib / 2; t++) {
    l1[t] = pte(l0[t], PTE_V);
    for (unsigned j = 0; j < 512; j++)
      l0[t][j] = pte((uint8_t *)buf + ((t * 512 + j) << 12), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  }
  csr_write(satp, SATP_SV39 | ((uint64_t)(uintptr_t)root >> 12));
  __asm__ volatile("sfence.vma" ::: "memory");

  uint64_t t0 = mtime(), r0 = bench_minstret();
  guest_enter_mode(PRIV_S, s_stream, passes);
  uint64_t r1 = bench_minstret(), ticks = mtime() - t0;
  csr_write(satp, 0);
  __asm__ volatile("sfence.vma" ::: "memory");

  for (uint64_t i = 0; i < words; i++)
    if (buf[i] != i + passes * STEP) CHECK_EQ(buf[i], i + passes * STEP);
  uint64_t insns = passes * (buf_bytes / 32 * 14 + 3);
  bench_report(insns, passes * buf_bytes, ticks, r1 - r0);
  return 0;
}
CHECKS_END();
