// Differential execution: the same program from the same state through the
// interpreter and through the translator, compared state for state.
//
// A Twin is two complete one-hart systems (hart, RAM, a small device
// window) built identically; only one of the harts has a translator. Each
// step() runs both for the same budget and checks that everything the
// architecture defines agrees: save_state (registers, FP registers and
// flags, every CSR, pc, privilege, icount and trap count, the LR
// reservation), the exit reason, and all of RAM. Used by
// tests/unit/test_jit.cpp (random programs from the decode table) and
// tests/fuzz/fuzz_exec.cpp (programs from the fuzzer).
#pragma once

#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "rv64/hart.h"
#include "rv64/insn.h"
#include "rv64/jit/translator.h"

namespace exec_diff {

constexpr uint64_t kBase = 0x80000000;
constexpr uint64_t kRamSize = 1 << 20;
constexpr uint64_t kCode = kBase;               // the program
constexpr uint64_t kCodeSize = 16 << 10;
constexpr uint64_t kData = kBase + (64 << 10);  // where pointer registers point
constexpr uint64_t kDataSize = 64 << 10;
constexpr uint64_t kMmio = 0x10000000;          // a device window (loads see what was stored)

class Bus : public rv64::Bus {
 public:
  Bus() : ram_(kBase, kRamSize) {}
  rv64::Ram& ram() override { return ram_; }
  uint8_t* direct_page(uint64_t pa, bool) override {
    return ram_.contains(pa) ? ram_.ptr(pa & ~(rv64::kPageSize - 1)) : nullptr;
  }
  bool load(uint64_t pa, unsigned size, uint64_t& v) override {
    if (ram_.contains(pa, size)) {
      v = 0;
      std::memcpy(&v, ram_.ptr(pa), size);
      return true;
    }
    if (pa >= kMmio && pa < kMmio + 0x1000) {
      v = mmio_[pa & ~7ull] & (size == 8 ? ~0ull : (1ull << (8 * size)) - 1);
      return true;
    }
    return false;
  }
  bool store(uint64_t pa, unsigned size, uint64_t v) override {
    if (ram_.contains(pa, size)) {
      std::memcpy(ram_.ptr(pa), &v, size);
      ram_.note_write(pa, size);
      return true;
    }
    if (pa >= kMmio && pa < kMmio + 0x1000) {
      mmio_[pa & ~7ull] = v;
      return true;
    }
    return false;
  }
  uint64_t mtime() override { return 1000; }
  rv64::Ram ram_;
  std::map<uint64_t, uint64_t> mmio_;
};

struct System {
  Bus bus;
  rv64::Hart hart{0, bus};
};

class Twin {
 public:
  // The translator translates every block the first time it runs, so that
  // short random programs run mostly translated.
  Twin() : jit_(std::make_unique<rv64::jit::Translator>(opts())) {
    b_.hart.set_translator(jit_.get());
    b_.hart.set_jit_threshold(1);
  }

  // Both systems: RAM cleared, `code` at kCode, registers from `rng`, an
  // M-mode trap vector at the start of the code (so traps run more of the
  // program), FP on.
  void load(const std::vector<uint8_t>& code, std::mt19937_64& rng) {
    std::vector<uint64_t> x(32), f(32);
    for (unsigned r = 1; r < 32; ++r) {
      switch (rng() % 4) {
        case 0: x[r] = kData + (rng() % kDataSize) ; break;           // RAM, any alignment
        case 1: x[r] = kData + (rng() % kDataSize & ~7ull); break;    // RAM, aligned
        case 2: x[r] = kMmio + (rng() % 64) * 8; break;               // the device window
        default: x[r] = rng() >> (rng() % 64); break;                 // anything
      }
      if (r >= 16 && r < 20) x[r] = rng() % 64;                      // small: shift counts, indices
    }
    for (unsigned r = 0; r < 32; ++r) f[r] = rng();
    for (System* s : {&a_, &b_}) {
      std::memset(s->bus.ram_.host(), 0, kRamSize);
      std::memcpy(s->bus.ram_.host(), code.data(), std::min<size_t>(code.size(), kCodeSize));
      s->bus.ram_.note_write(kBase, kRamSize);
      s->bus.mmio_.clear();
      s->hart.reset(kCode);
      for (unsigned r = 0; r < 32; ++r) {
        s->hart.x[r] = x[r];
        s->hart.f[r] = f[r];
      }
      s->hart.csr_write(0x305, kCode);                    // mtvec
      s->hart.csr_write(0x300, (1ull << 13) | (3ull << 11));  // mstatus: FS initial, MPP = M
      s->hart.flush_code_cache();
    }
  }

  // Runs both for `budget` steps. Empty if they agree; otherwise what differs.
  std::string step(uint64_t budget) {
    rv64::Exit ea = a_.hart.run(budget), eb = b_.hart.run(budget);
    if (ea != eb) return "exit reason " + std::to_string(int(ea)) + " vs " + std::to_string(int(eb));
    return compare();
  }

  std::string compare() {
    std::vector<uint8_t> sa, sb;
    a_.hart.save_state(sa);
    b_.hart.save_state(sb);
    if (sa != sb) {
      std::string d = "hart state";
      for (unsigned r = 0; r < 32; ++r)
        if (a_.hart.x[r] != b_.hart.x[r]) d += " x" + std::to_string(r);
      for (unsigned r = 0; r < 32; ++r)
        if (a_.hart.f[r] != b_.hart.f[r]) d += " f" + std::to_string(r);
      if (a_.hart.pc != b_.hart.pc) d += " pc";
      if (a_.hart.icount() != b_.hart.icount()) d += " icount";
      if (a_.hart.traps() != b_.hart.traps()) d += " traps";
      return d;
    }
    if (std::memcmp(a_.bus.ram_.host(), b_.bus.ram_.host(), kRamSize) != 0) return "RAM";
    if (a_.bus.mmio_ != b_.bus.mmio_) return "device writes";
    return {};
  }

  rv64::Hart& interpreted() { return a_.hart; }
  rv64::Hart& translated() { return b_.hart; }
  rv64::jit::Translator& translator() { return *jit_; }

 private:
  static rv64::jit::Options opts() {
    rv64::jit::Options o;
    o.cache_bytes = size_t{16} << 20;
    return o;
  }
  System a_, b_;
  std::unique_ptr<rv64::jit::Translator> jit_;
};

// A random program: instructions drawn uniformly from the decode table
// (every 32-bit and compressed entry, operand bits random), with a bias
// towards short branches so that loops form and blocks run again.
inline std::vector<uint8_t> random_program(std::mt19937_64& rng, size_t bytes) {
  std::vector<uint8_t> code;
  while (code.size() + 4 <= bytes) {
    uint32_t raw;
    unsigned pick = rng() % 16;
    if (pick < 4) {
      const rv64::COpInfo& c = rv64::cop_info(static_cast<rv64::COp>(rng() % rv64::kNumCOps));
      uint16_t h = static_cast<uint16_t>((rng() & ~uint64_t{c.mask}) | c.match);
      code.push_back(static_cast<uint8_t>(h));
      code.push_back(static_cast<uint8_t>(h >> 8));
      continue;
    }
    const rv64::OpInfo& o = rv64::op_info(static_cast<rv64::Op>(rng() % rv64::kNumOps));
    raw = (static_cast<uint32_t>(rng()) & ~o.mask) | o.match;
    if (o.fmt == rv64::Fmt::B && pick < 10) {
      // A short backward or forward branch: keep the offset small.
      int32_t off = static_cast<int32_t>(rng() % 64) * 2 - 48;
      uint32_t u = static_cast<uint32_t>(off);
      raw = (raw & 0x01fff07f) | ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | ((u >> 1) & 0xf) << 8 |
            ((u >> 11) & 1) << 7;
    }
    for (int i = 0; i < 4; ++i) code.push_back(static_cast<uint8_t>(raw >> (8 * i)));
  }
  return code;
}

}  // namespace exec_diff
