// The x86-64 code generator of one block (the translator's back end).
//
// Register conventions inside generated code (System V callee-saved, so
// helper calls keep them):
//   rbx  the Hart (guest registers, pc, icount, TLB pointers at fixed offsets)
//   r12  the virtual pc of the running block's first instruction
//   r13  the steps left in the budget of Translator::execute
// Guest registers stay in the hart between instructions; an instruction
// loads its operands into scratch registers (rax, rcx, rdx, rsi, r8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rv64 {
class Hart;
struct Insn;
}  // namespace rv64

namespace rv64::jit {

class Translator;

struct EmitResult {
  bool ok = false;   // false: the block cannot be translated (nothing usable was written)
  size_t size = 0;   // bytes written
};

class Emitter {
 public:
  // Emits the code of `block` (a Hart::Block copy owned by the translator)
  // at `rw` (at most `cap` bytes; `rx` is where it will run). `exit_rx` is
  // the shared exit of the trampoline.
  static EmitResult block(Translator& tr, const void* block, uint8_t* rw, const uint8_t* rx, size_t cap,
                          const uint8_t* exit_rx);
  // The entry and exit trampolines (see Translator::execute).
  static EmitResult trampolines(uint8_t* rw, const uint8_t* rx, size_t cap, size_t& exit_offset);
};

}  // namespace rv64::jit
