// The hart's execution loop, decoded-block cache, traps and interrupts.
#include "rv64/hart.h"

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <vector>

#include "rv64/exec.h"
#include "rv64/jit/translator.h"

namespace rv64 {

namespace {
constexpr uint32_t kAttnIrq = 1;   // re-evaluate pending interrupts
constexpr uint32_t kAttnExit = 2;  // leave run()
constexpr uint32_t kAttnReq = 4;   // apply requests_ (post_request)
constexpr unsigned kMaxBlockInsns = 64;
}  // namespace

// Direct-mapped table from physical pc to block, blocks in a bump arena.
// Flushing drops everything at once (fence.i, arena full).
class Hart::BlockCache {
 public:
  static constexpr unsigned kBits = 12, kSize = 1u << kBits;
  static constexpr size_t kChunk = 256 * 1024, kMaxBytes = 32u << 20;

  BlockCache() : table_(new Block*[kSize]()) {}

  Block* find(uint64_t pa) const {
    Block* b = table_[index(pa)];
    return (b && b->pa == pa) ? b : nullptr;
  }
  // Caches a block that lives elsewhere (a shared translation's).
  void insert(Block* b) { table_[index(b->pa)] = b; }
  Block* alloc(uint64_t pa, unsigned n) {
    size_t bytes = sizeof(Block) + (n - 1) * sizeof(Insn);
    bytes = (bytes + 15) & ~size_t{15};
    if (used_ + bytes > kChunk || chunks_.empty()) {
      if ((chunks_.size() + 1) * kChunk > kMaxBytes) flush();
      chunks_.push_back(std::unique_ptr<uint8_t[]>(new uint8_t[kChunk]));
      used_ = 0;
    }
    Block* b = reinterpret_cast<Block*>(chunks_.back().get() + used_);
    used_ += bytes;
    b->pa = pa;
    b->n = n;
    table_[index(pa)] = b;
    return b;
  }
  void flush() {
    std::fill(table_.get(), table_.get() + kSize, nullptr);
    chunks_.clear();
    used_ = 0;
  }

 private:
  static unsigned index(uint64_t pa) { return static_cast<unsigned>((pa >> 1) ^ (pa >> 13)) & (kSize - 1); }
  std::unique_ptr<Block*[]> table_;
  std::vector<std::unique_ptr<uint8_t[]>> chunks_;
  size_t used_ = 0;
};

Hart::Hart(unsigned hartid, Bus& bus)
    : hartid_(hartid), bus_(bus), ram_(bus.ram()), tlb_(new Tlb[3]), blocks_(new BlockCache) {
  reset(0x1000);
}

Hart::~Hart() = default;

void Hart::reset(uint64_t reset_pc) {
  std::fill(std::begin(x), std::end(x), 0);
  std::fill(std::begin(f), std::end(f), 0);
  pc = reset_pc;
  priv_ = kMachine;
  mstatus_ = (2ull << 32) | (2ull << 34);  // UXL = SXL = 64
  medeleg_ = mideleg_ = mie_ = mip_sw_ = 0;
  mtvec_ = mscratch_ = mepc_ = mcause_ = mtval_ = 0;
  stvec_ = sscratch_ = sepc_ = scause_ = stval_ = 0;
  satp_ = mcounteren_ = scounteren_ = menvcfg_ = senvcfg_ = mcountinhibit_ = 0;
  stimecmp_ = ~0ull;
  sstc_pending_ = false;
  cycle_offset_ = instret_offset_ = 0;
  pmp_.reset();
  tselect_ = 0;
  frm = fflags = 0;
  resv_addr = ~0ull;
  wfi_ = pause_ = false;
  spin_count_ = 0;
  icount_ = traps_ = 0;
  mip_hw_.store(0, std::memory_order_relaxed);
  requests_.store(0, std::memory_order_relaxed);
  flush_tlb();
  flush_code_cache();
  update_contexts();
  attention_.store(kAttnIrq, std::memory_order_relaxed);
}

// ---- interrupts ----------------------------------------------------------------

void Hart::set_irq_line(Irq irq, bool level) {
  uint64_t bit = 1ull << irq;
  uint64_t old = level ? mip_hw_.fetch_or(bit, std::memory_order_acq_rel)
                       : mip_hw_.fetch_and(~bit, std::memory_order_acq_rel);
  if (((old & bit) != 0) != level) attention_.fetch_or(kAttnIrq, std::memory_order_release);
}

uint64_t Hart::mip() const {
  uint64_t v = mip_hw_.load(std::memory_order_acquire) | mip_sw_;
  if (menvcfg_ >> 63) v = (v & ~(1ull << kSTI)) | (sstc_pending_ ? 1ull << kSTI : 0);
  return v;
}

uint64_t Hart::sstc_deadline() const { return (menvcfg_ >> 63) ? stimecmp_ : ~0ull; }

void Hart::update_sstc(uint64_t now) {
  bool p = (menvcfg_ >> 63) && now >= stimecmp_;
  if (p != sstc_pending_) {
    sstc_pending_ = p;
    attention_.fetch_or(kAttnIrq, std::memory_order_relaxed);
  }
}

void Hart::apply_requests() {
  uint32_t r = requests_.exchange(0, std::memory_order_acq_rel);
  if (r & kReqSsip) mip_sw_ |= 1ull << kSSI;
  if (r & kReqFenceI) flush_code_cache();
  if (r & kReqSfenceVma) flush_tlb();
  if ((r & kReqSbi) && sbi_) sbi_->on_request(*this);
}

bool Hart::check_interrupts() {
  uint64_t pend = mip() & mie_;
  if (!pend) return false;
  uint64_t m_en = (priv_ < kMachine || (mstatus_ & mstatus::MIE)) ? pend & ~mideleg_ : 0;
  uint64_t s_en = (priv_ < kSupervisor || (priv_ == kSupervisor && (mstatus_ & mstatus::SIE)))
                      ? pend & mideleg_
                      : 0;
  uint64_t take = m_en ? m_en : s_en;
  if (!take) return false;
  static constexpr Irq kOrder[] = {kMEI, kMSI, kMTI, kSEI, kSSI, kSTI};
  for (Irq i : kOrder) {
    if (take & (1ull << i)) {
      trap(kInterruptBit | i, 0);
      if (RV_UNLIKELY(irq_obs_ != nullptr)) irq_obs_->on_interrupt(*this, kInterruptBit | i);
      return true;
    }
  }
  return false;
}

// ---- traps -----------------------------------------------------------------------

Flow Hart::trap(uint64_t cause, uint64_t tval) {
  uint64_t epc = pc;
  ++traps_;
  bool irq = (cause & kInterruptBit) != 0;
  uint64_t code = cause & ~kInterruptBit;
  bool deleg = priv_ <= kSupervisor && (((irq ? mideleg_ : medeleg_) >> code) & 1);
  if (deleg) {
    scause_ = cause;
    sepc_ = pc;
    stval_ = tval;
    uint64_t s = mstatus_ & ~(mstatus::SPIE | mstatus::SIE | mstatus::SPP);
    if (mstatus_ & mstatus::SIE) s |= mstatus::SPIE;
    if (priv_ == kSupervisor) s |= mstatus::SPP;
    mstatus_ = s;
    pc = (stvec_ & ~3ull) + ((irq && (stvec_ & 1)) ? 4 * code : 0);
    priv_ = kSupervisor;
  } else {
    mcause_ = cause;
    mepc_ = pc;
    mtval_ = tval;
    uint64_t s = mstatus_ & ~(mstatus::MPIE | mstatus::MIE | mstatus::MPP);
    if (mstatus_ & mstatus::MIE) s |= mstatus::MPIE;
    s |= uint64_t{priv_} << 11;
    mstatus_ = s;
    pc = (mtvec_ & ~3ull) + ((irq && (mtvec_ & 1)) ? 4 * code : 0);
    priv_ = kMachine;
  }
  update_contexts();
  if (RV_UNLIKELY(events_ != nullptr) &&
      events_->on_trap(*this, cause, epc, tval, current_icount(), !debug_suppress_) && !debug_suppress_)
    debug_hit_ = {DebugHit::kEvent, epc, false, false};  // stops at the handler
  return kTrap;
}

const Insn* Hart::current_insn() const {
  if (debug_suppress_) return cur_insns_;  // step(): the one instruction
  if (cur_insns_ == nullptr) return nullptr;
  // Blocks never cross a page: find the instruction at pc by page offsets
  // (the block may be reached through another virtual alias of its page).
  const Block* b = reinterpret_cast<const Block*>(reinterpret_cast<const char*>(cur_insns_) - offsetof(Block, insns));
  uint64_t off = b->pa & (kPageSize - 1), want = pc & (kPageSize - 1);
  for (unsigned k = 0; k < b->n; ++k) {
    if (off == want) return &b->insns[k];
    off += b->insns[k].len;
  }
  return nullptr;
}

uint64_t Hart::current_icount() const {
  if (debug_suppress_) return icount_;
  const Insn* in = current_insn();
  return in ? icount_at(*in) : icount_;
}

void Hart::end_block_here() {
  const Insn* in = current_insn();
  if (in && !debug_suppress_) chain_end_ = in + 1;
  block_end_requested_ = true;
}

bool Hart::note_sc_fail(uint64_t va) {
  if (!events_->on_sc_fail(*this, va, pc, current_icount(), !debug_suppress_) || debug_suppress_) return false;
  debug_hit_ = {DebugHit::kEvent, va, true, false};
  return true;
}

Flow Hart::do_mret() {
  if (priv_ < kMachine) return trap(kIllegalInsn, 0x30200073);
  Priv to = static_cast<Priv>((mstatus_ >> 11) & 3);
  uint64_t s = mstatus_ & ~(mstatus::MIE | mstatus::MPP);
  if (mstatus_ & mstatus::MPIE) s |= mstatus::MIE;
  s |= mstatus::MPIE;
  if (to != kMachine) s &= ~mstatus::MPRV;
  mstatus_ = s;
  pc = mepc_;
  priv_ = to;
  update_contexts();
  attention_.fetch_or(kAttnIrq, std::memory_order_relaxed);
  return kJump;
}

Flow Hart::do_sret() {
  if (priv_ < kSupervisor || (priv_ == kSupervisor && (mstatus_ & mstatus::TSR)))
    return trap(kIllegalInsn, 0x10200073);
  Priv to = (mstatus_ & mstatus::SPP) ? kSupervisor : kUser;
  uint64_t s = mstatus_ & ~(mstatus::SIE | mstatus::SPP | mstatus::MPRV);
  if (mstatus_ & mstatus::SPIE) s |= mstatus::SIE;
  s |= mstatus::SPIE;
  mstatus_ = s;
  pc = sepc_;
  priv_ = to;
  update_contexts();
  attention_.fetch_or(kAttnIrq, std::memory_order_relaxed);
  return kJump;
}

Flow Hart::do_wfi(const Insn& in) {
  if (priv_ == kUser || (priv_ == kSupervisor && (mstatus_ & mstatus::TW))) return illegal(in);
  pc += in.len;
  // Stall unless an interrupt enabled in mie is pending (the wake-up rule,
  // which ignores the global enables: rv64si-p-wfi expects WFI to fall
  // through then). A pending interrupt disabled in mie does not keep the
  // hart awake: Linux leaves STIP pending with STIE off in its idle loop.
  if (!wfi_wakeup_pending()) wfi_ = true;
  return kJump;
}

void Hart::set_priv(Priv p) {
  priv_ = p;
  update_contexts();
  attention_.fetch_or(kAttnIrq, std::memory_order_relaxed);
}

void Hart::flush_code_cache() {
  blocks_->flush();
  ++jump_epoch_;  // the jump cache leads to translations of what was decoded
}

void Hart::set_translator(jit::Translator* t) {
  jit_ = t;
  jumps_.reset(t ? new JumpEntry[size_t{3} << kJumpBits]() : nullptr);
  jumps_cur_ = nullptr;
  ++jump_epoch_;
  update_contexts();
}

// ---- the execution loop -------------------------------------------------------------

bool Hart::fetch_slow(uint64_t va, uint16_t& half) {
  TlbEntry* e = tlb_entry(va, Access::kExec);
  if (!e) return false;
  uint64_t flags = e->tag & (kPageSize - 1);
  if (flags != 0 && (flags != kTlbPmp || !pmp_.allows(va + e->phys_addend, 2, Access::kExec, priv_))) {
    trap(kInsnAccessFault, va);  // not directly executable memory, or PMP forbids it
    return false;
  }
  half = host_load<uint16_t>(reinterpret_cast<const uint8_t*>(va + e->host_addend));
  return true;
}

Hart::Block* Hart::lookup_block() {
  TlbEntry* e = &itlb_->e[2][(pc >> kPageShift) & (kTlbSize - 1)];
  if (RV_UNLIKELY(e->tag != (pc & ~(kPageSize - 1)))) {
    cur_insns_ = nullptr;  // a fetch fault's trap is between blocks (current_icount)
    e = tlb_entry(pc, Access::kExec);
    if (!e) return nullptr;
    if (RV_UNLIKELY((e->tag & (kPageSize - 1)) == kTlbPmp)) return pmp_fetch_block(pc + e->phys_addend);
    if (e->tag & (kPageSize - 1)) {
      trap(kInsnAccessFault, pc);
      return nullptr;
    }
  }
  uint64_t pa = pc + e->phys_addend;
  Block* b = blocks_->find(pa);
  if (RV_LIKELY(b != nullptr) && (!b->genp || b->genp->load(std::memory_order_acquire) == b->gen) &&
      (RV_LIKELY(breakpoints_.empty()) || b->va == pc))
    return b;
  // Another hart may have decoded (or translated) this code already: the
  // shared block is this hart's too, so it need not decode it again.
  if (jit_ != nullptr && breakpoints_.empty()) {
    if (const jit::Translation* t = jit_->find(pa)) {
      Block* shared = const_cast<Block*>(static_cast<const Block*>(t->block));
      if (RV_LIKELY(holds(*shared, reinterpret_cast<const uint8_t*>(pc + e->host_addend)))) {
        blocks_->insert(shared);
        return shared;
      }
      // The bytes changed without a generation bump (a store through a
      // write entry made before the page held code): drop every block and
      // translation of the page for all harts, and decode anew.
      ram_.note_write(pa & ~(kPageSize - 1), kPageSize);
    }
  }
  return build_block(pa);
}

bool Hart::holds(const Block& b, const uint8_t* host) {
  for (unsigned k = 0; k < b.n; ++k) {
    const Insn& in = b.insns[k];
    uint32_t raw = host_load<uint16_t>(host);
    if (in.len == 4) raw |= uint32_t{host_load<uint16_t>(host + 2)} << 16;
    if (raw != in.raw) return false;
    host += in.len;
  }
  return true;
}

// A page that PMP splits for fetches in this mode: each instruction is
// checked (parcel by parcel, in fetch_slow) and decoded alone into
// pmp_block_, which is never cached nor translated, so nothing fetched from
// such a page runs unchecked (the itlb entry's flag also keeps loop_back()
// from re-running it).
Hart::Block* Hart::pmp_fetch_block(uint64_t pa) {
  Block& b = pmp_block_;
  b = Block{};
  b.pa = pa;
  b.va = pc;
  b.n = 1;
  b.no_jit = true;
  if (RV_UNLIKELY(!breakpoints_.empty()) && has_breakpoint(pc)) {
    b.insns[0].fn = &Hart::exec_breakpoint;
    b.insns[0].len = 2;
    return &b;
  }
  uint16_t lo, hi;
  if (!fetch_slow(pc, lo)) return nullptr;
  uint32_t raw = lo;
  if ((raw & 3) == 3) {
    if (!fetch_slow(pc + 2, hi)) return nullptr;
    raw |= uint32_t{hi} << 16;
  }
  b.insns[0] = decode(raw);
  return &b;
}

Hart::Block* Hart::build_block(uint64_t pa) {
  TlbEntry* e = &itlb_->e[2][(pc >> kPageShift) & (kTlbSize - 1)];
  const uint8_t* host = reinterpret_cast<const uint8_t*>(pc + e->host_addend);
  const std::atomic<uint32_t>* genp = nullptr;
  uint32_t gen = 0;
  if (ram_.contains(pa)) {
    if (ram_.mark_code(pa)) {
      // Stores to this page must now bump its generation: drop our write
      // TLB entries so they are refilled with the code flag.
      for (auto& t : tlb_[0].e[1]) t.tag = kTlbInvalid;
      for (auto& t : tlb_[1].e[1]) t.tag = kTlbInvalid;
      for (auto& t : tlb_[2].e[1]) t.tag = kTlbInvalid;
    }
    genp = &ram_.generation(pa);
    gen = genp->load(std::memory_order_acquire);
  }
  Insn tmp[kMaxBlockInsns];
  unsigned n = 0;
  bool straddles = false;  // its only instruction's second half is on the next page
  uint64_t off = pc & (kPageSize - 1);
  // The first breakpoint at or after pc on this page: the block stops there.
  uint64_t next_bp = ~0ull;
  if (RV_UNLIKELY(!breakpoints_.empty())) {
    auto it = std::lower_bound(breakpoints_.begin(), breakpoints_.end(), pc);
    if (it != breakpoints_.end()) next_bp = *it;
    if (next_bp == pc) {
      tmp[n] = Insn{};
      tmp[n].fn = &Hart::exec_breakpoint;
      tmp[n].len = 2;
      ++n;
      goto done;
    }
  }
  while (n < kMaxBlockInsns) {
    if (off + 2 > kPageSize) break;
    if (RV_UNLIKELY((pc & ~(kPageSize - 1)) + off == next_bp)) break;
    uint32_t raw = host_load<uint16_t>(host + (off - (pc & (kPageSize - 1))));
    if ((raw & 3) == 3) {
      if (off + 4 > kPageSize) {
        if (n > 0) break;
        // The only instruction of this block straddles two pages.
        uint16_t hi;
        if (!fetch_slow(pc + 2, hi)) return nullptr;
        raw |= uint32_t{hi} << 16;
        tmp[n++] = decode(raw);
        straddles = true;
        break;
      }
      raw |= uint32_t{host_load<uint16_t>(host + (off + 2 - (pc & (kPageSize - 1))))} << 16;
    }
    Insn in = decode(raw);
    tmp[n++] = in;
    off += in.len;
    if (in.op == Op::kIllegal) break;
    Fmt f = op_info(in.op).fmt;
    if (f == Fmt::B || f == Fmt::J || f == Fmt::JALR) break;
    switch (in.op) {
      case Op::ecall: case Op::ebreak: case Op::mret: case Op::sret: case Op::wfi:
      case Op::fence_i: case Op::sfence_vma:
        goto done;
      default:
        break;
    }
  }
done:
  Block* b = blocks_->alloc(pa, n);
  b->va = pc;
  b->spin = is_spin_loop(tmp, n, pc);
  b->no_jit = b->spin;  // spin blocks stay interpreted: run() counts their rounds
  b->execs = 0;
  b->jit = nullptr;
  b->genp = genp;
  b->gen = gen;
  std::copy(tmp, tmp + n, b->insns);
  // With a translator, the harts share decoded blocks: the first hart to
  // decode the code publishes its block, the others run that one (and
  // count its runs together towards translation). Not blocks cut at this
  // hart's breakpoints, nor one whose instruction straddles into a page
  // this hart maps its own way.
  if (jit_ != nullptr && breakpoints_.empty() && genp != nullptr && !straddles) {
    if (Block* shared = static_cast<Block*>(jit_->share(b))) {
      blocks_->insert(shared);
      return shared;
    }
  }
  return b;
}

bool Hart::is_spin_loop(const Insn* insns, unsigned n, uint64_t start) {
  if (n == 0 || n > 8) return false;
  uint64_t at = start;
  for (unsigned k = 0; k < n; ++k) {
    const Insn& in = insns[k];
    if (in.op == Op::kIllegal || in.fn == &Hart::exec_breakpoint) return false;  // (no op_info entry)
    Fmt f = op_info(in.op).fmt;
    bool last = k + 1 == n;
    if (last) return f == Fmt::B && static_cast<int64_t>(at - start) + in.imm == 0;
    if (f != Fmt::R && f != Fmt::R1 && f != Fmt::I && f != Fmt::SHIFT && f != Fmt::LOAD && f != Fmt::U &&
        f != Fmt::LR && f != Fmt::FENCE && f != Fmt::NONE)
      return false;
    if (in.op == Op::ecall || in.op == Op::ebreak || in.op == Op::wfi) return false;
    at += in.len;
  }
  return false;
}

bool Hart::run_translated(const jit::Translation& t, uint64_t target, uint64_t& no_progress, uint64_t max_steps) {
  uint64_t before = steps();
  exit_ = Exit::kBudget;
  jit_->execute(*this, t, target - before);  // runs blocks until one leaves; icount, pc, traps exact
  cur_insns_ = nullptr;
  if (RV_UNLIKELY(steps() == before) && ++no_progress > max_steps) return true;
  after_block();
  return false;
}

void Hart::after_block() {
  if (RV_UNLIKELY(code_flush_pending_)) {
    code_flush_pending_ = false;
    flush_code_cache();
  }
  if (RV_UNLIKELY(wfi_)) {
    wfi_ = false;
    exit_ = Exit::kWfi;
  } else if (RV_UNLIKELY(debug_hit_.kind != DebugHit::kNone)) {
    exit_ = Exit::kDebug;  // (a pause waits: see run())
  } else if (RV_UNLIKELY(pause_)) {
    pause_ = false;
    exit_ = Exit::kPause;
  }
}

Exit Hart::run(uint64_t max_steps) {
  const uint64_t target = steps() + max_steps;
  run_target_ = target;
  debug_hit_.kind = DebugHit::kNone;
  if (RV_UNLIKELY(pause_)) {  // a failed SC whose event stop won: yield now
    pause_ = false;
    return Exit::kPause;
  }
  // A step that neither retires nor traps (a debug stop) still ends the
  // loop: bound those, so a hart always returns to its runner.
  uint64_t no_progress = 0;
  while (steps() < target) {
    if (RV_UNLIKELY(attention_.load(std::memory_order_relaxed) != 0)) {
      uint32_t a = attention_.exchange(0, std::memory_order_acquire);
      cur_insns_ = nullptr;  // between blocks (current_icount)
      if (a & kAttnReq) {
        apply_requests();
        a |= kAttnIrq;
      }
      if (a & kAttnIrq) check_interrupts();
      if (RV_UNLIKELY(debug_hit_.kind != DebugHit::kNone)) return Exit::kDebug;  // an irq event
      if (a & kAttnExit) return Exit::kAttention;
    }
    if (jumps_cur_ != nullptr && RV_LIKELY(breakpoints_.empty())) {
      const JumpEntry& j = jumps_cur_[(pc >> 1) & ((1u << kJumpBits) - 1)];
      if (j.va == pc && j.epoch == jump_epoch_ && j.t->n <= target - steps() &&
          j.t->genp->load(std::memory_order_acquire) == j.t->gen) {
        if (run_translated(*j.t, target, no_progress, max_steps)) break;
        if (exit_ != Exit::kBudget) return exit_;
        continue;
      }
    }
    Block* b = lookup_block();
    if (RV_UNLIKELY(b == nullptr)) {  // fetch fault: pc is at the handler
      if (RV_UNLIKELY(debug_hit_.kind != DebugHit::kNone)) return Exit::kDebug;  // a trap event
      if (++no_progress > max_steps) break;
      continue;
    }
    uint64_t left = target - steps();
    // A shared block's jit, no_jit and execs are written by any hart (atomically).
    if (jit_ != nullptr && !__atomic_load_n(&b->no_jit, __ATOMIC_RELAXED) && b->n <= left &&
        RV_LIKELY(breakpoints_.empty())) {
      const jit::Translation* t = __atomic_load_n(&b->jit, __ATOMIC_ACQUIRE);
      if (t == nullptr && __atomic_add_fetch(&b->execs, 1, __ATOMIC_RELAXED) >= jit_threshold_) {
        t = jit_->translate(*this, b);
        if (t) __atomic_store_n(&b->jit, t, __ATOMIC_RELEASE);
        else __atomic_store_n(&b->no_jit, true, __ATOMIC_RELAXED);
      }
      if (t != nullptr) {
        JumpEntry& j = jumps_cur_[(pc >> 1) & ((1u << kJumpBits) - 1)];
        j = {pc, t->code, jump_epoch_, t};
        if (run_translated(*t, target, no_progress, max_steps)) break;
        if (exit_ != Exit::kBudget) return exit_;
        continue;
      }
    }
    const Insn* i = b->insns;
    cur_insns_ = i;
    chain_end_ = i + (b->n < left ? b->n : left);
    loop_va_ = (b->spin || deterministic_) ? ~0ull : b->va;  // spin blocks come back here to be counted
    loop_insns_ = 0;
    Flow fl = i->fn(*this, *i);  // runs the chain of handlers (exec.h)
    loop_va_ = ~0ull;
    uint64_t retired = static_cast<uint64_t>(chain_stop_ - b->insns) + (fl == kJump ? 1 : 0);
    icount_ += retired;
    if (RV_UNLIKELY(b->spin) && !deterministic_) {
      // Looping back into a read-only spin loop again and again: the hart
      // waits for another one; let the runner give the host CPU away.
      if (pc == b->va && ++spin_count_ >= kSpinLimit) {
        spin_count_ = 0;
        pause_ = true;
      }
    }
    if (RV_UNLIKELY(retired == 0) && ++no_progress > max_steps) break;
    exit_ = Exit::kBudget;
    after_block();
    if (exit_ != Exit::kBudget) return exit_;
  }
  return Exit::kBudget;
}

// ---- debugging ------------------------------------------------------------------------

Flow Hart::exec_breakpoint(Hart& h, const Insn& in) {
  h.chain_stop_ = &in;
  h.debug_hit_.kind = DebugHit::kBreakpoint;
  h.debug_hit_.addr = h.pc;
  return kTrap;  // retires nothing; pc stays on the breakpoint
}

void Hart::set_breakpoints(std::vector<uint64_t> pcs) {
  std::sort(pcs.begin(), pcs.end());
  pcs.erase(std::unique(pcs.begin(), pcs.end()), pcs.end());
  breakpoints_ = std::move(pcs);
  flush_code_cache();
}

bool Hart::has_breakpoint(uint64_t va) const {
  return std::binary_search(breakpoints_.begin(), breakpoints_.end(), va);
}

void Hart::exec_one() {
  debug_suppress_ = true;
  uint16_t lo, hi;
  if (fetch_slow(pc, lo)) {
    uint32_t raw = lo;
    bool ok = true;
    if ((raw & 3) == 3) {
      ok = fetch_slow(pc + 2, hi);
      raw |= uint32_t{hi} << 16;
    }
    if (ok) {
      Insn in = decode(raw);
      cur_insns_ = &in;
      chain_end_ = &in + 1;  // this instruction only
      Flow fl = in.fn(*this, in);  // advances pc when it falls through
      if (fl != kTrap) ++icount_;
      cur_insns_ = nullptr;
    }
  }
  debug_suppress_ = false;
  stop_after_ = false;
  if (code_flush_pending_) {
    code_flush_pending_ = false;
    flush_code_cache();
  }
}

void Hart::step() {
  debug_hit_.kind = DebugHit::kNone;
  exec_one();
  wfi_ = pause_ = false;
}

Exit Hart::step_exact() {
  debug_hit_.kind = DebugHit::kNone;
  if (pause_) {  // as run(): a pending yield comes first and takes no step
    pause_ = false;
    return Exit::kPause;
  }
  if (attention_.load(std::memory_order_relaxed) != 0) {
    uint32_t a = attention_.exchange(0, std::memory_order_acquire);
    cur_insns_ = nullptr;
    if (a & kAttnExit) attention_.fetch_or(kAttnExit, std::memory_order_relaxed);  // still wanted by run()
    if ((a & kAttnIrq) && check_interrupts()) return Exit::kBudget;  // the interrupt was the step
  }
  exec_one();
  if (wfi_) {
    wfi_ = false;
    return Exit::kWfi;
  }
  if (pause_) {
    pause_ = false;
    return Exit::kPause;
  }
  return Exit::kBudget;
}

}  // namespace rv64
