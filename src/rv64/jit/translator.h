// The translating executor: decoded blocks compiled to x86-64 host code,
// one translation cache shared by every hart of a machine.
//
// A Translation is the host code of one decoded block (Hart::Block: the
// same instructions, cut at the same places, as the interpreter runs). It
// depends only on the block's physical address and bytes: guest registers
// live in the hart (addressed from a host register), the pc is kept
// relative to the block's entry pc, memory goes through the running hart's
// own TLB, and everything else is a call to the interpreter's handler. So
// any hart may run any translation, and 255 harts running one kernel
// translate each block once.
//
// Guarantees the harts rely on:
// - Exact instruction count: translated code adds to the hart's icount only
//   at block exits, by the number of instructions that retired; helpers
//   called from inside a block see the exact count (Hart::current_icount).
// - Never past the budget: each block's entry compares the remaining
//   budget with its length and leaves to the hart's run loop if the whole
//   block does not fit (the run loop interprets the partial block).
// - Interrupts, pause requests and debugger stops are noticed at every
//   block entry (the hart's attention word), as the interpreter notices
//   them between blocks; blocks that call helpers which may change state
//   the next block depends on (CSRs, privilege, translation) always return
//   to the run loop.
// - Lazy invalidation: a block's entry checks its code page's generation;
//   a stale translation leaves to the run loop, which decodes anew.
// - W^X: code is written through a read-write view and run from a separate
//   read-execute view of the same memory (CodeBuffer).
//
// Thread safety: find() and execute() may be called by many harts at once
// without locking; share() and translate() serialise writers on a mutex.
// Published code is never written again: a block's loop back to its own
// start is a direct jump, every other transfer goes through the running
// hart's jump cache (Hart::JumpEntry), so nothing ties one translation to
// another and no hart's code can outlive what it was made from.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace rv64 {
class Hart;
}

namespace rv64::jit {

class CodeBuffer;
struct BlockView;

struct Options {
  size_t cache_bytes = size_t{256} << 20;  // host code, -accel tcg,tb-size=MiB
  std::FILE* log = nullptr;                 // -d in_asm / out_asm go here (nullptr: stderr)
  bool log_in_asm = false;                  // guest instructions of each new translation
  bool log_out_asm = false;                 // host code of each new translation (Zydis)
  bool perf_map = false;                    // append to /tmp/perf-PID.map (Linux perf's JIT convention)
};

// One translated block. Immutable once published, never freed before the
// Translator: running code may hold it.
struct Translation {  // (code == nullptr: decoded, shared, not translated yet)
  uint64_t pa;                         // physical address of the block's first instruction
  const std::atomic<uint32_t>* genp;   // its code page's generation (nullptr: ROM)
  uint32_t gen;                        // the generation it was translated at
  uint32_t n;                          // instructions
  const uint8_t* code;                 // executable entry
  size_t code_size;
  const void* block;                   // the decoded block the helpers see (a Hart::Block copy)
};

struct Stats {
  uint64_t translations = 0;  // blocks translated
  uint64_t code_bytes = 0;    // host code emitted
  uint64_t guest_insns = 0;   // guest instructions translated
  double seconds = 0;         // time spent translating
  bool full = false;          // the cache ran out of room: no further translations
  uint64_t shared_blocks = 0; // decoded blocks shared between harts
};

class Translator {
 public:
  // Throws std::runtime_error if the host cannot map the code buffer.
  explicit Translator(Options opt = {});
  ~Translator();
  Translator(const Translator&) = delete;
  Translator& operator=(const Translator&) = delete;

  // The current translation of `block` (a Hart::Block of h, fresh: its
  // generation is the page's), translating it if there is none; nullptr if
  // it cannot be translated (an instruction straddling pages, the cache
  // full). Called from the hart's own thread; `h` only lends its pc for
  // the log.
  const Translation* translate(const Hart& h, const void* block);

  // Shares a decoded block (a fresh Hart::Block, not cut at breakpoints):
  // returns the copy every hart runs for its physical address from now on
  // (another hart's, if it was first), or nullptr if the translator holds
  // too much already. A shared block's instructions never change; its
  // run count and translation pointer are updated atomically by any hart.
  void* share(const void* block);

  // The entry for the code now at `pa` (its page generation still
  // current), decoded (code == nullptr) or translated; its `block` is the
  // shared decoded block. Lock-free.
  const Translation* find(uint64_t pa) const;

  // Runs translated code from `t` on h until some block exits: at most
  // `budget` steps. Updates h's icount, pc and traps exactly.
  void execute(Hart& h, const Translation& t, uint64_t budget) const;

  // The code buffer (tests check its two views).
  const CodeBuffer& buffer() const { return *buf_; }
  Stats stats() const;

 private:
  friend struct BlockView;
  // Memory that lives as long as the translator, for data generated code
  // points to (blocks, translations). Under the lock.
  void* alloc_data(size_t bytes);
  const Translation* lookup(uint64_t pa) const;
  static bool same_code(const void* block_a, const void* block_b);
  static void stale(const Translation* t);
  void publish(const Translation* t);
  void log_translation(const Hart& h, const Translation& t);

  Options opt_;
  std::unique_ptr<CodeBuffer> buf_;
  size_t used_ = 0;  // bytes of buf_ written (under mu_)
  // Entry (rdi = Hart*, rsi = budget, rdx = code) and the shared exit.
  void (*enter_)(Hart*, uint64_t, const uint8_t*) = nullptr;
  const uint8_t* exit_ = nullptr;

  // Open-addressed table from physical address to the newest translation;
  // slots are only ever overwritten (for the same pa) or filled.
  static constexpr unsigned kTableBits = 18;
  std::unique_ptr<std::atomic<const Translation*>[]> table_;
  size_t entries_ = 0;

  // Translations, link sites and decoded-block copies: data the code
  // points to, in chunks that never move.
  std::vector<std::unique_ptr<uint8_t[]>> data_chunks_;
  size_t data_used_ = 0;
  size_t data_bytes_ = 0;  // all of it (share() stops sharing beyond cache_bytes)

  mutable std::mutex mu_;
  Stats stats_;
  std::FILE* perf_map_ = nullptr;
};

}  // namespace rv64::jit
