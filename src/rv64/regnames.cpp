// Register and CSR names shared by the disassembler, the REPL and the GDB
// target description.
#include "rv64/regnames.h"

#include <array>
#include <charconv>
#include <string>

namespace rv64 {
namespace {

constexpr std::array<std::string_view, 32> kGprNames = {
    "zero", "ra", "sp", "gp", "tp",  "t0",  "t1", "t2", "s0", "s1", "a0",
    "a1",   "a2", "a3", "a4", "a5",  "a6",  "a7", "s2", "s3", "s4", "s5",
    "s6",   "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
};

constexpr std::array<std::string_view, 32> kFprNames = {
    "ft0", "ft1", "ft2",  "ft3",  "ft4", "ft5", "ft6",  "ft7",
    "fs0", "fs1", "fa0",  "fa1",  "fa2", "fa3", "fa4",  "fa5",
    "fa6", "fa7", "fs2",  "fs3",  "fs4", "fs5", "fs6",  "fs7",
    "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
};

struct CsrEntry {
  unsigned number;
  std::string_view name;
};
constexpr CsrEntry kCsrs[] = {
#define CSRDEF(id, name, num) {num, name},
#include "rv64/csr.inc"
#undef CSRDEF
};

// Parses a canonical decimal register number 0..31 ("0", "7", "31"; no sign,
// no leading zeros).
std::optional<unsigned> parse_index(std::string_view s) {
  if (s.empty() || s.size() > 2 || (s.size() == 2 && s[0] == '0')) return std::nullopt;
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v > 31) return std::nullopt;
  return v;
}

}  // namespace

std::string_view gpr_name(unsigned i) { return i < kGprNames.size() ? kGprNames[i] : "?"; }

std::string_view fpr_name(unsigned i) { return i < kFprNames.size() ? kFprNames[i] : "?"; }

std::optional<std::string_view> csr_name(unsigned number) {
  for (const CsrEntry& e : kCsrs)
    if (e.number == number) return e.name;
  return std::nullopt;
}

std::optional<unsigned> csr_number(std::string_view name) {
  for (const CsrEntry& e : kCsrs)
    if (e.name == name) return e.number;
  return std::nullopt;
}

std::optional<unsigned> parse_reg(std::string_view name) {
  // Register names are case-insensitive ("A0" == "a0").
  std::string s(name);
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  std::string_view n = s;

  if (n == "pc") return kRegPc;
  if (n == "fp") return 8u;  // alias of s0
  for (unsigned i = 0; i < 32; ++i) {
    if (n == kGprNames[i]) return i;
    if (n == kFprNames[i]) return 32 + i;
  }
  if (n.size() >= 2 && n[0] == 'x') {
    if (auto i = parse_index(n.substr(1))) return *i;
  }
  if (n.size() >= 2 && n[0] == 'f') {
    if (auto i = parse_index(n.substr(1))) return 32 + *i;
  }
  return std::nullopt;
}

}  // namespace rv64
