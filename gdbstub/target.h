// The RISC-V target as gdb sees it: the target description (cpu, fpu, csr
// and the virtual `priv` register) and register access by gdb number.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "rv64/hart.h"

namespace gdbstub {

// gdb's numbering: x0..x31 = 0..31, pc = 32, f0..f31 = 33..64,
// CSR n = 65 + n (fflags 66, frm 67, fcsr 68), priv = 4161.
inline constexpr unsigned kRegPc = 32, kRegF0 = 33, kRegCsr0 = 65, kRegPriv = 65 + 4096;
// Registers in a 'g' packet: x0..x31 and pc.
inline constexpr unsigned kGRegs = 33;

const std::string& target_xml();
// Bytes of a register in p/P packets (fflags, frm and fcsr are 32-bit).
inline unsigned register_size(unsigned regnum) {
  return regnum >= kRegCsr0 + 1 && regnum <= kRegCsr0 + 3 ? 4 : 8;
}
std::optional<uint64_t> read_register(rv64::Hart& h, unsigned regnum);
bool write_register(rv64::Hart& h, unsigned regnum, uint64_t value);

}  // namespace gdbstub
