// Disassembler and register-name tests.
//
// The main test generates encodings of every entry of isa.inc / isa_c.inc
// (random operand bits with a fixed seed plus edge values), checks that the
// decoder picks the most specific matching entry, then disassembles them all
// with binutils' objdump in one run and compares its text with ours.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "rv64/insn.h"
#include "rv64/regnames.h"

namespace {

using namespace rv64;
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// Golden strings (checked against objdump 2.40 by hand; no tool needed).
// ---------------------------------------------------------------------------
TEST(Disasm, Golden) {
  struct Case {
    uint32_t raw;
    uint64_t pc;
    const char* text;
  };
  const Case cases[] = {
      {0x20c5a533, 0, "sh1add\ta0,a1,a2"},
      {0x0ac59533, 0, "clmul\ta0,a1,a2"},
      {0x0ac5a533, 0, "clmulr\ta0,a1,a2"},
      {0x0a043fb3, 0, "clmulh\tt6,s0,zero"},
      {0x0100000f, 0, "pause"},
      {0x8330000f, 0, "fence.tso"},
      {0x0ff0000f, 0, "fence\tiorw,iorw"},
      {0x0210000f, 0, "fence\tr,w"},
      {0x0000000f, 0, "fence\tunknown,unknown"},
      {0x0000100f, 0, "fence.i"},
      {0x00000073, 0, "ecall"},
      {0x12345537, 0, "lui\ta0,0x12345"},
      {0xfffff517, 0, "auipc\ta0,0xfffff"},
      {0x00b50863, 0x80000028, "beq\ta0,a1,0x80000038"},
      {0xff9ff0ef, 0x8000002c, "jal\tra,0x80000024"},
      {0x800000ef, 0x80000056, "jal\tra,0x7ff00056"},
      {0x0000006f, 0x8000005a, "jal\tzero,0x8000005a"},
      {0x00c500e7, 0, "jalr\tra,12(a0)"},
      {0x30059573, 0, "csrrw\ta0,mstatus,a1"},
      {0x7c002573, 0, "csrrs\ta0,0x7c0,zero"},
      {0xc0302573, 0, "csrrs\ta0,hpmcounter3,zero"},
      {0x0012d573, 0, "csrrwi\ta0,fflags,5"},
      {0x00c59553, 0, "fadd.s\tfa0,fa1,fa2,rtz"},
      {0x00c5f553, 0, "fadd.s\tfa0,fa1,fa2"},
      {0x02c58553, 0, "fadd.d\tfa0,fa1,fa2,rne"},
      {0x42058553, 0, "fcvt.d.s\tfa0,fa1"},
      {0xd2207553, 0, "fcvt.d.l\tfa0,zero"},
      {0x68c5b543, 0, "fmadd.s\tfa0,fa1,fa2,fa3,rup"},
      {0xe0050553, 0, "fmv.x.w\ta0,fa0"},
      {0xa0b52553, 0, "feq.s\ta0,fa0,fa1"},
      {0xffc52507, 0, "flw\tfa0,-4(a0)"},
      {0x06b6252f, 0, "amoadd.w.aqrl\ta0,a1,(a2)"},
      {0x1405b52f, 0, "lr.d.aq\ta0,(a1)"},
      {0x1ab6252f, 0, "sc.w.rl\ta0,a1,(a2)"},
      {0x03f59513, 0, "slli\ta0,a1,0x3f"},
      {0x12b50073, 0, "sfence.vma\ta0,a1"},
      {0x12050073, 0, "sfence.vma\ta0,zero"},
      {0x00000013, 0, "addi\tzero,zero,0"},
      {0x1141, 0, "c.addi\tsp,-16"},
      {0x6549, 0, "c.lui\ta0,0x12"},
      {0x5575, 0, "c.li\ta0,-3"},
      {0x4015, 0, "c.li\tzero,5"},
      {0x713d, 0, "c.addi16sp\tsp,-32"},
      {0x0808, 0, "c.addi4spn\ta0,sp,16"},
      {0xa811, 0x80000066, "c.j\t0x8000007a"},
      {0xdd75, 0x80000068, "c.beqz\ta0,0x80000064"},
      {0x41c8, 0, "c.lw\ta0,4(a1)"},
      {0x6522, 0, "c.ldsp\ta0,8(sp)"},
      {0x8082, 0, "c.jr\tra"},
      {0x852e, 0, "c.mv\ta0,a1"},
      {0xe82a, 0, "c.sdsp\ta0,16(sp)"},
      {0xa42a, 0, "c.fsdsp\tfa0,8(sp)"},
      {0x810d, 0, "c.srli\ta0,0x3"},
      {0x997d, 0, "c.andi\ta0,-1"},
      {0x9002, 0, "c.ebreak"},
      {0x0001, 0, "c.addi\tzero,0"},   // c.nop: objdump prints the c.addi form
      {0x0502, 0, "c.slli64\ta0"},     // zero shift amounts
      {0x8101, 0, "c.srli64\ta0"},
      {0x0000, 0, "unknown"},          // reserved: c.addi4spn with imm 0
      {0x8002, 0, "unknown"},          // reserved: c.jr x0
      {0x6002, 0, "unknown"},          // reserved: c.ldsp x0
      {0xffffffff, 0, "unknown"},      // longer than 32 bits
      {0xfe000033, 0, "unknown"},      // no such OP funct7
  };
  for (const Case& c : cases) {
    EXPECT_EQ(disassemble(c.raw, c.pc), c.text) << fmt::format("raw {:#010x}", c.raw);
  }
}

TEST(Disasm, TargetWrapsAround) {
  // jal zero,-2 at pc 0 targets the top of the 64-bit address space.
  EXPECT_EQ(disassemble(0xfffff06fu, 0), "jal\tzero,0xfffffffffffffffe");
}

// ---------------------------------------------------------------------------
// Register names
// ---------------------------------------------------------------------------
TEST(RegNames, GprAndFprNames) {
  EXPECT_EQ(gpr_name(0), "zero");
  EXPECT_EQ(gpr_name(1), "ra");
  EXPECT_EQ(gpr_name(2), "sp");
  EXPECT_EQ(gpr_name(8), "s0");
  EXPECT_EQ(gpr_name(10), "a0");
  EXPECT_EQ(gpr_name(31), "t6");
  EXPECT_EQ(fpr_name(0), "ft0");
  EXPECT_EQ(fpr_name(8), "fs0");
  EXPECT_EQ(fpr_name(10), "fa0");
  EXPECT_EQ(fpr_name(31), "ft11");
  // Out of range: a placeholder, not a crash.
  EXPECT_EQ(gpr_name(32), "?");
  EXPECT_EQ(fpr_name(1000), "?");
  std::set<std::string_view> seen;
  for (unsigned i = 0; i < 32; ++i) {
    seen.insert(gpr_name(i));
    seen.insert(fpr_name(i));
    EXPECT_EQ(parse_reg(gpr_name(i)), i);
    EXPECT_EQ(parse_reg(fpr_name(i)), 32 + i);
    EXPECT_EQ(parse_reg(fmt::format("x{}", i)), i);
    EXPECT_EQ(parse_reg(fmt::format("f{}", i)), 32 + i);
  }
  EXPECT_EQ(seen.size(), 64u);  // all distinct
}

TEST(RegNames, ParseReg) {
  EXPECT_EQ(parse_reg("a0"), 10u);
  EXPECT_EQ(parse_reg("x10"), 10u);
  EXPECT_EQ(parse_reg("fa0"), 42u);
  EXPECT_EQ(parse_reg("f10"), 42u);
  EXPECT_EQ(parse_reg("pc"), kRegPc);
  EXPECT_EQ(parse_reg("zero"), 0u);
  EXPECT_EQ(parse_reg("x0"), 0u);
  EXPECT_EQ(parse_reg("fp"), 8u);
  EXPECT_EQ(parse_reg("s0"), 8u);
  EXPECT_EQ(parse_reg("sp"), 2u);
  EXPECT_EQ(parse_reg("t6"), 31u);
  EXPECT_EQ(parse_reg("x31"), 31u);
  EXPECT_EQ(parse_reg("f31"), 63u);
  EXPECT_EQ(parse_reg("ft11"), 63u);
  EXPECT_EQ(parse_reg("A0"), 10u);
  EXPECT_EQ(parse_reg("PC"), kRegPc);
  for (const char* bad : {"", "x", "f", "x32", "f32", "x01", "x-1", "x1 ", " a0", "a8", "foo",
                          "fs12", "ft12", "s12", "x100", "f1x", "pcx"}) {
    EXPECT_EQ(parse_reg(bad), std::nullopt) << '"' << bad << '"';
  }
}

TEST(RegNames, CsrTableRoundTrips) {
  unsigned count = 0;
  std::set<unsigned> numbers;
  std::set<std::string_view> names;
  for_each_csr([&](unsigned num, std::string_view name) {
    ++count;
    numbers.insert(num);
    names.insert(name);
    EXPECT_LT(num, 4096u) << name;
    EXPECT_EQ(csr_name(num), name) << fmt::format("{:#x}", num);
    EXPECT_EQ(csr_number(name), num) << name;
  });
  EXPECT_GT(count, 50u);
  EXPECT_EQ(numbers.size(), count);  // no duplicate numbers
  EXPECT_EQ(names.size(), count);    // no duplicate names
  EXPECT_EQ(csr_number("mstatus"), 0x300u);
  EXPECT_EQ(csr_name(0x180), "satp");
  EXPECT_EQ(static_cast<unsigned>(Csr::mepc), 0x341u);
  EXPECT_EQ(csr_name(0x7c0), std::nullopt);
  EXPECT_EQ(csr_name(0x10000), std::nullopt);
  EXPECT_EQ(csr_number("nosuchcsr"), std::nullopt);
  EXPECT_EQ(csr_number(""), std::nullopt);
}

// ---------------------------------------------------------------------------
// Comparison with objdump
// ---------------------------------------------------------------------------
constexpr uint64_t kVma = 0x80000000;
constexpr unsigned kRandomPerEntry = 24;
constexpr char kArch[] =
    "rv64i2p1_m2p0_a2p1_f2p2_d2p2_c2p0_zicsr2p0_zifencei2p0_zihintpause2p0_zba1p0_zbb1p0_zbc1p0_zbs1p0";

std::optional<std::string> find_objdump() {
#ifdef RISCV_OBJDUMP
  if (fs::exists(RISCV_OBJDUMP)) return std::string(RISCV_OBJDUMP);
#endif
  const char* path = std::getenv("PATH");
  if (!path) return std::nullopt;
  std::string p = path;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    fs::path cand = fs::path(p.substr(start, end - start)) / "riscv64-unknown-elf-objdump";
    if (end > start && ::access(cand.c_str(), X_OK) == 0) return cand.string();
    start = end + 1;
  }
  return std::nullopt;
}

// A table entry: a 32-bit Op (index < kNumOps) or a compressed COp.
struct Entry {
  std::string_view mnemonic;
  uint32_t mask, match;
  bool compressed;
  unsigned id;  // Op or COp value
};

std::vector<Entry> all_entries() {
  std::vector<Entry> v;
  for (unsigned i = 0; i < kNumOps; ++i) {
    const OpInfo& oi = op_info(static_cast<Op>(i));
    v.push_back({oi.mnemonic, oi.mask, oi.match, false, i});
  }
  for (unsigned i = 0; i < kNumCOps; ++i) {
    const COpInfo& ci = cop_info(static_cast<COp>(i));
    v.push_back({ci.mnemonic, ci.mask, ci.match, true, i});
  }
  return v;
}

// The entry the decoder must choose: the matching one with most fixed bits.
// Returns -1 if none matches; sets `ambiguous` if two equally specific
// entries match (a table error).
int most_specific(const std::vector<Entry>& es, uint32_t w, bool compressed, bool& ambiguous) {
  int best = -1, best_bits = -1;
  ambiguous = false;
  for (size_t i = 0; i < es.size(); ++i) {
    const Entry& e = es[i];
    if (e.compressed != compressed || (w & e.mask) != e.match) continue;
    int bits = std::popcount(e.mask);
    if (bits > best_bits) {
      best = static_cast<int>(i);
      best_bits = bits;
      ambiguous = false;
    } else if (bits == best_bits) {
      ambiguous = true;
    }
  }
  return best;
}

// Compressed encodings the spec reserves (independent of decode.cpp).
bool reserved_compressed(COp op, uint16_t c) {
  unsigned rd = (c >> 7) & 31;
  bool imm6_zero = ((c >> 12) & 1) == 0 && ((c >> 2) & 31) == 0;
  switch (op) {
    case COp::c_addi4spn: return ((c >> 5) & 0xff) == 0;
    case COp::c_addiw: return rd == 0;
    case COp::c_addi16sp: return imm6_zero;
    case COp::c_lui: return imm6_zero;
    case COp::c_lwsp: case COp::c_ldsp: return rd == 0;
    case COp::c_jr: return rd == 0;
    default: return false;
  }
}

// Entries for which binutils 2.40 is stricter than the spec / our decoder and
// prints some of our legal encodings as raw data (.4byte):
//   fence, fence.tso, fence.i: nonzero reserved fields (rd, rs1, fm, imm),
//     which the spec says to ignore;
//   fcvt.d.s, fcvt.d.w, fcvt.d.wu: a nonzero rounding mode (irrelevant for
//     these exact conversions).
bool objdump_stricter(const Entry& e) {
  if (e.compressed) return false;
  Op op = static_cast<Op>(e.id);
  return op == Op::fence || op == Op::fence_tso || op == Op::fence_i || op == Op::fcvt_d_s ||
         op == Op::fcvt_d_w || op == Op::fcvt_d_wu;
}

struct Sample {
  uint32_t raw;
  unsigned len;
  int expected;  // index into entries, the most specific match
  uint64_t pc;
  bool reserved;
};

void put16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}
void put32(std::vector<uint8_t>& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v));
  put16(b, static_cast<uint16_t>(v >> 16));
}
void put64(std::vector<uint8_t>& b, uint64_t v) {
  put32(b, static_cast<uint32_t>(v));
  put32(b, static_cast<uint32_t>(v >> 32));
}

// A minimal ELF64 relocatable object holding `text` in .text plus a
// .riscv.attributes section naming the architecture, so objdump enables the
// same extensions we decode (raw binaries get only rv64gc).
std::vector<uint8_t> make_elf(const std::vector<uint8_t>& text) {
  std::vector<uint8_t> attrs;
  {
    std::vector<uint8_t> file_attrs;
    file_attrs.push_back(5);  // Tag_RISCV_arch (ULEB128)
    file_attrs.insert(file_attrs.end(), kArch, kArch + sizeof kArch);  // with NUL
    std::vector<uint8_t> sub;
    const char vendor[] = "riscv";
    sub.insert(sub.end(), vendor, vendor + sizeof vendor);
    sub.push_back(1);  // Tag_File
    put32(sub, static_cast<uint32_t>(1 + 4 + file_attrs.size()));
    sub.insert(sub.end(), file_attrs.begin(), file_attrs.end());
    attrs.push_back('A');
    put32(attrs, static_cast<uint32_t>(4 + sub.size()));
    attrs.insert(attrs.end(), sub.begin(), sub.end());
  }
  const char shstr[] = "\0.text\0.riscv.attributes\0.shstrtab";  // offsets 1, 7, 25
  const std::vector<uint8_t> shstrtab(shstr, shstr + sizeof shstr);

  auto align8 = [](size_t v) { return (v + 7) & ~size_t{7}; };
  const size_t text_off = 64;
  const size_t attr_off = align8(text_off + text.size());
  const size_t str_off = attr_off + attrs.size();
  const size_t sh_off = align8(str_off + shstrtab.size());

  std::vector<uint8_t> b;
  const uint8_t ident[16] = {0x7f, 'E', 'L', 'F', 2 /*64-bit*/, 1 /*LE*/, 1 /*version*/};
  b.insert(b.end(), ident, ident + 16);
  put16(b, 1);    // ET_REL
  put16(b, 243);  // EM_RISCV
  put32(b, 1);    // EV_CURRENT
  put64(b, 0);    // e_entry
  put64(b, 0);    // e_phoff
  put64(b, sh_off);
  put32(b, 0x5);  // EF_RISCV_RVC | double-float ABI
  put16(b, 64);   // e_ehsize
  put16(b, 0);    // e_phentsize
  put16(b, 0);    // e_phnum
  put16(b, 64);   // e_shentsize
  put16(b, 4);    // e_shnum
  put16(b, 3);    // e_shstrndx

  b.insert(b.end(), text.begin(), text.end());
  b.resize(attr_off, 0);
  b.insert(b.end(), attrs.begin(), attrs.end());
  b.insert(b.end(), shstrtab.begin(), shstrtab.end());
  b.resize(sh_off, 0);

  auto shdr = [&](uint32_t name, uint32_t type, uint64_t flags, uint64_t off, uint64_t size,
                  uint64_t align) {
    put32(b, name);
    put32(b, type);
    put64(b, flags);
    put64(b, 0);  // sh_addr
    put64(b, off);
    put64(b, size);
    put32(b, 0);  // sh_link
    put32(b, 0);  // sh_info
    put64(b, align);
    put64(b, 0);  // sh_entsize
  };
  shdr(0, 0, 0, 0, 0, 0);
  shdr(1, 1 /*PROGBITS*/, 0x6 /*AX*/, text_off, text.size(), 4);
  shdr(7, 0x70000003 /*RISCV_ATTRIBUTES*/, 0, attr_off, attrs.size(), 1);
  shdr(25, 3 /*STRTAB*/, 0, str_off, shstrtab.size(), 1);
  return b;
}

// Removes a file when it goes out of scope.
struct TempFile {
  fs::path path;
  ~TempFile() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

// Runs a command and returns its standard output and exit status.
std::pair<std::string, int> run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {"", -1};
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  return {out, status};
}

// Parses objdump -d lines "   80000000:\t20c5a533          \tsh1add\ta0,a1,a2"
// into address -> instruction text, without objdump's "# ..." comments
// (they come from tracking register values across instructions).
std::map<uint64_t, std::string> parse_objdump(const std::string& out) {
  std::map<uint64_t, std::string> m;
  size_t pos = 0;
  while (pos < out.size()) {
    size_t eol = out.find('\n', pos);
    if (eol == std::string::npos) eol = out.size();
    std::string line = out.substr(pos, eol - pos);
    pos = eol + 1;
    size_t i = line.find_first_not_of(' ');
    size_t colon = line.find(":\t");
    if (i == std::string::npos || colon == std::string::npos || colon <= i) continue;
    std::string addr = line.substr(i, colon - i);
    if (addr.find_first_not_of("0123456789abcdef") != std::string::npos) continue;
    size_t tab = line.find('\t', colon + 2);
    if (tab == std::string::npos) continue;
    std::string text = line.substr(tab + 1);
    if (size_t c = text.find("\t#"); c != std::string::npos) text.resize(c);
    if (size_t c = text.find(" #"); c != std::string::npos) text.resize(c);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.pop_back();
    m[std::stoull(addr, nullptr, 16)] = text;
  }
  return m;
}

TEST(Disasm, MatchesObjdumpForEveryTableEntry) {
  const std::vector<Entry> entries = all_entries();

  // ---- generate encodings -------------------------------------------------
  std::mt19937 rng(20240611);
  std::vector<Sample> samples;
  std::vector<uint8_t> text;
  auto add = [&](uint32_t w, bool compressed, unsigned from) {
    bool ambiguous = false;
    int best = most_specific(entries, w, compressed, ambiguous);
    ASSERT_GE(best, 0) << fmt::format("{:#x} from {} matches nothing", w, entries[from].mnemonic);
    ASSERT_FALSE(ambiguous) << fmt::format("{:#x} matches two equally specific entries", w);
    const Entry& e = entries[best];
    bool reserved = e.compressed && reserved_compressed(static_cast<COp>(e.id), uint16_t(w));
    samples.push_back({w, compressed ? 2u : 4u, best, kVma + text.size(), reserved});
    if (compressed)
      put16(text, static_cast<uint16_t>(w));
    else
      put32(text, w);
  };
  for (unsigned i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    uint32_t width_mask = e.compressed ? 0xffffu : 0xffffffffu;
    uint32_t free = ~e.mask & width_mask;
    std::vector<uint32_t> operand_bits = {0, free, 0x55555555u & free, 0xaaaaaaaau & free};
    for (unsigned k = 0; k < kRandomPerEntry; ++k) operand_bits.push_back(rng() & free);
    for (uint32_t ob : operand_bits) add(e.match | ob, e.compressed, i);
  }
  // Every CSR number, so the CSR name table is checked exhaustively.
  unsigned csrrs = 0;
  while (entries[csrrs].compressed || static_cast<Op>(entries[csrrs].id) != Op::csrrs) ++csrrs;
  for (uint32_t n = 0; n < 4096; ++n) add((n << 20) | (2u << 12) | (10u << 7) | 0x73, false, csrrs);

  // ---- decoder picks the most specific entry; reserved words are illegal --
  for (const Sample& s : samples) {
    const Entry& e = entries[s.expected];
    Insn in = decode(s.raw);
    std::string what = fmt::format("{:#x} ({})", s.raw, e.mnemonic);
    EXPECT_EQ(in.len, s.len) << what;
    if (s.reserved) {
      EXPECT_EQ(in.op, Op::kIllegal) << what << " is reserved";
      EXPECT_EQ(disassemble(in, s.pc), "unknown") << what;
      continue;
    }
    ASSERT_NE(in.op, Op::kIllegal) << what;
    if (e.compressed) {
      EXPECT_EQ(in.cop, static_cast<COp>(e.id)) << what;
      EXPECT_EQ(in.op, cop_info(in.cop).base) << what;
    } else {
      EXPECT_EQ(in.cop, COp::kNone) << what;
      EXPECT_EQ(in.op, static_cast<Op>(e.id)) << what;
    }
  }

  // ---- objdump ---------------------------------------------------------------
  std::optional<std::string> objdump = find_objdump();
  if (!objdump) GTEST_SKIP() << "riscv64-unknown-elf-objdump not found (set -DRISCV_OBJDUMP=...)";

  TempFile tmp{fs::temp_directory_path() / fmt::format("coremu_disasm_{}.o", ::getpid())};
  {
    std::vector<uint8_t> elf = make_elf(text);
    std::ofstream f(tmp.path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(elf.data()), static_cast<std::streamsize>(elf.size()));
    ASSERT_TRUE(f.good()) << "cannot write " << tmp.path;
  }
  auto [out, status] = run(fmt::format("'{}' -d -z -M no-aliases --adjust-vma={:#x} '{}' 2>&1",
                                       *objdump, kVma, tmp.path.string()));
  ASSERT_EQ(status, 0) << out;
  const std::map<uint64_t, std::string> lines = parse_objdump(out);

  // ---- compare ---------------------------------------------------------------
  std::vector<unsigned> compared(entries.size(), 0);
  std::vector<std::string> mismatches;
  unsigned total_compared = 0, reserved = 0, stricter = 0;
  for (size_t k = 0; k < samples.size(); ++k) {
    const Sample& s = samples[k];
    const Entry& e = entries[s.expected];
    if (s.reserved) {
      ++reserved;
      continue;
    }
    auto it = lines.find(s.pc);
    if (it == lines.end()) {
      mismatches.push_back(fmt::format("{:#x} ({}): no objdump line at {:#x}", s.raw,
                                       e.mnemonic, s.pc));
      continue;
    }
    const std::string& theirs = it->second;
    if (theirs.starts_with(".4byte") || theirs.starts_with(".2byte")) {
      // objdump calls it reserved; only expected where it is known stricter.
      if (!objdump_stricter(e))
        mismatches.push_back(fmt::format("{:#x} ({}): objdump says \"{}\", ours \"{}\"", s.raw,
                                         e.mnemonic, theirs, disassemble(s.raw, s.pc)));
      ++stricter;
      continue;
    }
    std::string ours = disassemble(s.raw, s.pc);
    ++compared[s.expected];
    ++total_compared;
    if (ours != theirs)
      mismatches.push_back(fmt::format("{:#x} ({}) at {:#x}: objdump \"{}\", ours \"{}\"",
                                       s.raw, e.mnemonic, s.pc, theirs, ours));
  }
  fmt::print("compared {} of {} encodings with {} ({} reserved, {} shown as data by objdump)\n",
             total_compared, samples.size(), *objdump, reserved, stricter);
  for (size_t i = 0; i < mismatches.size() && i < 60; ++i) ADD_FAILURE() << mismatches[i];
  EXPECT_EQ(mismatches.size(), 0u) << "mismatches in total";

  // Every entry must really have been compared at least once.
  for (size_t i = 0; i < entries.size(); ++i)
    EXPECT_GT(compared[i], 0u) << "no encoding of " << entries[i].mnemonic << " was compared";
  EXPECT_GT(total_compared, samples.size() * 9 / 10);
}

}  // namespace
