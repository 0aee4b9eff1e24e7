/* RV64M: multiply (low and the three high forms), divide and remainder,
 * signed and unsigned, 64- and 32-bit (W) forms, including division by zero
 * and the signed overflow case, which never trap. */
#include "guest.h"

#define RR(op, a, b)                                                                        \
  ({                                                                                        \
    uint64_t _r;                                                                            \
    __asm__ volatile(op " %0, %1, %2" : "=r"(_r) : "r"((uint64_t)(a)), "r"((uint64_t)(b))); \
    _r;                                                                                     \
  })

int main(unsigned hartid) {
  if (hartid != 0) park();
  const uint64_t M1 = ~0ull, MIN = 1ull << 63, MAX = MIN - 1;
  const uint64_t A = 0x123456789abcdef1ull, B = 0xfedcba9876543211ull;

  /* mul: low 64 bits */
  CHECK_EQ(RR("mul", 6, 7), 42);
  CHECK_EQ(RR("mul", M1, M1), 1);
  CHECK_EQ(RR("mul", MIN, 2), 0);
  CHECK_EQ(RR("mul", (uint64_t)-3, 5), (uint64_t)-15);
  CHECK_EQ(RR("mul", A, B), (uint64_t)((unsigned __int128)A * B));
  CHECK_EQ(RR("mul", 0x100000001ull, 0x100000001ull), 0x200000001ull);

  /* mulh (signed x signed), mulhsu (signed x unsigned), mulhu */
  CHECK_EQ(RR("mulh", M1, M1), 0);
  CHECK_EQ(RR("mulh", MIN, MIN), 0x4000000000000000ull);
  CHECK_EQ(RR("mulh", MIN, MAX), 0xc000000000000000ull);
  CHECK_EQ(RR("mulh", (uint64_t)-1, 5), M1);
  CHECK_EQ(RR("mulh", 1ull << 32, 1ull << 32), 1);
  CHECK_EQ(RR("mulhu", M1, M1), 0xfffffffffffffffeull);
  CHECK_EQ(RR("mulhu", MIN, 2), 1);
  CHECK_EQ(RR("mulhu", A, B), (uint64_t)(((unsigned __int128)A * B) >> 64));
  CHECK_EQ(RR("mulhsu", M1, M1), M1);  /* -1 * (2^64-1) = -(2^64-1) */
  CHECK_EQ(RR("mulhsu", MIN, 2), M1);   /* -2^64 */
  CHECK_EQ(RR("mulhsu", 2, M1), 1);     /* 2 * (2^64-1) */
  CHECK_EQ(RR("mulhsu", (uint64_t)-2, 1), M1);
  CHECK_EQ(RR("mulh", A, B), (uint64_t)(((__int128)(int64_t)A * (int64_t)B) >> 64));

  /* mulw: low 32 bits of the product, sign-extended; upper input bits ignored */
  CHECK_EQ(RR("mulw", 0x7fffffff, 2), 0xfffffffffffffffeull);
  CHECK_EQ(RR("mulw", 0xffffffff00010000ull, 0x10000), 0);
  CHECK_EQ(RR("mulw", 0x0000000100008000ull, 0x10000), 0xffffffff80000000ull);
  CHECK_EQ(RR("mulw", (uint64_t)-3, 3), (uint64_t)-9);

  /* div/divu/rem/remu: truncating; results checked by hand */
  CHECK_EQ(RR("div", 42, 5), 8);
  CHECK_EQ(RR("div", (uint64_t)-7, 2), (uint64_t)-3);
  CHECK_EQ(RR("div", 7, (uint64_t)-2), (uint64_t)-3);
  CHECK_EQ(RR("rem", (uint64_t)-7, 2), M1);
  CHECK_EQ(RR("rem", 7, (uint64_t)-2), 1);
  CHECK_EQ(RR("divu", (uint64_t)-7, 2), 0x7ffffffffffffffcull);
  CHECK_EQ(RR("remu", (uint64_t)-7, 2), 1);
  CHECK_EQ(RR("divu", M1, 3), 0x5555555555555555ull);
  CHECK_EQ(RR("remu", 100, 7), 2);

  /* division by zero: quotient all ones, remainder = dividend */
  CHECK_EQ(RR("div", 1234, 0), M1);
  CHECK_EQ(RR("div", (uint64_t)-1234, 0), M1);
  CHECK_EQ(RR("divu", 1234, 0), M1);
  CHECK_EQ(RR("rem", (uint64_t)-1234, 0), (uint64_t)-1234);
  CHECK_EQ(RR("remu", 1234, 0), 1234);
  /* signed overflow: MIN / -1 = MIN, remainder 0 */
  CHECK_EQ(RR("div", MIN, M1), MIN);
  CHECK_EQ(RR("rem", MIN, M1), 0);

  /* W forms: 32-bit operands, results sign-extended */
  CHECK_EQ(RR("divw", 0xffffffff00000010ull, 0x0000000100000002ull), 8);
  CHECK_EQ(RR("divw", (uint64_t)-7, 2), (uint64_t)-3);
  CHECK_EQ(RR("divuw", 0xfffffff9ull, 2), 0x7ffffffc);
  CHECK_EQ(RR("divuw", 0xffffffffull, 1), M1); /* 0xffffffff sign-extended */
  CHECK_EQ(RR("remw", (uint64_t)-7, 2), M1);
  CHECK_EQ(RR("remuw", 0x80000007ull, 0x10), 7);
  CHECK_EQ(RR("remuw", 0xffffffffull, 0x80000000ull), 0x7fffffff);
  CHECK_EQ(RR("divw", 1234, 0), M1);
  CHECK_EQ(RR("divuw", 1234, 0), M1);
  CHECK_EQ(RR("remw", 0x1234567880000001ull, 0), 0xffffffff80000001ull);
  CHECK_EQ(RR("remuw", 0x1234567880000001ull, 0), 0xffffffff80000001ull);
  CHECK_EQ(RR("remw", 0x12345678ull, 0xffffffff00000000ull), 0x12345678); /* divisor 0 */
  CHECK_EQ(RR("divw", 0x80000000ull, 0xffffffffull), 0xffffffff80000000ull);
  CHECK_EQ(RR("remw", 0x80000000ull, 0xffffffffull), 0);
  return 0;
}
CHECKS_END();
