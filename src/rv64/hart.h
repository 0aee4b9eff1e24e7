// One RV64GC hart: the sequential emulator.
//
// A Hart executes instructions from decoded blocks, translates addresses
// through its own software TLB and keeps an exact instruction count. It has
// no threads and no locks: the only state other agents touch is `mip_hw_`
// (interrupt lines raised by devices), `requests_` (work posted by other
// harts: IPIs, remote fences) and `attention_` (a request to leave the
// execution loop), all atomics, through the thread-safe methods marked
// below. Everything else belongs to whoever is running the hart.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "rv64/bus.h"
#include "rv64/insn.h"
#include "rv64/pmp.h"

#if defined(__GNUC__)
#define RV_LIKELY(x) __builtin_expect(!!(x), 1)
#define RV_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define RV_LIKELY(x) (x)
#define RV_UNLIKELY(x) (x)
#endif

namespace rv64 {

namespace jit {
class Translator;
struct Translation;
struct Helpers;
struct BlockView;
}  // namespace jit

enum Priv : uint8_t { kUser = 0, kSupervisor = 1, kMachine = 3 };

// Exception causes (mcause without the interrupt bit).
enum Cause : uint64_t {
  kInsnMisaligned = 0, kInsnAccessFault = 1, kIllegalInsn = 2, kBreakpoint = 3,
  kLoadMisaligned = 4, kLoadAccessFault = 5, kStoreMisaligned = 6, kStoreAccessFault = 7,
  kEcallU = 8, kEcallS = 9, kEcallM = 11,
  kInsnPageFault = 12, kLoadPageFault = 13, kStorePageFault = 15,
};
// Interrupt numbers (bit positions in mip/mie).
enum Irq : unsigned { kSSI = 1, kMSI = 3, kSTI = 5, kMTI = 7, kSEI = 9, kMEI = 11 };
inline constexpr uint64_t kInterruptBit = 1ull << 63;

// mstatus fields.
namespace mstatus {
inline constexpr uint64_t SIE = 1ull << 1, MIE = 1ull << 3, SPIE = 1ull << 5, UBE = 1ull << 6,
                          MPIE = 1ull << 7, SPP = 1ull << 8, MPP = 3ull << 11, FS = 3ull << 13,
                          XS = 3ull << 15, MPRV = 1ull << 17, SUM = 1ull << 18, MXR = 1ull << 19,
                          TVM = 1ull << 20, TW = 1ull << 21, TSR = 1ull << 22, UXL = 3ull << 32,
                          SXL = 3ull << 34, SD = 1ull << 63;
}

// Why Hart::run returned.
enum class Exit : uint8_t {
  kBudget,     // executed the requested number of instructions
  kWfi,        // executed WFI with no interrupt pending: sleep until one is
  kAttention,  // someone called request_attention() (pause, device event...)
  kPause,      // spinning: executed the Zihintpause `pause` hint, failed an SC,
               // or went round a read-only loop many times: a good moment to yield
  kDebug,      // hit a debugger breakpoint or watchpoint: see debug_hit()
};

// Debugger watchpoints: which accesses trigger them.
enum WatchMask : uint8_t { kWatchRead = 1, kWatchWrite = 2, kWatchAccess = 3 };
struct Watchpoint {
  uint64_t addr;  // virtual address, as this hart translates it
  uint64_t len;   // bytes, at least 1
  uint8_t mask;   // WatchMask
  bool operator==(const Watchpoint&) const = default;
};
// Why run() returned Exit::kDebug.
struct DebugHit {
  enum Kind : uint8_t { kNone, kBreakpoint, kWatchpoint, kEvent } kind = kNone;
  uint64_t addr = 0;    // watchpoint: the first watched byte the access touched
  bool write = false;   // watchpoint: the access wrote (an AMO reads and writes)
  bool before = false;  // event: stopped before the instruction (pc on it), else after
};

class Hart;

// Event breakpoints and tracing (coremu::EventMonitor implements these
// hooks). A hart calls them only from its slow paths: memory accesses to
// pages an event range covers (their TLB entries carry the watch flag),
// trap entry, a failed SC, a store to a device, and, while race
// breakpoints exist, the synchronising instructions. Many harts call them
// at once, each from its own thread.
struct MemEvent {
  enum Kind : uint8_t { kRead, kWrite, kAmo, kSc } kind;
  uint64_t va;
  unsigned len;
  uint64_t old_value;  // the memory before the access
  uint64_t new_value;  // kWrite: the value stored (AMO, SC: 0, not yet known)
  uint64_t pc;         // the accessing instruction
  uint64_t icount;     // the accessing hart's exact icount at it
};
class EventHooks {
 public:
  virtual ~EventHooks() = default;
  // Before an access to RAM in an event range. True: stop the hart before
  // the access (only when may_stop; a debugger's single step may not).
  virtual bool on_mem(Hart& h, const MemEvent& e, bool may_stop) = 0;
  // After an SC at `pc` (icount) failed. True: stop after it.
  virtual bool on_sc_fail(Hart& h, uint64_t va, uint64_t pc, uint64_t icount, bool may_stop) = 0;
  // After trap entry (h.pc is the handler). True: stop there.
  virtual bool on_trap(Hart& h, uint64_t cause, uint64_t epc, uint64_t tval, uint64_t icount, bool may_stop) = 0;
  // After a store to a device register at physical `pa`. True: stop after it.
  virtual bool on_mmio_store(Hart& h, uint64_t pa, unsigned len, uint64_t value, uint64_t pc, uint64_t icount,
                             bool may_stop) = 0;
  // A fence, AMO, LR or SC (only while race breakpoints exist).
  virtual void on_sync(Hart& h, uint64_t icount) = 0;
};
// Told of every interrupt a hart takes (the deterministic scheduler logs
// and checks them). Called on the hart's own thread, after trap entry.
class InterruptObserver {
 public:
  virtual ~InterruptObserver() = default;
  virtual void on_interrupt(Hart& h, uint64_t cause) = 0;
};

struct EventRange {
  uint64_t addr, len;
  bool operator==(const EventRange&) const = default;
};

// A Supervisor Binary Interface implemented by the host (machine::Sbi, the
// built-in firmware of `-bios default`): an ecall from S-mode goes to it
// instead of trapping to M-mode. Costs nothing when unset (one pointer test
// in the ecall handler). Both calls come from the hart's own thread.
class SbiHandler {
 public:
  virtual ~SbiHandler() = default;
  // S-mode executed ecall (a0-a7 in h.x; results into a0/a1). Returns true
  // if it moved the hart itself (h.pc set: hart stopped, machine reset);
  // false: execution continues after the ecall.
  virtual bool on_ecall(Hart& h) = 0;
  // A kReqSbi request posted to this hart (post_request) is being applied,
  // at a block boundary, before the next instruction.
  virtual void on_request(Hart& h) = 0;
};

// Kinds of memory access, for translation and faults.
enum class Access : uint8_t { kRead = 0, kWrite = 1, kExec = 2 };

class Hart {
 public:
  Hart(unsigned hartid, Bus& bus);
  ~Hart();
  Hart(const Hart&) = delete;
  Hart& operator=(const Hart&) = delete;

  // Puts the hart in its reset state (M-mode, pc = `pc`) and clears caches.
  void reset(uint64_t pc);

  // Executes at most `max_steps` steps (instructions retired plus traps
  // taken). Exact: steps() grows by at most max_steps. Returns early on WFI
  // or when attention was requested (checked at block boundaries).
  Exit run(uint64_t max_steps);

  // ---- thread-safe: may be called from any thread ----
  // Raises or lowers a hardware interrupt line (MSIP, MTIP, MEIP, SEIP).
  void set_irq_line(Irq irq, bool level);
  // Makes run() return kAttention at its next block boundary.
  void request_attention() { attention_.fetch_or(2, std::memory_order_release); }
  // Cross-hart requests (the built-in SBI's IPIs, remote fences and hart
  // starts): the hart applies them itself at its next block boundary,
  // before executing anything else; a hart asleep in WFI applies them when
  // it next runs. kReqSsip and kReqSbi also end WFI (wfi_wakeup_pending), so
  // the poster wakes a sleeping target through the runner afterwards.
  enum Request : uint32_t {
    kReqSsip = 1,      // set mip.SSIP (a supervisor software interrupt)
    kReqFenceI = 2,    // drop the decoded-block cache (remote fence.i)
    kReqSfenceVma = 4, // drop the TLB (remote sfence.vma, any address or ASID)
    kReqSbi = 8,       // call the SbiHandler's on_request (e.g. HSM hart_start)
  };
  void post_request(uint32_t bits) {
    requests_.fetch_or(bits, std::memory_order_acq_rel);
    attention_.fetch_or(4, std::memory_order_release);
  }

  // ---- queries ----
  unsigned hartid() const { return hartid_; }
  uint64_t icount() const { return icount_; }
  // Traps taken (exceptions and interrupts; they retire nothing).
  uint64_t traps() const { return traps_; }
  // The hart's position in its own execution: every step retires one
  // instruction or takes one trap, so (icount, traps) is reached once and
  // steps() orders every state the hart passes through. run()'s budget and
  // step() count steps.
  uint64_t steps() const { return icount_ + traps_; }
  // Deterministic mode: run() returns early only at points that do not
  // depend on how decoded blocks were cut (a debugger's breakpoints and
  // steps cut them differently), so the read-only spin-loop heuristic,
  // which counts block entries, is off. `pause`, a failed SC, WFI and
  // device accesses end the block at the instruction in both modes.
  void set_deterministic(bool on) { deterministic_ = on; }
  bool deterministic() const { return deterministic_; }
  Priv priv() const { return priv_; }
  // True if an interrupt is pending and enabled in mie (WFI wake-up rule,
  // which ignores the global enables).
  // A posted SSIP or SBI request also ends the sleep.
  bool wfi_wakeup_pending() const {
    return (mip() & mie_) != 0 || (requests_.load(std::memory_order_acquire) & (kReqSsip | kReqSbi)) != 0;
  }
  uint64_t mip() const;
  // The stimecmp deadline if Sstc is enabled and armed, else UINT64_MAX.
  uint64_t sstc_deadline() const;
  // Re-evaluates STIP from stimecmp against `now` (Sstc).
  void update_sstc(uint64_t now);

  // ---- register access for the debugger and loaders ----
  uint64_t x[33] = {};  // x[32] is the sink for writes to x0
  uint64_t f[32] = {};
  uint64_t pc = 0;
  // Reads/writes a CSR by number as M-mode would, without side effects on
  // the instruction stream. Returns false if the CSR does not exist.
  bool csr_read(unsigned num, uint64_t& value);
  bool csr_write(unsigned num, uint64_t value);
  void set_priv(Priv p);

  // Translates a virtual address as this hart would now for `acc`, without
  // side effects (no A/D updates, no faults). nullopt if it would page
  // fault. PMP is not applied: a debugger sees memory the hart may not.
  std::optional<uint64_t> translate_debug(uint64_t va, Access acc);

  // Drops every decoded block this hart holds (a debugger writing code,
  // fence.i), and its jump cache: blocks shared with other harts are
  // checked against memory before this hart runs them again. Not from
  // inside run(): handlers use request_code_flush().
  void flush_code_cache();
  // Drops every decoded block once the running block has finished (fence.i).
  void request_code_flush() { code_flush_pending_ = true; }
  // Drops every TLB entry (satp write, sfence.vma, mode bits changing).
  void flush_tlb();
  // RAM dirty tracking (Ram::set_dirty_tracking): after a checkpoint, makes
  // the next store through each cached write TLB entry take the slow path
  // once and mark its page dirty. Unlike flush_tlb() it keeps every
  // translation, so taking a checkpoint does not change what the guest
  // sees (no re-walk, no A/D update). Only while the hart is not running.
  void rearm_dirty_tracking();

  // ---- machine state (src/rv64/hart_state.cpp) ----
  // Appends everything that determines the hart's future execution
  // (registers, pc, privilege, counts, every CSR, FP flags, the LR
  // reservation, interrupt lines, WFI/pause state) to `out`: not debugger
  // state (breakpoints, watchpoints, event hooks), not caches (TLB, decoded
  // blocks), not configuration (deterministic). Fixed size, little-endian.
  void save_state(std::vector<uint8_t>& out) const;
  // Restores what save_state wrote, advancing p. Throws std::runtime_error
  // (and changes nothing) if [p, end) is too short or not a state of this
  // hart. Flushes the TLB and decoded code and re-evaluates interrupts at
  // the next run(). Only while the hart is not running.
  void load_state(const uint8_t*& p, const uint8_t* end);
  // XXH3-64 of the save_state bytes.
  uint64_t state_hash() const;

  // ---- debugging (only while the hart is not running) ----
  // Breakpoints are virtual pcs; decoded blocks end before them and a block
  // starting at one holds a single stop instruction, so a hart pays nothing
  // for breakpoints elsewhere. Watchpoints mark the TLB entries of the pages
  // they cover, so only accesses to those pages leave the fast path. A
  // watchpoint stops the hart before the access, with pc on the accessing
  // instruction, as RISC-V debug triggers do and as gdb's RISC-V target
  // expects (it steps over the access itself, then compares values).
  void set_breakpoints(std::vector<uint64_t> pcs);
  void set_watchpoints(std::vector<Watchpoint> w);
  bool has_breakpoint(uint64_t va) const;
  const std::vector<uint64_t>& breakpoints() const { return breakpoints_; }
  const std::vector<Watchpoint>& watchpoints() const { return watchpoints_; }
  bool has_watchpoint(uint64_t addr) const;
  // Event hooks (nullptr: none), the virtual ranges whose pages leave the
  // fast path for them, and whether synchronising instructions report.
  void set_events(EventHooks* hooks, std::vector<EventRange> ranges, bool sync);
  // The translating executor (src/rv64/jit), shared by the machine's harts;
  // nullptr: every block is interpreted. Blocks are translated once they
  // have run kJitThreshold times; while breakpoints are set, single steps
  // and partial blocks (a budget ending inside one) always interpret.
  // Either way run() gives the same results, instruction for instruction.
  void set_translator(jit::Translator* t);
  jit::Translator* translator() const { return jit_; }
  // Runs of a block before it is translated (at least 1): lower translates
  // more code sooner (the differential tests use 1).
  static constexpr uint32_t kJitThreshold = 16;
  void set_jit_threshold(uint32_t runs) { jit_threshold_ = runs ? runs : 1; }
  // The built-in SBI (nullptr: S-mode ecalls trap to M-mode as usual).
  void set_sbi(SbiHandler* sbi) { sbi_ = sbi; }
  SbiHandler* sbi() const { return sbi_; }
  // ecall from S-mode with an SbiHandler set (exec_int.cpp).
  Flow do_sbi_call(const Insn& in) {
    if (!sbi_->on_ecall(*this)) pc += in.len;
    return kJump;
  }
  bool events_active() const { return events_ != nullptr; }
  bool events_sync() const { return events_sync_; }
  const std::vector<EventRange>& event_ranges() const { return event_ranges_; }
  // The exact icount of the instruction now executing (from a handler or
  // a slow path it calls), or icount() between instructions.
  uint64_t current_icount() const;
  // From a slow path inside run(): the block stops after the instruction
  // now executing, so that whatever it changed (an interrupt line raised by
  // a device access) takes effect at an exact instruction boundary.
  void end_block_here();
  // Set when run() returns Exit::kDebug; cleared by the next run()/step().
  const DebugHit& debug_hit() const { return debug_hit_; }
  // Executes exactly one instruction (or takes the one exception it raises),
  // ignoring breakpoints, watchpoints and pending interrupts, as a debugger's
  // single step does. A stepped WFI completes at once.
  void step();
  // One step exactly as run(1) takes it (a pending interrupt is taken as
  // the step, WFI and `pause` end it as in run()), but ignoring breakpoints
  // and watchpoints: how a deterministic scheduler steps a hart off a
  // breakpoint or single-steps it without changing what happens.
  Exit step_exact();
  void set_interrupt_observer(InterruptObserver* o) { irq_obs_ = o; }
  // The hart is asleep in WFI (between run() returning kWfi and the next run()).
  bool in_wfi() const { return in_wfi_.load(std::memory_order_relaxed); }
  void set_in_wfi(bool v) { in_wfi_.store(v, std::memory_order_relaxed); }

  // ---- used by instruction handlers (exec_*.cpp) ----
  // Redirects to the trap handler; returns kTrap for the handler to return.
  Flow trap(uint64_t cause, uint64_t tval);
  Flow illegal(const Insn& in) { return trap(kIllegalInsn, in.len == 2 ? (in.raw & 0xffff) : in.raw); }

  template <class T>
  bool load(uint64_t va, T& out);
  template <class T>
  bool store(uint64_t va, T value);
  // Host pointer for an atomic access of `size` bytes at va (RAM only);
  // raises the right fault and returns nullptr otherwise.
  uint8_t* amo_ptr(uint64_t va, unsigned size, bool sc = false);
  // amo_ptr for T, with the store fast path's test first: an aligned access
  // whose write TLB entry matches with no slow-path flag (no watchpoint,
  // dirty tracking, code page or device) needs none of amo_ptr's checks,
  // so a contended AMO costs the host atomic and little else.
  template <class T>
  uint8_t* amo_host(uint64_t va, bool sc = false);
  // A store that returned false: normally a trap (kTrap); after a store an
  // event breakpoint stops behind (an IPI), the store retired: kJump.
  Flow store_failed(const Insn& in) {
    if (RV_LIKELY(!stop_after_)) return kTrap;
    stop_after_ = false;
    pc += in.len;
    return kJump;
  }
  // Event hooks of the synchronising instructions (fence, LR; AMOs and SC
  // report from amo_ptr) and of a failed SC; true: stop after the SC.
  void note_sync() { events_->on_sync(*this, current_icount()); }
  bool note_sc_fail(uint64_t va);

  // Executes a Zicsr access (op 0 = write, 1 = set bits, 2 = clear bits)
  // with the privilege rules of the current mode. Returns false if the
  // access is illegal (the caller raises the exception).
  bool csr_op(const Insn& in, unsigned csr, uint64_t wval, int op, uint64_t& old);
  // Threaded dispatch (exec.h): where the running chain of handlers must
  // stop, and where it stopped.
  const Insn* chain_end_ = nullptr;
  const Insn* chain_stop_ = nullptr;
  // Self-loop chaining (exec.h, jumped()): the start pc of the running
  // block while a taken branch or jump back to that pc may run the block
  // again without returning to run(); ~0 (no pc) when it may not (spin
  // blocks, deterministic mode, outside run()).
  uint64_t loop_va_ = ~0ull;
  // The running block's last instruction `in` jumped back to loop_va_: runs
  // the block again inside the chain if run() would do nothing else before
  // it (budget left, no attention, same translation and code, at most
  // kMaxLoopInsns instructions re-run, which bounds the stack where the
  // compiler does not turn the calls into jumps, as in sanitizer builds);
  // otherwise ends the chain as a jump does.
  inline Flow loop_back(const Insn& in);
  // The exact instruction count at instruction `in` of the running block.
  uint64_t icount_at(const Insn& in) const { return icount_ + static_cast<uint64_t>(&in - cur_insns_); }
  Flow do_mret();
  Flow do_sret();
  Flow do_wfi(const Insn& in);
  // The `pause` hint: ends the block and makes run() return kPause.
  Flow do_pause(const Insn& in) {
    pause_ = true;
    pc += in.len;
    return kJump;
  }
  Flow do_sfence_vma(const Insn& in);
  // A failed SC: another hart holds what this one wants (see kPause).
  void note_contention() { pause_ = true; }

  // FP state.
  bool fp_enabled() const { return (mstatus_ & mstatus::FS) != 0; }
  void fp_dirty() { mstatus_ |= mstatus::FS | mstatus::SD; }
  uint8_t frm = 0;
  uint8_t fflags = 0;

  // LR/SC reservation.
  uint64_t resv_addr = ~0ull;
  uint64_t resv_value = 0;
  unsigned resv_size = 0;

 private:
  struct TlbEntry {
    uint64_t tag;         // virtual page | flag bits (any flag forces the slow path)
    intptr_t host_addend; // host address = va + host_addend
    uint64_t phys_addend; // physical address = va + phys_addend
  };
  static constexpr unsigned kTlbBits = 9, kTlbSize = 1u << kTlbBits;
  static constexpr uint64_t kTlbInvalid = 1ull << 11;
  // PMP splits the entry's physical page for its access kind and privilege:
  // every access through it asks pmp_ (the other flags are in mmu.cpp).
  static constexpr uint64_t kTlbPmp = 1ull << 6;
  struct Tlb {
    TlbEntry e[3][kTlbSize];  // indexed by Access
  };
  static constexpr unsigned kCtxU = 0, kCtxS = 1, kCtxM = 2;

  // A run of decoded instructions starting at physical address `pa`, never
  // crossing a page, ending at the first control transfer.
  struct Block {
    uint64_t pa;
    uint64_t va;  // pc it was decoded for (checked while breakpoints are set; loop_va_)
    const std::atomic<uint32_t>* genp;  // generation of the code page (nullptr: ROM)
    uint32_t gen;
    uint32_t n;
    // A small loop that only reads (no stores, AMOs, CSR writes...) and
    // branches back to its own start: a spin-wait when it repeats.
    bool spin;
    bool no_jit;  // the translator refused it
    uint32_t execs;  // runs through run() (until translated)
    const jit::Translation* jit;  // its translation, once made
    Insn insns[1];  // n entries (allocated in place)
  };
  class BlockCache;
  // loop_back(): instructions re-run per block entry, at most (with the
  // block's own up to 64, this bounds the chain's stack depth).
  static constexpr unsigned kMaxLoopInsns = 1024;

  Block* lookup_block();
  // The instruction at pc on a page PMP splits for fetches (see hart.cpp).
  Block* pmp_fetch_block(uint64_t pa);
  Block pmp_block_{};
  Block* build_block(uint64_t pa);
  // True if the code at `host` is still the instructions of b (a shared
  // block is checked before a hart adopts it: see lookup_block).
  static bool holds(const Block& b, const uint8_t* host);
  bool fetch_slow(uint64_t va, uint16_t& half);
  // True (and debug_hit_ set) if an access of len bytes at va for `mask`
  // touches a watchpoint; the caller then abandons the instruction.
  bool watch_hit(uint64_t va, uint64_t len, uint8_t mask);
  bool watch_covers_page(uint64_t vpage, Access acc) const;
  // The watch-flag slow path of a RAM or device access: watchpoints, then
  // event hooks. True: abandon the access (debug_hit_ is set).
  bool watch_slow(uint64_t va, unsigned len, uint8_t mask, MemEvent::Kind kind, const TlbEntry* e,
                  uint64_t new_value);
  static Flow exec_breakpoint(Hart& h, const Insn& in);
  static bool is_spin_loop(const Insn* insns, unsigned n, uint64_t start);
  static constexpr unsigned kSpinLimit = 256;  // loop rounds before a spin counts
  bool check_interrupts();
  void update_contexts();
  // After a block (interpreted or translated): the flush fence.i asked for,
  // and in exit_ the reason run() must return now, if any (else kBudget).
  void after_block();
  Exit exit_ = Exit::kBudget;
  // Runs translated code from t within run()'s budget; true if run() must
  // stop making no progress (see run()), else after_block() has set exit_.
  bool run_translated(const jit::Translation& t, uint64_t target, uint64_t& no_progress, uint64_t max_steps);
  // Fetches, decodes and executes the instruction at pc with breakpoints
  // and watchpoints off (step(), step_exact()).
  void exec_one();
  // The instruction of the running block now executing (nullptr: between blocks).
  const Insn* current_insn() const;

  template <class T>
  bool load_slow(uint64_t va, T& out);
  template <class T>
  bool store_slow(uint64_t va, T value);
  // Walks the page table (or identity-maps) and fills the TLB entry for va.
  // On a fault raises the trap and returns nullptr.
  TlbEntry* tlb_fill(uint64_t va, Access acc);
  // The TLB entry translating va for acc in the current context, filled if
  // needed (its tag may still carry slow-path flags); nullptr after a fault.
  TlbEntry* tlb_entry(uint64_t va, Access acc);
  // PMP check of an access through TLB entry e that carries kTlbPmp; on a
  // denial raises the access fault for va and returns false.
  bool pmp_ok(uint64_t va, const TlbEntry* e, unsigned len, Access acc);
  // Page walk proper; returns the physical address or nullopt.
  std::optional<uint64_t> walk(uint64_t va, Access acc, unsigned ctx, bool update_ad);

  unsigned hartid_;
  Bus& bus_;
  Ram& ram_;
  Priv priv_ = kMachine;
  uint64_t icount_ = 0;
  uint64_t traps_ = 0;
  bool deterministic_ = false;
  InterruptObserver* irq_obs_ = nullptr;

  std::atomic<uint32_t> attention_{0};
  std::atomic<uint64_t> mip_hw_{0};
  std::atomic<uint32_t> requests_{0};  // Request bits posted by other harts
  uint32_t requests_saved_ = 0;  // requests_ as save_state/load_state move it
  SbiHandler* sbi_ = nullptr;
  void apply_requests();
  bool wfi_ = false;
  bool pause_ = false;
  unsigned spin_count_ = 0;
  bool code_flush_pending_ = false;

  // Debugging state (see set_breakpoints).
  std::vector<uint64_t> breakpoints_;   // sorted
  std::vector<Watchpoint> watchpoints_;
  DebugHit debug_hit_;
  bool debug_suppress_ = false;  // step(): breakpoints and watchpoints off
  EventHooks* events_ = nullptr;
  std::vector<EventRange> event_ranges_;
  bool events_sync_ = false;
  bool stop_after_ = false;  // a store retired but an event stops the hart (store_failed)
  bool block_end_requested_ = false;  // end_block_here() was called (the translator's helpers look)
  jit::Translator* jit_ = nullptr;
  uint32_t jit_threshold_ = kJitThreshold;
  // The jump cache: virtual pc -> translation, per translation context,
  // for the targets translated code cannot link to directly (indirect
  // jumps, other pages) and for run()'s own lookups. An entry is valid
  // while its epoch is jump_epoch_, which every TLB flush advances: the
  // mapping it was made under has not changed since.
  struct JumpEntry {
    uint64_t va;
    const uint8_t* code;
    uint64_t epoch;
    const jit::Translation* t;
  };
  static constexpr unsigned kJumpBits = 9;
  std::unique_ptr<JumpEntry[]> jumps_;  // kCtxU, kCtxS, kCtxM: 1 << kJumpBits each
  JumpEntry* jumps_cur_ = nullptr;      // the instruction-fetch context's
  uint64_t jump_epoch_ = 1;
  std::atomic<bool> in_wfi_{false};

  // CSR state.
  uint64_t mstatus_ = 0, medeleg_ = 0, mideleg_ = 0, mie_ = 0, mip_sw_ = 0;
  uint64_t mtvec_ = 0, mscratch_ = 0, mepc_ = 0, mcause_ = 0, mtval_ = 0;
  uint64_t stvec_ = 0, sscratch_ = 0, sepc_ = 0, scause_ = 0, stval_ = 0;
  uint64_t satp_ = 0, mcounteren_ = 0, scounteren_ = 0, menvcfg_ = 0, senvcfg_ = 0;
  uint64_t mcountinhibit_ = 0, stimecmp_ = ~0ull, mseccfg_ = 0;
  int64_t cycle_offset_ = 0, instret_offset_ = 0;
  bool sstc_pending_ = false;
  Pmp pmp_;
  uint64_t tselect_ = 0;

  // Translation contexts: which TLB serves instruction fetch and data.
  std::unique_ptr<Tlb[]> tlb_;  // kCtxU, kCtxS, kCtxM
  Tlb* itlb_ = nullptr;
  Tlb* dtlb_ = nullptr;
  unsigned dctx_ = kCtxM;
  bool tlb_has_superpages_ = false;
  const Insn* cur_insns_ = nullptr;  // first instruction of the running block
  uint64_t run_target_ = 0;          // run(): steps() at which the budget ends
  unsigned loop_insns_ = 0;          // instructions loop_back() re-ran since the block was entered

  bool read_csr(unsigned num, uint64_t& v, bool checked, const Insn* in);
  // `in` is the writing instruction (nullptr for the debugger): a counter
  // it writes does not also count that instruction.
  bool write_csr(unsigned num, uint64_t v, bool checked, const Insn* in = nullptr);

  std::unique_ptr<BlockCache> blocks_;

  friend struct HartTestAccess;
  friend struct jit::Helpers;    // generated code's view of the hart (emit_x64.cpp)
  friend struct jit::BlockView;  // the translator copies blocks
  friend class jit::Translator;
  friend struct HartState;  // hart_state.cpp
};

// ---- fast paths --------------------------------------------------------------

template <class T>
inline T host_load(const uint8_t* p) {
  return __atomic_load_n(reinterpret_cast<const T*>(p), __ATOMIC_RELAXED);
}
template <class T>
inline void host_store(uint8_t* p, T v) {
  __atomic_store_n(reinterpret_cast<T*>(p), v, __ATOMIC_RELAXED);
}

template <class T>
inline bool Hart::load(uint64_t va, T& out) {
  const TlbEntry& e = dtlb_->e[0][(va >> kPageShift) & (kTlbSize - 1)];
  if (RV_LIKELY((va & (~(kPageSize - 1) | (sizeof(T) - 1))) == e.tag)) {
    out = host_load<T>(reinterpret_cast<const uint8_t*>(va + e.host_addend));
    return true;
  }
  return load_slow(va, out);
}

inline Flow Hart::loop_back(const Insn& in) {
  const Insn* first = cur_insns_;
  const Block* b = reinterpret_cast<const Block*>(reinterpret_cast<const char*>(first) - offsetof(Block, insns));
  const TlbEntry& e = itlb_->e[2][(pc >> kPageShift) & (kTlbSize - 1)];
  if (RV_LIKELY((loop_insns_ += b->n) <= kMaxLoopInsns) && steps() + b->n < run_target_ &&
      &in + 1 == first + b->n && attention_.load(std::memory_order_relaxed) == 0 && !pause_ && !wfi_ &&
      !code_flush_pending_ && debug_hit_.kind == DebugHit::kNone && e.tag == (pc & ~(kPageSize - 1)) &&
      pc + e.phys_addend == b->pa && (!b->genp || b->genp->load(std::memory_order_acquire) == b->gen)) {
    icount_ += b->n;  // the pass that just ended retired every instruction
    uint64_t left = run_target_ - steps();
    chain_end_ = first + (b->n < left ? b->n : left);
    return first->fn(*this, *first);
  }
  chain_stop_ = &in;
  return kJump;
}

template <class T>
inline uint8_t* Hart::amo_host(uint64_t va, bool sc) {
  const TlbEntry& e = dtlb_->e[1][(va >> kPageShift) & (kTlbSize - 1)];
  if (RV_LIKELY((va & (~(kPageSize - 1) | (sizeof(T) - 1))) == e.tag) && RV_LIKELY(!events_sync_))
    return reinterpret_cast<uint8_t*>(va + e.host_addend);
  return amo_ptr(va, sizeof(T), sc);
}

template <class T>
inline bool Hart::store(uint64_t va, T value) {
  const TlbEntry& e = dtlb_->e[1][(va >> kPageShift) & (kTlbSize - 1)];
  if (RV_LIKELY((va & (~(kPageSize - 1) | (sizeof(T) - 1))) == e.tag)) {
    host_store<T>(reinterpret_cast<uint8_t*>(va + e.host_addend), value);
    return true;
  }
  return store_slow(va, value);
}

}  // namespace rv64
