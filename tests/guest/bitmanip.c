/* Zba, Zbb, Zbc and Zbs: every instruction with hand-checked results, including
 * the .uw (zero-extend the 32-bit rs1) and W forms and shift/bit index
 * masking. */
#include "guest.h"

#define RR(op, a, b)                                                                        \
  ({                                                                                        \
    uint64_t _r;                                                                            \
    __asm__ volatile(op " %0, %1, %2" : "=r"(_r) : "r"((uint64_t)(a)), "r"((uint64_t)(b))); \
    _r;                                                                                     \
  })
#define RI(op, a, imm)                                                                \
  ({                                                                                  \
    uint64_t _r;                                                                      \
    __asm__ volatile(op " %0, %1, %2" : "=r"(_r) : "r"((uint64_t)(a)), "i"(imm));     \
    _r;                                                                               \
  })
#define R1(op, a)                                                              \
  ({                                                                           \
    uint64_t _r;                                                               \
    __asm__ volatile(op " %0, %1" : "=r"(_r) : "r"((uint64_t)(a)));            \
    _r;                                                                        \
  })

int main(unsigned hartid) {
  if (hartid != 0) park();
  const uint64_t M1 = ~0ull;

  /* Zba */
  CHECK_EQ(RR("add.uw", 0xffffffff80000001ull, 0x100), 0x80000101ull);
  CHECK_EQ(RR("sh1add", 3, 100), 106);
  CHECK_EQ(RR("sh2add", 3, 100), 112);
  CHECK_EQ(RR("sh3add", 3, 100), 124);
  CHECK_EQ(RR("sh3add", 0x8000000000000001ull, 0), 8);
  CHECK_EQ(RR("sh1add.uw", 0xffffffff80000000ull, 1), 0x100000001ull);
  CHECK_EQ(RR("sh2add.uw", 0x1234567800000001ull, 1), 5);
  CHECK_EQ(RR("sh3add.uw", 0xffffffffffffffffull, 0), 0x7fffffff8ull);
  CHECK_EQ(RI("slli.uw", 0xffffffff80000001ull, 4), 0x800000010ull);
  CHECK_EQ(RI("slli.uw", 0xffffffffffffffffull, 63), 0x8000000000000000ull);

  /* Zbb: logic with negate */
  CHECK_EQ(RR("andn", 0xff00ff00ull, 0x0ff00ff0ull), 0xf000f000ull);
  CHECK_EQ(RR("orn", 0, 0xffffffff00000000ull), 0x00000000ffffffffull);
  CHECK_EQ(RR("xnor", 0x5555, 0x5555), M1);
  /* counts */
  CHECK_EQ(R1("clz", 0), 64);
  CHECK_EQ(R1("clz", 1), 63);
  CHECK_EQ(R1("clz", M1), 0);
  CHECK_EQ(R1("clzw", 0xffffffff00000000ull), 32);
  CHECK_EQ(R1("clzw", 0x0000000000010000ull), 15);
  CHECK_EQ(R1("ctz", 0), 64);
  CHECK_EQ(R1("ctz", 0x8000000000000000ull), 63);
  CHECK_EQ(R1("ctzw", 0x100000000ull), 32);
  CHECK_EQ(R1("ctzw", 0x80000000ull), 31);
  CHECK_EQ(R1("cpop", M1), 64);
  CHECK_EQ(R1("cpop", 0x0123456789abcdefull), 32);
  CHECK_EQ(R1("cpopw", 0xffffffff0000000full), 4);
  /* min/max */
  CHECK_EQ(RR("max", M1, 1), 1);
  CHECK_EQ(RR("maxu", M1, 1), M1);
  CHECK_EQ(RR("min", M1, 1), M1);
  CHECK_EQ(RR("minu", M1, 1), 1);
  CHECK_EQ(RR("min", 0x8000000000000000ull, 0x7fffffffffffffffull), 0x8000000000000000ull);
  /* extension */
  CHECK_EQ(R1("sext.b", 0x1234567880ull), 0xffffffffffffff80ull);
  CHECK_EQ(R1("sext.b", 0x7full), 0x7f);
  CHECK_EQ(R1("sext.h", 0x12348000ull), 0xffffffffffff8000ull);
  CHECK_EQ(R1("zext.h", 0xffffffffffff8001ull), 0x8001);
  /* rotates: 6-bit (W: 5-bit) amounts */
  CHECK_EQ(RR("rol", 0x8000000000000001ull, 1), 3);
  CHECK_EQ(RR("rol", 0x8000000000000001ull, 65), 3);
  CHECK_EQ(RR("ror", 3, 1), 0x8000000000000001ull);
  CHECK_EQ(RI("rori", 0x0123456789abcdefull, 8), 0xef0123456789abcdull);
  CHECK_EQ(RR("rolw", 0x80000001ull, 1), 3);
  CHECK_EQ(RR("rolw", 0x40000000ull, 33), 0xffffffff80000000ull);
  CHECK_EQ(RR("rorw", 1, 1), 0xffffffff80000000ull);
  CHECK_EQ(RR("rorw", 0xffffffff00000001ull, 32 + 4), 0x10000000);
  CHECK_EQ(RI("roriw", 0x12345678ull, 4), 0xffffffff81234567ull);
  /* byte operations */
  CHECK_EQ(R1("orc.b", 0x0100000000ff0010ull), 0xff00000000ff00ffull);
  CHECK_EQ(R1("rev8", 0x0123456789abcdefull), 0xefcdab8967452301ull);

  /* Zbc: carry-less products (from an independent bit-by-bit model) */
  CHECK_EQ(RR("clmul", 3, 3), 5);
  CHECK_EQ(RR("clmulh", 3, 3), 0);
  CHECK_EQ(RR("clmul", 0x8000000000000001ull, 0x8000000000000001ull), 1);
  CHECK_EQ(RR("clmulh", 0x8000000000000001ull, 0x8000000000000001ull), 0x4000000000000000ull);
  CHECK_EQ(RR("clmulr", 0x8000000000000001ull, 0x8000000000000001ull), 0x8000000000000000ull);
  CHECK_EQ(RR("clmul", M1, M1), 0x5555555555555555ull);
  CHECK_EQ(RR("clmulh", M1, M1), 0x5555555555555555ull);
  CHECK_EQ(RR("clmulr", M1, M1), 0xaaaaaaaaaaaaaaaaull);
  CHECK_EQ(RR("clmul", 0x123456789abcdef0ull, 0xfedcba9876543210ull), 0x0a0789828c810f00ull);
  CHECK_EQ(RR("clmulh", 0x123456789abcdef0ull, 0xfedcba9876543210ull), 0x0e038d8688850b04ull);
  CHECK_EQ(RR("clmulr", 0x123456789abcdef0ull, 0xfedcba9876543210ull), 0x1c071b0d110a1608ull);
  CHECK_EQ(RR("clmulr", M1, 1), 1);
  CHECK_EQ(RR("clmul", M1, 1), M1);

  /* Zbs: bit index is rs2[5:0] */
  CHECK_EQ(RR("bclr", M1, 63), 0x7fffffffffffffffull);
  CHECK_EQ(RR("bclr", M1, 64 + 1), 0xfffffffffffffffdull);
  CHECK_EQ(RI("bclri", 0xff, 7), 0x7f);
  CHECK_EQ(RR("bext", 0x8000000000000000ull, 63), 1);
  CHECK_EQ(RR("bext", 0x10, 4 + 128), 1);
  CHECK_EQ(RI("bexti", 0x10, 3), 0);
  CHECK_EQ(RR("binv", 0, 40), 1ull << 40);
  CHECK_EQ(RI("binvi", 1ull << 40, 40), 0);
  CHECK_EQ(RR("bset", 0, 63), 0x8000000000000000ull);
  CHECK_EQ(RI("bseti", 1, 32), 0x100000001ull);
  return 0;
}
CHECKS_END();
