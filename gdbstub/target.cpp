#include "target.h"

#include <fmt/core.h>

#include "rv64/regnames.h"

namespace gdbstub {

namespace {

bool is_fp_csr(unsigned num) { return num >= 1 && num <= 3; }

std::string build_xml() {
  std::string x =
      "<?xml version=\"1.0\"?>\n"
      "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
      "<target version=\"1.0\">\n"
      "<architecture>riscv:rv64</architecture>\n"
      "<feature name=\"org.gnu.gdb.riscv.cpu\">\n";
  for (unsigned i = 0; i < 32; ++i) {
    const char* type = (i == 1) ? "code_ptr" : (i == 2 || i == 8) ? "data_ptr" : "int";
    x += fmt::format("  <reg name=\"{}\" bitsize=\"64\" type=\"{}\" regnum=\"{}\"/>\n", rv64::gpr_name(i), type, i);
  }
  x += fmt::format("  <reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"{}\"/>\n", kRegPc);
  x += "</feature>\n<feature name=\"org.gnu.gdb.riscv.fpu\">\n"
       "  <union id=\"riscv_double\">\n"
       "    <field name=\"float\" type=\"ieee_single\"/>\n"
       "    <field name=\"double\" type=\"ieee_double\"/>\n"
       "  </union>\n";
  for (unsigned i = 0; i < 32; ++i)
    x += fmt::format("  <reg name=\"{}\" bitsize=\"64\" type=\"riscv_double\" regnum=\"{}\"/>\n",
                     rv64::fpr_name(i), kRegF0 + i);
  rv64::for_each_csr([&](unsigned num, std::string_view name) {
    if (is_fp_csr(num))
      x += fmt::format("  <reg name=\"{}\" bitsize=\"32\" type=\"int\" regnum=\"{}\" group=\"float\"/>\n", name,
                       kRegCsr0 + num);
  });
  x += "</feature>\n<feature name=\"org.gnu.gdb.riscv.csr\">\n";
  rv64::for_each_csr([&](unsigned num, std::string_view name) {
    if (!is_fp_csr(num))
      x += fmt::format("  <reg name=\"{}\" bitsize=\"64\" type=\"int\" regnum=\"{}\" group=\"system\"/>\n", name,
                       kRegCsr0 + num);
  });
  x += "</feature>\n<feature name=\"org.gnu.gdb.riscv.virtual\">\n";
  x += fmt::format("  <reg name=\"priv\" bitsize=\"64\" type=\"int\" regnum=\"{}\" group=\"general\"/>\n", kRegPriv);
  x += "</feature>\n</target>\n";
  return x;
}

}  // namespace

const std::string& target_xml() {
  static const std::string xml = build_xml();
  return xml;
}

std::optional<uint64_t> read_register(rv64::Hart& h, unsigned n) {
  if (n < 32) return h.x[n];
  if (n == kRegPc) return h.pc;
  if (n >= kRegF0 && n < kRegF0 + 32) return h.f[n - kRegF0];
  if (n == kRegPriv) return static_cast<uint64_t>(h.priv());
  if (n >= kRegCsr0 && n < kRegCsr0 + 4096) {
    uint64_t v;
    if (h.csr_read(n - kRegCsr0, v)) return v;
  }
  return std::nullopt;
}

bool write_register(rv64::Hart& h, unsigned n, uint64_t v) {
  if (n < 32) {
    if (n != 0) h.x[n] = v;
    return true;
  }
  if (n == kRegPc) {
    h.pc = v;
    return true;
  }
  if (n >= kRegF0 && n < kRegF0 + 32) {
    h.f[n - kRegF0] = v;
    return true;
  }
  if (n == kRegPriv) {
    if (v != rv64::kUser && v != rv64::kSupervisor && v != rv64::kMachine) return false;
    h.set_priv(static_cast<rv64::Priv>(v));
    return true;
  }
  if (n >= kRegCsr0 && n < kRegCsr0 + 4096) return h.csr_write(n - kRegCsr0, v);
  return false;
}

}  // namespace gdbstub
