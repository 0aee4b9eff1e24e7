// Handlers for the F and D extensions: thin glue between the hart state and
// the pure arithmetic of fpu.h.
//
// Every handler first checks mstatus.FS (Off -> illegal instruction), then
// resolves the rounding mode of instructions that have an rm field (7 =
// frm; 5, 6 and a dynamic frm above 4 -> illegal), even for conversions that
// are always exact, as the spec requires. Singles are NaN-boxed in the
// 64-bit f registers: read through unbox_s (a badly boxed value reads as the
// canonical NaN) and written through box_s. A handler that writes an f
// register, or raises a flag, marks the FP state dirty.
#include <type_traits>

#include "rv64/exec.h"
#include "rv64/fpu.h"

namespace rv64 {

namespace {

using fpu::F32;
using fpu::F64;

// The resolved rounding mode, or a value above kRMM when it is reserved.
inline unsigned resolve_rm(const Hart& h, const Insn& in) {
  return in.rm == fpu::kDYN ? h.frm : in.rm;
}

inline uint32_t fs(const Hart& h, unsigned r) { return fpu::unbox_s(h.f[r]); }

// Writes an FP result (already boxed for singles).
inline Flow set_f(Hart& h, const Insn& in, uint64_t v) {
  h.f[in.rd] = v;
  h.fp_dirty();
  return kNext;
}
// Writes a GPR result; flags raised by the operation mark the FP state dirty.
inline Flow set_x(Hart& h, const Insn& in, uint64_t v, uint8_t fl) {
  h.x[in.rd] = v;
  if (fl) {
    h.fflags |= fl;
    h.fp_dirty();
  }
  return kNext;
}

// Typed register access for the generic handlers below.
template <class F>
inline typename F::U get(const Hart& h, unsigned r) {
  if constexpr (std::is_same_v<F, F32>)
    return fs(h, r);
  else
    return h.f[r];
}
template <class F>
inline uint64_t put(typename F::U v) {
  if constexpr (std::is_same_v<F, F32>)
    return fpu::box_s(v);
  else
    return v;
}

// Statements for the start of a handler: return an illegal-instruction trap
// when the FPU is off, or when the rounding mode (named `rm`) is reserved.
#define FP_REQUIRE_ENABLED()            \
  do {                                  \
    if (!h.fp_enabled()) [[unlikely]] { \
      return h.illegal(in);             \
    }                                   \
  } while (0)
#define FP_REQUIRE_RM(rm)                \
  const unsigned rm = resolve_rm(h, in); \
  if (rm > fpu::kRMM) [[unlikely]] {     \
    return h.illegal(in);                \
  }                                      \
  static_assert(true)

template <class F, auto op>
inline Flow binary(Hart& h, const Insn& in) {
  FP_REQUIRE_ENABLED();
  FP_REQUIRE_RM(rm);
  return set_f(h, in, put<F>(op(get<F>(h, in.rs1), get<F>(h, in.rs2), rm, h.fflags)));
}

template <class F>
inline Flow fused(Hart& h, const Insn& in, bool neg_product, bool neg_addend) {
  FP_REQUIRE_ENABLED();
  FP_REQUIRE_RM(rm);
  return set_f(h, in,
               put<F>(fpu::fmadd<F>(get<F>(h, in.rs1), get<F>(h, in.rs2), get<F>(h, in.rs3), rm,
                                    h.fflags, neg_product, neg_addend)));
}

template <class F>
inline Flow square_root(Hart& h, const Insn& in) {
  FP_REQUIRE_ENABLED();
  FP_REQUIRE_RM(rm);
  return set_f(h, in, put<F>(fpu::fsqrt<F>(get<F>(h, in.rs1), rm, h.fflags)));
}

// fsgnj*, fmin, fmax: no rounding mode.
template <class F, auto op>
inline Flow no_rm(Hart& h, const Insn& in) {
  FP_REQUIRE_ENABLED();
  return set_f(h, in, put<F>(op(get<F>(h, in.rs1), get<F>(h, in.rs2), h.fflags)));
}

// feq, flt, fle.
template <class F, auto op>
inline Flow compare(Hart& h, const Insn& in) {
  FP_REQUIRE_ENABLED();
  uint8_t fl = 0;
  const bool r = op(get<F>(h, in.rs1), get<F>(h, in.rs2), fl);
  return set_x(h, in, r, fl);
}

// fcvt.{w,wu,l,lu}.{s,d}: 32-bit results are sign-extended, even unsigned.
template <class F, class I>
inline Flow to_int(Hart& h, const Insn& in) {
  FP_REQUIRE_ENABLED();
  FP_REQUIRE_RM(rm);
  uint8_t fl = 0;
  const I v = fpu::to_int<F, I>(get<F>(h, in.rs1), rm, fl);
  const uint64_t x = sizeof(I) == 4 ? static_cast<uint64_t>(sext32(static_cast<uint32_t>(v)))
                                    : static_cast<uint64_t>(v);
  return set_x(h, in, x, fl);
}

// fcvt.{s,d}.{w,wu,l,lu}: the source GPR's low 32 bits for w/wu.
template <class F, class I>
inline Flow from_int(Hart& h, const Insn& in) {
  FP_REQUIRE_ENABLED();
  FP_REQUIRE_RM(rm);
  const uint64_t x = h.x[in.rs1];
  typename F::U r;
  if constexpr (std::is_same_v<I, int32_t>)
    r = fpu::from_i64<F>(static_cast<int32_t>(x), rm, h.fflags);
  else if constexpr (std::is_same_v<I, uint32_t>)
    r = fpu::from_u64<F>(static_cast<uint32_t>(x), rm, h.fflags);
  else if constexpr (std::is_same_v<I, int64_t>)
    r = fpu::from_i64<F>(static_cast<int64_t>(x), rm, h.fflags);
  else
    r = fpu::from_u64<F>(x, rm, h.fflags);
  return set_f(h, in, put<F>(r));
}

}  // namespace

// ---- loads and stores ----------------------------------------------------------

RV_EXEC(flw) {
  FP_REQUIRE_ENABLED();
  uint32_t v;
  if (!h.load<uint32_t>(h.x[in.rs1] + in.imm, v)) return kTrap;
  return set_f(h, in, fpu::box_s(v));
}
RV_EXEC(fld) {
  FP_REQUIRE_ENABLED();
  uint64_t v;
  if (!h.load<uint64_t>(h.x[in.rs1] + in.imm, v)) return kTrap;
  return set_f(h, in, v);
}
// Stores write the register's low bits as they are (no unboxing).
RV_EXEC(fsw) {
  FP_REQUIRE_ENABLED();
  if (!h.store<uint32_t>(h.x[in.rs1] + in.imm, static_cast<uint32_t>(h.f[in.rs2]))) return h.store_failed(in);
  return kNext;
}
RV_EXEC(fsd) {
  FP_REQUIRE_ENABLED();
  if (!h.store<uint64_t>(h.x[in.rs1] + in.imm, h.f[in.rs2])) return h.store_failed(in);
  return kNext;
}

// ---- arithmetic ---------------------------------------------------------------

#define RV_FP_ARITH(suffix, F)                                                             \
  RV_EXEC(fadd_##suffix) { return binary<F, fpu::fadd<F>>(h, in); }                        \
  RV_EXEC(fsub_##suffix) { return binary<F, fpu::fsub<F>>(h, in); }                        \
  RV_EXEC(fmul_##suffix) { return binary<F, fpu::fmul<F>>(h, in); }                        \
  RV_EXEC(fdiv_##suffix) { return binary<F, fpu::fdiv<F>>(h, in); }                        \
  RV_EXEC(fsqrt_##suffix) { return square_root<F>(h, in); }                                \
  RV_EXEC(fmadd_##suffix) { return fused<F>(h, in, false, false); }                        \
  RV_EXEC(fmsub_##suffix) { return fused<F>(h, in, false, true); }                         \
  RV_EXEC(fnmsub_##suffix) { return fused<F>(h, in, true, false); }                        \
  RV_EXEC(fnmadd_##suffix) { return fused<F>(h, in, true, true); }                         \
  RV_EXEC(fmin_##suffix) { return no_rm<F, fpu::fmin<F>>(h, in); }                         \
  RV_EXEC(fmax_##suffix) { return no_rm<F, fpu::fmax<F>>(h, in); }                         \
  RV_EXEC(fsgnj_##suffix) {                                                                \
    return no_rm<F, [](auto a, auto b, uint8_t&) { return fpu::fsgnj<F>(a, b); }>(h, in);  \
  }                                                                                        \
  RV_EXEC(fsgnjn_##suffix) {                                                               \
    return no_rm<F, [](auto a, auto b, uint8_t&) { return fpu::fsgnjn<F>(a, b); }>(h, in); \
  }                                                                                        \
  RV_EXEC(fsgnjx_##suffix) {                                                               \
    return no_rm<F, [](auto a, auto b, uint8_t&) { return fpu::fsgnjx<F>(a, b); }>(h, in); \
  }                                                                                        \
  RV_EXEC(feq_##suffix) { return compare<F, fpu::feq<F>>(h, in); }                         \
  RV_EXEC(flt_##suffix) { return compare<F, fpu::flt<F>>(h, in); }                         \
  RV_EXEC(fle_##suffix) { return compare<F, fpu::fle<F>>(h, in); }                         \
  RV_EXEC(fclass_##suffix) {                                                               \
    FP_REQUIRE_ENABLED();                                                                  \
    return set_x(h, in, fpu::fclass<F>(get<F>(h, in.rs1)), 0);                             \
  }                                                                                        \
  RV_EXEC(fcvt_w_##suffix) { return to_int<F, int32_t>(h, in); }                           \
  RV_EXEC(fcvt_wu_##suffix) { return to_int<F, uint32_t>(h, in); }                         \
  RV_EXEC(fcvt_l_##suffix) { return to_int<F, int64_t>(h, in); }                           \
  RV_EXEC(fcvt_lu_##suffix) { return to_int<F, uint64_t>(h, in); }                         \
  RV_EXEC(fcvt_##suffix##_w) { return from_int<F, int32_t>(h, in); }                       \
  RV_EXEC(fcvt_##suffix##_wu) { return from_int<F, uint32_t>(h, in); }                     \
  RV_EXEC(fcvt_##suffix##_l) { return from_int<F, int64_t>(h, in); }                       \
  RV_EXEC(fcvt_##suffix##_lu) { return from_int<F, uint64_t>(h, in); }

RV_FP_ARITH(s, F32)
RV_FP_ARITH(d, F64)
#undef RV_FP_ARITH

// ---- conversions between formats and moves --------------------------------------

RV_EXEC(fcvt_s_d) {
  FP_REQUIRE_ENABLED();
  FP_REQUIRE_RM(rm);
  return set_f(h, in, fpu::box_s(fpu::f64_to_f32(h.f[in.rs1], rm, h.fflags)));
}
RV_EXEC(fcvt_d_s) {
  FP_REQUIRE_ENABLED();
  FP_REQUIRE_RM(rm);
  (void)rm;  // exact, but a reserved mode is still illegal
  return set_f(h, in, fpu::f32_to_f64(fs(h, in.rs1), h.fflags));
}
// Moves take the raw low bits (no unboxing) and sign-extend.
RV_EXEC(fmv_x_w) {
  FP_REQUIRE_ENABLED();
  return set_x(h, in, static_cast<uint64_t>(sext32(h.f[in.rs1])), 0);
}
RV_EXEC(fmv_w_x) {
  FP_REQUIRE_ENABLED();
  return set_f(h, in, fpu::box_s(static_cast<uint32_t>(h.x[in.rs1])));
}
RV_EXEC(fmv_x_d) {
  FP_REQUIRE_ENABLED();
  return set_x(h, in, h.f[in.rs1], 0);
}
RV_EXEC(fmv_d_x) {
  FP_REQUIRE_ENABLED();
  return set_f(h, in, h.x[in.rs1]);
}

}  // namespace rv64
