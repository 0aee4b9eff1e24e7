// Register names: one table for the disassembler, the REPL and the GDB
// target description.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace rv64 {

// ABI names of x0..x31 ("zero", "ra", ... "t6").
std::string_view gpr_name(unsigned i);
// ABI names of f0..f31 ("ft0", ... "ft11").
std::string_view fpr_name(unsigned i);

// Named CSRs (csr.inc). Unnamed CSR numbers have no name.
enum class Csr : uint16_t {
#define CSRDEF(id, name, num) id = num,
#include "csr.inc"
#undef CSRDEF
};
std::optional<std::string_view> csr_name(unsigned number);
std::optional<unsigned> csr_number(std::string_view name);
// Calls fn(number, name) for every named CSR, in table order.
template <class Fn>
void for_each_csr(Fn&& fn) {
#define CSRDEF(id, name, num) fn(unsigned{num}, std::string_view{name});
#include "csr.inc"
#undef CSRDEF
}

// Parses "a0", "x10", "ft1", "f3", "pc", "sp"... into a GPR (0..31) or
// FPR (32..63) index; pc is 64.
std::optional<unsigned> parse_reg(std::string_view name);
inline constexpr unsigned kRegPc = 64;

}  // namespace rv64
