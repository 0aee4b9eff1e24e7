// Physical memory protection: the Pmp rules on their own (matching modes,
// priority, partial matches, locks, WARL fields, whole-page decisions), and
// a hart enforcing them through its TLB (faults with cause and tval, pages
// split by entries, flushes on CSR writes, page-table walks, MPRV).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "rv64/hart.h"
#include "rv64/pmp.h"

using namespace rv64;

namespace {

constexpr uint8_t R = 1, W = 2, X = 4, L = 0x80;
constexpr uint8_t TOR = 1 << 3, NA4 = 2 << 3, NAPOT = 3 << 3;

// pmpaddr for a NAPOT region of `size` bytes (a power of two >= 8) at base.
uint64_t napot(uint64_t base, uint64_t size) { return (base >> 2) | ((size >> 3) - 1); }

struct PmpTest : ::testing::Test {
  Pmp p;
  // Sets entry i's pmpcfg byte (keeping the others).
  void cfg(unsigned i, uint8_t v) {
    uint64_t word = p.read_cfg(i / 8);
    word = (word & ~(0xffull << (8 * (i % 8)))) | (uint64_t{v} << (8 * (i % 8)));
    p.write_cfg(i / 8, word);
  }
  uint8_t cfg_of(unsigned i) { return static_cast<uint8_t>(p.read_cfg(i / 8) >> (8 * (i % 8))); }
  bool ok(uint64_t pa, unsigned len, Access a, Priv pr) { return p.allows(pa, len, a, pr); }
};

TEST_F(PmpTest, ResetStateAllowsMachineModeOnly) {
  EXPECT_FALSE(p.enforced(kMachine));
  EXPECT_TRUE(p.enforced(kSupervisor));
  EXPECT_TRUE(ok(0x80000000, 8, Access::kWrite, kMachine));
  EXPECT_FALSE(ok(0x80000000, 8, Access::kRead, kSupervisor));  // no entry matches: S and U fail
  EXPECT_FALSE(ok(0x80000000, 2, Access::kExec, kUser));
  EXPECT_EQ(p.page(0x80000000, Access::kRead, kSupervisor), Pmp::Page::kDeny);
  EXPECT_EQ(p.page(0x80000000, Access::kRead, kMachine), Pmp::Page::kAllow);
}

TEST_F(PmpTest, TorNa4AndNapotRanges) {
  // 0: TOR [0, 0x1000) R; 1: NA4 at 0x2000 RW; 2: NAPOT 64 KiB at 0x10000 X;
  // 3: TOR [pmpaddr2 << 2, 0x30000): with a NAPOT entry below, TOR uses
  // its raw pmpaddr as the bottom.
  p.write_addr(0, 0x1000 >> 2);
  p.write_addr(1, 0x2000 >> 2);
  p.write_addr(2, napot(0x10000, 0x10000));
  p.write_addr(3, 0x30000 >> 2);
  cfg(0, TOR | R);
  cfg(1, NA4 | R | W);
  cfg(2, NAPOT | X);
  cfg(3, TOR | R | W);
  EXPECT_TRUE(ok(0, 8, Access::kRead, kSupervisor));
  EXPECT_TRUE(ok(0xff8, 8, Access::kRead, kSupervisor));
  EXPECT_FALSE(ok(0xff8, 8, Access::kWrite, kSupervisor));
  EXPECT_FALSE(ok(0x1000, 1, Access::kRead, kSupervisor));  // just above the top: nothing
  EXPECT_TRUE(ok(0x2000, 4, Access::kWrite, kUser));
  EXPECT_FALSE(ok(0x2004, 1, Access::kRead, kUser));
  EXPECT_TRUE(ok(0x10000, 2, Access::kExec, kSupervisor));
  EXPECT_TRUE(ok(0x1fffe, 2, Access::kExec, kSupervisor));
  EXPECT_FALSE(ok(0x10000, 4, Access::kRead, kSupervisor));
  EXPECT_FALSE(ok(0x20000, 2, Access::kExec, kSupervisor));
  // Entry 3's bottom is pmpaddr2 << 2 = 0x10000 | 0x3ffc: the NAPOT entry
  // decides below 0x20000 (priority), entry 3 above.
  EXPECT_TRUE(ok(0x20000, 8, Access::kWrite, kSupervisor));
  EXPECT_TRUE(ok(0x2fff8, 8, Access::kWrite, kSupervisor));
  EXPECT_FALSE(ok(0x30000, 8, Access::kRead, kSupervisor));
}

TEST_F(PmpTest, NapotOverEverything) {
  p.write_addr(0, ~0ull);
  cfg(0, NAPOT | R | W | X);
  EXPECT_EQ(p.read_addr(0), (1ull << 54) - 1);  // bits 55:2 only
  EXPECT_TRUE(ok(0, 8, Access::kRead, kUser));
  EXPECT_TRUE(ok((1ull << 56) - 8, 8, Access::kWrite, kSupervisor));
  EXPECT_EQ(p.page(0x80000000, Access::kExec, kSupervisor), Pmp::Page::kAllow);
}

TEST_F(PmpTest, EmptyTorMatchesNothing) {
  p.write_addr(0, 0x2000 >> 2);
  p.write_addr(1, 0x1000 >> 2);  // below entry 0's address: [0x2000, 0x1000) is empty
  cfg(1, TOR | R | W | X);
  EXPECT_FALSE(ok(0x1800, 4, Access::kRead, kSupervisor));
  EXPECT_TRUE(ok(0x1800, 4, Access::kRead, kMachine));
}

TEST_F(PmpTest, LowestNumberedMatchWins) {
  // 0: NA4 at 0x1000, no permissions; 1: NAPOT 4 KiB at 0x1000, RW.
  p.write_addr(0, 0x1000 >> 2);
  p.write_addr(1, napot(0x1000, 0x1000));
  cfg(0, NA4);
  cfg(1, NAPOT | R | W);
  EXPECT_FALSE(ok(0x1000, 4, Access::kRead, kSupervisor));
  EXPECT_TRUE(ok(0x1004, 4, Access::kRead, kSupervisor));
  // Swapped: the big RW entry first hides the small one.
  cfg(0, NAPOT | R | W);
  p.write_addr(0, napot(0x1000, 0x1000));
  cfg(1, NA4);
  p.write_addr(1, 0x1000 >> 2);
  EXPECT_TRUE(ok(0x1000, 4, Access::kRead, kSupervisor));
}

TEST_F(PmpTest, PartialMatchFailsEvenInMachineMode) {
  // NA4 at 0x1004, unlocked RWX: an 8-byte access at 0x1000 matches only
  // half of it, which fails whatever the bits say, in every mode.
  p.write_addr(0, 0x1004 >> 2);
  cfg(0, NA4 | R | W | X);
  p.write_addr(1, ~0ull);
  cfg(1, NAPOT | R | W | X);
  EXPECT_TRUE(p.enforced(kMachine));
  EXPECT_FALSE(ok(0x1000, 8, Access::kRead, kMachine));
  EXPECT_FALSE(ok(0x1000, 8, Access::kRead, kSupervisor));
  EXPECT_TRUE(ok(0x1004, 4, Access::kRead, kSupervisor));
  EXPECT_TRUE(ok(0x1000, 4, Access::kRead, kSupervisor));  // entry 1 only
  EXPECT_EQ(p.page(0x1000, Access::kRead, kMachine), Pmp::Page::kSplit);
  EXPECT_EQ(p.page(0x2000, Access::kRead, kMachine), Pmp::Page::kAllow);
}

TEST_F(PmpTest, MachineModeObeysOnlyLockedEntries) {
  p.write_addr(0, napot(0x1000, 0x1000));
  cfg(0, NAPOT);  // no permissions, unlocked
  EXPECT_TRUE(ok(0x1000, 8, Access::kWrite, kMachine));
  EXPECT_FALSE(ok(0x1000, 8, Access::kRead, kSupervisor));
  cfg(0, NAPOT | R | L);
  EXPECT_TRUE(ok(0x1000, 8, Access::kRead, kMachine));
  EXPECT_FALSE(ok(0x1000, 8, Access::kWrite, kMachine));
  EXPECT_FALSE(ok(0x1000, 2, Access::kExec, kMachine));
  EXPECT_EQ(p.page(0x1000, Access::kWrite, kMachine), Pmp::Page::kDeny);
  EXPECT_EQ(p.page(0x1000, Access::kRead, kMachine), Pmp::Page::kAllow);
}

TEST_F(PmpTest, LockedEntriesIgnoreWritesUntilReset) {
  p.write_addr(0, 0x1000 >> 2);
  p.write_addr(1, 0x2000 >> 2);
  p.write_addr(2, 0x3000 >> 2);
  cfg(1, TOR | R | L);  // locks pmpcfg1, pmpaddr1 and (TOR) pmpaddr0
  cfg(2, NA4 | L);      // locks pmpaddr2 only (not TOR: pmpaddr1 is locked anyway)
  EXPECT_FALSE(p.write_addr(0, 0x5000 >> 2));
  EXPECT_FALSE(p.write_addr(1, 0x5000 >> 2));
  EXPECT_FALSE(p.write_addr(2, 0x5000 >> 2));
  EXPECT_TRUE(p.write_addr(3, 0x5000 >> 2));
  EXPECT_EQ(p.read_addr(0), 0x1000u >> 2);
  EXPECT_EQ(p.read_addr(1), 0x2000u >> 2);
  EXPECT_EQ(p.read_addr(2), 0x3000u >> 2);
  cfg(1, NAPOT | R | W | X);  // ignored
  EXPECT_EQ(cfg_of(1), TOR | R | L);
  cfg(0, NA4 | X);  // entry 0 itself is not locked
  EXPECT_EQ(cfg_of(0), NA4 | X);
  EXPECT_EQ(cfg_of(1), TOR | R | L);  // the same word's locked byte kept
  // pmpaddr0 stays locked while entry 1 is locked TOR, whatever entry 0 is.
  EXPECT_FALSE(p.write_addr(0, 0));
  p.reset();
  EXPECT_EQ(p.read_cfg(0), 0u);
  EXPECT_TRUE(p.write_addr(1, 0x7000 >> 2));
}

TEST_F(PmpTest, ReservedBitsAndWriteWithoutRead) {
  p.write_cfg(0, 0x6060606060606060ull | (NAPOT | W));  // bits 5-6 everywhere, entry 0 W only
  EXPECT_EQ(p.read_cfg(0), uint64_t{NAPOT});             // 5-6 read 0; W without R dropped
  p.write_cfg(0, NAPOT | W | X);
  EXPECT_EQ(p.read_cfg(0), uint64_t{NAPOT | X});
  p.write_cfg(1, 0xff);  // pmpcfg2, entry 8
  EXPECT_EQ(p.read_cfg(1), 0x9fu);
  EXPECT_FALSE(p.write_cfg(1, 0xff));  // unchanged (and entry 8 is now locked)
}

TEST_F(PmpTest, PageDecisions) {
  // 0: NAPOT 8 KiB at 0x80000000 with no permissions (firmware);
  // 1: NA4 at 0x80003000 R; 2: everything RWX.
  p.write_addr(0, napot(0x80000000, 0x2000));
  p.write_addr(1, 0x80003000 >> 2);
  p.write_addr(2, ~0ull);
  cfg(0, NAPOT);
  cfg(1, NA4 | R);
  cfg(2, NAPOT | R | W | X);
  EXPECT_EQ(p.page(0x80000000, Access::kRead, kSupervisor), Pmp::Page::kDeny);
  EXPECT_EQ(p.page(0x80001000, Access::kExec, kUser), Pmp::Page::kDeny);
  EXPECT_EQ(p.page(0x80002000, Access::kWrite, kSupervisor), Pmp::Page::kAllow);
  EXPECT_EQ(p.page(0x80003000, Access::kRead, kSupervisor), Pmp::Page::kSplit);
  EXPECT_EQ(p.page(0x80000000, Access::kWrite, kMachine), Pmp::Page::kAllow);  // unlocked
  EXPECT_EQ(p.page(0x80003000, Access::kRead, kMachine), Pmp::Page::kSplit);  // (partial matches)
  // M-mode fetches are 2-byte parcels, which no entry matches in part:
  // unlocked entries never split an M-mode code page; locked ones do.
  EXPECT_EQ(p.page(0x80003000, Access::kExec, kMachine), Pmp::Page::kAllow);
  cfg(2, NAPOT | R | W | L);
  EXPECT_EQ(p.page(0x80003000, Access::kExec, kMachine), Pmp::Page::kSplit);
  EXPECT_EQ(p.page(0x80004000, Access::kExec, kMachine), Pmp::Page::kDeny);
  cfg(1, NA4 | R | L);
  EXPECT_EQ(p.page(0x80003000, Access::kExec, kMachine), Pmp::Page::kSplit);
}

// ---- a hart enforcing PMP ----------------------------------------------------------

constexpr uint64_t kBase = 0x80000000;

class FakeBus : public Bus {
 public:
  FakeBus() : ram_(kBase, 4 << 20) {}
  Ram& ram() override { return ram_; }
  uint8_t* direct_page(uint64_t pa, bool) override {
    return ram_.contains(pa) ? ram_.ptr(pa & ~(kPageSize - 1)) : nullptr;
  }
  bool load(uint64_t pa, unsigned size, uint64_t& v) override {
    if (!ram_.contains(pa, size)) return false;
    v = 0;
    std::memcpy(&v, ram_.ptr(pa), size);
    return true;
  }
  bool store(uint64_t pa, unsigned size, uint64_t v) override {
    if (!ram_.contains(pa, size)) return false;
    std::memcpy(ram_.ptr(pa), &v, size);
    return true;
  }
  uint64_t mtime() override { return 0; }
  Ram ram_;
};

uint32_t I(int32_t imm, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t op) {
  return (static_cast<uint32_t>(imm) & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}
uint32_t S(int32_t imm, uint32_t rs2, uint32_t rs1, uint32_t f3) {
  uint32_t u = static_cast<uint32_t>(imm);
  return ((u >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (u & 0x1f) << 7 | 0x23;
}
uint32_t addi(uint32_t rd, uint32_t rs1, int32_t imm) { return I(imm, rs1, 0, rd, 0x13); }
uint32_t ld(uint32_t rd, uint32_t rs1, int32_t imm) { return I(imm, rs1, 3, rd, 0x03); }
uint32_t sd(uint32_t rs2, uint32_t rs1, int32_t imm) { return S(imm, rs2, rs1, 3); }
uint32_t amoadd_d(uint32_t rd, uint32_t rs2, uint32_t rs1) {
  return 0u << 27 | rs2 << 20 | rs1 << 15 | 3 << 12 | rd << 7 | 0x2f;
}
constexpr uint32_t kWfi = 0x10500073;

struct PmpHartTest : ::testing::Test {
  FakeBus bus;
  Hart h{0, bus};
  static constexpr uint64_t kHandler = kBase + 0x800, kCode = kBase + 0x1000, kData = kBase + 0x10000;
  void put(uint64_t addr, const std::vector<uint32_t>& words) {
    for (size_t i = 0; i < words.size(); ++i) std::memcpy(bus.ram_.ptr(addr + 4 * i), &words[i], 4);
    bus.ram_.note_write(addr, 4 * words.size());
  }
  uint64_t csr(unsigned n) {
    uint64_t v = 0;
    EXPECT_TRUE(h.csr_read(n, v));
    return v;
  }
  void SetUp() override {
    h.reset(kCode);
    h.csr_write(0x305, kHandler);  // mtvec: a wfi
    put(kHandler, {kWfi});
  }
  // Runs `code` at kCode in S mode until the first trap reaches the handler.
  void run_s(const std::vector<uint32_t>& code) {
    put(kCode, code);
    h.pc = kCode;
    h.set_priv(kSupervisor);
    h.run(100);
  }
  void entry(unsigned i, uint64_t addr, uint8_t cfg) {
    ASSERT_TRUE(h.csr_write(0x3b0 + i, addr));
    uint64_t word = csr(0x3a0);
    word = (word & ~(0xffull << (8 * i))) | (uint64_t{cfg} << (8 * i));
    ASSERT_TRUE(h.csr_write(0x3a0, word));
  }
};

TEST_F(PmpHartTest, NoEntryMeansNoSupervisorFetch) {
  run_s({addi(1, 0, 1)});
  EXPECT_EQ(h.priv(), kMachine);
  EXPECT_EQ(csr(0x342), uint64_t{kInsnAccessFault});
  EXPECT_EQ(csr(0x343), kCode);
  EXPECT_EQ(csr(0x341), kCode);
  EXPECT_EQ(h.x[1], 0u);
}

TEST_F(PmpHartTest, LoadStoreAndAmoFaultsCarryTheAddress) {
  // 0: 8 bytes at kData + 8, read-only; 1: NA4 at kData + 0x14; 2: everything.
  entry(0, napot(kData + 8, 8), NAPOT | R);
  entry(1, (kData + 0x14) >> 2, NA4 | R | W);
  entry(2, ~0ull, NAPOT | R | W | X);
  h.x[2] = kData;
  h.x[5] = 7;
  run_s({ld(3, 2, 8), sd(5, 2, 0), sd(5, 2, 8)});  // the last store faults
  EXPECT_EQ(csr(0x342), uint64_t{kStoreAccessFault});
  EXPECT_EQ(csr(0x343), kData + 8);
  EXPECT_EQ(csr(0x341), kCode + 8);
  uint64_t v;
  std::memcpy(&v, bus.ram_.ptr(kData), 8);
  EXPECT_EQ(v, 7u);  // the store beside the entry, through the same split page
  // An AMO needs W.
  h.x[2] = kData + 8;
  run_s({amoadd_d(3, 5, 2)});
  EXPECT_EQ(csr(0x342), uint64_t{kStoreAccessFault});
  EXPECT_EQ(csr(0x343), kData + 8);
  // An aligned 8-byte load whose upper half is entry 1's: entry 1 matches
  // only part of it, so it fails although both entries allow reads.
  h.x[2] = kData + 0x10;
  run_s({ld(3, 2, 0)});
  EXPECT_EQ(csr(0x342), uint64_t{kLoadAccessFault});
  EXPECT_EQ(csr(0x343), kData + 0x10);
  h.x[2] = kData + 0x14;
  h.x[3] = 0;
  run_s({I(0, 2, 2, 3, 0x03) /*lw x3, 0(x2)*/, kWfi});
  EXPECT_EQ(h.priv(), kSupervisor);  // 4 bytes: all in entry 1
}

TEST_F(PmpHartTest, FetchStopsAtTheRegionEndMidBlock) {
  // S may execute [kCode, kCode + 8) only (TOR), then nothing: the third
  // instruction of one straight-line block faults, the first two retire.
  entry(0, kCode >> 2, 0);
  entry(1, (kCode + 8) >> 2, TOR | X);
  run_s({addi(1, 0, 1), addi(2, 0, 2), addi(3, 0, 3), addi(4, 0, 4)});
  EXPECT_EQ(h.x[1], 1u);
  EXPECT_EQ(h.x[2], 2u);
  EXPECT_EQ(h.x[3], 0u);
  EXPECT_EQ(csr(0x342), uint64_t{kInsnAccessFault});
  EXPECT_EQ(csr(0x343), kCode + 8);
  EXPECT_EQ(h.icount(), 3u);  // the two addi and the handler's wfi
  // The same code in M mode (unlocked entries) runs through, and in S
  // afterwards the block M ran is not used past the region.
  h.reset(kCode);
  h.csr_write(0x305, kHandler);
  entry(0, kCode >> 2, 0);
  entry(1, (kCode + 8) >> 2, TOR | X);
  h.pc = kCode;
  h.run(4);
  EXPECT_EQ(h.x[4], 4u);
  h.x[3] = 0;
  run_s({addi(1, 0, 1), addi(2, 0, 2), addi(3, 0, 3), addi(4, 0, 4)});
  EXPECT_EQ(h.x[3], 0u);
  EXPECT_EQ(csr(0x343), kCode + 8);
}

TEST_F(PmpHartTest, CsrWritesFlushTheTlb) {
  entry(0, ~0ull, NAPOT | R | W | X);
  h.x[2] = kData;
  run_s({ld(3, 2, 0), kWfi});
  EXPECT_EQ(h.priv(), kSupervisor);  // loaded: S's TLB now maps kData's page
  entry(1, ~0ull, NAPOT | R | W | X);
  entry(0, napot(kData, 0x1000), NAPOT);  // no permissions for S
  run_s({ld(3, 2, 0), kWfi});
  EXPECT_EQ(csr(0x342), uint64_t{kLoadAccessFault});
  EXPECT_EQ(csr(0x343), kData);
  // M mode: a store fills M's TLB; locking the entry must take effect.
  put(kCode, {sd(3, 2, 0), sd(3, 2, 0)});
  h.pc = kCode;
  h.run(1);
  EXPECT_EQ(h.pc, kCode + 4);
  entry(0, napot(kData, 0x1000), NAPOT | R | L);
  h.run(1);
  EXPECT_EQ(csr(0x342), uint64_t{kStoreAccessFault});
  EXPECT_EQ(csr(0x343), kData);
  EXPECT_EQ(csr(0x341), kCode + 4);
}

TEST_F(PmpHartTest, MprvChecksDataAsTheMppMode) {
  // 0: kData's page, unlocked, no permissions; 1: everything. M-mode
  // loads with MPRV and MPP = S are checked as S and fault; with MPP = M
  // they are not.
  entry(0, napot(kData, 0x1000), NAPOT);
  entry(1, ~0ull, NAPOT | R | W | X);
  h.x[2] = kData;
  put(kCode, {ld(3, 2, 0)});
  h.csr_write(0x300, mstatus::MPRV | (1ull << 11));  // MPRV, MPP = S
  h.pc = kCode;
  h.run(1);
  EXPECT_EQ(csr(0x342), uint64_t{kLoadAccessFault});
  EXPECT_EQ(csr(0x343), kData);
  h.csr_write(0x300, mstatus::MPRV | (3ull << 11));  // MPP = M
  h.pc = kCode;
  h.csr_write(0x342, 0);
  h.run(1);
  EXPECT_EQ(csr(0x342), 0u);
  EXPECT_EQ(h.pc, kCode + 4);
}

TEST_F(PmpHartTest, PageTableWalksAreCheckedAsSupervisorReads) {
  // Sv39: a gigapage for everything at 0x80000000, its root table in a
  // page S may not read: every S access faults with an access fault of its
  // own kind (the walk's), tval the virtual address.
  const uint64_t root = kBase + 0x20000;
  uint64_t leaf = ((kBase >> 12) << 10) | 0xcf;  // V R W X A D
  std::memcpy(bus.ram_.ptr(root + 2 * 8), &leaf, 8);
  entry(0, napot(root, 0x1000), NAPOT);
  entry(1, ~0ull, NAPOT | R | W | X);
  h.csr_write(0x180, (8ull << 60) | (root >> 12));
  run_s({addi(1, 0, 1)});
  EXPECT_EQ(csr(0x342), uint64_t{kInsnAccessFault});
  EXPECT_EQ(csr(0x343), kCode);
  // Readable but not writable: a walk that must set A fails as a store
  // to the PTE would; with A and D already set it passes.
  entry(0, napot(root, 0x1000), NAPOT | R);
  leaf = ((kBase >> 12) << 10) | 0x0f;  // A, D clear
  std::memcpy(bus.ram_.ptr(root + 2 * 8), &leaf, 8);
  run_s({addi(1, 0, 1)});
  EXPECT_EQ(csr(0x342), uint64_t{kInsnAccessFault});
  leaf |= 0xc0;
  std::memcpy(bus.ram_.ptr(root + 2 * 8), &leaf, 8);
  run_s({addi(1, 0, 1), kWfi});
  EXPECT_EQ(h.x[1], 1u);
  EXPECT_EQ(h.priv(), kSupervisor);
}

}  // namespace
