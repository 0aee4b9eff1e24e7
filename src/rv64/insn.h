// Decoded instructions: the unit the hart's block cache stores and the
// executor dispatches on. Generated from isa.inc / isa_c.inc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rv64 {

class Hart;
struct Insn;

// A handler executes one instruction. It returns one of the Flow values:
//   kNext    the instruction retired; the executor advances pc by len and
//            goes on with the next instruction of the block;
//   kJump    the instruction retired and set hart.pc itself (taken branch,
//            jump, xRET, or anything after which the block must end);
//   kTrap    the instruction did not retire; hart.trap() has redirected pc.
enum Flow : uint8_t { kNext = 0, kJump = 1, kTrap = 2 };
using ExecFn = Flow (*)(Hart&, const Insn&);

// Operand layouts of 32-bit instructions (see isa.inc).
enum class Fmt : uint8_t {
  NONE,    // no operands
  R,       // rd, rs1, rs2
  R1,      // rd, rs1
  I,       // rd, rs1, imm12
  SHIFT,   // rd, rs1, shamt (imm)
  LOAD,    // rd, imm(rs1)
  STORE,   // rs2, imm(rs1)
  B,       // rs1, rs2, pc-relative imm
  U,       // rd, imm (already shifted left by 12)
  J,       // rd, pc-relative imm
  JALR,    // rd, imm(rs1)
  FENCE,   // pred (rs2 field holds pred<<4|succ in imm), succ
  SFENCE,  // rs1, rs2
  CSR,     // rd, csr (imm), rs1
  CSRI,    // rd, csr (imm), uimm (rs1 field)
  LR,      // rd, (rs1); aq/rl in rm
  AMO,     // rd, rs2, (rs1); aq/rl in rm
  FLOAD,   // fd, imm(rs1)
  FSTORE,  // fs2, imm(rs1)
  FR4,     // fd, fs1, fs2, fs3, rm
  FR_RM,   // fd, fs1, fs2, rm
  FR1_RM,  // fd, fs1, rm
  FR,      // fd, fs1, fs2
  X_F_RM,  // rd, fs1, rm
  X_F,     // rd, fs1
  X_FF,    // rd, fs1, fs2
  F_X_RM,  // fd, rs1, rm
  F_X,     // fd, rs1
};

// Operand layouts of compressed instructions (see isa_c.inc).
enum class CFmt : uint8_t {
  CNONE, CIW_ADDI4SPN, CL_W, CL_D, CS_W, CS_D, CI_ADDI, CI_ADDIW, CI_LI,
  CI_ADDI16SP, CI_LUI, CB_SHIFT, CB_ANDI, CA, CJ, CB_BRANCH, CI_SLLI,
  CI_LWSP, CI_LDSP, CI_LDSP_F, CR_JR, CR_MV, CR_JALR, CR_ADD, CSS_W, CSS_D,
};

// Instruction ids, one per table line, in table order.
enum class Op : uint16_t {
#define INSN(id, mn, pat, fmt) id,
#include "isa.inc"
#undef INSN
  kCount,
  kIllegal = kCount,
};
enum class COp : uint16_t {
#define CINSN(id, mn, pat, cf, base) id,
#include "isa_c.inc"
#undef CINSN
  kCount,
  kNone = kCount,  // not a compressed instruction
};

struct OpInfo {
  std::string_view mnemonic;
  uint32_t mask, match;
  Fmt fmt;
};
struct COpInfo {
  std::string_view mnemonic;
  uint16_t mask, match;
  CFmt cfmt;
  Op base;
};
const OpInfo& op_info(Op op);
const COpInfo& cop_info(COp op);
inline constexpr unsigned kNumOps = static_cast<unsigned>(Op::kCount);
inline constexpr unsigned kNumCOps = static_cast<unsigned>(COp::kCount);

// Register index written by instructions whose rd is x0: a sink register
// (Hart::x[kSinkReg]) so handlers never test rd != 0.
inline constexpr uint8_t kSinkReg = 32;

struct Insn {
  ExecFn fn;       // handler
  int64_t imm;     // immediate, sign-extended; csr number for CSR formats
  uint8_t rd;      // destination (kSinkReg for GPR x0)
  uint8_t rs1, rs2, rs3;
  uint8_t rm;      // FP rounding mode / AMO aq<<1|rl / fence pred<<4|succ
  uint8_t len;     // 2 or 4 bytes
  Op op;           // base instruction
  COp cop;         // compressed form, or COp::kNone
  uint32_t raw;    // the original encoding (16 bits for compressed)
};

// Decodes one instruction word (the low 16 bits are used if it is
// compressed, i.e. (raw & 3) != 3). Unknown or reserved encodings decode to
// an Insn whose op is Op::kIllegal and whose handler raises an
// illegal-instruction exception with tval = raw.
Insn decode(uint32_t raw);

// Length in bytes of the instruction whose first halfword is `lo`.
inline unsigned insn_length(uint16_t lo) { return (lo & 3) == 3 ? 4 : 2; }

// Disassembles like `riscv64-unknown-elf-objdump -M no-aliases` prints the
// same word at `pc` (mnemonic, a tab, operands). An illegal word gives
// "unknown".
std::string disassemble(const Insn& in, uint64_t pc);
inline std::string disassemble(uint32_t raw, uint64_t pc) { return disassemble(decode(raw), pc); }

}  // namespace rv64
