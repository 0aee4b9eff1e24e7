// The decoder, generated from the declarative tables isa.inc and isa_c.inc.
//
// Patterns are parsed at compile time into mask/match pairs. At first use the
// entries are bucketed (32-bit: by major opcode; compressed: by quadrant and
// funct3) and ordered most-specific first, so decode() is a short scan. The
// result is cached per hart in decoded blocks, so decode speed matters less
// than its being derived from the one table.
#include <algorithm>
#include <array>
#include <bit>
#include <vector>

#include "rv64/exec.h"
#include "rv64/insn.h"

namespace rv64 {
namespace {

template <size_t N>
constexpr uint32_t pattern_mask(const char (&p)[N]) {
  static_assert(N == 33 || N == 17, "patterns are 32 or 16 characters");
  uint32_t m = 0;
  for (size_t i = 0; i + 1 < N; ++i) m = (m << 1) | (p[i] == '-' ? 0u : 1u);
  return m;
}
template <size_t N>
constexpr uint32_t pattern_match(const char (&p)[N]) {
  uint32_t m = 0;
  for (size_t i = 0; i + 1 < N; ++i) m = (m << 1) | (p[i] == '1' ? 1u : 0u);
  return m;
}
template <size_t N>
constexpr bool pattern_valid(const char (&p)[N]) {
  for (size_t i = 0; i + 1 < N; ++i)
    if (p[i] != '0' && p[i] != '1' && p[i] != '-') return false;
  return p[N - 1] == '\0';
}

constexpr OpInfo kOps[] = {
#define INSN(id, mn, pat, fmt) {mn, pattern_mask(pat), pattern_match(pat), Fmt::fmt},
#include "rv64/isa.inc"
#undef INSN
};
constexpr ExecFn kHandlers[] = {
#define INSN(id, mn, pat, fmt) &exec_##id,
#include "rv64/isa.inc"
#undef INSN
};
constexpr COpInfo kCOps[] = {
#define CINSN(id, mn, pat, cf, base) {mn, static_cast<uint16_t>(pattern_mask(pat)), \
                                      static_cast<uint16_t>(pattern_match(pat)), CFmt::cf, Op::base},
#include "rv64/isa_c.inc"
#undef CINSN
};

#define INSN(id, mn, pat, fmt) static_assert(pattern_valid(pat), "bad pattern for " mn);
#include "rv64/isa.inc"
#undef INSN
#define CINSN(id, mn, pat, cf, base) static_assert(pattern_valid(pat), "bad pattern for " mn);
#include "rv64/isa_c.inc"
#undef CINSN

struct Buckets {
  std::array<std::vector<uint16_t>, 32> full;   // by bits [6:2]
  std::array<std::vector<uint16_t>, 24> compr;  // by quadrant*8 + funct3
  Buckets() {
    for (unsigned i = 0; i < kNumOps; ++i) {
      // Every 32-bit pattern fixes bits [6:0]; bucket by [6:2].
      full[(kOps[i].match >> 2) & 31].push_back(static_cast<uint16_t>(i));
    }
    for (unsigned i = 0; i < kNumCOps; ++i) {
      unsigned q = kCOps[i].match & 3, f3 = kCOps[i].match >> 13;
      compr[q * 8 + f3].push_back(static_cast<uint16_t>(i));
    }
    for (auto& b : full)
      std::stable_sort(b.begin(), b.end(), [](uint16_t a, uint16_t c) {
        return std::popcount(kOps[a].mask) > std::popcount(kOps[c].mask);
      });
    for (auto& b : compr)
      std::stable_sort(b.begin(), b.end(), [](uint16_t a, uint16_t c) {
        return std::popcount(unsigned{kCOps[a].mask}) > std::popcount(unsigned{kCOps[c].mask});
      });
  }
};
const Buckets& buckets() {
  static const Buckets b;
  return b;
}

constexpr int64_t sext(uint64_t v, unsigned bits) {
  return static_cast<int64_t>(v << (64 - bits)) >> (64 - bits);
}
constexpr uint32_t bits(uint32_t v, unsigned hi, unsigned lo) {
  return (v >> lo) & ((1u << (hi - lo + 1)) - 1);
}

bool rd_is_gpr(Fmt f) {
  switch (f) {
    case Fmt::R: case Fmt::R1: case Fmt::I: case Fmt::SHIFT: case Fmt::LOAD: case Fmt::U:
    case Fmt::J: case Fmt::JALR: case Fmt::CSR: case Fmt::CSRI: case Fmt::LR: case Fmt::AMO:
    case Fmt::X_F_RM: case Fmt::X_F: case Fmt::X_FF:
      return true;
    default:
      return false;
  }
}

Insn illegal_insn(uint32_t raw, unsigned len) {
  Insn in{};
  in.fn = &exec_illegal;
  in.op = Op::kIllegal;
  in.cop = COp::kNone;
  in.len = static_cast<uint8_t>(len);
  in.raw = len == 2 ? (raw & 0xffff) : raw;
  return in;
}

// Fills the operand fields of a 32-bit instruction from its format.
void extract(Insn& in, uint32_t r, Fmt f) {
  in.rd = static_cast<uint8_t>(bits(r, 11, 7));
  in.rs1 = static_cast<uint8_t>(bits(r, 19, 15));
  in.rs2 = static_cast<uint8_t>(bits(r, 24, 20));
  in.rs3 = static_cast<uint8_t>(bits(r, 31, 27));
  in.rm = static_cast<uint8_t>(bits(r, 14, 12));
  in.imm = 0;
  switch (f) {
    case Fmt::I: case Fmt::LOAD: case Fmt::JALR: case Fmt::FLOAD:
      in.imm = sext(r >> 20, 12);
      break;
    case Fmt::SHIFT:
      in.imm = bits(r, 25, 20);
      break;
    case Fmt::STORE: case Fmt::FSTORE:
      in.imm = sext((bits(r, 31, 25) << 5) | bits(r, 11, 7), 12);
      break;
    case Fmt::B:
      in.imm = sext((bits(r, 31, 31) << 12) | (bits(r, 7, 7) << 11) | (bits(r, 30, 25) << 5) |
                        (bits(r, 11, 8) << 1),
                    13);
      break;
    case Fmt::U:
      in.imm = sext(r & 0xfffff000u, 32);
      break;
    case Fmt::J:
      in.imm = sext((bits(r, 31, 31) << 20) | (bits(r, 19, 12) << 12) | (bits(r, 20, 20) << 11) |
                        (bits(r, 30, 21) << 1),
                    21);
      break;
    case Fmt::CSR: case Fmt::CSRI:
      in.imm = r >> 20;
      break;
    case Fmt::FENCE:
      in.rm = static_cast<uint8_t>(bits(r, 27, 20));  // pred<<4 | succ
      in.imm = bits(r, 31, 28);                        // fm
      break;
    case Fmt::LR: case Fmt::AMO:
      in.rm = static_cast<uint8_t>(bits(r, 26, 25));  // aq<<1 | rl
      break;
    default:
      break;
  }
  if (rd_is_gpr(f) && in.rd == 0) in.rd = kSinkReg;
}

// Expands a compressed instruction into its base instruction's operands.
// Returns false for reserved encodings.
bool expand(Insn& in, uint16_t c, CFmt f) {
  auto rp = [](uint32_t v) { return static_cast<uint8_t>(8 + v); };  // x8..x15
  uint32_t w = c;
  uint8_t r117 = static_cast<uint8_t>(bits(w, 11, 7)), r62 = static_cast<uint8_t>(bits(w, 6, 2));
  in.rd = in.rs1 = in.rs2 = in.rs3 = 0;
  in.rm = 0;
  in.imm = 0;
  switch (f) {
    case CFmt::CNONE:
      break;
    case CFmt::CIW_ADDI4SPN:
      in.rd = rp(bits(w, 4, 2));
      in.rs1 = 2;
      in.imm = (bits(w, 12, 11) << 4) | (bits(w, 10, 7) << 6) | (bits(w, 6, 6) << 2) |
               (bits(w, 5, 5) << 3);
      if (in.imm == 0) return false;
      break;
    case CFmt::CL_W: case CFmt::CS_W:
      (f == CFmt::CL_W ? in.rd : in.rs2) = rp(bits(w, 4, 2));
      in.rs1 = rp(bits(w, 9, 7));
      in.imm = (bits(w, 12, 10) << 3) | (bits(w, 6, 6) << 2) | (bits(w, 5, 5) << 6);
      break;
    case CFmt::CL_D: case CFmt::CS_D:
      (f == CFmt::CL_D ? in.rd : in.rs2) = rp(bits(w, 4, 2));
      in.rs1 = rp(bits(w, 9, 7));
      in.imm = (bits(w, 12, 10) << 3) | (bits(w, 6, 5) << 6);
      break;
    case CFmt::CI_ADDI: case CFmt::CI_ADDIW: case CFmt::CI_LI:
      in.rd = r117;
      in.rs1 = f == CFmt::CI_LI ? 0 : r117;
      in.imm = sext((bits(w, 12, 12) << 5) | bits(w, 6, 2), 6);
      if (f == CFmt::CI_ADDIW && r117 == 0) return false;
      break;
    case CFmt::CI_ADDI16SP:
      in.rd = in.rs1 = 2;
      in.imm = sext((bits(w, 12, 12) << 9) | (bits(w, 6, 6) << 4) | (bits(w, 5, 5) << 6) |
                        (bits(w, 4, 3) << 7) | (bits(w, 2, 2) << 5),
                    10);
      if (in.imm == 0) return false;
      break;
    case CFmt::CI_LUI:
      in.rd = r117;
      in.imm = sext((bits(w, 12, 12) << 17) | (bits(w, 6, 2) << 12), 18);
      if (in.imm == 0) return false;
      break;
    case CFmt::CB_SHIFT:
      in.rd = in.rs1 = rp(bits(w, 9, 7));
      in.imm = (bits(w, 12, 12) << 5) | bits(w, 6, 2);
      break;
    case CFmt::CB_ANDI:
      in.rd = in.rs1 = rp(bits(w, 9, 7));
      in.imm = sext((bits(w, 12, 12) << 5) | bits(w, 6, 2), 6);
      break;
    case CFmt::CA:
      in.rd = in.rs1 = rp(bits(w, 9, 7));
      in.rs2 = rp(bits(w, 4, 2));
      break;
    case CFmt::CJ:
      in.rd = 0;
      in.imm = sext((bits(w, 12, 12) << 11) | (bits(w, 11, 11) << 4) | (bits(w, 10, 9) << 8) |
                        (bits(w, 8, 8) << 10) | (bits(w, 7, 7) << 6) | (bits(w, 6, 6) << 7) |
                        (bits(w, 5, 3) << 1) | (bits(w, 2, 2) << 5),
                    12);
      break;
    case CFmt::CB_BRANCH:
      in.rs1 = rp(bits(w, 9, 7));
      in.rs2 = 0;
      in.imm = sext((bits(w, 12, 12) << 8) | (bits(w, 11, 10) << 3) | (bits(w, 6, 5) << 6) |
                        (bits(w, 4, 3) << 1) | (bits(w, 2, 2) << 5),
                    9);
      break;
    case CFmt::CI_SLLI:
      in.rd = in.rs1 = r117;
      in.imm = (bits(w, 12, 12) << 5) | bits(w, 6, 2);
      break;
    case CFmt::CI_LWSP:
      in.rd = r117;
      in.rs1 = 2;
      in.imm = (bits(w, 12, 12) << 5) | (bits(w, 6, 4) << 2) | (bits(w, 3, 2) << 6);
      if (r117 == 0) return false;
      break;
    case CFmt::CI_LDSP: case CFmt::CI_LDSP_F:
      in.rd = r117;
      in.rs1 = 2;
      in.imm = (bits(w, 12, 12) << 5) | (bits(w, 6, 5) << 3) | (bits(w, 4, 2) << 6);
      if (f == CFmt::CI_LDSP && r117 == 0) return false;
      break;
    case CFmt::CR_JR: case CFmt::CR_JALR:
      in.rd = f == CFmt::CR_JALR ? 1 : 0;
      in.rs1 = r117;
      if (r117 == 0) return false;
      break;
    case CFmt::CR_MV:
      in.rd = r117;
      in.rs1 = 0;
      in.rs2 = r62;
      break;
    case CFmt::CR_ADD:
      in.rd = in.rs1 = r117;
      in.rs2 = r62;
      break;
    case CFmt::CSS_W:
      in.rs1 = 2;
      in.rs2 = r62;
      in.imm = (bits(w, 12, 9) << 2) | (bits(w, 8, 7) << 6);
      break;
    case CFmt::CSS_D:
      in.rs1 = 2;
      in.rs2 = r62;
      in.imm = (bits(w, 12, 10) << 3) | (bits(w, 9, 7) << 6);
      break;
  }
  return true;
}

}  // namespace

const OpInfo& op_info(Op op) { return kOps[static_cast<unsigned>(op)]; }
const COpInfo& cop_info(COp op) { return kCOps[static_cast<unsigned>(op)]; }

Insn decode(uint32_t raw) {
  const Buckets& b = buckets();
  if ((raw & 3) != 3) {
    uint16_t c = static_cast<uint16_t>(raw);
    unsigned q = c & 3, f3 = c >> 13;
    for (uint16_t i : b.compr[q * 8 + f3]) {
      const COpInfo& ci = kCOps[i];
      if ((c & ci.mask) != ci.match) continue;
      Insn in{};
      if (!expand(in, c, ci.cfmt)) return illegal_insn(c, 2);
      in.op = ci.base;
      in.cop = static_cast<COp>(i);
      in.fn = kHandlers[static_cast<unsigned>(ci.base)];
      in.len = 2;
      in.raw = c;
      if (rd_is_gpr(kOps[static_cast<unsigned>(ci.base)].fmt) && in.rd == 0) in.rd = kSinkReg;
      return in;
    }
    return illegal_insn(c, 2);
  }
  if ((raw & 0x1c) == 0x1c) return illegal_insn(raw, 4);  // >32-bit encodings
  for (uint16_t i : b.full[(raw >> 2) & 31]) {
    const OpInfo& oi = kOps[i];
    if ((raw & oi.mask) != oi.match) continue;
    Insn in{};
    extract(in, raw, oi.fmt);
    in.op = static_cast<Op>(i);
    in.cop = COp::kNone;
    in.fn = kHandlers[i];
    in.len = 4;
    in.raw = raw;
    return in;
  }
  return illegal_insn(raw, 4);
}

}  // namespace rv64
