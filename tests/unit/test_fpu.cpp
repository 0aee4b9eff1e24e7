// Unit tests for src/rv64/fpu.h: RISC-V F/D arithmetic on raw bits.
//
// Two kinds of tests:
//  * hand-written cases with known answers (rounding modes, ties under RMM,
//    NaN rules, every fflags bit, saturating conversions, min/max, fclass);
//  * differential tests: the dispatching operations (host fast path, host
//    SSE path) against the software implementation, bit for bit and flag for
//    flag, on random inputs biased towards edge cases. The software path is
//    the one RMM uses, so this also validates RMM's arithmetic core.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <random>

#include "rv64/fpu.h"

namespace {

using namespace rv64::fpu;

uint32_t S(float f) { return std::bit_cast<uint32_t>(f); }
uint64_t D(double d) { return std::bit_cast<uint64_t>(d); }

constexpr uint32_t kSQNaN = 0x7fc00000, kSSNaN = 0x7f800001, kSInf = 0x7f800000;
constexpr uint64_t kDQNaN = 0x7ff8000000000000, kDSNaN = 0x7ff0000000000001,
                   kDInf = 0x7ff0000000000000;
constexpr unsigned kAllModes[] = {kRNE, kRTZ, kRDN, kRUP, kRMM};

// Result and flags of one call starting from clear flags.
struct R32 {
  uint32_t v;
  uint8_t fl;
};
struct R64 {
  uint64_t v;
  uint8_t fl;
};
template <class Fn>
R32 r32(Fn fn) {
  uint8_t fl = 0;
  uint32_t v = fn(fl);
  return {v, fl};
}
template <class Fn>
R64 r64(Fn fn) {
  uint8_t fl = 0;
  uint64_t v = fn(fl);
  return {v, fl};
}
#define EXPECT_R(r, val, flags)                                       \
  do {                                                                \
    auto r_ = (r);                                                    \
    EXPECT_EQ(r_.v, (val)) << std::hex << "got 0x" << uint64_t(r_.v); \
    EXPECT_EQ(int(r_.fl), int(flags)) << "flags";                     \
  } while (0)

R32 add_s(float a, float b, unsigned rm) {
  return r32([&](uint8_t& fl) { return fadd<F32>(S(a), S(b), rm, fl); });
}
R32 mul_s(uint32_t a, uint32_t b, unsigned rm) {
  return r32([&](uint8_t& fl) { return fmul<F32>(a, b, rm, fl); });
}

// ---- NaN boxing ------------------------------------------------------------

TEST(FpuBoxing, BoxAndUnbox) {
  EXPECT_EQ(box_s(0x3f800000), 0xffffffff3f800000ull);
  EXPECT_EQ(unbox_s(0xffffffff3f800000ull), 0x3f800000u);
  EXPECT_EQ(unbox_s(0xffffffff7f800001ull), 0x7f800001u);  // boxed sNaN stays as it is
  EXPECT_EQ(unbox_s(0x000000003f800000ull), kSQNaN);       // upper bits not all ones
  EXPECT_EQ(unbox_s(0xfffffffe3f800000ull), kSQNaN);
  EXPECT_EQ(unbox_s(0x7fffffff3f800000ull), kSQNaN);
  EXPECT_EQ(unbox_s(D(1.0)), kSQNaN);  // a double read as a single
}

// ---- rounding modes ----------------------------------------------------------

TEST(FpuRounding, AddBelowHalfUlp) {
  const float t = 0x1p-25f;  // a quarter ulp of 1.0
  EXPECT_R(add_s(1.0f, t, kRNE), S(1.0f), kNX);
  EXPECT_R(add_s(1.0f, t, kRTZ), S(1.0f), kNX);
  EXPECT_R(add_s(1.0f, t, kRDN), S(1.0f), kNX);
  EXPECT_R(add_s(1.0f, t, kRUP), S(0x1.000002p0f), kNX);
  EXPECT_R(add_s(1.0f, t, kRMM), S(1.0f), kNX);
  EXPECT_R(add_s(-1.0f, -t, kRNE), S(-1.0f), kNX);
  EXPECT_R(add_s(-1.0f, -t, kRTZ), S(-1.0f), kNX);
  EXPECT_R(add_s(-1.0f, -t, kRDN), S(-0x1.000002p0f), kNX);
  EXPECT_R(add_s(-1.0f, -t, kRUP), S(-1.0f), kNX);
  EXPECT_R(add_s(-1.0f, -t, kRMM), S(-1.0f), kNX);
}

TEST(FpuRounding, AddAboveHalfUlp) {
  const float t = 0x1.8p-24f;  // three quarters of an ulp of 1.0
  EXPECT_R(add_s(1.0f, t, kRNE), S(0x1.000002p0f), kNX);
  EXPECT_R(add_s(1.0f, t, kRTZ), S(1.0f), kNX);
  EXPECT_R(add_s(1.0f, t, kRDN), S(1.0f), kNX);
  EXPECT_R(add_s(1.0f, t, kRUP), S(0x1.000002p0f), kNX);
  EXPECT_R(add_s(1.0f, t, kRMM), S(0x1.000002p0f), kNX);
}

TEST(FpuRounding, AddTies) {
  // 1 + 2^-24 lies exactly between 1 (even) and 1 + 2^-23 (odd).
  EXPECT_R(add_s(1.0f, 0x1p-24f, kRNE), S(1.0f), kNX);
  EXPECT_R(add_s(1.0f, 0x1p-24f, kRMM), S(0x1.000002p0f), kNX);
  EXPECT_R(add_s(1.0f, 0x1p-24f, kRTZ), S(1.0f), kNX);
  EXPECT_R(add_s(1.0f, 0x1p-24f, kRDN), S(1.0f), kNX);
  EXPECT_R(add_s(1.0f, 0x1p-24f, kRUP), S(0x1.000002p0f), kNX);
  EXPECT_R(add_s(-1.0f, -0x1p-24f, kRNE), S(-1.0f), kNX);
  EXPECT_R(add_s(-1.0f, -0x1p-24f, kRMM), S(-0x1.000002p0f), kNX);
  // (1 + 2^-23) + 2^-24: between odd and even, both nearest modes go up.
  EXPECT_R(add_s(0x1.000002p0f, 0x1p-24f, kRNE), S(0x1.000004p0f), kNX);
  EXPECT_R(add_s(0x1.000002p0f, 0x1p-24f, kRMM), S(0x1.000004p0f), kNX);
  // Doubles: 1 + 2^-53.
  auto add_d = [](double a, double b, unsigned rm) {
    return r64([&](uint8_t& fl) { return fadd<F64>(D(a), D(b), rm, fl); });
  };
  EXPECT_R(add_d(1.0, 0x1p-53, kRNE), D(1.0), kNX);
  EXPECT_R(add_d(1.0, 0x1p-53, kRMM), D(0x1.0000000000001p0), kNX);
  EXPECT_R(add_d(-1.0, -0x1p-53, kRMM), D(-0x1.0000000000001p0), kNX);
  EXPECT_R(add_d(1.0, 0x1p-54, kRMM), D(1.0), kNX);
  EXPECT_R(add_d(1.0, 0x1p-54, kRUP), D(0x1.0000000000001p0), kNX);
}

TEST(FpuRounding, MulTies) {
  // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24: a tie.
  const uint32_t a = S(0x1.001p0f);
  EXPECT_R(mul_s(a, a, kRNE), S(0x1.002p0f), kNX);
  EXPECT_R(mul_s(a, a, kRMM), S(0x1.002002p0f), kNX);
  EXPECT_R(mul_s(a, a, kRUP), S(0x1.002002p0f), kNX);
  EXPECT_R(mul_s(a, a, kRTZ), S(0x1.002p0f), kNX);
  EXPECT_R(mul_s(a ^ 0x80000000, a, kRMM), S(-0x1.002002p0f), kNX);
  EXPECT_R(mul_s(a ^ 0x80000000, a, kRDN), S(-0x1.002002p0f), kNX);
  EXPECT_R(mul_s(a ^ 0x80000000, a, kRUP), S(-0x1.002p0f), kNX);
  // Doubles: (1 + 2^-26) * (1 + 2^-27) = 1 + 3*2^-27 + 2^-53, a tie.
  auto mul_d = [](double x, double y, unsigned rm) {
    return r64([&](uint8_t& fl) { return fmul<F64>(D(x), D(y), rm, fl); });
  };
  EXPECT_R(mul_d(0x1.0000004p0, 0x1.0000002p0, kRNE), D(0x1.0000006p0), kNX);
  EXPECT_R(mul_d(0x1.0000004p0, 0x1.0000002p0, kRMM), D(0x1.0000006000001p0), kNX);
}

TEST(FpuRounding, DivSubnormalTie) {
  // min_subnormal / 2 is half way between 0 and min_subnormal.
  auto div_s = [](uint32_t a, uint32_t b, unsigned rm) {
    return r32([&](uint8_t& fl) { return fdiv<F32>(a, b, rm, fl); });
  };
  EXPECT_R(div_s(1, S(2.0f), kRNE), 0u, kUF | kNX);
  EXPECT_R(div_s(1, S(2.0f), kRMM), 1u, kUF | kNX);
  EXPECT_R(div_s(1, S(2.0f), kRUP), 1u, kUF | kNX);
  EXPECT_R(div_s(1, S(2.0f), kRDN), 0u, kUF | kNX);
  EXPECT_R(div_s(1, S(-2.0f), kRDN), 0x80000001u, kUF | kNX);
  EXPECT_R(div_s(1, S(-2.0f), kRMM), 0x80000001u, kUF | kNX);
  EXPECT_R(div_s(1, S(-2.0f), kRNE), 0x80000000u, kUF | kNX);
  // 3 * min_subnormal / 2 = 1.5 units: RNE and RMM both give 2 units.
  EXPECT_R(div_s(3, S(2.0f), kRNE), 2u, kUF | kNX);
  EXPECT_R(div_s(3, S(2.0f), kRMM), 2u, kUF | kNX);
  EXPECT_R(div_s(3, S(2.0f), kRTZ), 1u, kUF | kNX);
  // 1/3 in every mode.
  EXPECT_R(div_s(S(1.0f), S(3.0f), kRNE), S(0x1.555556p-2f), kNX);
  EXPECT_R(div_s(S(1.0f), S(3.0f), kRMM), S(0x1.555556p-2f), kNX);
  EXPECT_R(div_s(S(1.0f), S(3.0f), kRTZ), S(0x1.555554p-2f), kNX);
  EXPECT_R(div_s(S(1.0f), S(3.0f), kRUP), S(0x1.555556p-2f), kNX);
  EXPECT_R(div_s(S(-1.0f), S(3.0f), kRUP), S(-0x1.555554p-2f), kNX);
  EXPECT_R(div_s(S(-1.0f), S(3.0f), kRDN), S(-0x1.555556p-2f), kNX);
  EXPECT_R(div_s(S(6.0f), S(3.0f), kRMM), S(2.0f), 0);
}

TEST(FpuRounding, Sqrt) {
  auto sq_s = [](uint32_t a, unsigned rm) {
    return r32([&](uint8_t& fl) { return fsqrt<F32>(a, rm, fl); });
  };
  auto sq_d = [](uint64_t a, unsigned rm) {
    return r64([&](uint8_t& fl) { return fsqrt<F64>(a, rm, fl); });
  };
  // sqrt(2) = 0x1.6a09e667f3bcc908...p0
  EXPECT_R(sq_s(S(2.0f), kRNE), S(0x1.6a09e6p0f), kNX);
  EXPECT_R(sq_s(S(2.0f), kRMM), S(0x1.6a09e6p0f), kNX);
  EXPECT_R(sq_s(S(2.0f), kRTZ), S(0x1.6a09e6p0f), kNX);
  EXPECT_R(sq_s(S(2.0f), kRUP), S(0x1.6a09e8p0f), kNX);
  EXPECT_R(sq_d(D(2.0), kRNE), D(0x1.6a09e667f3bcdp0), kNX);
  EXPECT_R(sq_d(D(2.0), kRMM), D(0x1.6a09e667f3bcdp0), kNX);
  EXPECT_R(sq_d(D(2.0), kRTZ), D(0x1.6a09e667f3bccp0), kNX);
  EXPECT_R(sq_d(D(2.0), kRDN), D(0x1.6a09e667f3bccp0), kNX);
  EXPECT_R(sq_d(D(9.0), kRMM), D(3.0), 0);
  EXPECT_R(sq_d(D(0x1p-1074), kRMM), D(0x1p-537), 0);  // subnormal input, exact
  EXPECT_R(sq_s(1, kRMM), S(0x1.6a09e6p-75f), kNX);    // sqrt(2^-149)
  for (unsigned rm : kAllModes) {
    SCOPED_TRACE(rm);
    EXPECT_R(sq_s(S(-1.0f), rm), kSQNaN, kNV);
    EXPECT_R(sq_s(S(-0.0f), rm), S(-0.0f), 0);
    EXPECT_R(sq_s(S(0.0f), rm), S(0.0f), 0);
    EXPECT_R(sq_s(kSInf, rm), kSInf, 0);
    EXPECT_R(sq_s(kSInf | 0x80000000, rm), kSQNaN, kNV);
    EXPECT_R(sq_s(1 | 0x80000000, rm), kSQNaN, kNV);  // negative subnormal
    EXPECT_R(sq_s(kSSNaN, rm), kSQNaN, kNV);
    EXPECT_R(sq_s(0xffc12345, rm), kSQNaN, 0);
    EXPECT_R(sq_d(D(-2.0), rm), kDQNaN, kNV);
    EXPECT_R(sq_d(D(-0.0), rm), D(-0.0), 0);
    EXPECT_R(sq_d(kDSNaN, rm), kDQNaN, kNV);
  }
}

TEST(FpuSoft, IntegerSquareRoot) {
  using soft::u128;
  bool inexact;
  EXPECT_EQ(soft::isqrt128(u128(1) << 126, inexact), uint64_t(1) << 63);
  EXPECT_FALSE(inexact);
  EXPECT_EQ(soft::isqrt128(~u128(0), inexact), ~uint64_t(0));
  EXPECT_TRUE(inexact);
  const uint64_t m = ~uint64_t(0);
  EXPECT_EQ(soft::isqrt128(u128(m) * m, inexact), m);
  EXPECT_FALSE(inexact);
  EXPECT_EQ(soft::isqrt128(u128(m) * m - 1, inexact), m - 1);
  EXPECT_TRUE(inexact);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; i++) {
    const uint64_t r = rng() | (uint64_t(1) << 63);
    const u128 sq = u128(r) * r;
    EXPECT_EQ(soft::isqrt128(sq, inexact), r);
    EXPECT_FALSE(inexact);
    EXPECT_EQ(soft::isqrt128(sq - 1, inexact), r - 1);
    EXPECT_TRUE(inexact);
    if (r != m) {
      EXPECT_EQ(soft::isqrt128(sq + 2 * u128(r), inexact), r);  // (r+1)^2 - 1
      EXPECT_TRUE(inexact);
    }
  }
}

// ---- fused multiply-add --------------------------------------------------------

TEST(FpuFma, SingleRounding) {
  // (1 + 2^-12)^2 - (1 + 2^-11) = 2^-24 exactly; an unfused sequence gives 0.
  const uint32_t a = S(0x1.001p0f), c = S(-0x1.002p0f);
  for (unsigned rm : kAllModes) {
    SCOPED_TRACE(rm);
    uint8_t fl = 0;
    EXPECT_EQ(fmadd<F32>(a, a, c, rm, fl), S(0x1p-24f));
    EXPECT_EQ(fl, 0);
  }
  const uint64_t ad = D(0x1.0000001p0), cd = D(-0x1.0000002p0);  // (1+2^-28)^2 - (1+2^-27)
  uint8_t fl = 0;
  EXPECT_EQ(fmadd<F64>(ad, ad, cd, kRNE, fl), D(0x1p-56));
  EXPECT_EQ(fl, 0);
  EXPECT_EQ(fmadd<F64>(ad, ad, cd, kRMM, fl), D(0x1p-56));
}

TEST(FpuFma, SignConventions) {
  const uint32_t two = S(2.0f), three = S(3.0f), one = S(1.0f);
  uint8_t fl = 0;
  EXPECT_EQ(fmadd<F32>(two, three, one, kRNE, fl, false, false), S(7.0f));  // fmadd
  EXPECT_EQ(fmadd<F32>(two, three, one, kRNE, fl, false, true), S(5.0f));   // fmsub
  EXPECT_EQ(fmadd<F32>(two, three, one, kRNE, fl, true, false), S(-5.0f));  // fnmsub
  EXPECT_EQ(fmadd<F32>(two, three, one, kRNE, fl, true, true), S(-7.0f));   // fnmadd
  EXPECT_EQ(fl, 0);
  const uint32_t z = S(0.0f), nz = S(-0.0f);
  for (unsigned rm : kAllModes) {
    SCOPED_TRACE(rm);
    const uint32_t sum_of_opposite_zeros = rm == kRDN ? nz : z;
    EXPECT_EQ(fmadd<F32>(z, one, nz, rm, fl), sum_of_opposite_zeros) << rm;  // +0 + -0
    EXPECT_EQ(fmadd<F32>(z, one, z, rm, fl, true, true), nz) << rm;          // -(+0) - (+0)
    EXPECT_EQ(fmadd<F32>(z, one, z, rm, fl, false, true), sum_of_opposite_zeros) << rm;
    EXPECT_EQ(fmadd<F32>(nz, one, nz, rm, fl), nz) << rm;
    // Exact cancellation of a nonzero product.
    EXPECT_EQ(fmadd<F32>(two, three, S(-6.0f), rm, fl), sum_of_opposite_zeros) << rm;
  }
  EXPECT_EQ(fl, 0);
  // The negation happens before the single rounding: -(1 + tiny) rounded
  // down is -(1 + ulp), not -(1 rounded down).
  EXPECT_EQ(fmadd<F32>(one, one, S(0x1p-30f), kRDN, fl, true, true), S(-0x1.000002p0f));
  EXPECT_EQ(fmadd<F32>(one, one, S(0x1p-30f), kRUP, fl, true, true), S(-1.0f));
  EXPECT_EQ(fmadd<F32>(one, one, S(0x1p-30f), kRDN, fl), S(1.0f));
}

TEST(FpuFma, RmmTies) {
  const uint32_t one = S(1.0f), t = S(0x1p-24f);
  auto f = [&](uint32_t a, uint32_t b, uint32_t c, unsigned rm) {
    return r32([&](uint8_t& fl) { return fmadd<F32>(a, b, c, rm, fl); });
  };
  EXPECT_R(f(one, one, t, kRNE), S(1.0f), kNX);
  EXPECT_R(f(one, one, t, kRMM), S(0x1.000002p0f), kNX);
  EXPECT_R(f(S(-1.0f), one, t ^ 0x80000000, kRMM), S(-0x1.000002p0f), kNX);
  // Product tie: (1 + 2^-12)^2 + 0.
  EXPECT_R(f(S(0x1.001p0f), S(0x1.001p0f), S(0.0f), kRMM), S(0x1.002002p0f), kNX);
  EXPECT_R(f(S(0x1.001p0f), S(0x1.001p0f), S(-0.0f), kRNE), S(0x1.002p0f), kNX);
  // Double: 1*1 + 2^-53.
  uint8_t fl = 0;
  EXPECT_EQ(fmadd<F64>(D(1.0), D(1.0), D(0x1p-53), kRMM, fl), D(0x1.0000000000001p0));
  EXPECT_EQ(fmadd<F64>(D(1.0), D(1.0), D(0x1p-53), kRNE, fl), D(1.0));
  EXPECT_EQ(fl, kNX);
}

TEST(FpuFma, InvalidCases) {
  const uint32_t inf = kSInf, zero = S(0.0f), one = S(1.0f);
  for (unsigned rm : kAllModes) {
    SCOPED_TRACE(rm);
    auto f = [&](uint32_t a, uint32_t b, uint32_t c) {
      return r32([&](uint8_t& fl) { return fmadd<F32>(a, b, c, rm, fl); });
    };
    EXPECT_R(f(inf, zero, kSQNaN), kSQNaN, kNV);  // inf * 0 + qNaN is invalid on RISC-V
    EXPECT_R(f(zero, inf, 0xffc00001), kSQNaN, kNV);
    EXPECT_R(f(inf, zero, one), kSQNaN, kNV);
    EXPECT_R(f(inf, one, inf ^ 0x80000000), kSQNaN, kNV);  // inf - inf
    EXPECT_R(f(inf, one, inf), inf, 0);
    EXPECT_R(f(one, one, kSSNaN), kSQNaN, kNV);
    EXPECT_R(f(kSQNaN, one, one), kSQNaN, 0);
    EXPECT_R(f(one, 0x7fc12345, one), kSQNaN, 0);
    EXPECT_R(f(one, one, inf ^ 0x80000000), inf ^ 0x80000000, 0);
    auto g = [&](uint64_t a, uint64_t b, uint64_t c) {
      return r64([&](uint8_t& fl) { return fmadd<F64>(a, b, c, rm, fl); });
    };
    EXPECT_R(g(kDInf, D(0.0), kDQNaN), kDQNaN, kNV);
    EXPECT_R(g(D(0.0), kDInf | (1ull << 63), D(1.0)), kDQNaN, kNV);
    EXPECT_R(g(D(1.0), kDSNaN, D(1.0)), kDQNaN, kNV);
  }
}

TEST(FpuFma, OverflowAndUnderflow) {
  uint8_t fl = 0;
  const uint32_t big = S(0x1p100f), tiny = S(0x1p-100f);
  EXPECT_EQ(fmadd<F32>(big, big, S(1.0f), kRNE, fl), kSInf);
  EXPECT_EQ(fl, kOF | kNX);
  fl = 0;
  EXPECT_EQ(fmadd<F32>(big, big, S(1.0f), kRTZ, fl), 0x7f7fffffu);
  EXPECT_EQ(fl, kOF | kNX);
  fl = 0;
  EXPECT_EQ(fmadd<F32>(tiny, tiny, S(0.0f), kRNE, fl), 0u);
  EXPECT_EQ(fl, kUF | kNX);
  fl = 0;
  EXPECT_EQ(fmadd<F32>(tiny, tiny, S(0.0f), kRUP, fl), 1u);
  EXPECT_EQ(fl, kUF | kNX);
  fl = 0;
  // The tiny product disappears into a large addend: only inexact.
  EXPECT_EQ(fmadd<F32>(tiny, tiny, S(1.0f), kRNE, fl), S(1.0f));
  EXPECT_EQ(fl, kNX);
}

// ---- every flag, zero signs, special values --------------------------------------

TEST(FpuFlags, EveryFlag) {
  // NV
  EXPECT_R(add_s(INFINITY, -INFINITY, kRNE), kSQNaN, kNV);
  EXPECT_R(mul_s(kSInf, S(0.0f), kRNE), kSQNaN, kNV);
  // DZ
  EXPECT_R(r32([](uint8_t& fl) { return fdiv<F32>(S(1.0f), S(0.0f), kRNE, fl); }), kSInf, kDZ);
  EXPECT_R(r32([](uint8_t& fl) { return fdiv<F32>(S(-1.0f), S(0.0f), kRNE, fl); }),
           kSInf | 0x80000000, kDZ);
  EXPECT_R(r32([](uint8_t& fl) { return fdiv<F32>(S(1.0f), S(-0.0f), kRMM, fl); }),
           kSInf | 0x80000000, kDZ);
  EXPECT_R(r32([](uint8_t& fl) { return fdiv<F32>(S(0.0f), S(0.0f), kRNE, fl); }), kSQNaN, kNV);
  EXPECT_R(r32([](uint8_t& fl) { return fdiv<F32>(kSInf, kSInf, kRNE, fl); }), kSQNaN, kNV);
  EXPECT_R(r32([](uint8_t& fl) { return fdiv<F32>(kSInf, S(0.0f), kRNE, fl); }), kSInf, 0);
  EXPECT_R(r32([](uint8_t& fl) { return fdiv<F32>(S(1.0f), kSInf, kRNE, fl); }), 0u, 0);
  // OF (with NX)
  EXPECT_R(mul_s(S(0x1p127f), S(2.0f), kRNE), kSInf, kOF | kNX);
  // UF (with NX)
  EXPECT_R(mul_s(S(0x1p-126f), S(0x1.8p-23f), kRNE), 2u, kUF | kNX);  // 1.5 units -> 2
  // Exact subnormal result: no UF.
  EXPECT_R(mul_s(S(0x1p-126f), S(0.5f), kRNE), 0x00400000u, 0);
  // NX alone
  EXPECT_R(add_s(1.0f, 0x1p-30f, kRNE), S(1.0f), kNX);
  // Accrual: flags are OR-ed, never cleared.
  uint8_t fl = kDZ;
  fadd<F32>(S(1.0f), S(0x1p-30f), kRTZ, fl);
  EXPECT_EQ(fl, kDZ | kNX);
}

TEST(FpuFlags, OverflowResultPerMode) {
  const uint32_t max = 0x7f7fffff;
  struct Case {
    unsigned rm;
    uint32_t pos, neg;
  } cases[] = {
      {kRNE, kSInf, kSInf | 0x80000000}, {kRTZ, max, max | 0x80000000},
      {kRDN, max, kSInf | 0x80000000},   {kRUP, kSInf, max | 0x80000000},
      {kRMM, kSInf, kSInf | 0x80000000},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.rm);
    EXPECT_R(mul_s(max, S(2.0f), c.rm), c.pos, kOF | kNX);
    EXPECT_R(mul_s(max, S(-2.0f), c.rm), c.neg, kOF | kNX);
  }
  // Overflow caused by rounding: max + half an ulp is a tie that rounds up.
  EXPECT_R(add_s(0x1.fffffep127f, 0x1p103f, kRNE), kSInf, kOF | kNX);
  EXPECT_R(add_s(0x1.fffffep127f, 0x1p103f, kRMM), kSInf, kOF | kNX);
  EXPECT_R(add_s(0x1.fffffep127f, 0x1p103f, kRTZ), max, kNX);
  EXPECT_R(add_s(0x1.fffffep127f, 0x1p102f, kRNE), max, kNX);
  EXPECT_R(add_s(0x1.fffffep127f, 0x1p102f, kRUP), kSInf, kOF | kNX);
}

TEST(FpuFlags, TininessAfterRounding) {
  // (1 - 2^-24) * 2^-126 = 0x1.fffffep-127 is tiny even after rounding to 24
  // bits; in the subnormal range it is a tie that rounds to 2^-126.
  EXPECT_R(mul_s(S(0x1.fffffep-1f), S(0x1p-126f), kRNE), 0x00800000u, kUF | kNX);
  EXPECT_R(mul_s(S(0x1.fffffep-1f), S(0x1p-126f), kRMM), 0x00800000u, kUF | kNX);
  EXPECT_R(mul_s(S(0x1.fffffep-1f), S(0x1p-126f), kRTZ), 0x007fffffu, kUF | kNX);
  // 2^-126 * (1 - 2^-25) rounds to 2^-126 at 24 bits: not tiny, no UF.
  auto nar = [](double d, unsigned rm) {
    return r32([&](uint8_t& fl) { return f64_to_f32(D(d), rm, fl); });
  };
  EXPECT_R(nar(0x1.ffffffp-127, kRNE), 0x00800000u, kNX);
  EXPECT_R(nar(0x1.ffffffp-127, kRMM), 0x00800000u, kNX);
  EXPECT_R(nar(0x1.ffffffp-127, kRUP), 0x00800000u, kNX);
  EXPECT_R(nar(0x1.ffffffp-127, kRTZ), 0x007fffffu, kUF | kNX);
  EXPECT_R(nar(0x1.ffffffp-127, kRDN), 0x007fffffu, kUF | kNX);
  EXPECT_R(nar(-0x1.ffffffp-127, kRDN), 0x80800000u, kNX);
  EXPECT_R(nar(-0x1.ffffffp-127, kRUP), 0x807fffffu, kUF | kNX);
  // Just below: 2^-126 * (1 - 2^-25 - 2^-40) is tiny in RNE.
  EXPECT_R(nar(0x1.fffffefffffp-127, kRNE), 0x00800000u, kUF | kNX);
}

TEST(FpuFlags, ZeroSigns) {
  for (unsigned rm : kAllModes) {
    SCOPED_TRACE(rm);
    const uint32_t z = rm == kRDN ? S(-0.0f) : S(0.0f);
    EXPECT_R(add_s(1.5f, -1.5f, rm), z, 0);
    EXPECT_R(add_s(0.0f, -0.0f, rm), z, 0);
    EXPECT_R(add_s(-0.0f, -0.0f, rm), S(-0.0f), 0);
    EXPECT_R(add_s(0.0f, 0.0f, rm), S(0.0f), 0);
    EXPECT_R(r32([&](uint8_t& fl) { return fsub<F32>(S(0.0f), S(0.0f), rm, fl); }), z, 0);
    EXPECT_R(r32([&](uint8_t& fl) { return fsub<F32>(S(-0.0f), S(0.0f), rm, fl); }), S(-0.0f), 0);
    EXPECT_R(mul_s(S(-0.0f), S(3.0f), rm), S(-0.0f), 0);
    EXPECT_R(add_s(-0.0f, 0x1p-149f, rm), 1u, 0);
  }
}

TEST(FpuNaN, Canonicalisation) {
  for (unsigned rm : kAllModes) {
    SCOPED_TRACE(rm);
    EXPECT_R(add_s(NAN, 1.0f, rm), kSQNaN, 0);
    EXPECT_R(r32([&](uint8_t& fl) { return fadd<F32>(0xffc12345, S(1.0f), rm, fl); }), kSQNaN, 0);
    EXPECT_R(r32([&](uint8_t& fl) { return fadd<F32>(S(1.0f), kSSNaN, rm, fl); }), kSQNaN, kNV);
    EXPECT_R(r32([&](uint8_t& fl) { return fmul<F32>(kSSNaN | 0x80000000, kSQNaN, rm, fl); }),
             kSQNaN, kNV);
    EXPECT_R(r32([&](uint8_t& fl) { return fdiv<F32>(kSQNaN, S(0.0f), rm, fl); }), kSQNaN, 0);
    EXPECT_R(r64([&](uint8_t& fl) { return fsub<F64>(0xfff8000000abcdefull, D(1.0), rm, fl); }),
             kDQNaN, 0);
    EXPECT_R(r64([&](uint8_t& fl) { return fmul<F64>(D(1.0), kDSNaN, rm, fl); }), kDQNaN, kNV);
    EXPECT_R(r64([&](uint8_t& fl) { return fdiv<F64>(kDInf, kDInf, rm, fl); }), kDQNaN, kNV);
  }
}

// ---- fmin / fmax, comparisons, fclass, sign injection -------------------------------

TEST(FpuMinMax, Rules) {
  uint8_t fl = 0;
  const uint32_t pz = S(0.0f), nz = S(-0.0f), one = S(1.0f), m1 = S(-1.0f);
  EXPECT_EQ(fmin<F32>(pz, nz, fl), nz);
  EXPECT_EQ(fmin<F32>(nz, pz, fl), nz);
  EXPECT_EQ(fmax<F32>(pz, nz, fl), pz);
  EXPECT_EQ(fmax<F32>(nz, pz, fl), pz);
  EXPECT_EQ(fmin<F32>(one, m1, fl), m1);
  EXPECT_EQ(fmax<F32>(one, m1, fl), one);
  EXPECT_EQ(fmin<F32>(kSInf | 0x80000000, m1, fl), kSInf | 0x80000000);
  EXPECT_EQ(fmax<F32>(kSInf, one, fl), kSInf);
  EXPECT_EQ(fmin<F32>(kSQNaN, one, fl), one);
  EXPECT_EQ(fmax<F32>(one, 0xffc12345, fl), one);
  EXPECT_EQ(fmin<F32>(kSQNaN, kSQNaN | 5, fl), kSQNaN);
  EXPECT_EQ(fl, 0);
  EXPECT_EQ(fmin<F32>(kSSNaN, one, fl), one);
  EXPECT_EQ(fl, kNV);
  fl = 0;
  EXPECT_EQ(fmax<F32>(m1, kSSNaN, fl), m1);
  EXPECT_EQ(fl, kNV);
  fl = 0;
  EXPECT_EQ(fmax<F32>(kSSNaN, kSQNaN, fl), kSQNaN);
  EXPECT_EQ(fl, kNV);
  fl = 0;
  EXPECT_EQ(fmin<F64>(D(-0.0), D(0.0), fl), D(-0.0));
  EXPECT_EQ(fmax<F64>(D(-0.0), D(0.0), fl), D(0.0));
  EXPECT_EQ(fmax<F64>(kDQNaN, D(-3.0), fl), D(-3.0));
  EXPECT_EQ(fmin<F64>(D(2.0), D(3.0), fl), D(2.0));
  EXPECT_EQ(fmin<F64>(0x7ff0000000000001ull, 0x7ff8000000000001ull, fl), kDQNaN);
  EXPECT_EQ(fl, kNV);
  fl = 0;
  EXPECT_EQ(fmin<F32>(1, 0x80000001, fl), 0x80000001u);  // subnormals
  EXPECT_EQ(fl, 0);
}

TEST(FpuCompare, QuietAndSignalling) {
  uint8_t fl = 0;
  const uint32_t one = S(1.0f), two = S(2.0f);
  EXPECT_TRUE(feq<F32>(one, one, fl));
  EXPECT_FALSE(feq<F32>(one, two, fl));
  EXPECT_TRUE(feq<F32>(S(0.0f), S(-0.0f), fl));
  EXPECT_TRUE(flt<F32>(one, two, fl));
  EXPECT_FALSE(flt<F32>(two, one, fl));
  EXPECT_FALSE(flt<F32>(S(-0.0f), S(0.0f), fl));
  EXPECT_TRUE(fle<F32>(S(-0.0f), S(0.0f), fl));
  EXPECT_TRUE(fle<F32>(one, one, fl));
  EXPECT_TRUE(flt<F32>(kSInf | 0x80000000, one, fl));
  EXPECT_EQ(fl, 0);
  EXPECT_FALSE(feq<F32>(kSQNaN, kSQNaN, fl));  // quiet: no flag
  EXPECT_EQ(fl, 0);
  EXPECT_FALSE(feq<F32>(kSSNaN, one, fl));  // sNaN: NV
  EXPECT_EQ(fl, kNV);
  fl = 0;
  EXPECT_FALSE(flt<F32>(kSQNaN, one, fl));  // signalling on any NaN
  EXPECT_EQ(fl, kNV);
  fl = 0;
  EXPECT_FALSE(fle<F32>(one, kSQNaN, fl));
  EXPECT_EQ(fl, kNV);
  fl = 0;
  EXPECT_TRUE(flt<F64>(D(-1.0), D(1.0), fl));
  EXPECT_FALSE(fle<F64>(kDQNaN, D(1.0), fl));
  EXPECT_EQ(fl, kNV);
  fl = 0;
  EXPECT_FALSE(feq<F64>(kDQNaN, D(1.0), fl));
  EXPECT_EQ(fl, 0);
  EXPECT_FALSE(feq<F64>(D(1.0), kDSNaN, fl));
  EXPECT_EQ(fl, kNV);
}

TEST(FpuClass, AllTenClasses) {
  EXPECT_EQ(fclass<F32>(S(-INFINITY)), 1u << 0);
  EXPECT_EQ(fclass<F32>(S(-1.0f)), 1u << 1);
  EXPECT_EQ(fclass<F32>(0x80000001), 1u << 2);
  EXPECT_EQ(fclass<F32>(S(-0.0f)), 1u << 3);
  EXPECT_EQ(fclass<F32>(S(0.0f)), 1u << 4);
  EXPECT_EQ(fclass<F32>(0x007fffff), 1u << 5);
  EXPECT_EQ(fclass<F32>(S(1.0f)), 1u << 6);
  EXPECT_EQ(fclass<F32>(kSInf), 1u << 7);
  EXPECT_EQ(fclass<F32>(kSSNaN), 1u << 8);
  EXPECT_EQ(fclass<F32>(0xff800001), 1u << 8);
  EXPECT_EQ(fclass<F32>(kSQNaN), 1u << 9);
  EXPECT_EQ(fclass<F32>(0xffffffff), 1u << 9);
  EXPECT_EQ(fclass<F32>(unbox_s(0x3f800000)), 1u << 9);  // unboxed -> canonical NaN
  EXPECT_EQ(fclass<F64>(D(-INFINITY)), 1u << 0);
  EXPECT_EQ(fclass<F64>(D(-2.0)), 1u << 1);
  EXPECT_EQ(fclass<F64>(0x800fffffffffffffull), 1u << 2);
  EXPECT_EQ(fclass<F64>(D(-0.0)), 1u << 3);
  EXPECT_EQ(fclass<F64>(0), 1u << 4);
  EXPECT_EQ(fclass<F64>(1), 1u << 5);
  EXPECT_EQ(fclass<F64>(D(1e300)), 1u << 6);
  EXPECT_EQ(fclass<F64>(kDInf), 1u << 7);
  EXPECT_EQ(fclass<F64>(kDSNaN), 1u << 8);
  EXPECT_EQ(fclass<F64>(kDQNaN), 1u << 9);
}

TEST(FpuSignInjection, RawBits) {
  EXPECT_EQ(fsgnj<F32>(0x7fc12345, S(-1.0f)), 0xffc12345u);  // payload kept
  EXPECT_EQ(fsgnjn<F32>(0x7f800001, S(1.0f)), 0xff800001u);  // sNaN not quietened
  EXPECT_EQ(fsgnjx<F32>(S(-2.0f), S(-1.0f)), S(2.0f));
  EXPECT_EQ(fsgnjx<F32>(S(-2.0f), S(1.0f)), S(-2.0f));
  EXPECT_EQ(fsgnjn<F32>(S(3.0f), S(3.0f)), S(-3.0f));   // fneg
  EXPECT_EQ(fsgnjx<F32>(S(-3.0f), S(-3.0f)), S(3.0f));  // fabs
  EXPECT_EQ(fsgnj<F64>(D(1.0), D(-0.0)), D(-1.0));
  EXPECT_EQ(fsgnjn<F64>(kDSNaN, kDSNaN), kDSNaN | (1ull << 63));
  EXPECT_EQ(fsgnjx<F64>(D(-5.0), D(-0.0)), D(5.0));
}

// ---- conversions ------------------------------------------------------------------

template <class F, class I>
std::pair<I, uint8_t> cvt(typename F::U a, unsigned rm) {
  uint8_t fl = 0;
  I v = to_int<F, I>(a, rm, fl);
  return {v, fl};
}
#define EXPECT_CVT(F, I, in, rm, val, flags)                        \
  do {                                                              \
    auto p_ = cvt<F, I>((in), (rm));                                \
    EXPECT_EQ(p_.first, I(val)) << #in << " rm=" << (rm);           \
    EXPECT_EQ(int(p_.second), int(flags)) << #in << " rm=" << (rm); \
  } while (0)

TEST(FpuConvert, FloatToInt32Saturation) {
  constexpr int32_t kMax = INT32_MAX, kMin = INT32_MIN;
  for (unsigned rm : kAllModes) {
    SCOPED_TRACE(rm);
    EXPECT_CVT(F32, int32_t, S(0x1p31f), rm, kMax, kNV);
    EXPECT_CVT(F32, int32_t, S(-0x1p31f), rm, kMin, 0);
    EXPECT_CVT(F32, int32_t, S(-0x1.000002p31f), rm, kMin, kNV);  // next float below -2^31
    EXPECT_CVT(F32, int32_t, S(0x1.fffffep30f), rm, 2147483520, 0);
    EXPECT_CVT(F32, int32_t, kSQNaN, rm, kMax, kNV);
    EXPECT_CVT(F32, int32_t, 0xffc00000, rm, kMax, kNV);  // negative NaN -> max too
    EXPECT_CVT(F32, int32_t, kSSNaN, rm, kMax, kNV);
    EXPECT_CVT(F32, int32_t, kSInf, rm, kMax, kNV);
    EXPECT_CVT(F32, int32_t, kSInf | 0x80000000, rm, kMin, kNV);
    EXPECT_CVT(F32, int32_t, S(-0.0f), rm, 0, 0);
    EXPECT_CVT(F32, int32_t, S(1e30f), rm, kMax, kNV);
    EXPECT_CVT(F64, int32_t, D(-2147483649.0), rm, kMin, kNV);
    EXPECT_CVT(F64, int32_t, D(2147483647.0), rm, kMax, 0);
    EXPECT_CVT(F64, int32_t, D(-2147483648.0), rm, kMin, 0);
  }
  // Values that are in range or not depending on the rounding.
  EXPECT_CVT(F64, int32_t, D(-2147483648.5), kRTZ, kMin, kNX);
  EXPECT_CVT(F64, int32_t, D(-2147483648.5), kRNE, kMin, kNX);  // tie to even
  EXPECT_CVT(F64, int32_t, D(-2147483648.5), kRUP, kMin, kNX);
  EXPECT_CVT(F64, int32_t, D(-2147483648.5), kRDN, kMin, kNV);
  EXPECT_CVT(F64, int32_t, D(-2147483648.5), kRMM, kMin, kNV);
  EXPECT_CVT(F64, int32_t, D(2147483647.5), kRTZ, kMax, kNX);
  EXPECT_CVT(F64, int32_t, D(2147483647.5), kRDN, kMax, kNX);
  EXPECT_CVT(F64, int32_t, D(2147483647.5), kRNE, kMax, kNV);
  EXPECT_CVT(F64, int32_t, D(2147483647.5), kRUP, kMax, kNV);
  EXPECT_CVT(F64, int32_t, D(2147483647.2), kRMM, kMax, kNX);
}

TEST(FpuConvert, FloatToUnsigned) {
  EXPECT_CVT(F32, uint32_t, S(-0.5f), kRTZ, 0, kNX);
  EXPECT_CVT(F32, uint32_t, S(-0.5f), kRUP, 0, kNX);
  EXPECT_CVT(F32, uint32_t, S(-0.5f), kRNE, 0, kNX);
  EXPECT_CVT(F32, uint32_t, S(-0.5f), kRDN, 0, kNV);
  EXPECT_CVT(F32, uint32_t, S(-0.5f), kRMM, 0, kNV);
  EXPECT_CVT(F32, uint32_t, S(-0.25f), kRMM, 0, kNX);
  for (unsigned rm : kAllModes) {
    SCOPED_TRACE(rm);
    EXPECT_CVT(F32, uint32_t, S(-1.0f), rm, 0, kNV);
    EXPECT_CVT(F32, uint32_t, S(-0.0f), rm, 0, 0);
    EXPECT_CVT(F32, uint32_t, S(0x1p32f), rm, UINT32_MAX, kNV);
    EXPECT_CVT(F32, uint32_t, S(0x1.fffffep31f), rm, 0xffffff00u, 0);
    EXPECT_CVT(F32, uint32_t, kSQNaN, rm, UINT32_MAX, kNV);
    EXPECT_CVT(F32, uint32_t, kSInf, rm, UINT32_MAX, kNV);
    EXPECT_CVT(F32, uint32_t, kSInf | 0x80000000, rm, 0, kNV);
    EXPECT_CVT(F64, uint32_t, D(4294967295.0), rm, UINT32_MAX, 0);
    EXPECT_CVT(F64, uint64_t, D(0x1p64), rm, UINT64_MAX, kNV);
    EXPECT_CVT(F64, uint64_t, D(0x1.fffffffffffffp63), rm, 0xfffffffffffff800ull, 0);
    EXPECT_CVT(F64, uint64_t, D(-1.0), rm, 0, kNV);
    EXPECT_CVT(F64, uint64_t, kDQNaN, rm, UINT64_MAX, kNV);
    EXPECT_CVT(F64, uint64_t, kDInf | (1ull << 63), rm, 0, kNV);
  }
  EXPECT_CVT(F64, uint32_t, D(4294967295.5), kRNE, UINT32_MAX, kNV);
  EXPECT_CVT(F64, uint32_t, D(4294967295.5), kRTZ, UINT32_MAX, kNX);
  EXPECT_CVT(F64, uint32_t, D(-0.9), kRUP, 0, kNX);
  EXPECT_CVT(F64, uint32_t, D(-0.9), kRTZ, 0, kNX);
  EXPECT_CVT(F64, uint32_t, D(-0.9), kRNE, 0, kNV);
}

TEST(FpuConvert, FloatToInt64) {
  for (unsigned rm : kAllModes) {
    SCOPED_TRACE(rm);
    EXPECT_CVT(F64, int64_t, D(0x1p63), rm, INT64_MAX, kNV);
    EXPECT_CVT(F64, int64_t, D(-0x1p63), rm, INT64_MIN, 0);
    EXPECT_CVT(F64, int64_t, D(-0x1.0000000000001p63), rm, INT64_MIN, kNV);
    EXPECT_CVT(F64, int64_t, D(0x1.fffffffffffffp62), rm, 0x7ffffffffffffc00ll, 0);
    EXPECT_CVT(F64, int64_t, kDQNaN, rm, INT64_MAX, kNV);
    EXPECT_CVT(F64, int64_t, kDInf | (1ull << 63), rm, INT64_MIN, kNV);
    EXPECT_CVT(F32, int64_t, S(-0x1p63f), rm, INT64_MIN, 0);
    EXPECT_CVT(F32, int64_t, S(0x1p63f), rm, INT64_MAX, kNV);
    EXPECT_CVT(F32, int64_t, 1, rm, rm == kRUP ? 1 : 0, kNX);  // smallest subnormal
    EXPECT_CVT(F32, int64_t, 0x80000001, rm, rm == kRDN ? -1 : 0, kNX);
  }
}

TEST(FpuConvert, FloatToIntRoundingModes) {
  struct Case {
    double in;
    int64_t rne, rtz, rdn, rup, rmm;
  } cases[] = {
      {2.5, 2, 2, 2, 3, 3},    {-2.5, -2, -2, -3, -2, -3}, {3.5, 4, 3, 3, 4, 4},
      {0.5, 0, 0, 0, 1, 1},    {-0.5, 0, 0, -1, 0, -1},    {0.3, 0, 0, 0, 1, 0},
      {-0.3, 0, 0, -1, 0, 0},  {1.7, 2, 1, 1, 2, 2},       {-1.7, -2, -1, -2, -1, -2},
      {2.4999, 2, 2, 2, 3, 2},
  };
  for (const auto& c : cases) {
    const int64_t want[] = {c.rne, c.rtz, c.rdn, c.rup, c.rmm};
    for (unsigned rm : kAllModes) {
      SCOPED_TRACE(rm);
      EXPECT_CVT(F64, int64_t, D(c.in), rm, want[rm], kNX);
      EXPECT_CVT(F64, int32_t, D(c.in), rm, want[rm], kNX);
      EXPECT_CVT(F32, int64_t, S(float(c.in)), rm, want[rm], kNX);
    }
  }
  EXPECT_CVT(F64, int64_t, D(-7.0), kRMM, -7, 0);
  for (unsigned rm : kAllModes) {
    SCOPED_TRACE(rm);
    EXPECT_CVT(F64, int64_t, 1, rm, rm == kRUP ? 1 : 0, kNX);  // 2^-1074
    EXPECT_CVT(F64, uint64_t, 1 | (1ull << 63), rm, 0, rm == kRDN ? kNV : kNX);
  }
}

TEST(FpuConvert, IntToFloat) {
  auto s64 = [](int64_t v, unsigned rm) {
    return r32([&](uint8_t& fl) { return from_i64<F32>(v, rm, fl); });
  };
  auto su64 = [](uint64_t v, unsigned rm) {
    return r32([&](uint8_t& fl) { return from_u64<F32>(v, rm, fl); });
  };
  auto d64 = [](int64_t v, unsigned rm) {
    return r64([&](uint8_t& fl) { return from_i64<F64>(v, rm, fl); });
  };
  auto du64 = [](uint64_t v, unsigned rm) {
    return r64([&](uint8_t& fl) { return from_u64<F64>(v, rm, fl); });
  };
  // 2^24 + 1: a tie between 2^24 (even) and 2^24 + 2.
  EXPECT_R(s64(16777217, kRNE), S(16777216.0f), kNX);
  EXPECT_R(s64(16777217, kRTZ), S(16777216.0f), kNX);
  EXPECT_R(s64(16777217, kRDN), S(16777216.0f), kNX);
  EXPECT_R(s64(16777217, kRUP), S(16777218.0f), kNX);
  EXPECT_R(s64(16777217, kRMM), S(16777218.0f), kNX);
  EXPECT_R(s64(-16777217, kRMM), S(-16777218.0f), kNX);
  EXPECT_R(s64(-16777217, kRDN), S(-16777218.0f), kNX);
  EXPECT_R(s64(-16777217, kRUP), S(-16777216.0f), kNX);
  EXPECT_R(s64(16777219, kRNE), S(16777220.0f), kNX);  // tie, odd below
  EXPECT_R(s64(16777216, kRMM), S(16777216.0f), 0);
  EXPECT_R(s64(0, kRDN), 0u, 0);  // +0 even when rounding down
  EXPECT_R(s64(INT64_MIN, kRNE), S(-0x1p63f), 0);
  EXPECT_R(s64(INT64_MAX, kRNE), S(0x1p63f), kNX);
  EXPECT_R(s64(INT64_MAX, kRTZ), S(0x1.fffffep62f), kNX);
  EXPECT_R(s64(-1, kRNE), S(-1.0f), 0);
  EXPECT_R(su64(UINT64_MAX, kRNE), S(0x1p64f), kNX);
  EXPECT_R(su64(UINT64_MAX, kRMM), S(0x1p64f), kNX);
  EXPECT_R(su64(UINT64_MAX, kRTZ), S(0x1.fffffep63f), kNX);
  EXPECT_R(su64(UINT64_MAX, kRDN), S(0x1.fffffep63f), kNX);
  EXPECT_R(su64(0xffffffffu, kRNE), S(0x1p32f), kNX);  // fcvt.s.wu of -1
  EXPECT_R(d64(INT64_MAX, kRNE), D(0x1p63), kNX);
  EXPECT_R(d64(INT64_MAX, kRTZ), D(0x1.fffffffffffffp62), kNX);
  EXPECT_R(d64((1ll << 53) + 1, kRNE), D(0x1p53), kNX);
  EXPECT_R(d64((1ll << 53) + 1, kRMM), D(0x1.0000000000001p53), kNX);
  EXPECT_R(d64(-((1ll << 53) + 1), kRMM), D(-0x1.0000000000001p53), kNX);
  EXPECT_R(d64(INT32_MIN, kRNE), D(-2147483648.0), 0);
  EXPECT_R(du64(UINT64_MAX, kRNE), D(0x1p64), kNX);
  EXPECT_R(du64(UINT64_MAX, kRTZ), D(0x1.fffffffffffffp63), kNX);
  EXPECT_R(du64(0xffffffffu, kRTZ), D(4294967295.0), 0);
}

TEST(FpuConvert, FloatToFloat) {
  auto nar = [](uint64_t d, unsigned rm) {
    return r32([&](uint8_t& fl) { return f64_to_f32(d, rm, fl); });
  };
  EXPECT_R(nar(D(1.0 + 0x1p-24), kRNE), S(1.0f), kNX);
  EXPECT_R(nar(D(1.0 + 0x1p-24), kRMM), S(0x1.000002p0f), kNX);
  EXPECT_R(nar(D(-1.0 - 0x1p-24), kRMM), S(-0x1.000002p0f), kNX);
  EXPECT_R(nar(D(1.0 + 0x1p-24), kRUP), S(0x1.000002p0f), kNX);
  EXPECT_R(nar(D(1.0 + 0x1p-25), kRMM), S(1.0f), kNX);
  EXPECT_R(nar(D(0.1), kRNE), S(0.1f), kNX);
  EXPECT_R(nar(D(0.1), kRTZ), S(0x1.99999ap-4f) - 1, kNX);
  EXPECT_R(nar(D(1e300), kRNE), kSInf, kOF | kNX);
  EXPECT_R(nar(D(1e300), kRTZ), 0x7f7fffffu, kOF | kNX);
  EXPECT_R(nar(D(-1e300), kRMM), kSInf | 0x80000000, kOF | kNX);
  EXPECT_R(nar(D(1e-300), kRNE), 0u, kUF | kNX);
  EXPECT_R(nar(D(1e-300), kRUP), 1u, kUF | kNX);
  EXPECT_R(nar(D(0x1p-149), kRMM), 1u, 0);  // exact subnormal
  EXPECT_R(nar(D(0x1p-150), kRMM), 1u, kUF | kNX);
  EXPECT_R(nar(D(0x1p-150), kRNE), 0u, kUF | kNX);
  EXPECT_R(nar(kDSNaN, kRNE), kSQNaN, kNV);
  EXPECT_R(nar(0xfff8000000000123ull, kRMM), kSQNaN, 0);
  EXPECT_R(nar(kDInf, kRTZ), kSInf, 0);  // infinity is exact
  EXPECT_R(nar(D(-0.0), kRMM), 0x80000000u, 0);
  auto wid = [](uint32_t s) { return r64([&](uint8_t& fl) { return f32_to_f64(s, fl); }); };
  EXPECT_R(wid(1), D(0x1p-149), 0);
  EXPECT_R(wid(S(-1.5f)), D(-1.5), 0);
  EXPECT_R(wid(kSSNaN), kDQNaN, kNV);
  EXPECT_R(wid(0xffc00001), kDQNaN, 0);
  EXPECT_R(wid(kSInf | 0x80000000), kDInf | (1ull << 63), 0);
}

// ---- fast path --------------------------------------------------------------------

TEST(FpuFastPath, SameResultsWhenNxAlreadySet) {
  // With NX accrued, RNE may use plain host arithmetic; it must not miss an
  // OF/UF/NV/DZ flag or a NaN canonicalisation.
  uint8_t fl = kNX;
  EXPECT_EQ(fmul<F32>(S(0x1p127f), S(2.0f), kRNE, fl), kSInf);
  EXPECT_EQ(fl, kNX | kOF);
  fl = kNX;
  EXPECT_EQ(fmul<F32>(S(0x1p-126f), S(0x1.8p-23f), kRNE, fl), 2u);
  EXPECT_EQ(fl, kNX | kUF);
  fl = kNX;
  EXPECT_EQ(fmul<F32>(S(0x1.fffffep-1f), S(0x1p-126f), kRNE, fl), 0x00800000u);
  EXPECT_EQ(fl, kNX | kUF);
  fl = kNX;
  EXPECT_EQ(fdiv<F64>(D(1.0), D(0.0), kRNE, fl), kDInf);
  EXPECT_EQ(fl, kNX | kDZ);
  fl = kNX;
  EXPECT_EQ(fsub<F64>(kDInf, kDInf, kRNE, fl), kDQNaN);
  EXPECT_EQ(fl, kNX | kNV);
  fl = kNX;
  EXPECT_EQ(fadd<F32>(0xffc00001, S(1.0f), kRNE, fl), kSQNaN);
  EXPECT_EQ(fl, kNX);
  fl = kNX;
  EXPECT_EQ(fsqrt<F64>(D(-4.0), kRNE, fl), kDQNaN);
  EXPECT_EQ(fl, kNX | kNV);
  fl = kNX;
  EXPECT_EQ(fmadd<F64>(kDInf, D(0.0), kDQNaN, kRNE, fl), kDQNaN);
  EXPECT_EQ(fl, kNX | kNV);
  fl = kNX;
  EXPECT_EQ(f64_to_f32(D(1e-40), kRNE, fl), S(1e-40f));
  EXPECT_EQ(fl, kNX | kUF);
  fl = kNX;
  EXPECT_EQ(fadd<F32>(S(1.0f), S(2.0f), kRNE, fl), S(3.0f));
  EXPECT_EQ(fl, kNX);
}

// ---- differential tests: dispatching operations against the software path -----------

template <class F>
class Gen {
 public:
  using U = typename F::U;
  explicit Gen(uint64_t seed) : rng_(seed) {}

  U bits() { return static_cast<U>(rng_()); }
  unsigned pick(unsigned n) { return static_cast<unsigned>(rng_() % n); }

  // A random value biased towards the interesting parts of the format.
  U value() {
    const U sign = pick(2) ? F::kSign : 0;
    switch (pick(12)) {
      case 0:
        return bits();
      case 1: {  // special values
        const U specials[] = {0,
                              F::kInf,
                              F::kCanonNaN,
                              F::kExpMask | 1,
                              F::kExpMask | F::kFracMask,
                              F::kMaxFinite,
                              F::kMinNormal,
                              1,
                              F::kMinNormal - 1,
                              from_host<F>(1.0),
                              from_host<F>(2.0),
                              from_host<F>(0.5)};
        return sign | specials[pick(std::size(specials))];
      }
      case 2:  // subnormal
        return sign | (bits() & F::kFracMask);
      case 3:  // near the bottom of the normal range
        return sign | (U(1 + pick(40)) << F::kFracBits) | (bits() & F::kFracMask);
      case 4:  // near the top
        return sign | (U((1u << F::kExpBits) - 2 - pick(40)) << F::kFracBits) |
               (bits() & F::kFracMask);
      case 5:  // few significant bits (exact results, ties)
        return sign | (U(F::kBias - 20 + pick(40)) << F::kFracBits) |
               (bits() & F::kFracMask & ~(F::kFracMask >> pick(F::kFracBits + 1)));
      case 6:  // many trailing ones
        return sign | (U(F::kBias - 20 + pick(40)) << F::kFracBits) |
               (F::kFracMask >> pick(F::kFracBits + 1));
      default:  // moderate exponents
        return sign | (U(F::kBias - 30 + pick(60)) << F::kFracBits) | (bits() & F::kFracMask);
    }
  }
  // A second operand related to the first: close in value (cancellation,
  // ties), or independent.
  U related(U a) {
    switch (pick(4)) {
      case 0:
        return a ^ F::kSign ^ (bits() & 7);  // near -a
      case 1:
        return a + (U(pick(64)) << pick(F::kFracBits)) - 1;  // near a
      case 2:
        return (a & ~F::kExpMask) | ((U(pick(1u << F::kExpBits))) << F::kFracBits);
      default:
        return value();
    }
  }

 private:
  std::mt19937_64 rng_;
};

template <class F>
std::string hex(typename F::U v) {
  char buf[32];
  snprintf(buf, sizeof buf, "0x%0*llx", int(sizeof(v) * 2), static_cast<unsigned long long>(v));
  return buf;
}

constexpr int kRandomCases = 60000;

// Runs `ref` (software) and `op` (dispatching) on the same inputs from clear
// flags and from NX (fast path), for the four host rounding modes and RMM.
template <class F, class Ref, class Op>
void differential(const char* what, int n, uint64_t seed, int arity, Ref ref, Op op) {
  using U = typename F::U;
  Gen<F> g(seed);
  int failures = 0;
  for (int i = 0; i < n && failures < 10; i++) {
    const U a = g.value();
    const U b = arity >= 2 ? g.related(a) : 0;
    U c = arity >= 3 ? g.value() : 0;
    if (arity >= 3 && g.pick(2)) {  // c close to -(a*b): cancellation in fma
      uint8_t f = 0;
      c = soft::mul<F>(a, b, g.pick(5), f) ^ F::kSign;
      c += static_cast<U>(g.pick(5)) - 2;
    }
    for (unsigned rm : kAllModes) {
      SCOPED_TRACE(rm);
      for (uint8_t start : {uint8_t(0), kNX}) {
        uint8_t fr = start, fo = start;
        const U want = ref(a, b, c, rm, fr);
        const U got = op(a, b, c, rm, fo);
        if (want != got || fr != fo) {
          ADD_FAILURE() << what << " a=" << hex<F>(a) << " b=" << hex<F>(b) << " c=" << hex<F>(c)
                        << " rm=" << rm << " start=" << int(start) << ": soft " << hex<F>(want)
                        << " flags " << int(fr) << ", dispatch " << hex<F>(got) << " flags "
                        << int(fo);
          failures++;
        }
      }
    }
  }
}

template <class F>
void differential_all(uint64_t seed) {
  using U = typename F::U;
  differential<F>(
      "add", kRandomCases, seed + 1, 2,
      [](U a, U b, U, unsigned rm, uint8_t& fl) { return soft::add<F>(a, b, rm, fl); },
      [](U a, U b, U, unsigned rm, uint8_t& fl) { return fadd<F>(a, b, rm, fl); });
  differential<F>(
      "sub", kRandomCases, seed + 2, 2,
      [](U a, U b, U, unsigned rm, uint8_t& fl) { return soft::sub<F>(a, b, rm, fl); },
      [](U a, U b, U, unsigned rm, uint8_t& fl) { return fsub<F>(a, b, rm, fl); });
  differential<F>(
      "mul", kRandomCases, seed + 3, 2,
      [](U a, U b, U, unsigned rm, uint8_t& fl) { return soft::mul<F>(a, b, rm, fl); },
      [](U a, U b, U, unsigned rm, uint8_t& fl) { return fmul<F>(a, b, rm, fl); });
  differential<F>(
      "div", kRandomCases, seed + 4, 2,
      [](U a, U b, U, unsigned rm, uint8_t& fl) { return soft::div<F>(a, b, rm, fl); },
      [](U a, U b, U, unsigned rm, uint8_t& fl) { return fdiv<F>(a, b, rm, fl); });
  differential<F>(
      "sqrt", kRandomCases, seed + 5, 1,
      [](U a, U, U, unsigned rm, uint8_t& fl) { return soft::sqrt<F>(a, rm, fl); },
      [](U a, U, U, unsigned rm, uint8_t& fl) { return fsqrt<F>(a, rm, fl); });
  differential<F>(
      "fma", kRandomCases, seed + 6, 3,
      [](U a, U b, U c, unsigned rm, uint8_t& fl) { return soft::fma<F>(a, b, c, rm, fl); },
      [](U a, U b, U c, unsigned rm, uint8_t& fl) { return fmadd<F>(a, b, c, rm, fl); });
  differential<F>(
      "fnmadd", kRandomCases / 4, seed + 7, 3,
      [](U a, U b, U c, unsigned rm, uint8_t& fl) {
        return soft::fma<F>(a ^ F::kSign, b, c ^ F::kSign, rm, fl);
      },
      [](U a, U b, U c, unsigned rm, uint8_t& fl) {
        return fmadd<F>(a, b, c, rm, fl, true, true);
      });
}

TEST(FpuDifferential, Single) { differential_all<F32>(100); }
TEST(FpuDifferential, Double) { differential_all<F64>(200); }

TEST(FpuDifferential, Narrowing) {
  differential<F64>(
      "f64_to_f32", kRandomCases, 300, 1,
      [](uint64_t a, uint64_t, uint64_t, unsigned rm, uint8_t& fl) -> uint64_t {
        return soft::convert<F32, F64>(a, rm, fl);
      },
      [](uint64_t a, uint64_t, uint64_t, unsigned rm, uint8_t& fl) -> uint64_t {
        return f64_to_f32(a, rm, fl);
      });
  // Doubles around the float range specifically.
  Gen<F64> g(301);
  for (int i = 0; i < kRandomCases; i++) {
    const uint64_t a =
        (g.bits() & 0x800fffffffffffffull) | (uint64_t(1023 - 160 + g.pick(300)) << 52);
    for (unsigned rm : kAllModes) {
      SCOPED_TRACE(rm);
      for (uint8_t start : {uint8_t(0), kNX}) {
        uint8_t fr = start, fo = start;
        ASSERT_EQ((soft::convert<F32, F64>(a, rm, fr)), f64_to_f32(a, rm, fo))
            << hex<F64>(a) << " rm " << rm;
        ASSERT_EQ(fr, fo) << hex<F64>(a) << " rm " << rm;
      }
    }
  }
}

// Conversions to integers and back are all software; check them against
// host arithmetic where the host has an exact answer: RTZ truncation of
// in-range values and round-trips of integers.
TEST(FpuDifferential, IntConversionsAgainstHost) {
  Gen<F64> g(400);
  for (int i = 0; i < kRandomCases; i++) {
    const uint64_t a = g.value();
    const double d = to_host<F64>(a);
    uint8_t fl = 0;
    const int64_t v = to_int<F64, int64_t>(a, kRTZ, fl);
    if (d == d && d >= -0x1p63 && d < 0x1p63) {
      EXPECT_EQ(v, static_cast<int64_t>(d)) << hex<F64>(a);
      EXPECT_EQ(fl, static_cast<double>(static_cast<int64_t>(d)) == d ? 0 : kNX) << hex<F64>(a);
    } else {
      EXPECT_EQ(fl, kNV) << hex<F64>(a);
    }
    const int64_t iv = static_cast<int64_t>(g.bits()) >> g.pick(64);
    uint8_t f2 = 0;
    EXPECT_EQ(from_i64<F64>(iv, kRNE, f2), from_host<F64>(static_cast<double>(iv))) << iv;
    EXPECT_EQ(from_i64<F32>(iv, kRNE, f2), from_host<F32>(static_cast<float>(iv))) << iv;
    const uint64_t uv = g.bits() >> g.pick(64);
    EXPECT_EQ(from_u64<F64>(uv, kRNE, f2), from_host<F64>(static_cast<double>(uv))) << uv;
    EXPECT_EQ(from_u64<F32>(uv, kRNE, f2), from_host<F32>(static_cast<float>(uv))) << uv;
    // Round trip: an integer converted exactly converts back exactly.
    uint8_t f3 = 0;
    const int64_t small = iv >> 11;
    EXPECT_EQ((to_int<F64, int64_t>(from_i64<F64>(small, kRMM, f3), kRMM, f3)), small);
    EXPECT_EQ(f3, 0);
  }
}

}  // namespace
