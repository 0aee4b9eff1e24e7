/* RV64A on one hart: every AMO in .w and .d form (old value returned, .w
 * results sign-extended, neighbours untouched), signed and unsigned min/max,
 * the aq/rl variants, and LR/SC success and failure. */
#include "guest.h"

#define AMO(op, addr, v)                                                              \
  ({                                                                                  \
    uint64_t _r;                                                                      \
    __asm__ volatile(op " %0, %1, (%2)" : "=&r"(_r) : "r"((uint64_t)(v)), "r"(addr) : "memory"); \
    _r;                                                                               \
  })

static volatile uint64_t d[4] __attribute__((aligned(64)));
static volatile uint32_t w[4] __attribute__((aligned(64)));

static void reset_w(uint32_t v) {
  w[0] = 0xa5a5a5a5u;
  w[1] = v;
  w[2] = 0x5a5a5a5au;
}

int main(unsigned hartid) {
  if (hartid != 0) park();
  volatile uint32_t *pw = &w[1];
  volatile uint64_t *pd = &d[1];

  /* .w forms: return sign-extended old value, write 32 bits only */
  reset_w(0x80000000u);
  CHECK_EQ(AMO("amoadd.w", pw, 0xffffffff00000001ull), 0xffffffff80000000ull);
  CHECK_EQ(w[1], 0x80000001u);
  CHECK_EQ(w[0], 0xa5a5a5a5u);
  CHECK_EQ(w[2], 0x5a5a5a5au);
  reset_w(0x7fffffffu);
  CHECK_EQ(AMO("amoadd.w", pw, 1), 0x7fffffff);
  CHECK_EQ(w[1], 0x80000000u);
  reset_w(0x12345678u);
  CHECK_EQ(AMO("amoswap.w", pw, 0xcafef00dull), 0x12345678);
  CHECK_EQ(w[1], 0xcafef00du);
  CHECK_EQ(AMO("amoxor.w", pw, 0xffffffffull), 0xffffffffcafef00dull);
  CHECK_EQ(w[1], 0x35010ff2u);
  CHECK_EQ(AMO("amoand.w", pw, 0xff00ff00ull), 0x35010ff2);
  CHECK_EQ(w[1], 0x35000f00u);
  CHECK_EQ(AMO("amoor.w", pw, 0x800000f0ull), 0x35000f00);
  CHECK_EQ(w[1], 0xb5000ff0u);
  CHECK_EQ(w[0], 0xa5a5a5a5u);
  CHECK_EQ(w[2], 0x5a5a5a5au);

  /* min/max .w: 32-bit comparisons, signed or unsigned */
  reset_w(0x80000000u);
  CHECK_EQ(AMO("amomin.w", pw, 1), 0xffffffff80000000ull);
  CHECK_EQ(w[1], 0x80000000u);
  CHECK_EQ(AMO("amominu.w", pw, 1), 0xffffffff80000000ull);
  CHECK_EQ(w[1], 1);
  CHECK_EQ(AMO("amomax.w", pw, 0xffffffff00000005ull), 1); /* upper bits ignored: 5 */
  CHECK_EQ(w[1], 5);
  CHECK_EQ(AMO("amomax.w", pw, 0xfffffff0ull), 5); /* -16 < 5 */
  CHECK_EQ(w[1], 5);
  CHECK_EQ(AMO("amomaxu.w", pw, 0xfffffff0ull), 5);
  CHECK_EQ(w[1], 0xfffffff0u);
  CHECK_EQ(AMO("amomin.w", pw, 3), 0xfffffffffffffff0ull);
  CHECK_EQ(w[1], 0xfffffff0u);
  CHECK_EQ(AMO("amominu.w", pw, 3), 0xfffffffffffffff0ull);
  CHECK_EQ(w[1], 3);

  /* .d forms */
  d[0] = 0x1111111111111111ull;
  d[2] = 0x2222222222222222ull;
  d[1] = 0x7fffffffffffffffull;
  CHECK_EQ(AMO("amoadd.d", pd, 1), 0x7fffffffffffffffull);
  CHECK_EQ(d[1], 0x8000000000000000ull);
  CHECK_EQ(AMO("amoswap.d", pd, 0x0123456789abcdefull), 0x8000000000000000ull);
  CHECK_EQ(AMO("amoxor.d", pd, ~0ull), 0x0123456789abcdefull);
  CHECK_EQ(d[1], 0xfedcba9876543210ull);
  CHECK_EQ(AMO("amoand.d", pd, 0x00ff00ff00ff00ffull), 0xfedcba9876543210ull);
  CHECK_EQ(d[1], 0x00dc009800540010ull);
  CHECK_EQ(AMO("amoor.d", pd, 0x8000000000000001ull), 0x00dc009800540010ull);
  CHECK_EQ(d[1], 0x80dc009800540011ull);
  CHECK_EQ(AMO("amomin.d", pd, 5), 0x80dc009800540011ull);   /* negative stays */
  CHECK_EQ(d[1], 0x80dc009800540011ull);
  CHECK_EQ(AMO("amomax.d", pd, 5), 0x80dc009800540011ull);
  CHECK_EQ(d[1], 5);
  CHECK_EQ(AMO("amomaxu.d", pd, ~0ull), 5);
  CHECK_EQ(d[1], ~0ull);
  CHECK_EQ(AMO("amominu.d", pd, 7), ~0ull);
  CHECK_EQ(d[1], 7);
  CHECK_EQ(d[0], 0x1111111111111111ull);
  CHECK_EQ(d[2], 0x2222222222222222ull);

  /* aq/rl variants and rd = x0 */
  CHECK_EQ(AMO("amoadd.d.aq", pd, 1), 7);
  CHECK_EQ(AMO("amoadd.d.rl", pd, 1), 8);
  CHECK_EQ(AMO("amoadd.d.aqrl", pd, 1), 9);
  CHECK_EQ(AMO("amoswap.w.aqrl", pw, 9), 3);
  __asm__ volatile("amoadd.d zero, %0, (%1)" ::"r"(10ull), "r"(pd) : "memory");
  CHECK_EQ(d[1], 20);

  /* LR/SC: success writes and returns 0, a second SC (reservation gone) fails */
  {
    uint64_t v, sc1, sc2;
    d[1] = 100;
    __asm__ volatile("lr.d %0, (%3)\n\t"
                     "addi %0, %0, 1\n\t"
                     "sc.d %1, %0, (%3)\n\t"
                     "sc.d %2, %0, (%3)"
                     : "=&r"(v), "=&r"(sc1), "=&r"(sc2)
                     : "r"(pd)
                     : "memory");
    CHECK_EQ(sc1, 0);
    CHECK(sc2 != 0);
    CHECK_EQ(d[1], 101);
  }
  {
    uint64_t v, sc;
    reset_w(0x80000000u);
    __asm__ volatile("lr.w.aq %0, (%2)\n\t"
                     "sc.w.rl %1, %3, (%2)"
                     : "=&r"(v), "=&r"(sc)
                     : "r"(pw), "r"(0x1234ull)
                     : "memory");
    CHECK_EQ(v, 0xffffffff80000000ull); /* lr.w sign-extends */
    CHECK_EQ(sc, 0);
    CHECK_EQ(w[1], 0x1234);
    CHECK_EQ(w[2], 0x5a5a5a5au);
  }
  /* SC without any reservation (after an SC cleared it) fails, memory intact */
  {
    uint64_t sc;
    d[1] = 55;
    __asm__ volatile("sc.d %0, %1, (%2)" : "=&r"(sc) : "r"(66ull), "r"(pd) : "memory");
    CHECK(sc != 0);
    CHECK_EQ(d[1], 55);
  }
  /* SC to an address other than the reserved one fails */
  {
    uint64_t v, sc;
    d[1] = 1;
    d[2] = 2;
    __asm__ volatile("lr.d %0, (%2)\n\t"
                     "sc.d %1, %0, (%3)"
                     : "=&r"(v), "=&r"(sc)
                     : "r"(pd), "r"(&d[2])
                     : "memory");
    CHECK(sc != 0);
    CHECK_EQ(d[2], 2);
    __asm__ volatile("sc.d zero, zero, (%0)" ::"r"(pd) : "memory"); /* drop any reservation */
  }
  /* the usual LR/SC retry loop */
  {
    uint64_t v, sc;
    d[1] = 41;
    __asm__ volatile("1: lr.d %0, (%2)\n\t"
                     "addi %0, %0, 1\n\t"
                     "sc.d %1, %0, (%2)\n\t"
                     "bnez %1, 1b"
                     : "=&r"(v), "=&r"(sc)
                     : "r"(pd)
                     : "memory");
    CHECK_EQ(d[1], 42);
  }
  return 0;
}
CHECKS_END();
