// IEEE-754 binary32/binary64 arithmetic with RISC-V semantics (F and D).
//
// Pure functions on raw bit patterns, no Hart dependency. Every operation
// takes a resolved rounding mode (kRNE..kRMM, never 5..7: the caller rejects
// reserved and dynamic modes) and ORs the exception flags it raises into
// `fl` (the fflags bits NV/DZ/OF/UF/NX). Results follow the RISC-V rules:
// NaN results are the canonical NaN, tininess is detected after rounding,
// float->int conversions saturate, fmin/fmax are IEEE 754-2019
// minimumNumber/maximumNumber with -0 < +0.
//
// Three ways to compute one result, all giving identical bits and flags:
//  * fast path: rounding mode RNE and NX already set in `fl` (the usual state
//    of FP-heavy code): plain host arithmetic in the host's default
//    environment; taken only when the result is a normal finite number, for
//    which NX is the only flag the operation can raise;
//  * host path (x86-64): RNE/RTZ/RDN/RUP via SSE with MXCSR loaded and read
//    around the instruction inside one asm statement, so the compiler can
//    neither fold nor move the arithmetic across the mode change. MXCSR is
//    left with round-to-nearest and no FTZ/DAZ afterwards;
//  * software (namespace soft): exact integer arithmetic and one rounding
//    step; used for RMM (no host mode), on hosts without SSE/FMA, and as the
//    reference the unit tests check the host path against.
//
// Assumption: the calling thread runs with the default host FP environment
// (round to nearest, FTZ/DAZ off), as every C++ program starts. Do not build
// this with -ffast-math. No special flags (-frounding-math) are needed: all
// non-default-mode arithmetic is inside asm statements.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

// RV_FPU_HOST: use the host SSE unit (define it to 0 to force software).
#ifndef RV_FPU_HOST
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RV_FPU_HOST 1
#else
#define RV_FPU_HOST 0
#endif
#endif

namespace rv64::fpu {

// fflags bits.
inline constexpr uint8_t kNX = 1, kUF = 2, kOF = 4, kDZ = 8, kNV = 16;
// Rounding modes (the rm field / frm). 5 and 6 are reserved.
inline constexpr unsigned kRNE = 0, kRTZ = 1, kRDN = 2, kRUP = 3, kRMM = 4, kDYN = 7;

// Describes a binary interchange format.
template <class UT, class HT, int E, int M>
struct Format {
  using U = UT;  // raw bits
  using H = HT;  // host type with the same format
  static constexpr int kBits = E + M + 1, kExpBits = E, kFracBits = M, kPrec = M + 1;
  static constexpr int kBias = (1 << (E - 1)) - 1, kEmin = 1 - kBias, kEmax = kBias;
  static constexpr U kSign = U(1) << (E + M);
  static constexpr U kExpMask = ((U(1) << E) - 1) << M;
  static constexpr U kFracMask = (U(1) << M) - 1;
  static constexpr U kQuiet = U(1) << (M - 1);
  static constexpr U kInf = kExpMask;
  static constexpr U kCanonNaN = kExpMask | kQuiet;
  static constexpr U kMaxFinite = kExpMask - 1;
  static constexpr U kMinNormal = U(1) << M;
  static_assert(sizeof(U) == sizeof(H) && std::numeric_limits<H>::is_iec559);
};
using F32 = Format<uint32_t, float, 8, 23>;
using F64 = Format<uint64_t, double, 11, 52>;

// ---- classification on raw bits --------------------------------------------

template <class F>
constexpr bool sign_of(typename F::U a) {
  return (a & F::kSign) != 0;
}
template <class F>
constexpr bool is_nan(typename F::U a) {
  return (a & ~F::kSign) > F::kExpMask;
}
template <class F>
constexpr bool is_snan(typename F::U a) {
  return is_nan<F>(a) && !(a & F::kQuiet);
}
template <class F>
constexpr bool is_inf(typename F::U a) {
  return (a & ~F::kSign) == F::kExpMask;
}
template <class F>
constexpr bool is_zero(typename F::U a) {
  return (a & ~F::kSign) == 0;
}
template <class F>
constexpr bool is_subnormal(typename F::U a) {
  return (a & F::kExpMask) == 0 && (a & F::kFracMask) != 0;
}

template <class F>
inline typename F::H to_host(typename F::U a) {
  return std::bit_cast<typename F::H>(a);
}
template <class F>
inline typename F::U from_host(typename F::H v) {
  return std::bit_cast<typename F::U>(v);
}

// ---- NaN boxing of singles in 64-bit f registers ----------------------------

// A single written to an f register: upper 32 bits all ones.
constexpr uint64_t box_s(uint32_t v) { return 0xffffffff00000000ull | v; }
// A single read from an f register: the canonical NaN unless properly boxed.
constexpr uint32_t unbox_s(uint64_t v) {
  return (v >> 32) == 0xffffffffu ? static_cast<uint32_t>(v) : F32::kCanonNaN;
}

// ============================================================================
// Software implementation: exact integer arithmetic, one final rounding.
// ============================================================================
namespace soft {

using u128 = unsigned __int128;

inline int clz128(u128 x) {
  const auto hi = static_cast<uint64_t>(x >> 64);
  return hi ? std::countl_zero(hi) : 64 + std::countl_zero(static_cast<uint64_t>(x));
}
// x >> d with every shifted-out bit OR-ed into bit 0 ("jamming").
inline u128 shr_jam(u128 x, int d) {
  if (d <= 0) return x;
  if (d >= 128) return x != 0;
  return (x >> d) | static_cast<u128>((x << (128 - d)) != 0);
}

// A finite nonzero value: (-1)^sign * sig * 2^(exp - 63), bit 63 of sig set.
struct Num {
  bool sign;
  int exp;
  uint64_t sig;
};

template <class F>
inline Num unpack(typename F::U a) {
  Num n;
  n.sign = sign_of<F>(a);
  const int e = static_cast<int>((a & F::kExpMask) >> F::kFracBits);
  const uint64_t f = a & F::kFracMask;
  if (e == 0) {
    const int lz = std::countl_zero(f);
    n.sig = f << lz;
    n.exp = F::kEmin - F::kFracBits + 63 - lz;
  } else {
    n.sig = (f | (uint64_t(1) << F::kFracBits)) << (63 - F::kFracBits);
    n.exp = e - F::kBias;
  }
  return n;
}

// Whether to add one unit in the last kept place. lsb: the last kept bit;
// rnd: the first dropped bit; sticky: any later dropped bit.
inline bool round_up(bool sign, bool lsb, bool rnd, bool sticky, unsigned rm) {
  switch (rm) {
    case kRNE:
      return rnd && (sticky || lsb);
    case kRTZ:
      return false;
    case kRDN:
      return sign && (rnd || sticky);
    case kRUP:
      return !sign && (rnd || sticky);
    default:
      return rnd;  // kRMM: ties away from zero
  }
}

template <class F>
inline typename F::U overflow_result(bool sign, unsigned rm) {
  const bool to_inf = rm == kRNE || rm == kRMM || (rm == kRUP && !sign) || (rm == kRDN && sign);
  return (sign ? F::kSign : 0) | (to_inf ? F::kInf : F::kMaxFinite);
}

// Rounds (-1)^sign * sig * 2^(exp-63) to format F. sig must have bit 63 set;
// its bit 0 may be a sticky bit standing for anything nonzero below it.
// Raises NX, UF (tiny after rounding and inexact) and OF.
template <class F>
inline typename F::U round_pack(bool sign, int exp, uint64_t sig, unsigned rm, uint8_t& fl) {
  using U = typename F::U;
  constexpr int kShift = 64 - F::kPrec;  // bits dropped from a normal result
  if (exp > F::kEmax) {
    fl |= kOF | kNX;
    return overflow_result<F>(sign, rm);
  }
  int shift = kShift;
  bool tiny = false;
  if (exp < F::kEmin) {
    if (exp < F::kEmin - 1) {
      tiny = true;
    } else {
      // Just below 2^emin: tiny unless rounding to full precision with an
      // unbounded exponent carries up to 2^emin.
      const uint64_t kept = sig >> kShift;
      const bool rnd = (sig >> (kShift - 1)) & 1;
      const bool sticky = (sig & ((uint64_t(1) << (kShift - 1)) - 1)) != 0;
      tiny = !(kept == (uint64_t(1) << F::kPrec) - 1 && round_up(sign, kept & 1, rnd, sticky, rm));
    }
    shift += F::kEmin - exp;
  }
  uint64_t kept;
  bool rnd, sticky;
  if (shift < 64) {
    kept = sig >> shift;
    rnd = (sig >> (shift - 1)) & 1;
    sticky = (sig & ((uint64_t(1) << (shift - 1)) - 1)) != 0;
  } else if (shift == 64) {
    kept = 0;
    rnd = sig >> 63;
    sticky = (sig << 1) != 0;
  } else {
    kept = 0;
    rnd = false;
    sticky = sig != 0;
  }
  const bool inexact = rnd || sticky;
  kept += round_up(sign, kept & 1, rnd, sticky, rm);
  if (inexact) fl |= tiny ? (kNX | kUF) : kNX;
  const U s = sign ? F::kSign : 0;
  // A subnormal that rounds up to 2^emin carries into the exponent field.
  if (exp < F::kEmin) return s | static_cast<U>(kept);
  const U bits = (static_cast<U>(exp + F::kBias - 1) << F::kFracBits) + static_cast<U>(kept);
  if ((bits & F::kExpMask) == F::kExpMask) {
    fl |= kOF | kNX;
    return overflow_result<F>(sign, rm);
  }
  return s | bits;
}

template <class F>
inline typename F::U nan_result(typename F::U a, typename F::U b, uint8_t& fl) {
  if (is_snan<F>(a) || is_snan<F>(b)) fl |= kNV;
  return F::kCanonNaN;
}

// Rounds (-1)^sa*A*2^ae + (-1)^sb*B*2^be, where A and B are nonzero with
// their leading one at bit 125 and bit 0 clear.
template <class F>
inline typename F::U sum(bool sa, u128 A, int ae, bool sb, u128 B, int be, unsigned rm,
                         uint8_t& fl) {
  if (be > ae || (be == ae && B > A)) {
    std::swap(sa, sb);
    std::swap(A, B);
    std::swap(ae, be);
  }
  B = shr_jam(B, ae - be);
  u128 S = sa == sb ? A + B : A - B;
  if (S == 0) return rm == kRDN ? F::kSign : 0;  // exact cancellation
  const int lz = clz128(S);
  S <<= lz;
  const uint64_t sig = static_cast<uint64_t>(S >> 64) | (static_cast<uint64_t>(S) != 0);
  return round_pack<F>(sa, ae - lz + 127, sig, rm, fl);
}

template <class F>
[[gnu::noinline]] inline typename F::U add(typename F::U a, typename F::U b, unsigned rm,
                                           uint8_t& fl) {
  if (is_nan<F>(a) || is_nan<F>(b)) return nan_result<F>(a, b, fl);
  if (is_inf<F>(a)) {
    if (is_inf<F>(b) && sign_of<F>(a) != sign_of<F>(b)) {
      fl |= kNV;
      return F::kCanonNaN;
    }
    return a;
  }
  if (is_inf<F>(b)) return b;
  if (is_zero<F>(a)) {
    if (is_zero<F>(b)) return sign_of<F>(a) == sign_of<F>(b) ? a : (rm == kRDN ? F::kSign : 0);
    return b;
  }
  if (is_zero<F>(b)) return a;
  const Num x = unpack<F>(a), y = unpack<F>(b);
  return sum<F>(x.sign, u128(x.sig) << 62, x.exp - 125, y.sign, u128(y.sig) << 62, y.exp - 125, rm,
                fl);
}

template <class F>
inline typename F::U sub(typename F::U a, typename F::U b, unsigned rm, uint8_t& fl) {
  return add<F>(a, b ^ F::kSign, rm, fl);
}

template <class F>
[[gnu::noinline]] inline typename F::U mul(typename F::U a, typename F::U b, unsigned rm,
                                           uint8_t& fl) {
  using U = typename F::U;
  if (is_nan<F>(a) || is_nan<F>(b)) return nan_result<F>(a, b, fl);
  const U s = (a ^ b) & F::kSign;
  if (is_inf<F>(a) || is_inf<F>(b)) {
    if (is_zero<F>(a) || is_zero<F>(b)) {
      fl |= kNV;
      return F::kCanonNaN;
    }
    return s | F::kInf;
  }
  if (is_zero<F>(a) || is_zero<F>(b)) return s;
  const Num x = unpack<F>(a), y = unpack<F>(b);
  u128 P = u128(x.sig) * y.sig;
  const int lz = clz128(P);
  P <<= lz;
  const uint64_t sig = static_cast<uint64_t>(P >> 64) | (static_cast<uint64_t>(P) != 0);
  return round_pack<F>(s != 0, x.exp + y.exp + 1 - lz, sig, rm, fl);
}

template <class F>
[[gnu::noinline]] inline typename F::U div(typename F::U a, typename F::U b, unsigned rm,
                                           uint8_t& fl) {
  using U = typename F::U;
  if (is_nan<F>(a) || is_nan<F>(b)) return nan_result<F>(a, b, fl);
  const U s = (a ^ b) & F::kSign;
  if (is_inf<F>(a)) {
    if (is_inf<F>(b)) {
      fl |= kNV;
      return F::kCanonNaN;
    }
    return s | F::kInf;
  }
  if (is_inf<F>(b)) return s;
  if (is_zero<F>(b)) {
    if (is_zero<F>(a)) {
      fl |= kNV;
      return F::kCanonNaN;
    }
    fl |= kDZ;
    return s | F::kInf;
  }
  if (is_zero<F>(a)) return s;
  const Num x = unpack<F>(a), y = unpack<F>(b);
  const u128 N = u128(x.sig) << 64;
  const u128 Q = N / y.sig;  // in (2^63, 2^65)
  const bool rem = N % y.sig != 0;
  uint64_t sig;
  int e;
  if (Q >> 64) {
    sig = static_cast<uint64_t>(Q >> 1) | static_cast<uint64_t>(Q & 1);
    e = x.exp - y.exp;
  } else {
    sig = static_cast<uint64_t>(Q);
    e = x.exp - y.exp - 1;
  }
  return round_pack<F>(s != 0, e, sig | rem, rm, fl);
}

// floor(sqrt(x)) for x in [2^126, 2^128), and whether it is inexact. A
// double estimate (good to ~2^-52 relative, i.e. within 2^12) refined by
// one Newton step (error now below 1) and an exact integer fix-up.
inline uint64_t isqrt128(u128 x, bool& inexact) {
  const double est = std::sqrt(static_cast<double>(x));
  uint64_t r = est >= 0x1p64 ? ~uint64_t(0) : static_cast<uint64_t>(est);
  r = static_cast<uint64_t>(std::min<u128>((u128(r) + x / r) / 2, ~uint64_t(0)));
  while (u128(r) * r > x) r--;
  while (r != ~uint64_t(0) && u128(r + 1) * (r + 1) <= x) r++;
  inexact = u128(r) * r != x;
  return r;
}

template <class F>
[[gnu::noinline]] inline typename F::U sqrt(typename F::U a, unsigned rm, uint8_t& fl) {
  if (is_nan<F>(a)) return nan_result<F>(a, a, fl);
  if (is_zero<F>(a)) return a;
  if (sign_of<F>(a)) {
    fl |= kNV;
    return F::kCanonNaN;
  }
  if (is_inf<F>(a)) return a;
  const Num x = unpack<F>(a);
  // value = sig * 2^E; make the radicand's exponent even.
  const int E = x.exp - 63;
  const bool odd = (E & 1) != 0;
  const u128 R = u128(x.sig) << (odd ? 63 : 64);
  const int k = (E - (odd ? 63 : 64)) / 2;  // exact: the numerator is even
  bool inexact;
  const uint64_t root = isqrt128(R, inexact);  // in [2^63, 2^64)
  return round_pack<F>(false, k + 63, root | inexact, rm, fl);
}

// Fused a*b + c with one rounding.
template <class F>
[[gnu::noinline]] inline typename F::U fma(typename F::U a, typename F::U b, typename F::U c,
                                           unsigned rm, uint8_t& fl) {
  using U = typename F::U;
  const bool inf_times_zero = (is_inf<F>(a) && is_zero<F>(b)) || (is_zero<F>(a) && is_inf<F>(b));
  if (is_nan<F>(a) || is_nan<F>(b) || is_nan<F>(c)) {
    if (is_snan<F>(a) || is_snan<F>(b) || is_snan<F>(c) || inf_times_zero) fl |= kNV;
    return F::kCanonNaN;
  }
  if (inf_times_zero) {
    fl |= kNV;
    return F::kCanonNaN;
  }
  const bool sp = sign_of<F>(a) != sign_of<F>(b);
  if (is_inf<F>(a) || is_inf<F>(b)) {
    if (is_inf<F>(c) && sign_of<F>(c) != sp) {
      fl |= kNV;
      return F::kCanonNaN;
    }
    return (sp ? F::kSign : 0) | F::kInf;
  }
  if (is_inf<F>(c)) return c;
  if (is_zero<F>(a) || is_zero<F>(b)) {
    if (is_zero<F>(c) && sign_of<F>(c) != sp) return rm == kRDN ? F::kSign : U(0);
    return c;  // exact: 0 + c, or two zeros of the same sign
  }
  const Num x = unpack<F>(a), y = unpack<F>(b);
  u128 P = u128(x.sig) * y.sig;  // leading one at bit 126 or 127
  int pe = x.exp + y.exp - 126;
  const int s = 2 - clz128(P);  // move the leading one to bit 125
  P = shr_jam(P, s);            // exact: the low bits of P are zero
  pe += s;
  if (is_zero<F>(c)) {
    const uint64_t sig = static_cast<uint64_t>(P >> 62) | ((P & ((u128(1) << 62) - 1)) != 0);
    return round_pack<F>(sp, pe + 125, sig, rm, fl);
  }
  const Num z = unpack<F>(c);
  return sum<F>(sp, P, pe, z.sign, u128(z.sig) << 62, z.exp - 125, rm, fl);
}

// Float -> integer of type I (int32_t, uint32_t, int64_t, uint64_t),
// rounding with rm; out of range or NaN saturates and raises NV only.
template <class F, class I>
inline I to_int(typename F::U a, unsigned rm, uint8_t& fl) {
  using UI = std::make_unsigned_t<I>;
  constexpr I kMax = std::numeric_limits<I>::max(), kMin = std::numeric_limits<I>::min();
  if (is_nan<F>(a)) {
    fl |= kNV;
    return kMax;
  }
  const bool neg = sign_of<F>(a);
  if (is_inf<F>(a)) {
    fl |= kNV;
    return neg ? kMin : kMax;
  }
  if (is_zero<F>(a)) return 0;
  const Num n = unpack<F>(a);
  if (n.exp >= 64) {
    fl |= kNV;
    return neg ? kMin : kMax;
  }
  uint64_t ip;
  bool rnd, sticky;
  if (n.exp < 0) {
    ip = 0;
    rnd = n.exp == -1;
    sticky = n.exp == -1 ? (n.sig << 1) != 0 : true;
  } else {
    const int sh = 63 - n.exp;
    ip = n.sig >> sh;
    rnd = sh > 0 && ((n.sig >> (sh - 1)) & 1);
    sticky = sh > 1 && (n.sig & ((uint64_t(1) << (sh - 1)) - 1)) != 0;
  }
  const u128 mag = u128(ip) + round_up(neg, ip & 1, rnd, sticky, rm);
  const u128 limit = neg ? (std::is_signed_v<I> ? u128(UI(kMax)) + 1 : 0) : u128(UI(kMax));
  if (mag > limit) {
    fl |= kNV;
    return neg ? kMin : kMax;
  }
  if (rnd || sticky) fl |= kNX;
  const UI m = static_cast<UI>(mag);
  return static_cast<I>(neg ? UI(0) - m : m);
}

// (-1)^neg * mag -> format F.
template <class F>
[[gnu::noinline]] inline typename F::U from_int(bool neg, uint64_t mag, unsigned rm, uint8_t& fl) {
  if (mag == 0) return 0;
  const int lz = std::countl_zero(mag);
  return round_pack<F>(neg, 63 - lz, mag << lz, rm, fl);
}

// Converts between formats (narrowing rounds, widening is exact).
template <class To, class From>
[[gnu::noinline]] inline typename To::U convert(typename From::U a, unsigned rm, uint8_t& fl) {
  using U = typename To::U;
  if (is_nan<From>(a)) {
    if (is_snan<From>(a)) fl |= kNV;
    return To::kCanonNaN;
  }
  const U s = sign_of<From>(a) ? To::kSign : 0;
  if (is_inf<From>(a)) return s | To::kInf;
  if (is_zero<From>(a)) return s;
  const Num n = unpack<From>(a);
  return round_pack<To>(n.sign, n.exp, n.sig, rm, fl);
}

}  // namespace soft

// ============================================================================
// Host implementation (x86-64 SSE): IEEE operations with MXCSR control.
// ============================================================================
#if RV_FPU_HOST
namespace host {

// All exceptions masked, round to nearest, FTZ/DAZ off, flags clear.
inline constexpr uint32_t kMxcsrDefault = 0x1f80;

// MXCSR for a RISC-V rounding mode (RNE/RTZ/RDN/RUP only).
constexpr uint32_t mxcsr_for(unsigned rm) {
  constexpr uint32_t kRc[4] = {0, 3, 1, 2};  // RC field: 0 nearest, 1 down, 2 up, 3 zero
  return kMxcsrDefault | kRc[rm & 3] << 13;
}
// MXCSR exception flags (bits 0-5) -> fflags; the denormal-operand flag
// (bit 1) has no RISC-V counterpart and is dropped.
inline constexpr auto kFlagsOf = [] {
  std::array<uint8_t, 64> t{};
  for (unsigned m = 0; m < 64; m++)
    t[m] = static_cast<uint8_t>(((m & 1) << 4) | ((m & 4) << 1) | ((m & 8) >> 1) | ((m & 16) >> 3) |
                                ((m & 32) >> 5));
  return t;
}();
constexpr uint8_t flags_of(uint32_t m) { return kFlagsOf[m & 63]; }

// Whether the host has FMA3 (vfmadd*): known at compile time with -mfma,
// else one load of the CPU model libgcc filled in at startup.
inline bool has_fma() {
#ifdef __FMA__
  return true;
#else
  return __builtin_cpu_supports("fma");
#endif
}

// Each function computes one operation in mode rm with fresh flags and
// restores the default MXCSR (rounding; the flags are left dirty, harmless).
#define RV_FPU_HOST_ASM(body, outs, ...)                                           \
  uint32_t csr = mxcsr_for(rm), out;                                               \
  const uint32_t dflt = kMxcsrDefault;                                             \
  if (rm == kRNE)                                                                  \
    asm volatile("ldmxcsr %[csr]\n\t" body "\n\tstmxcsr %[out]"                    \
                 : outs, [out] "=m"(out)                                           \
                 : __VA_ARGS__, [csr] "m"(csr));                                   \
  else                                                                             \
    asm volatile("ldmxcsr %[csr]\n\t" body "\n\tstmxcsr %[out]\n\tldmxcsr %[dflt]" \
                 : outs, [out] "=m"(out)                                           \
                 : __VA_ARGS__, [csr] "m"(csr), [dflt] "m"(dflt));                 \
  fl |= flags_of(out)

#define RV_FPU_HOST_BINOP(name, T, insn)                          \
  inline T name(T a, T b, unsigned rm, uint8_t& fl) {             \
    RV_FPU_HOST_ASM(insn " %[b], %[a]", [a] "+x"(a), [b] "x"(b)); \
    return a;                                                     \
  }
RV_FPU_HOST_BINOP(add, float, "addss")
RV_FPU_HOST_BINOP(sub, float, "subss")
RV_FPU_HOST_BINOP(mul, float, "mulss")
RV_FPU_HOST_BINOP(div, float, "divss")
RV_FPU_HOST_BINOP(add, double, "addsd")
RV_FPU_HOST_BINOP(sub, double, "subsd")
RV_FPU_HOST_BINOP(mul, double, "mulsd")
RV_FPU_HOST_BINOP(div, double, "divsd")
#undef RV_FPU_HOST_BINOP

inline float sqrt(float a, unsigned rm, uint8_t& fl) {
  float r;
  RV_FPU_HOST_ASM("sqrtss %[a], %[r]", [r] "=x"(r), [a] "x"(a));
  return r;
}
inline double sqrt(double a, unsigned rm, uint8_t& fl) {
  double r;
  RV_FPU_HOST_ASM("sqrtsd %[a], %[r]", [r] "=x"(r), [a] "x"(a));
  return r;
}
// c + a*b with one rounding; needs has_fma().
inline float fma(float a, float b, float c, unsigned rm, uint8_t& fl) {
  RV_FPU_HOST_ASM("vfmadd231ss %[b], %[a], %[c]", [c] "+x"(c), [a] "x"(a), [b] "x"(b));
  return c;
}
inline double fma(double a, double b, double c, unsigned rm, uint8_t& fl) {
  RV_FPU_HOST_ASM("vfmadd231sd %[b], %[a], %[c]", [c] "+x"(c), [a] "x"(a), [b] "x"(b));
  return c;
}
inline float narrow(double a, unsigned rm, uint8_t& fl) {
  float r;
  RV_FPU_HOST_ASM("cvtsd2ss %[a], %[r]", [r] "=x"(r), [a] "x"(a));
  return r;
}
#undef RV_FPU_HOST_ASM

}  // namespace host
#endif  // RV_FPU_HOST

// ============================================================================
// The operations used by the instruction handlers.
// ============================================================================
namespace detail {

// True if r is a normal finite number strictly above the smallest normal:
// then the exact result was neither tiny nor overflowing nor invalid, so NX
// is the only flag the operation can have raised.
template <class F>
inline bool fast_ok(typename F::U r) {
  const typename F::U m = r & ~F::kSign;
  return m - (F::kMinNormal + 1) < F::kInf - (F::kMinNormal + 1);
}
// The fast path applies: RNE, and NX is already accrued (and the host
// evaluates float/double arithmetic without excess precision).
inline bool fast_mode(unsigned rm, uint8_t fl) {
  return FLT_EVAL_METHOD == 0 && rm == kRNE && (fl & kNX);
}

template <class F>
inline typename F::U canon(typename F::U r) {
  return is_nan<F>(r) ? F::kCanonNaN : r;
}

enum class BinOp { kAdd, kSub, kMul, kDiv };

template <class F, BinOp kOp>
inline typename F::U binop(typename F::U a, typename F::U b, unsigned rm, uint8_t& fl) {
  using H = typename F::H;
  if (fast_mode(rm, fl)) [[likely]] {
    const H x = to_host<F>(a), y = to_host<F>(b);
    H r;
    if constexpr (kOp == BinOp::kAdd)
      r = x + y;
    else if constexpr (kOp == BinOp::kSub)
      r = x - y;
    else if constexpr (kOp == BinOp::kMul)
      r = x * y;
    else
      r = x / y;
    const typename F::U rb = from_host<F>(r);
    if (fast_ok<F>(rb)) [[likely]]
      return rb;
  }
#if RV_FPU_HOST
  if (rm != kRMM) {
    const H x = to_host<F>(a), y = to_host<F>(b);
    H r;
    if constexpr (kOp == BinOp::kAdd)
      r = host::add(x, y, rm, fl);
    else if constexpr (kOp == BinOp::kSub)
      r = host::sub(x, y, rm, fl);
    else if constexpr (kOp == BinOp::kMul)
      r = host::mul(x, y, rm, fl);
    else
      r = host::div(x, y, rm, fl);
    return canon<F>(from_host<F>(r));
  }
#endif
  if constexpr (kOp == BinOp::kAdd)
    return soft::add<F>(a, b, rm, fl);
  else if constexpr (kOp == BinOp::kSub)
    return soft::sub<F>(a, b, rm, fl);
  else if constexpr (kOp == BinOp::kMul)
    return soft::mul<F>(a, b, rm, fl);
  else
    return soft::div<F>(a, b, rm, fl);
}

}  // namespace detail

// a + b, a - b, a * b, a / b.
template <class F>
inline typename F::U fadd(typename F::U a, typename F::U b, unsigned rm, uint8_t& fl) {
  return detail::binop<F, detail::BinOp::kAdd>(a, b, rm, fl);
}
template <class F>
inline typename F::U fsub(typename F::U a, typename F::U b, unsigned rm, uint8_t& fl) {
  return detail::binop<F, detail::BinOp::kSub>(a, b, rm, fl);
}
template <class F>
inline typename F::U fmul(typename F::U a, typename F::U b, unsigned rm, uint8_t& fl) {
  return detail::binop<F, detail::BinOp::kMul>(a, b, rm, fl);
}
template <class F>
inline typename F::U fdiv(typename F::U a, typename F::U b, unsigned rm, uint8_t& fl) {
  return detail::binop<F, detail::BinOp::kDiv>(a, b, rm, fl);
}

// Square root.
template <class F>
inline typename F::U fsqrt(typename F::U a, unsigned rm, uint8_t& fl) {
#if RV_FPU_HOST
  if (rm != kRMM) {
    if (detail::fast_mode(rm, fl) && !sign_of<F>(a)) {
      using H = typename F::H;
      H r;
      if constexpr (std::is_same_v<H, float>)
        asm("sqrtss %1, %0" : "=x"(r) : "x"(to_host<F>(a)));
      else
        asm("sqrtsd %1, %0" : "=x"(r) : "x"(to_host<F>(a)));
      const typename F::U rb = from_host<F>(r);
      if (detail::fast_ok<F>(rb)) [[likely]]
        return rb;
    }
    return detail::canon<F>(from_host<F>(host::sqrt(to_host<F>(a), rm, fl)));
  }
#endif
  return soft::sqrt<F>(a, rm, fl);
}

// (-1)^na * a * b + (-1)^nc * c with one rounding: fmadd (na=0, nc=0), fmsub
// (0, 1), fnmsub (1, 0), fnmadd (1, 1). The negations are exact sign flips
// of the inputs, so they happen before the single rounding.
template <class F>
inline typename F::U fmadd(typename F::U a, typename F::U b, typename F::U c, unsigned rm,
                           uint8_t& fl, bool na = false, bool nc = false) {
  if (na) a ^= F::kSign;
  if (nc) c ^= F::kSign;
#if RV_FPU_HOST
  if (rm != kRMM && host::has_fma()) {
    using H = typename F::H;
    H r;
    if (detail::fast_mode(rm, fl)) {
      r = to_host<F>(c);
      if constexpr (std::is_same_v<H, float>)
        asm("vfmadd231ss %2, %1, %0" : "+x"(r) : "x"(to_host<F>(a)), "x"(to_host<F>(b)));
      else
        asm("vfmadd231sd %2, %1, %0" : "+x"(r) : "x"(to_host<F>(a)), "x"(to_host<F>(b)));
      const typename F::U rb = from_host<F>(r);
      if (detail::fast_ok<F>(rb)) [[likely]]
        return rb;
    }
    const typename F::U rb =
        from_host<F>(host::fma(to_host<F>(a), to_host<F>(b), to_host<F>(c), rm, fl));
    if (is_nan<F>(rb)) {
      // RISC-V: inf * 0 + qNaN is invalid too.
      if ((is_inf<F>(a) && is_zero<F>(b)) || (is_zero<F>(a) && is_inf<F>(b))) fl |= kNV;
      return F::kCanonNaN;
    }
    return rb;
  }
#endif
  return soft::fma<F>(a, b, c, rm, fl);
}

// Float -> integer conversions (fcvt.{w,wu,l,lu}.{s,d}); the caller
// sign-extends 32-bit results.
template <class F, class I>
inline I to_int(typename F::U a, unsigned rm, uint8_t& fl) {
  return soft::to_int<F, I>(a, rm, fl);
}

// Integer -> float conversions (fcvt.{s,d}.{w,wu,l,lu}).
template <class F>
inline typename F::U from_i64(int64_t v, unsigned rm, uint8_t& fl) {
  const bool neg = v < 0;
  const uint64_t mag = neg ? uint64_t(0) - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  if ((mag >> F::kPrec) == 0) {  // exact
    const typename F::H h = static_cast<typename F::H>(mag);
    return from_host<F>(neg ? -h : h);
  }
  return soft::from_int<F>(neg, mag, rm, fl);
}
template <class F>
inline typename F::U from_u64(uint64_t v, unsigned rm, uint8_t& fl) {
  if ((v >> F::kPrec) == 0) return from_host<F>(static_cast<typename F::H>(v));
  return soft::from_int<F>(false, v, rm, fl);
}

// fcvt.s.d: rounds.
inline uint32_t f64_to_f32(uint64_t a, unsigned rm, uint8_t& fl) {
#if RV_FPU_HOST
  if (rm != kRMM) {
    if (detail::fast_mode(rm, fl)) {
      const uint32_t r = from_host<F32>(static_cast<float>(to_host<F64>(a)));
      if (detail::fast_ok<F32>(r)) [[likely]]
        return r;
    }
    return detail::canon<F32>(from_host<F32>(host::narrow(to_host<F64>(a), rm, fl)));
  }
#endif
  return soft::convert<F32, F64>(a, rm, fl);
}
// fcvt.d.s: exact (NV only for a signalling NaN).
inline uint64_t f32_to_f64(uint32_t a, uint8_t& fl) {
  if (is_nan<F32>(a)) {
    if (is_snan<F32>(a)) fl |= kNV;
    return F64::kCanonNaN;
  }
  return from_host<F64>(static_cast<double>(to_host<F32>(a)));
}

// ---- operations without rounding --------------------------------------------

// fsgnj / fsgnjn / fsgnjx: raw bits, no canonicalisation, no flags.
template <class F>
constexpr typename F::U fsgnj(typename F::U a, typename F::U b) {
  return (a & ~F::kSign) | (b & F::kSign);
}
template <class F>
constexpr typename F::U fsgnjn(typename F::U a, typename F::U b) {
  return (a & ~F::kSign) | (~b & F::kSign);
}
template <class F>
constexpr typename F::U fsgnjx(typename F::U a, typename F::U b) {
  return a ^ (b & F::kSign);
}

// fmin/fmax (IEEE 754-2019 minimumNumber/maximumNumber): -0 < +0; a NaN
// operand yields the other operand; two NaNs give the canonical NaN; a
// signalling NaN raises NV.
template <class F>
inline typename F::U fmin(typename F::U a, typename F::U b, uint8_t& fl) {
  const bool na = is_nan<F>(a), nb = is_nan<F>(b);
  if (na || nb) [[unlikely]] {
    if (is_snan<F>(a) || is_snan<F>(b)) fl |= kNV;
    return na && nb ? F::kCanonNaN : na ? b : a;
  }
  const auto x = to_host<F>(a), y = to_host<F>(b);
  if (x == y) return a | b;  // equal: identical bits, or +0/-0 (min is -0)
  return x < y ? a : b;
}
template <class F>
inline typename F::U fmax(typename F::U a, typename F::U b, uint8_t& fl) {
  const bool na = is_nan<F>(a), nb = is_nan<F>(b);
  if (na || nb) [[unlikely]] {
    if (is_snan<F>(a) || is_snan<F>(b)) fl |= kNV;
    return na && nb ? F::kCanonNaN : na ? b : a;
  }
  const auto x = to_host<F>(a), y = to_host<F>(b);
  if (x == y) return a & b;  // equal: identical bits, or +0/-0 (max is +0)
  return x > y ? a : b;
}

// feq: quiet (NV only for a signalling NaN). flt/fle: signalling (NV for
// any NaN). A NaN operand makes all three false.
template <class F>
inline bool feq(typename F::U a, typename F::U b, uint8_t& fl) {
  if (is_nan<F>(a) || is_nan<F>(b)) [[unlikely]] {
    if (is_snan<F>(a) || is_snan<F>(b)) fl |= kNV;
    return false;
  }
  return to_host<F>(a) == to_host<F>(b);
}
template <class F>
inline bool flt(typename F::U a, typename F::U b, uint8_t& fl) {
  if (is_nan<F>(a) || is_nan<F>(b)) [[unlikely]] {
    fl |= kNV;
    return false;
  }
  return to_host<F>(a) < to_host<F>(b);
}
template <class F>
inline bool fle(typename F::U a, typename F::U b, uint8_t& fl) {
  if (is_nan<F>(a) || is_nan<F>(b)) [[unlikely]] {
    fl |= kNV;
    return false;
  }
  return to_host<F>(a) <= to_host<F>(b);
}

// fclass: exactly one of 10 bits: 0 -inf, 1 -normal, 2 -subnormal, 3 -0,
// 4 +0, 5 +subnormal, 6 +normal, 7 +inf, 8 signalling NaN, 9 quiet NaN.
template <class F>
constexpr uint64_t fclass(typename F::U a) {
  if (is_nan<F>(a)) return is_snan<F>(a) ? 1u << 8 : 1u << 9;
  const bool neg = sign_of<F>(a);
  unsigned k;
  if (is_inf<F>(a))
    k = 0;
  else if (is_zero<F>(a))
    k = 3;
  else if (is_subnormal<F>(a))
    k = 2;
  else
    k = 1;
  return 1u << (neg ? k : 7 - k);
}

}  // namespace rv64::fpu
