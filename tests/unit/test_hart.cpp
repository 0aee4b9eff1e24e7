// Unit tests of the one-hart emulator on a minimal fake bus: execution,
// exact instruction counts, traps and delegation, CSR rules, interrupts,
// Sv39/Sv48 translation with A/D updates, atomics, self-modifying code.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <vector>

#include "rv64/hart.h"
#include "rv64/insn.h"

using namespace rv64;

namespace {

constexpr uint64_t kBase = 0x80000000;

class FakeBus : public Bus {
 public:
  FakeBus() : ram_(kBase, 4 << 20) {}
  Ram& ram() override { return ram_; }
  uint8_t* direct_page(uint64_t pa, bool) override {
    if (!ram_.contains(pa)) return nullptr;
    return ram_.ptr(pa & ~(kPageSize - 1));
  }
  bool load(uint64_t pa, unsigned size, uint64_t& v) override {
    if (ram_.contains(pa, size)) {
      v = 0;
      std::memcpy(&v, ram_.ptr(pa), size);
      return true;
    }
    if (pa >= 0x10000000 && pa < 0x10001000) {
      v = mmio[pa];
      return true;
    }
    return false;
  }
  bool store(uint64_t pa, unsigned size, uint64_t v) override {
    if (ram_.contains(pa, size)) {
      std::memcpy(ram_.ptr(pa), &v, size);
      return true;
    }
    if (pa >= 0x10000000 && pa < 0x10001000) {
      mmio[pa] = v;
      return true;
    }
    return false;
  }
  uint64_t mtime() override { return time; }
  Ram ram_;
  std::map<uint64_t, uint64_t> mmio;
  uint64_t time = 0;
};

// Instruction encoders.
uint32_t R(uint32_t f7, uint32_t rs2, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t op) {
  return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}
uint32_t I(int32_t imm, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t op) {
  return (static_cast<uint32_t>(imm) & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}
uint32_t S(int32_t imm, uint32_t rs2, uint32_t rs1, uint32_t f3, uint32_t op) {
  uint32_t u = static_cast<uint32_t>(imm);
  return ((u >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (u & 0x1f) << 7 | op;
}
uint32_t B(int32_t imm, uint32_t rs2, uint32_t rs1, uint32_t f3) {
  uint32_t u = static_cast<uint32_t>(imm);
  return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 |
         ((u >> 1) & 0xf) << 8 | ((u >> 11) & 1) << 7 | 0x63;
}
uint32_t addi(uint32_t rd, uint32_t rs1, int32_t imm) { return I(imm, rs1, 0, rd, 0x13); }
uint32_t lui(uint32_t rd, uint32_t imm20) { return imm20 << 12 | rd << 7 | 0x37; }
uint32_t ld(uint32_t rd, uint32_t rs1, int32_t imm) { return I(imm, rs1, 3, rd, 0x03); }
uint32_t lw(uint32_t rd, uint32_t rs1, int32_t imm) { return I(imm, rs1, 2, rd, 0x03); }
uint32_t sd(uint32_t rs2, uint32_t rs1, int32_t imm) { return S(imm, rs2, rs1, 3, 0x23); }
uint32_t csrrw(uint32_t rd, uint32_t csr, uint32_t rs1) { return I(static_cast<int32_t>(csr), rs1, 1, rd, 0x73); }
uint32_t csrrs(uint32_t rd, uint32_t csr, uint32_t rs1) { return I(static_cast<int32_t>(csr), rs1, 2, rd, 0x73); }
constexpr uint32_t kEcall = 0x00000073, kMret = 0x30200073, kSret = 0x10200073, kWfi = 0x10500073;

struct HartTest : ::testing::Test {
  FakeBus bus;
  Hart h{0, bus};
  void put(uint64_t addr, const std::vector<uint32_t>& words) {
    for (size_t i = 0; i < words.size(); ++i) std::memcpy(bus.ram_.ptr(addr + 4 * i), &words[i], 4);
    bus.ram_.note_write(addr, 4 * words.size());
  }
  void put16(uint64_t addr, const std::vector<uint16_t>& halves) {
    for (size_t i = 0; i < halves.size(); ++i) std::memcpy(bus.ram_.ptr(addr + 2 * i), &halves[i], 2);
  }
  uint64_t csr(unsigned n) {
    uint64_t v = 0;
    EXPECT_TRUE(h.csr_read(n, v));
    return v;
  }
  // PMP entry 0 NAPOT over everything, RWX, as firmware programs it: S and
  // U mode may access nothing that no entry matches.
  void open_pmp() {
    h.csr_write(0x3b0, ~0ull);
    h.csr_write(0x3a0, 0x1f);
  }
  void SetUp() override {
    h.reset(kBase);
    open_pmp();
  }
};

TEST_F(HartTest, ArithmeticAndExactCount) {
  put(kBase, {addi(1, 0, 5), addi(2, 0, -3), R(0, 2, 1, 0, 3, 0x33) /*add x3*/, R(0x20, 2, 1, 0, 4, 0x33) /*sub*/,
              addi(0, 1, 7) /*write to x0*/});
  EXPECT_EQ(h.run(3), Exit::kBudget);
  EXPECT_EQ(h.icount(), 3u);
  EXPECT_EQ(h.x[3], 2u);
  EXPECT_EQ(h.pc, kBase + 12);
  h.run(2);
  EXPECT_EQ(h.x[4], 8u);
  EXPECT_EQ(h.x[0], 0u);
  EXPECT_EQ(h.icount(), 5u);
}

// Zbc: results from an independent bit-by-bit model of the carry-less
// product (and the same on qemu-system-riscv64, tests/guest/bitmanip.c).
TEST_F(HartTest, CarrylessMultiply) {
  struct Case {
    uint64_t a, b, lo, hi, rev;
  };
  const Case cases[] = {
      {3, 3, 5, 0, 0},
      {0x8000000000000001, 0x8000000000000001, 1, 0x4000000000000000, 0x8000000000000000},
      {~0ull, ~0ull, 0x5555555555555555, 0x5555555555555555, 0xaaaaaaaaaaaaaaaa},
      {0x123456789abcdef0, 0xfedcba9876543210, 0x0a0789828c810f00, 0x0e038d8688850b04, 0x1c071b0d110a1608},
      {0xffffffff, 0xffffffff, 0x5555555555555555, 0, 0},
      {0, ~0ull, 0, 0, 0},
      {~0ull, 1, ~0ull, 0, 1},
  };
  for (const Case& c : cases) {
    h.reset(kBase);
    // clmul x3, x1, x2; clmulh x4, x1, x2; clmulr x5, x1, x2
    put(kBase, {R(5, 2, 1, 1, 3, 0x33), R(5, 2, 1, 3, 4, 0x33), R(5, 2, 1, 2, 5, 0x33)});
    h.x[1] = c.a;
    h.x[2] = c.b;
    h.run(3);
    EXPECT_EQ(h.x[3], c.lo) << std::hex << c.a << " " << c.b;
    EXPECT_EQ(h.x[4], c.hi) << std::hex << c.a << " " << c.b;
    EXPECT_EQ(h.x[5], c.rev) << std::hex << c.a << " " << c.b;
  }
}

TEST_F(HartTest, BranchLoopCountsEveryInstruction) {
  // x1 = 10; loop: x1 -= 1; bne x1, x0, loop
  put(kBase, {addi(1, 0, 10), addi(1, 1, -1), B(-4, 0, 1, 1), addi(2, 0, 1)});
  h.run(1 + 2 * 10 + 1);
  EXPECT_EQ(h.x[1], 0u);
  EXPECT_EQ(h.x[2], 1u);
  EXPECT_EQ(h.icount(), 22u);
}

// A block that branches back to its own start runs again inside the
// handler chain (Hart::loop_back): the budget still ends it at the exact
// instruction, however the runs are cut.
TEST_F(HartTest, SelfLoopStopsExactlyAtTheBudget) {
  // loop: x1 += 1; sd x1, 0(x4); x2 += 2; bne x1, x3, loop  (x3 never
  // reached; the store keeps it from counting as a read-only spin loop)
  auto prog = [&] {
    h.reset(kBase);
    put(kBase, {addi(1, 1, 1), sd(1, 4, 0), addi(2, 2, 2), B(-12, 3, 1, 1)});
    h.x[3] = ~0ull;
    h.x[4] = kBase + 0x1000;
  };
  for (uint64_t budget : {1u, 2u, 3u, 4u, 5u, 100u, 255u, 256u, 257u, 10'000u, 100'001u}) {
    prog();
    EXPECT_EQ(h.run(budget), Exit::kBudget);
    EXPECT_EQ(h.icount(), budget);
    uint64_t passes = budget / 4, rest = budget % 4;
    EXPECT_EQ(h.x[1], passes + (rest >= 1)) << budget;
    EXPECT_EQ(h.x[2], 2 * (passes + (rest >= 3))) << budget;
    EXPECT_EQ(h.pc, kBase + 4 * rest) << budget;
  }
  prog();
  for (int k = 0; k < 1000; ++k) h.run(7);
  EXPECT_EQ(h.icount(), 7000u);
  EXPECT_EQ(h.x[1], 1750u);
  EXPECT_EQ(h.pc, kBase);
}

// A loop that stores over its own first instruction runs the new code on
// the next iteration (the code page's generation changed), as when the
// block was looked up again.
TEST_F(HartTest, SelfLoopSeesItsOwnCodeChange) {
  // loop: x1 += 1; sw x5, 0(x6); bne x1, x3, loop  with x5 = addi x1, x1, 100
  put(kBase, {addi(1, 1, 1), S(0, 5, 6, 2, 0x23), B(-8, 3, 1, 1)});
  h.x[3] = ~0ull;
  h.x[5] = addi(1, 1, 100);
  h.x[6] = kBase;
  h.run(6);
  EXPECT_EQ(h.x[1], 101u);
}

// An instruction in the loop that enables a pending interrupt: the
// interrupt is taken at the end of that pass, not after more passes.
TEST_F(HartTest, SelfLoopTakesAnInterruptItEnabled) {
  // loop: x1 += 1; csrrs x0, mstatus, x5 (MIE); bne x1, x3, loop
  put(kBase, {addi(1, 1, 1), csrrs(0, 0x300, 5), B(-8, 3, 1, 1)});
  put(kBase + 0x200, {B(0, 0, 0, 0)});  // the handler: a jump to itself
  h.csr_write(0x305, kBase + 0x200);   // mtvec
  h.csr_write(0x304, 1u << 3);         // mie.MSIE
  h.set_irq_line(kMSI, true);
  h.x[3] = ~0ull;
  h.x[5] = 1u << 3;  // mstatus.MIE
  h.run(100);
  EXPECT_EQ(csr(0x342), kInterruptBit | kMSI);  // mcause
  EXPECT_EQ(csr(0x341), kBase + 8);             // mepc: right behind the csrrs
  EXPECT_EQ(h.x[1], 1u);
}

TEST_F(HartTest, DivisionEdgeCases) {
  // x1 = INT64_MIN (1 << 63), x2 = -1, x3 = 0
  put(kBase, {addi(1, 0, 1), I(63, 1, 1, 1, 0x13) /*slli*/, addi(2, 0, -1),
              R(1, 2, 1, 4, 4, 0x33) /*div x4 = x1/x2*/, R(1, 2, 1, 6, 5, 0x33) /*rem*/,
              R(1, 0, 1, 4, 6, 0x33) /*div by zero*/, R(1, 0, 1, 7, 7, 0x33) /*remu by zero*/,
              R(1, 0, 2, 5, 8, 0x3b) /*divuw by zero*/});
  h.run(8);
  EXPECT_EQ(h.x[4], 1ull << 63);
  EXPECT_EQ(h.x[5], 0u);
  EXPECT_EQ(h.x[6], ~0ull);
  EXPECT_EQ(h.x[7], 1ull << 63);
  EXPECT_EQ(h.x[8], ~0ull);
}

TEST_F(HartTest, LoadsStoresAndMisaligned) {
  put(kBase, {addi(2, 0, -2), sd(2, 1, 0), lw(3, 1, 0), I(0, 1, 6, 4, 0x03) /*lwu*/,
              ld(5, 1, 3) /*misaligned*/});
  h.x[1] = kBase + 0x1000;
  h.run(5);
  EXPECT_EQ(h.x[3], ~1ull);
  EXPECT_EQ(h.x[4], 0xfffffffeull);
  EXPECT_EQ(h.x[5], 0x000000ffffffffffull);
}

TEST_F(HartTest, IllegalInstructionTrapsWithTval) {
  put(kBase, {csrrw(0, 0x305, 1), 0xffffffff});
  put(kBase + 0x100, {kWfi});
  h.x[1] = kBase + 0x100;
  EXPECT_EQ(h.run(3), Exit::kWfi);
  EXPECT_EQ(h.pc, kBase + 0x104);
  EXPECT_EQ(csr(0x342), 2u);
  EXPECT_EQ(csr(0x343), 0xffffffffu);
  EXPECT_EQ(csr(0x341), kBase + 4);
  EXPECT_EQ(h.icount(), 2u);  // csrrw and wfi: the illegal instruction did not retire
}

TEST_F(HartTest, AccessFaultAndEcallCauses) {
  put(kBase, {csrrw(0, 0x305, 1), ld(2, 0, 0x100), kEcall});
  put(kBase + 0x100, {kWfi});
  h.x[1] = kBase + 0x100;
  EXPECT_EQ(h.run(3), Exit::kWfi);
  EXPECT_EQ(csr(0x342), 5u);
  EXPECT_EQ(csr(0x343), 0x100u);
  EXPECT_EQ(csr(0x341), kBase + 4);
  h.pc = kBase + 8;
  EXPECT_EQ(h.run(3), Exit::kWfi);
  EXPECT_EQ(csr(0x342), 11u);
  EXPECT_EQ(csr(0x341), kBase + 8);
}

// A misaligned store that straddles the end of RAM faults and writes
// nothing, not even its bytes that are in RAM (as QEMU, which probes
// every byte's target first).
TEST_F(HartTest, StoreStraddlingTheEndOfRamWritesNothing) {
  const uint64_t end = kBase + (4 << 20);
  put(kBase, {csrrw(0, 0x305, 1), sd(2, 3, 0)});
  put(kBase + 0x100, {kWfi});
  h.x[1] = kBase + 0x100;
  h.x[2] = 0x1122334455667788;
  h.x[3] = end - 4;
  std::memset(bus.ram_.ptr(end - 4), 0xaa, 4);
  EXPECT_EQ(h.run(3), Exit::kWfi);
  EXPECT_EQ(csr(0x342), 7u);  // store access fault
  EXPECT_EQ(csr(0x343), end);  // the first byte outside RAM
  for (unsigned i = 0; i < 4; ++i) EXPECT_EQ(*bus.ram_.ptr(end - 4 + i), 0xaa) << i;
}

TEST_F(HartTest, DelegatedTrapFromUserToSupervisor) {
  // M: medeleg = 1<<8 (ecall from U), stvec, mepc = user code, MPP = U, mret
  put(kBase, {csrrw(0, 0x302, 1), csrrw(0, 0x105, 2), csrrw(0, 0x341, 3), kMret});
  put(kBase + 0x200, {kEcall});
  put(kBase + 0x300, {kWfi});
  h.x[1] = 1 << 8;
  h.x[2] = kBase + 0x300;
  h.x[3] = kBase + 0x200;
  EXPECT_EQ(h.run(6), Exit::kWfi);
  EXPECT_EQ(h.priv(), kSupervisor);
  EXPECT_EQ(h.pc, kBase + 0x304);
  EXPECT_EQ(csr(0x142), 8u);
  EXPECT_EQ(csr(0x141), kBase + 0x200);
  EXPECT_EQ(csr(0x100) & mstatus::SPP, 0u);
}

TEST_F(HartTest, CsrPrivilegeRules) {
  h.set_priv(kSupervisor);
  h.csr_write(0x105, kBase + 0x400);  // stvec
  h.csr_write(0x305, kBase + 0x500);  // mtvec
  put(kBase, {csrrs(1, 0x300, 0)});   // read mstatus from S: illegal
  put(kBase + 0x500, {kWfi});
  put(kBase + 0x600, {csrrw(0, 0xf14, 1)});
  EXPECT_EQ(h.run(2), Exit::kWfi);  // two steps: the trap, then the handler's wfi
  EXPECT_EQ(h.priv(), kMachine);
  EXPECT_EQ(csr(0x342), 2u);
  EXPECT_EQ(h.icount(), 1u);
  EXPECT_EQ(h.traps(), 1u);
  // Writing a read-only CSR is illegal even in M-mode.
  h.pc = kBase + 0x600;
  EXPECT_EQ(h.run(2), Exit::kWfi);
  EXPECT_EQ(csr(0x342), 2u);
  EXPECT_EQ(csr(0x343), csrrw(0, 0xf14, 1));
  // Counters in U-mode need mcounteren and scounteren.
  EXPECT_EQ(csr(0xf14), 0u);
}

TEST_F(HartTest, InterruptPriorityAndEnables) {
  h.csr_write(0x305, kBase + 0x100);
  h.csr_write(0x304, (1 << kMTI) | (1 << kMSI));
  put(kBase, {addi(1, 0, 1), addi(1, 0, 2)});
  put(kBase + 0x100, {kWfi});
  h.set_irq_line(kMTI, true);
  h.set_irq_line(kMSI, true);
  h.run(1);  // MIE = 0 in M-mode: not taken
  EXPECT_EQ(h.pc, kBase + 4);
  h.csr_write(0x300, mstatus::MIE);
  h.run(1);
  EXPECT_EQ(csr(0x342), kInterruptBit | kMSI);  // MSI beats MTI
  EXPECT_EQ(csr(0x341), kBase + 4);
}

TEST_F(HartTest, WfiReturnsAndWakes) {
  put(kBase, {kWfi, addi(1, 0, 1)});
  EXPECT_EQ(h.run(10), Exit::kWfi);
  EXPECT_EQ(h.pc, kBase + 4);
  EXPECT_FALSE(h.wfi_wakeup_pending());
  h.csr_write(0x304, 1 << kMSI);
  h.set_irq_line(kMSI, true);
  EXPECT_TRUE(h.wfi_wakeup_pending());
}

// Builds a 3-level Sv39 table: root at 0x80100000; maps va 0x4000_0000_0 region.
TEST_F(HartTest, Sv39TranslationADBitsAndFaults) {
  const uint64_t root = kBase + 0x100000, l1 = kBase + 0x101000, l0 = kBase + 0x102000;
  auto pte = [](uint64_t pa, uint64_t flags) { return ((pa >> 12) << 10) | flags; };
  auto set = [&](uint64_t a, uint64_t v) { std::memcpy(bus.ram_.ptr(a), &v, 8); };
  // Identity gigapage for the code at 0x80000000 (VPN2 = 2), RWX, A set.
  set(root + 2 * 8, pte(kBase, 0x1 | 0x2 | 0x4 | 0x8 | 0x40));
  // va 0x1000 -> pa 0x80200000, R W (no A/D yet), via l1/l0.
  set(root + 0 * 8, pte(l1, 0x1));
  set(l1 + 0 * 8, pte(l0, 0x1));
  set(l0 + 1 * 8, pte(kBase + 0x200000, 0x1 | 0x2 | 0x4));
  // va 0x2000 -> read-only
  set(l0 + 2 * 8, pte(kBase + 0x201000, 0x1 | 0x2 | 0x40));
  uint64_t satp = (8ull << 60) | (root >> 12);
  h.csr_write(0x180, satp);
  h.csr_write(0x305, kBase + 0x800);
  h.csr_write(0x105, kBase + 0x900);
  h.set_priv(kSupervisor);
  uint64_t val = 0x1122334455667788;
  std::memcpy(bus.ram_.ptr(kBase + 0x200008), &val, 8);
  put(kBase, {lui(1, 1), ld(2, 1, 8), sd(2, 1, 16), lui(3, 2), sd(2, 3, 0)});
  put(kBase + 0x800, {kWfi});
  h.run(4);
  EXPECT_EQ(h.x[2], val);
  uint64_t leaf;
  std::memcpy(&leaf, bus.ram_.ptr(l0 + 8), 8);
  EXPECT_EQ(leaf & 0xc0, 0xc0u);  // A and D set by the store
  uint64_t stored;
  std::memcpy(&stored, bus.ram_.ptr(kBase + 0x200010), 8);
  EXPECT_EQ(stored, val);
  EXPECT_EQ(h.run(2), Exit::kWfi);  // the store to a read-only page faults
  EXPECT_EQ(csr(0x342), 15u);
  EXPECT_EQ(csr(0x343), 0x2000u);
  EXPECT_EQ(h.pc, kBase + 0x804);
  h.set_priv(kSupervisor);
  EXPECT_EQ(h.translate_debug(0x1008, Access::kRead).value_or(0), kBase + 0x200008);
  EXPECT_FALSE(h.translate_debug(0x5000, Access::kRead).has_value());
}

TEST_F(HartTest, AtomicsAndLrSc) {
  // x1 = addr, amoadd.d x2, x3, (x1); lr.d x4,(x1); sc.d x5, x6, (x1); sc.d x7, x6, (x1)
  put(kBase, {addi(0, 0, 0), R(0, 3, 1, 3, 2, 0x2f), R(0x08, 0, 1, 3, 4, 0x2f), R(0x0c, 6, 1, 3, 5, 0x2f),
              R(0x0c, 6, 1, 3, 7, 0x2f), R(0x40, 3, 1, 2, 8, 0x2f) /*amomin.w*/});
  uint64_t init = 40;
  std::memcpy(bus.ram_.ptr(kBase + 0x1000), &init, 8);
  h.x[1] = kBase + 0x1000;
  h.x[3] = 2;
  h.x[6] = 99;
  EXPECT_EQ(h.run(6), Exit::kPause);  // right behind the failed SC
  EXPECT_EQ(h.icount(), 5u);
  h.run(1);
  EXPECT_EQ(h.x[2], 40u);
  EXPECT_EQ(h.x[4], 42u);
  EXPECT_EQ(h.x[5], 0u);  // sc succeeds
  EXPECT_EQ(h.x[7], 1u);  // second sc has no reservation
  EXPECT_EQ(h.x[8], 99u);
  uint64_t now;
  std::memcpy(&now, bus.ram_.ptr(kBase + 0x1000), 8);
  EXPECT_EQ(now, 2u);  // amomin.w of 99 and 2 (low word)
}

TEST_F(HartTest, CompressedInstructions) {
  // c.li a0, 5 ; c.addi a0, 3 ; c.mv a1, a0 ; c.slli a1, 2
  put16(kBase, {0x4515, 0x050d, 0x85aa, 0x058a});
  h.run(4);
  EXPECT_EQ(h.x[10], 8u);
  EXPECT_EQ(h.x[11], 32u);
  EXPECT_EQ(h.pc, kBase + 8);
}

TEST_F(HartTest, SelfModifyingCodeAfterFenceI) {
  // Executes addi x1,x0,1 ; then overwrites it with addi x1,x0,2 ; fence.i ; jumps back.
  put(kBase, {addi(1, 0, 1), addi(0, 0, 0), ld(3, 2, 0x100), sd(3, 2, 0), 0x0000100f /*fence.i*/,
              I(0, 2, 0, 0, 0x67) /*jr x2*/});
  h.x[2] = kBase;
  uint64_t new_insn = addi(1, 0, 2) | (uint64_t{addi(0, 0, 0)} << 32);
  std::memcpy(bus.ram_.ptr(kBase + 0x100), &new_insn, 8);
  h.run(6);
  EXPECT_EQ(h.x[1], 1u);
  h.run(1);
  EXPECT_EQ(h.x[1], 2u);
}

TEST_F(HartTest, DecodeTableMatchesKnownWords) {
  EXPECT_EQ(decode(0x00a58533).op, Op::add);      // add a0,a1,a0
  EXPECT_EQ(decode(0x40a58533).op, Op::sub);
  EXPECT_EQ(decode(0x0100000f).op, Op::pause);
  EXPECT_EQ(decode(0x8330000f).op, Op::fence_tso);
  EXPECT_EQ(decode(0x6b855513).op, Op::rev8);     // rev8 a0,a0
  EXPECT_EQ(decode(0x00000000).op, Op::kIllegal); // all-zero halfword is reserved
  Insn c = decode(0x4515);                        // c.li a0,5
  EXPECT_EQ(c.cop, COp::c_li);
  EXPECT_EQ(c.op, Op::addi);
  EXPECT_EQ(c.imm, 5);
}

// Regression (riscv-tests rv64mi-p-instret_overflow): a value written to
// minstret/mcycle by a CSR instruction replaces that instruction's own
// increment, so the next instruction reads exactly the value written, even
// when the write is not the first instruction of its decoded block.
TEST_F(HartTest, CounterWriteIsReadBackByNextInstruction) {
  h.x[5] = 1000;
  put(kBase, {addi(1, 0, 1), addi(1, 1, 1), addi(1, 1, 1),
              csrrw(0, 0xb02, 0) /*minstret = 0*/, csrrs(10, 0xb02, 0), csrrs(11, 0xb02, 0),
              csrrw(0, 0xb00, 5) /*mcycle = 1000*/, csrrs(12, 0xb00, 0), addi(0, 0, 0),
              csrrs(13, 0xc02, 0) /*instret shadow*/});
  h.run(10);
  EXPECT_EQ(h.x[10], 0u);
  EXPECT_EQ(h.x[11], 1u);
  EXPECT_EQ(h.x[12], 1000u);
  EXPECT_EQ(h.x[13], 5u);  // csrrs x10, csrrs x11, csrrw, csrrs x12, addi
  // A debugger write is what the next read returns, then counting resumes.
  EXPECT_TRUE(h.csr_write(0xb02, 500));
  EXPECT_EQ(csr(0xb02), 500u);
  put(kBase + 0x100, {addi(0, 0, 0), addi(0, 0, 0)});
  h.pc = kBase + 0x100;
  h.run(2);
  EXPECT_EQ(csr(0xb02), 502u);
}

}  // namespace

namespace {
TEST_F(HartTest, WfiDoesNotStallWhileAnEnabledInterruptIsPendingEvenIfGloballyMasked) {
  // mie.SSIE = 1, SSIP pending, mstatus.MIE/SIE = 0: WFI falls through
  // (rv64si-p-wfi).
  put(kBase, {kWfi, addi(1, 0, 1)});
  h.csr_write(0x344, 1 << kSSI);
  h.csr_write(0x304, 1 << kSSI);
  EXPECT_EQ(h.run(2), Exit::kBudget);
  EXPECT_EQ(h.x[1], 1u);
}

TEST_F(HartTest, WfiStallsWhileOnlyAnInterruptDisabledInMieIsPending) {
  // mie = 0 and SSIP pending (Linux's idle loop leaves STIP pending with
  // STIE off): WFI sleeps; the runner wakes the hart for an enabled one.
  put(kBase, {kWfi, addi(1, 0, 1)});
  h.csr_write(0x344, 1 << kSSI);
  EXPECT_EQ(h.run(2), Exit::kWfi);
  EXPECT_EQ(h.x[1], 0u);
  EXPECT_FALSE(h.wfi_wakeup_pending());
}
}  // namespace

// ---- debugger hooks -------------------------------------------------------------

TEST_F(HartTest, BreakpointStopsBeforeTheInstructionAndCountsExactly) {
  put(kBase, {addi(1, 0, 1), addi(2, 0, 2), addi(3, 0, 3), addi(4, 0, 4)});
  h.run(1);  // decode the block before the breakpoint exists
  h.set_breakpoints({kBase + 8});
  EXPECT_EQ(h.run(100), Exit::kDebug);
  EXPECT_EQ(h.debug_hit().kind, DebugHit::kBreakpoint);
  EXPECT_EQ(h.pc, kBase + 8);
  EXPECT_EQ(h.icount(), 2u);
  EXPECT_EQ(h.x[3], 0u);
  // Running again from the breakpoint hits it again; step() goes past it.
  EXPECT_EQ(h.run(100), Exit::kDebug);
  EXPECT_EQ(h.icount(), 2u);
  h.step();
  EXPECT_EQ(h.x[3], 3u);
  EXPECT_EQ(h.icount(), 3u);
  h.set_breakpoints({});
  EXPECT_EQ(h.run(1), Exit::kBudget);
  EXPECT_EQ(h.x[4], 4u);
}

TEST_F(HartTest, WatchpointStopsBeforeTheAccessOnlyForItsKind) {
  const uint64_t data = kBase + 0x2000;
  // x1 = data; ld x2, 0(x1); sd x2, 8(x1); ld x3, 16(x1)
  put(kBase, {ld(2, 1, 0), sd(2, 1, 8), ld(3, 1, 16), addi(4, 0, 1)});
  h.x[1] = data;
  h.set_watchpoints({{data + 8, 8, kWatchWrite}});
  EXPECT_EQ(h.run(100), Exit::kDebug);  // the load of data+0 passes; the store stops
  EXPECT_EQ(h.debug_hit().kind, DebugHit::kWatchpoint);
  EXPECT_EQ(h.debug_hit().addr, data + 8);
  EXPECT_TRUE(h.debug_hit().write);
  EXPECT_EQ(h.pc, kBase + 4);
  EXPECT_EQ(h.icount(), 1u);
  h.step();  // performs the store
  EXPECT_EQ(h.pc, kBase + 8);
  // A read watchpoint on a byte inside a wider load.
  h.set_watchpoints({{data + 20, 1, kWatchRead}});
  EXPECT_EQ(h.run(100), Exit::kDebug);
  EXPECT_EQ(h.debug_hit().addr, data + 20);
  EXPECT_FALSE(h.debug_hit().write);
  h.set_watchpoints({});
  EXPECT_EQ(h.run(2), Exit::kBudget);
  EXPECT_EQ(h.x[4], 1u);
}

TEST_F(HartTest, StepTakesTheExceptionAndIgnoresInterrupts) {
  h.csr_write(0x305, kBase + 0x100);  // mtvec
  put(kBase, {kEcall});
  h.step();
  EXPECT_EQ(h.pc, kBase + 0x100);
  EXPECT_EQ(h.icount(), 0u);  // an exception retires nothing
  // A pending, enabled interrupt is not taken by a step.
  put(kBase + 0x100, {addi(5, 0, 9)});
  h.csr_write(0x304, 1u << kMSI);        // mie.MSIE
  h.csr_write(0x300, 1u << 3);           // mstatus.MIE
  h.set_irq_line(kMSI, true);
  h.step();
  EXPECT_EQ(h.x[5], 9u);
  EXPECT_EQ(h.pc, kBase + 0x104);
}

TEST_F(HartTest, ReadOnlySpinLoopAndFailedScReturnPause) {
  // spin: ld x2, 0(x1); beq x2, x0, spin  -- waits for a flag that never comes
  put(kBase, {ld(2, 1, 0), B(-4, 0, 2, 0)});
  h.x[1] = kBase + 0x1000;
  EXPECT_EQ(h.run(1'000'000), Exit::kPause);
  EXPECT_LT(h.icount(), 1000u);  // gave up the CPU after a few hundred rounds
  // A loop that stores is not a spin: it runs its budget.
  h.reset(kBase);
  put(kBase, {sd(2, 1, 0), B(-4, 0, 2, 0)});
  h.x[1] = kBase + 0x1000;
  EXPECT_EQ(h.run(10'000), Exit::kBudget);
  // sc.d without a reservation fails and ends the run with kPause right
  // behind it (an exact point: the rest of its block does not run).
  h.reset(kBase);
  put(kBase, {R(0x0c, 2, 1, 3, 3, 0x2f) /*sc.d x3, x2, (x1)*/, addi(4, 0, 1), I(0, 0, 0, 0, 0x6f) /*j .*/});
  h.x[1] = kBase + 0x1000;
  EXPECT_EQ(h.run(1000), Exit::kPause);
  EXPECT_EQ(h.x[3], 1u);
  EXPECT_EQ(h.icount(), 1u);
  EXPECT_EQ(h.pc, kBase + 4);
}

TEST_F(HartTest, DeterministicModeHasNoBlockShapedExits) {
  // The read-only spin loop runs its whole budget: how often a loop's
  // block is entered depends on where debuggers cut blocks.
  h.set_deterministic(true);
  put(kBase, {ld(2, 1, 0), B(-4, 0, 2, 0)});
  h.x[1] = kBase + 0x1000;
  EXPECT_EQ(h.run(100'000), Exit::kBudget);
  EXPECT_EQ(h.steps(), 100'000u);
}

TEST_F(HartTest, StepsCountTrapsAndSplitRunsAgree) {
  // ecall traps to a handler that returns behind it: every step is either
  // an instruction or a trap, and a run cut anywhere ends in the same state.
  auto prog = [&] {
    h.reset(kBase);
    h.csr_write(0x305, kBase + 0x100);  // mtvec
    put(kBase, {addi(1, 1, 1), kEcall, addi(2, 2, 1), B(-12, 0, 0, 0) /*beq x0, x0, start*/});
    put(kBase + 0x100, {csrrs(5, 0x341, 0), addi(5, 5, 4), csrrw(0, 0x341, 5), kMret});
  };
  prog();
  h.run(1000);
  EXPECT_EQ(h.steps(), 1000u);
  EXPECT_GT(h.traps(), 0u);
  EXPECT_EQ(h.icount() + h.traps(), 1000u);
  uint64_t pc = h.pc, x1 = h.x[1], x2 = h.x[2], ic = h.icount();
  for (uint64_t cut : {1u, 2u, 3u, 7u, 333u, 999u}) {
    prog();
    h.run(cut);
    EXPECT_EQ(h.steps(), cut);
    while (h.steps() < 1000) h.run(std::min<uint64_t>(cut, 1000 - h.steps()));
    EXPECT_EQ(h.steps(), 1000u) << cut;
    EXPECT_EQ(h.pc, pc) << cut;
    EXPECT_EQ(h.x[1], x1) << cut;
    EXPECT_EQ(h.x[2], x2) << cut;
    EXPECT_EQ(h.icount(), ic) << cut;
  }
}
