// Conventions for instruction handlers (exec_*.cpp).
//
// Every INSN(id, ...) line of isa.inc has a handler
//     Flow exec_<id>(Hart& h, const Insn& in)
// defined with RV_EXEC(id). Operands are pre-extracted in `in` (see insn.h):
// GPR writes go to h.x[in.rd] (x0 is already redirected to the sink
// register), FP registers are h.f[...] holding NaN-boxed values. A handler
// returns kNext (retired, fall through), kJump (retired, pc set) or the
// result of h.trap()/h.illegal() (not retired).
#pragma once

#include "rv64/hart.h"
#include "rv64/insn.h"

namespace rv64 {

#define RV_EXEC(id) Flow exec_##id(Hart& h, const Insn& in)

#define INSN(id, mn, pat, fmt) RV_EXEC(id);
#include "rv64/isa.inc"
#undef INSN
RV_EXEC(illegal);

inline int64_t sext32(uint64_t v) { return static_cast<int64_t>(static_cast<int32_t>(v)); }

}  // namespace rv64
