// The disassembler: prints a decoded instruction the way
// `riscv64-unknown-elf-objdump -M no-aliases` (binutils 2.40) prints it.
//
// Everything is driven by the decode tables: the mnemonic and operand layout
// come from op_info()/cop_info(), the operand values from the Insn fields.
// There is one formatting routine per Fmt and one per CFmt; the few places
// where objdump prints an instruction differently from its format are marked
// "objdump:" below.
#include <fmt/format.h>

#include <string>
#include <string_view>

#include "rv64/insn.h"
#include "rv64/regnames.h"

namespace rv64 {
namespace {

// ---- CSR names objdump knows beyond the ones this hart implements ----------
// csr.inc (via csr_name) is consulted first; these tables name the other
// standard CSRs (unprivileged, supervisor, hypervisor, machine, debug, AIA,
// state-enable, vector), so their numbers print as names like objdump's.
struct CsrName {
  uint16_t number;
  std::string_view name;
};
constexpr CsrName kOtherCsrs[] = {
    {0x008, "vstart"}, {0x009, "vxsat"}, {0x00a, "vxrm"}, {0x00f, "vcsr"}, {0x015, "seed"},
    {0x114, "sieh"}, {0x150, "siselect"}, {0x151, "sireg"}, {0x154, "siph"}, {0x15c, "stopei"},
    {0x15d, "stimecmph"}, {0x200, "vsstatus"}, {0x204, "vsie"}, {0x205, "vstvec"},
    {0x214, "vsieh"}, {0x240, "vsscratch"}, {0x241, "vsepc"}, {0x242, "vscause"},
    {0x243, "vstval"}, {0x244, "vsip"}, {0x24d, "vstimecmp"}, {0x250, "vsiselect"},
    {0x251, "vsireg"}, {0x254, "vsiph"}, {0x25c, "vstopei"}, {0x25d, "vstimecmph"},
    {0x280, "vsatp"}, {0x308, "mvien"}, {0x309, "mvip"}, {0x310, "mstatush"},
    {0x313, "midelegh"}, {0x314, "mieh"}, {0x318, "mvienh"}, {0x319, "mviph"},
    {0x31a, "menvcfgh"}, {0x34a, "mtinst"}, {0x34b, "mtval2"}, {0x350, "miselect"},
    {0x351, "mireg"}, {0x354, "miph"}, {0x35c, "mtopei"}, {0x5a8, "scontext"},
    {0x600, "hstatus"}, {0x602, "hedeleg"}, {0x603, "hideleg"}, {0x604, "hie"},
    {0x605, "htimedelta"}, {0x606, "hcounteren"}, {0x607, "hgeie"}, {0x608, "hvien"},
    {0x609, "hvictl"}, {0x60a, "henvcfg"}, {0x613, "hidelegh"}, {0x615, "htimedeltah"},
    {0x618, "hvienh"}, {0x61a, "henvcfgh"}, {0x643, "htval"}, {0x644, "hip"}, {0x645, "hvip"},
    {0x64a, "htinst"}, {0x655, "hviph"}, {0x680, "hgatp"}, {0x6a8, "hcontext"},
    {0x747, "mseccfg"}, {0x757, "mseccfgh"}, {0x7a4, "tinfo"}, {0x7a5, "tcontrol"},
    {0x7a8, "mcontext"}, {0x7aa, "mscontext"}, {0x7b0, "dcsr"}, {0x7b1, "dpc"},
    {0xb80, "mcycleh"}, {0xb82, "minstreth"}, {0xc20, "vl"}, {0xc21, "vtype"},
    {0xc22, "vlenb"}, {0xc80, "cycleh"}, {0xc81, "timeh"}, {0xc82, "instreth"},
    {0xda0, "scountovf"}, {0xdb0, "stopi"}, {0xe12, "hgeip"}, {0xeb0, "vstopi"},
    {0xfb0, "mtopi"},
};
// Numbered families: `count` CSRs from `number`, named prefix<first+i>suffix.
struct CsrSeries {
  uint16_t number;
  uint8_t count, first;
  std::string_view prefix, suffix;
};
constexpr CsrSeries kCsrSeries[] = {
    {0x10c, 4, 0, "sstateen", ""},     {0x30c, 4, 0, "mstateen", ""},
    {0x31c, 4, 0, "mstateen", "h"},    {0x60c, 4, 0, "hstateen", ""},
    {0x61c, 4, 0, "hstateen", "h"},    {0x323, 29, 3, "mhpmevent", ""},
    {0x723, 29, 3, "mhpmevent", "h"},  {0x3a0, 16, 0, "pmpcfg", ""},
    {0x3b0, 64, 0, "pmpaddr", ""},     {0xb03, 29, 3, "mhpmcounter", ""},
    {0xb83, 29, 3, "mhpmcounter", "h"}, {0xc03, 29, 3, "hpmcounter", ""},
    {0xc83, 29, 3, "hpmcounter", "h"}, {0x646, 2, 1, "hviprio", ""},
    {0x656, 2, 1, "hviprio", "h"},     {0x7a1, 3, 1, "tdata", ""},
    {0x7b2, 2, 0, "dscratch", ""},
};

std::string csr_text(int64_t imm) {
  unsigned n = static_cast<unsigned>(imm) & 0xfff;
  if (auto name = csr_name(n)) return std::string(*name);
  for (const CsrName& c : kOtherCsrs)
    if (c.number == n) return std::string(c.name);
  for (const CsrSeries& s : kCsrSeries)
    if (n >= s.number && n < s.number + s.count)
      return fmt::format("{}{}{}", s.prefix, s.first + (n - s.number), s.suffix);
  return fmt::format("{:#x}", n);
}

// ---- operand pieces --------------------------------------------------------
std::string_view xreg(uint8_t r) { return gpr_name(r == kSinkReg ? 0 : r); }
std::string_view freg(uint8_t r) { return fpr_name(r); }

// Rounding-mode operand: objdump omits it when it is dyn (7) and prints
// "unknown" for the reserved values 5 and 6.
std::string rm_suffix(uint8_t rm) {
  static constexpr std::string_view kNames[8] = {"rne", "rtz", "rdn", "rup",
                                                 "rmm", "unknown", "unknown", ""};
  std::string_view n = kNames[rm & 7];
  return n.empty() ? std::string() : fmt::format(",{}", n);
}

// aq/rl ordering bits of an AMO (rm = aq<<1 | rl), as a mnemonic suffix.
std::string_view aqrl_suffix(uint8_t rm) {
  static constexpr std::string_view kSuffix[4] = {"", ".rl", ".aq", ".aqrl"};
  return kSuffix[rm & 3];
}

// A fence predecessor/successor set: "iorw" letters, "unknown" when empty.
std::string fence_set(unsigned bits) {
  std::string s;
  if (bits & 8) s += 'i';
  if (bits & 4) s += 'o';
  if (bits & 2) s += 'r';
  if (bits & 1) s += 'w';
  return s.empty() ? "unknown" : s;
}

// Branch and jump targets: absolute addresses.
std::string target(uint64_t pc, int64_t imm) {
  return fmt::format("{:#x}", pc + static_cast<uint64_t>(imm));
}

// lui/c.lui print the 20-bit field in hex (imm holds it shifted left by 12).
std::string upper(int64_t imm) {
  return fmt::format("{:#x}", (static_cast<uint64_t>(imm) >> 12) & 0xfffff);
}

bool fp_dest(Fmt f) {
  switch (f) {
    case Fmt::FLOAD: case Fmt::FR4: case Fmt::FR_RM: case Fmt::FR1_RM: case Fmt::FR:
    case Fmt::F_X_RM: case Fmt::F_X:
      return true;
    default:
      return false;
  }
}

// Name of a base instruction's destination / store source register,
// from which register file its format uses.
std::string_view dest_reg(const Insn& in) {
  return fp_dest(op_info(in.op).fmt) ? freg(in.rd) : xreg(in.rd);
}
std::string_view store_src(const Insn& in) {
  return op_info(in.op).fmt == Fmt::FSTORE ? freg(in.rs2) : xreg(in.rs2);
}

// objdump: the widening conversions are exact, and binutils 2.40 knows them
// only with rm = 0 and prints no rounding mode at all.
bool rm_not_printed(Op op) {
  return op == Op::fcvt_d_s || op == Op::fcvt_d_w || op == Op::fcvt_d_wu;
}

std::string with_operands(std::string_view mn, const std::string& ops) {
  return ops.empty() ? std::string(mn) : fmt::format("{}\t{}", mn, ops);
}

// ---- 32-bit formats ----------------------------------------------------------
std::string disasm32(const Insn& in, uint64_t pc) {
  const OpInfo& oi = op_info(in.op);
  std::string_view mn = oi.mnemonic;
  std::string rm = rm_not_printed(in.op) ? std::string() : rm_suffix(in.rm);
  std::string ops;
  switch (oi.fmt) {
    case Fmt::NONE:
      break;
    case Fmt::R:
      ops = fmt::format("{},{},{}", xreg(in.rd), xreg(in.rs1), xreg(in.rs2));
      break;
    case Fmt::R1:
      ops = fmt::format("{},{}", xreg(in.rd), xreg(in.rs1));
      break;
    case Fmt::I:
      ops = fmt::format("{},{},{}", xreg(in.rd), xreg(in.rs1), in.imm);
      break;
    case Fmt::SHIFT:
      ops = fmt::format("{},{},{:#x}", xreg(in.rd), xreg(in.rs1), in.imm);
      break;
    case Fmt::LOAD: case Fmt::JALR:
      ops = fmt::format("{},{}({})", xreg(in.rd), in.imm, xreg(in.rs1));
      break;
    case Fmt::STORE:
      ops = fmt::format("{},{}({})", xreg(in.rs2), in.imm, xreg(in.rs1));
      break;
    case Fmt::B:
      ops = fmt::format("{},{},{}", xreg(in.rs1), xreg(in.rs2), target(pc, in.imm));
      break;
    case Fmt::U:
      ops = fmt::format("{},{}", xreg(in.rd), upper(in.imm));
      break;
    case Fmt::J:
      ops = fmt::format("{},{}", xreg(in.rd), target(pc, in.imm));
      break;
    case Fmt::FENCE:
      ops = fmt::format("{},{}", fence_set(in.rm >> 4), fence_set(in.rm & 15));
      break;
    case Fmt::SFENCE:
      ops = fmt::format("{},{}", xreg(in.rs1), xreg(in.rs2));
      break;
    case Fmt::CSR:
      ops = fmt::format("{},{},{}", xreg(in.rd), csr_text(in.imm), xreg(in.rs1));
      break;
    case Fmt::CSRI:
      ops = fmt::format("{},{},{}", xreg(in.rd), csr_text(in.imm), unsigned{in.rs1});
      break;
    case Fmt::LR:
      return fmt::format("{}{}\t{},({})", mn, aqrl_suffix(in.rm), xreg(in.rd), xreg(in.rs1));
    case Fmt::AMO:
      return fmt::format("{}{}\t{},{},({})", mn, aqrl_suffix(in.rm), xreg(in.rd),
                         xreg(in.rs2), xreg(in.rs1));
    case Fmt::FLOAD:
      ops = fmt::format("{},{}({})", freg(in.rd), in.imm, xreg(in.rs1));
      break;
    case Fmt::FSTORE:
      ops = fmt::format("{},{}({})", freg(in.rs2), in.imm, xreg(in.rs1));
      break;
    case Fmt::FR4:
      ops = fmt::format("{},{},{},{}{}", freg(in.rd), freg(in.rs1), freg(in.rs2), freg(in.rs3), rm);
      break;
    case Fmt::FR_RM:
      ops = fmt::format("{},{},{}{}", freg(in.rd), freg(in.rs1), freg(in.rs2), rm);
      break;
    case Fmt::FR1_RM:
      ops = fmt::format("{},{}{}", freg(in.rd), freg(in.rs1), rm);
      break;
    case Fmt::FR:
      ops = fmt::format("{},{},{}", freg(in.rd), freg(in.rs1), freg(in.rs2));
      break;
    case Fmt::X_F_RM:
      ops = fmt::format("{},{}{}", xreg(in.rd), freg(in.rs1), rm);
      break;
    case Fmt::X_F:
      ops = fmt::format("{},{}", xreg(in.rd), freg(in.rs1));
      break;
    case Fmt::X_FF:
      ops = fmt::format("{},{},{}", xreg(in.rd), freg(in.rs1), freg(in.rs2));
      break;
    case Fmt::F_X_RM:
      ops = fmt::format("{},{}{}", freg(in.rd), xreg(in.rs1), rm);
      break;
    case Fmt::F_X:
      ops = fmt::format("{},{}", freg(in.rd), xreg(in.rs1));
      break;
  }
  return with_operands(mn, ops);
}

// ---- compressed formats (operands are the expanded base instruction's) -----
std::string disasm16(const Insn& in, uint64_t pc) {
  const COpInfo& ci = cop_info(in.cop);
  std::string_view mn = ci.mnemonic;
  std::string ops;
  switch (ci.cfmt) {
    case CFmt::CNONE:
      // objdump: c.nop is an alias of c.addi, so -M no-aliases prints the
      // c.addi form (the expanded operands are addi zero,zero,0).
      if (in.cop == COp::c_nop) return fmt::format("c.addi\t{},{}", xreg(in.rd), in.imm);
      break;
    case CFmt::CIW_ADDI4SPN:
      ops = fmt::format("{},{},{}", xreg(in.rd), xreg(in.rs1), in.imm);
      break;
    case CFmt::CL_W: case CFmt::CL_D: case CFmt::CI_LWSP: case CFmt::CI_LDSP:
    case CFmt::CI_LDSP_F:
      ops = fmt::format("{},{}({})", dest_reg(in), in.imm, xreg(in.rs1));
      break;
    case CFmt::CS_W: case CFmt::CS_D: case CFmt::CSS_W: case CFmt::CSS_D:
      ops = fmt::format("{},{}({})", store_src(in), in.imm, xreg(in.rs1));
      break;
    case CFmt::CI_ADDI: case CFmt::CI_ADDIW: case CFmt::CI_LI: case CFmt::CI_ADDI16SP:
    case CFmt::CB_ANDI:
      ops = fmt::format("{},{}", xreg(in.rd), in.imm);
      break;
    case CFmt::CI_LUI:
      ops = fmt::format("{},{}", xreg(in.rd), upper(in.imm));
      break;
    case CFmt::CB_SHIFT: case CFmt::CI_SLLI:
      // objdump: a zero shift amount is the RV128 "shift by 64" form, printed
      // as c.slli64 / c.srli64 / c.srai64 with the register only.
      if (in.imm == 0) return fmt::format("{}64\t{}", mn, xreg(in.rd));
      ops = fmt::format("{},{:#x}", xreg(in.rd), in.imm);
      break;
    case CFmt::CA: case CFmt::CR_MV: case CFmt::CR_ADD:
      ops = fmt::format("{},{}", xreg(in.rd), xreg(in.rs2));
      break;
    case CFmt::CJ:
      ops = target(pc, in.imm);
      break;
    case CFmt::CB_BRANCH:
      ops = fmt::format("{},{}", xreg(in.rs1), target(pc, in.imm));
      break;
    case CFmt::CR_JR: case CFmt::CR_JALR:
      ops = std::string(xreg(in.rs1));
      break;
  }
  return with_operands(mn, ops);
}

}  // namespace

std::string disassemble(const Insn& in, uint64_t pc) {
  if (in.op >= Op::kCount) return "unknown";
  if (in.cop != COp::kNone) {
    if (in.cop >= COp::kCount) return "unknown";
    return disasm16(in, pc);
  }
  return disasm32(in, pc);
}

}  // namespace rv64
