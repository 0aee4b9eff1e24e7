// The translating executor against the interpreter: random programs from
// the decode table run through both from the same state must leave the
// same state (exec_diff.h); plus the translator's own guarantees (W^X,
// shared translations, exact budgets, self-modifying code).
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "../common/exec_diff.h"
#include "rv64/jit/code_buffer.h"

#if defined(COREMU_JIT)

using exec_diff::Twin;

namespace {

// Every entry of the decode table, random operands, random budgets (so
// runs end inside blocks), traps and self-modification included.
TEST(JitDiff, RandomProgramsAgreeWithTheInterpreter) {
  Twin t;
  uint64_t steps = 0, translated_runs = 0;
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    std::mt19937_64 rng(seed);
    t.load(exec_diff::random_program(rng, 2048), rng);
    for (int chunk = 0; chunk < 40; ++chunk) {
      uint64_t budget = 1 + rng() % (chunk % 4 == 0 ? 3 : 300);
      std::string d = t.step(budget);
      ASSERT_EQ(d, "") << "seed " << seed << " chunk " << chunk << " pc 0x" << std::hex
                       << t.interpreted().pc << " vs 0x" << t.translated().pc;
      steps += budget;
    }
    translated_runs = t.translator().stats().translations;
  }
  EXPECT_GT(translated_runs, 1000u) << "the random programs should mostly run translated";
  (void)steps;
}

// Straight-line ALU and memory code with loops: long runs, so chained
// translated blocks do most of the work.
TEST(JitDiff, LoopsOfNativeInstructionsAgree) {
  Twin t;
  for (uint64_t seed = 1000; seed < 1100; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<uint8_t> code;
    // Only the natively translated formats, and a final backward branch.
    static const rv64::Op kOps[] = {rv64::Op::add, rv64::Op::sub, rv64::Op::sll, rv64::Op::slt, rv64::Op::sltu,
                                    rv64::Op::xor_, rv64::Op::srl, rv64::Op::sra, rv64::Op::or_, rv64::Op::and_,
                                    rv64::Op::addw, rv64::Op::subw, rv64::Op::sllw, rv64::Op::srlw, rv64::Op::sraw,
                                    rv64::Op::mul, rv64::Op::mulw, rv64::Op::sh1add, rv64::Op::sh2add,
                                    rv64::Op::sh3add, rv64::Op::andn, rv64::Op::orn, rv64::Op::xnor,
                                    rv64::Op::addi, rv64::Op::slti, rv64::Op::sltiu, rv64::Op::xori,
                                    rv64::Op::ori, rv64::Op::andi, rv64::Op::slli, rv64::Op::srli,
                                    rv64::Op::srai, rv64::Op::addiw, rv64::Op::slliw, rv64::Op::srliw,
                                    rv64::Op::sraiw, rv64::Op::lui, rv64::Op::auipc, rv64::Op::ld, rv64::Op::lw,
                                    rv64::Op::lwu, rv64::Op::lh, rv64::Op::lhu, rv64::Op::lb, rv64::Op::lbu,
                                    rv64::Op::sd, rv64::Op::sw, rv64::Op::sh, rv64::Op::sb};
    unsigned n = 4 + rng() % 40;
    for (unsigned i = 0; i < n; ++i) {
      const rv64::OpInfo& o = rv64::op_info(kOps[rng() % std::size(kOps)]);
      uint32_t raw = (static_cast<uint32_t>(rng()) & ~o.mask) | o.match;
      // Memory operands through x1-x15 (pointers into RAM); results into x16-x31.
      raw = (raw & ~(0x1fu << 15)) | static_cast<uint32_t>(1 + rng() % 15) << 15;
      if (o.fmt != rv64::Fmt::STORE) raw = (raw & ~(0x1fu << 7)) | static_cast<uint32_t>(16 + rng() % 16) << 7;
      for (int b = 0; b < 4; ++b) code.push_back(static_cast<uint8_t>(raw >> (8 * b)));
    }
    int32_t back = -static_cast<int32_t>(4 * n);
    uint32_t u = static_cast<uint32_t>(back);
    uint32_t bne = ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | 0u << 20 | 31u << 15 | 1u << 12 |
                   ((u >> 1) & 0xf) << 8 | ((u >> 11) & 1) << 7 | 0x63;  // bne x31, x0: loops while x31 != 0
    for (int b = 0; b < 4; ++b) code.push_back(static_cast<uint8_t>(bne >> (8 * b)));
    t.load(code, rng);
    for (int chunk = 0; chunk < 20; ++chunk) {
      uint64_t budget = chunk % 5 == 0 ? 1 + rng() % 7 : 1000 + rng() % 5000;
      ASSERT_EQ(t.step(budget), "") << "seed " << seed << " chunk " << chunk;
    }
  }
}

// Code written while it runs (a store into the running loop's own page,
// then a fence.i): the translation of the old bytes is never run again.
TEST(JitDiff, SelfModifyingLoop) {
  Twin t;
  std::mt19937_64 rng(7);
  // x1 = &insn; loop: addi x2, x2, 1; sw x3, 0(x1); fence.i; jal x0, loop
  // x3 holds "addi x2, x2, 5": after the first pass the loop adds 5.
  auto addi = [](unsigned rd, unsigned rs1, int imm) {
    return (static_cast<uint32_t>(imm) & 0xfff) << 20 | rs1 << 15 | rd << 7 | 0x13;
  };
  std::vector<uint32_t> w = {addi(2, 2, 1), 0x0030a023 /*sw x3,0(x1)*/, 0x0000100f /*fence.i*/,
                             0xff5ff06f /*jal x0,-12*/};
  std::vector<uint8_t> code(reinterpret_cast<uint8_t*>(w.data()), reinterpret_cast<uint8_t*>(w.data() + w.size()));
  t.load(code, rng);
  for (rv64::Hart* h : {&t.interpreted(), &t.translated()}) {
    h->x[1] = exec_diff::kCode;
    h->x[2] = 0;
    h->x[3] = addi(2, 2, 5);
  }
  ASSERT_EQ(t.step(4 * 50 + 1), "");
  EXPECT_EQ(t.translated().x[2], 1u + 5 * 49 + 5);
}

// A debugger acting on code that already runs translated: a watchpoint on
// the data a hot loop stores to, then a breakpoint inside the loop. Both
// executors stop at the same instruction with the same state.
TEST(JitDiff, WatchpointAndBreakpointOnAHotTranslatedLoop) {
  Twin t;
  std::mt19937_64 rng(11);
  // loop: addi x1, x1, 1; sd x1, 0(x4); addi x5, x5, 3; bne x1, x2, loop
  uint32_t w[] = {0x00108093, 0x00123023, 0x00328293, 0xfe209ae3, 0x0000006f};
  std::vector<uint8_t> code(reinterpret_cast<uint8_t*>(w), reinterpret_cast<uint8_t*>(w) + sizeof w);
  t.load(code, rng);
  for (rv64::Hart* h : {&t.interpreted(), &t.translated()}) {
    h->x[1] = 0;
    h->x[2] = 1000000;
    h->x[4] = exec_diff::kData + 0x100;
    h->x[5] = 0;
  }
  ASSERT_EQ(t.step(40001), "");  // hot: translated and chained by now
  EXPECT_GT(t.translator().stats().translations, 0u);
  for (rv64::Hart* h : {&t.interpreted(), &t.translated()})
    h->set_watchpoints({rv64::Watchpoint{exec_diff::kData + 0x100, 8, rv64::kWatchWrite}});
  ASSERT_EQ(t.step(100000), "");
  EXPECT_EQ(t.translated().debug_hit().kind, rv64::DebugHit::kWatchpoint);
  EXPECT_EQ(t.translated().pc, exec_diff::kCode + 4) << "stopped before the store";
  for (rv64::Hart* h : {&t.interpreted(), &t.translated()}) {
    h->set_watchpoints({});
    h->step();  // the debugger steps over the store
    h->set_breakpoints({exec_diff::kCode + 8});
  }
  ASSERT_EQ(t.step(100000), "");
  EXPECT_EQ(t.translated().debug_hit().kind, rv64::DebugHit::kBreakpoint);
  EXPECT_EQ(t.translated().pc, exec_diff::kCode + 8);
  for (rv64::Hart* h : {&t.interpreted(), &t.translated()}) h->set_breakpoints({});
  ASSERT_EQ(t.step(100000), "") << "runs on translated again";
}

TEST(JitBuffer, NeverWritableAndExecutableAtOnce) {
  rv64::jit::CodeBuffer buf(1 << 20);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  bool saw_rw = false, saw_rx = false;
  auto lo = [](const void* p) { return reinterpret_cast<uintptr_t>(p); };
  while (std::getline(maps, line)) {
    uintptr_t a, b;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &a, &b, perms) != 3) continue;
    bool w = perms[1] == 'w', x = perms[2] == 'x';
    if (a <= lo(buf.rw()) && lo(buf.rw()) < b) {
      saw_rw = true;
      EXPECT_TRUE(w && !x) << line;
    }
    if (a <= lo(buf.rx()) && lo(buf.rx()) < b) {
      saw_rx = true;
      EXPECT_TRUE(x && !w) << line;
    }
    EXPECT_FALSE(w && x && (a <= lo(buf.rx()) && lo(buf.rx()) < b)) << line;
  }
  EXPECT_TRUE(saw_rw && saw_rx);
  buf.rw()[100] = 0x5a;
  EXPECT_EQ(buf.rx()[100], 0x5a) << "the two views are one memory";
}

// Two harts running the same code share one translation.
TEST(JitShared, TwoHartsTranslateOnce) {
  exec_diff::Bus bus;
  rv64::jit::Translator tr;
  rv64::Hart h0(0, bus), h1(1, bus);
  // loop: addi x1, x1, 1; sd x1, 0(x4); bne x1, x2, loop; then j . (the
  // store keeps the loop from counting as a read-only spin-wait).
  uint32_t prog[] = {0x00108093, 0x00123023, 0xfe209ce3, 0x0000006f};
  std::memcpy(bus.ram_.ptr(exec_diff::kCode), prog, sizeof prog);
  for (rv64::Hart* h : {&h0, &h1}) {
    h->reset(exec_diff::kCode);
    h->set_translator(&tr);
    h->x[2] = 100000;
    h->x[4] = exec_diff::kData;
  }
  h0.run(300001);
  uint64_t after_one = tr.stats().translations;
  h1.run(300001);
  EXPECT_EQ(h0.x[1], 100000u);
  EXPECT_EQ(h1.x[1], 100000u);
  EXPECT_EQ(h0.icount(), 300001u);
  EXPECT_EQ(h1.icount(), 300001u);
  EXPECT_GE(after_one, 1u);
  EXPECT_EQ(tr.stats().translations, after_one) << "the second hart found the first one's translations";
}

// Cross-modifying code through a write TLB entry that hart B filled
// before the page held code (so B's store does not move the page's
// generation): after a fence.i, hart A must run the new instruction, not
// the block it shares with the translator.
TEST(JitShared, FenceIAfterCrossModifyingStoreSeesTheNewCode) {
  exec_diff::Bus bus;
  rv64::jit::Translator tr;
  rv64::Hart a(0, bus), b(1, bus);
  const uint64_t p = exec_diff::kCode + 0x2000;  // A's code page
  uint32_t writer[] = {0x00522023 /*sw x5, 0(x4)*/, 0x0000006f /*j .*/};
  std::memcpy(bus.ram_.ptr(exec_diff::kCode), writer, sizeof writer);
  uint32_t spin = 0x0000006f;  // j .
  std::memcpy(bus.ram_.ptr(p + 4), &spin, 4);
  for (rv64::Hart* h : {&a, &b}) {
    h->set_translator(&tr);
    h->set_jit_threshold(1);
  }
  b.reset(exec_diff::kCode);
  b.x[4] = p;
  b.x[5] = 0x00100513;  // addi x10, x0, 1: B writes A's first instruction
  ASSERT_EQ(b.run(1), rv64::Exit::kBudget);
  a.reset(p);
  a.run(100);  // A runs it: the page holds code now, shared and translated
  EXPECT_EQ(a.x[10], 1u);
  b.pc = exec_diff::kCode;
  b.x[5] = 0x00200513;  // addi x10, x0, 2, through B's old write entry
  b.run(1);
  a.post_request(rv64::Hart::kReqFenceI);  // a remote fence.i
  a.pc = p;
  a.run(1);
  EXPECT_EQ(a.x[10], 2u) << "A ran the code from before the fence.i";
}

}  // namespace

#endif  // COREMU_JIT
