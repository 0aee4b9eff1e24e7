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

// Threaded dispatch: the handler of a block's instruction that falls
// through advances pc and calls the next instruction's handler directly (a
// tail call, so a block runs as a chain of jumps between handlers, not a
// loop around an indirect call). The chain stops at h.chain_end_ (the end
// of the block or of the instruction budget) or at the first instruction
// that jumps or traps, and leaves in h.chain_stop_ where it stopped.
inline Flow chain(Hart& h, const Insn& in, Flow f) {
  if (RV_LIKELY(f == kNext)) {
    h.pc += in.len;
    const Insn* nx = &in + 1;
    if (RV_LIKELY(nx != h.chain_end_)) return nx->fn(h, *nx);
    h.chain_stop_ = nx;
    return kNext;
  }
  h.chain_stop_ = &in;
  return f;
}

// A handler that set h.pc (taken branch, jump) ends the chain, unless it
// jumped back to the start of its own block (a loop): then the block may
// run again at once (Hart::loop_back), which spares run() a block lookup
// per loop iteration.
inline Flow jumped(Hart& h, const Insn& in) {
  if (h.pc == h.loop_va_) return h.loop_back(in);
  h.chain_stop_ = &in;
  return kJump;
}

// RV_EXEC(id) { body }: the body computes the instruction and returns its
// Flow; exec_<id> wraps it in the chaining above.
#define RV_EXEC(id)                                                                      \
  static inline __attribute__((always_inline)) Flow body_##id(Hart& h, const Insn& in); \
  Flow exec_##id(Hart& h, const Insn& in) { return chain(h, in, body_##id(h, in)); }    \
  static inline __attribute__((always_inline)) Flow body_##id(Hart& h, const Insn& in)
#define RV_EXEC_DECL(id) Flow exec_##id(Hart& h, const Insn& in)

#define INSN(id, mn, pat, fmt) RV_EXEC_DECL(id);
#include "rv64/isa.inc"
#undef INSN
RV_EXEC_DECL(illegal);

inline int64_t sext32(uint64_t v) { return static_cast<int64_t>(static_cast<int32_t>(v)); }

}  // namespace rv64
