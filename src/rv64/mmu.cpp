// Address translation (Sv39/Sv48), the software TLB and the memory slow paths.
#include <atomic>

#include "rv64/hart.h"

namespace rv64 {

namespace {
constexpr uint64_t kFlagMmio = 1ull << 10;  // page is not host memory: use the Bus
constexpr uint64_t kFlagCode = 1ull << 9;   // write entry for a page holding decoded code
constexpr uint64_t kFlagWatch = 1ull << 8;  // a debugger watchpoint covers part of the page
constexpr uint64_t kFlagTrack = 1ull << 7;  // write entry re-armed for dirty tracking: mark the page once
// (bit 6, Hart::kTlbPmp: PMP splits the page; each access asks Pmp)

namespace pte {
constexpr uint64_t V = 1, R = 2, W = 4, X = 8, U = 16, G = 32, A = 64, D = 128;
}

Cause fault_for(Access acc) {
  return acc == Access::kExec ? kInsnPageFault : acc == Access::kRead ? kLoadPageFault : kStorePageFault;
}
Cause access_fault_for(Access acc) {
  return acc == Access::kExec ? kInsnAccessFault
                              : acc == Access::kRead ? kLoadAccessFault : kStoreAccessFault;
}
}  // namespace

// The privilege a translation context checks for (Hart::kCtxU, kCtxS, kCtxM = 0, 1, 2).
static Priv priv_of_ctx(unsigned ctx) { return ctx == 2 ? kMachine : ctx == 1 ? kSupervisor : kUser; }

void Hart::flush_tlb() {
  for (unsigned c = 0; c < 3; ++c)
    for (auto& kind : tlb_[c].e)
      for (auto& e : kind) e.tag = kTlbInvalid;
  tlb_has_superpages_ = false;
  ++jump_epoch_;
}

void Hart::rearm_dirty_tracking() {
  for (unsigned c = 0; c < 3; ++c)
    for (auto& e : tlb_[c].e[static_cast<unsigned>(Access::kWrite)])
      if (!(e.tag & (kTlbInvalid | kFlagMmio))) e.tag |= kFlagTrack;
}

void Hart::update_contexts() {
  auto ctx = [](Priv p) { return p == kMachine ? kCtxM : p == kSupervisor ? kCtxS : kCtxU; };
  itlb_ = &tlb_[ctx(priv_)];
  if (jumps_) jumps_cur_ = &jumps_[size_t{ctx(priv_)} << kJumpBits];
  Priv dp = priv_;
  if (priv_ == kMachine && (mstatus_ & mstatus::MPRV)) dp = static_cast<Priv>((mstatus_ >> 11) & 3);
  dctx_ = ctx(dp);
  dtlb_ = &tlb_[dctx_];
}

// Result: physical address, or a fault (page fault or, for a page-table
// access outside RAM or one PMP denies, an access fault) encoded in `cause`.
struct WalkResult {
  bool ok;
  uint64_t pa;
  Cause cause;
  int level = 0;  // 0 for a 4 KiB page, >0 for a superpage
};

// `pmp`: checks the page-table accesses against it as S-mode accesses
// (reads, and the A/D update as a store), as the spec's walk does; nullptr:
// unchecked (the debugger's translation).
static WalkResult do_walk(Ram& ram, const Pmp* pmp, uint64_t satp, uint64_t mstatus, uint64_t va, Access acc,
                          Priv eff, bool update_ad) {
  unsigned mode = static_cast<unsigned>(satp >> 60);
  if (eff == kMachine || mode == 0) return {true, va, kLoadPageFault};
  unsigned levels = mode == 9 ? 4 : 3;
  unsigned vabits = 12 + 9 * levels;
  // The upper bits must be copies of the top translated bit.
  int64_t sv = static_cast<int64_t>(va << (64 - vabits)) >> (64 - vabits);
  if (static_cast<uint64_t>(sv) != va) return {false, 0, fault_for(acc)};

  uint64_t table = (satp & ((1ull << 44) - 1)) << 12;
  for (int level = static_cast<int>(levels) - 1; level >= 0; --level) {
    uint64_t pte_pa = table + ((va >> (12 + 9 * level)) & 511) * 8;
    if (!ram.contains(pte_pa, 8)) return {false, 0, access_fault_for(acc)};
    if (pmp && !pmp->allows(pte_pa, 8, Access::kRead, kSupervisor)) return {false, 0, access_fault_for(acc)};
    auto* p = reinterpret_cast<uint64_t*>(ram.ptr(pte_pa));
    std::atomic_ref<uint64_t> ref(*p);
    uint64_t e = ref.load(std::memory_order_acquire);
  retry:
    if (!(e & pte::V) || (!(e & pte::R) && (e & pte::W))) return {false, 0, fault_for(acc)};
    if (e >> 54) return {false, 0, fault_for(acc)};  // reserved / Svpbmt / Svnapot bits
    if (!(e & (pte::R | pte::X))) {                     // pointer to the next level
      if (e & (pte::D | pte::A | pte::U)) return {false, 0, fault_for(acc)};
      table = ((e >> 10) & ((1ull << 44) - 1)) << 12;
      continue;
    }
    // Leaf: permissions.
    if (e & pte::U) {
      if (eff == kSupervisor && (acc == Access::kExec || !(mstatus & mstatus::SUM)))
        return {false, 0, fault_for(acc)};
    } else if (eff == kUser) {
      return {false, 0, fault_for(acc)};
    }
    bool allowed = acc == Access::kExec    ? (e & pte::X) != 0
                   : acc == Access::kWrite ? (e & pte::W) != 0
                                           : ((e & pte::R) || ((mstatus & mstatus::MXR) && (e & pte::X)));
    if (!allowed) return {false, 0, fault_for(acc)};
    uint64_t ppn = (e >> 10) & ((1ull << 44) - 1);
    if (level > 0 && (ppn & ((1ull << (9 * level)) - 1))) return {false, 0, fault_for(acc)};
    // Hardware A/D update, atomically with respect to other harts.
    uint64_t want = e | pte::A | (acc == Access::kWrite ? pte::D : 0);
    if (update_ad && want != e) {
      if (pmp && !pmp->allows(pte_pa, 8, Access::kWrite, kSupervisor)) return {false, 0, access_fault_for(acc)};
      if (!ref.compare_exchange_strong(e, want, std::memory_order_acq_rel)) goto retry;
      ram.note_write(pte_pa, 8);
    }
    uint64_t off_mask = (1ull << (12 + 9 * level)) - 1;
    return {true, ((ppn << 12) & ~off_mask) | (va & off_mask), kLoadPageFault, level};
  }
  return {false, 0, fault_for(acc)};
}

std::optional<uint64_t> Hart::walk(uint64_t va, Access acc, unsigned ctx, bool update_ad) {
  WalkResult r = do_walk(ram_, nullptr, satp_, mstatus_, va, acc, priv_of_ctx(ctx), update_ad);
  if (!r.ok) return std::nullopt;
  return r.pa;
}

std::optional<uint64_t> Hart::translate_debug(uint64_t va, Access acc) {
  unsigned ctx = acc == Access::kExec ? static_cast<unsigned>(itlb_ - tlb_.get()) : dctx_;
  return walk(va, acc, ctx, false);
}

Hart::TlbEntry* Hart::tlb_entry(uint64_t va, Access acc) {
  Tlb* t = acc == Access::kExec ? itlb_ : dtlb_;
  TlbEntry* e = &t->e[static_cast<unsigned>(acc)][(va >> kPageShift) & (kTlbSize - 1)];
  if (!(e->tag & kTlbInvalid) && (e->tag & ~(kPageSize - 1)) == (va & ~(kPageSize - 1))) return e;
  return tlb_fill(va, acc);
}

Hart::TlbEntry* Hart::tlb_fill(uint64_t va, Access acc) {
  unsigned ctx = acc == Access::kExec ? static_cast<unsigned>(itlb_ - tlb_.get()) : dctx_;
  Priv eff = priv_of_ctx(ctx);
  WalkResult r = do_walk(ram_, &pmp_, satp_, mstatus_, va, acc, eff, true);
  if (!r.ok) {
    trap(r.cause, va);
    return nullptr;
  }
  uint64_t vpage = va & ~(kPageSize - 1), ppage = r.pa & ~(kPageSize - 1);
  // PMP, decided for the whole page when it can be (pmp.h): a page denied
  // throughout faults now, a split one is flagged for per-access checks,
  // an allowed one costs nothing more. Nothing to decide in M mode while
  // every entry is OFF.
  uint64_t pmp_flag = 0;
  if (RV_UNLIKELY(pmp_.enforced(eff))) {
    Pmp::Page d = pmp_.page(ppage, acc, eff);
    if (d == Pmp::Page::kDeny) {
      trap(access_fault_for(acc), va);
      return nullptr;
    }
    if (d == Pmp::Page::kSplit) pmp_flag = kTlbPmp;
  }
  if (r.level > 0) tlb_has_superpages_ = true;
  TlbEntry& e = tlb_[ctx].e[static_cast<unsigned>(acc)][(va >> kPageShift) & (kTlbSize - 1)];
  uint8_t* host = bus_.direct_page(ppage, acc == Access::kWrite);
  e.tag = vpage | (host ? 0 : kFlagMmio) | pmp_flag;
  if (host && acc == Access::kWrite && ram_.contains(ppage)) {
    if (ram_.is_code(ppage)) e.tag |= kFlagCode;
    ram_.mark_dirty(ppage);  // every store through this entry may write the page
  }
  if (RV_UNLIKELY(!watchpoints_.empty() || !event_ranges_.empty()) && watch_covers_page(vpage, acc))
    e.tag |= kFlagWatch;
  e.host_addend = host ? reinterpret_cast<intptr_t>(host) - static_cast<intptr_t>(vpage) : 0;
  e.phys_addend = ppage - vpage;
  return &e;
}

bool Hart::pmp_ok(uint64_t va, const TlbEntry* e, unsigned len, Access acc) {
  Priv p = acc == Access::kExec ? priv_ : priv_of_ctx(dctx_);
  if (pmp_.allows(va + e->phys_addend, len, acc, p)) return true;
  trap(access_fault_for(acc), va);
  return false;
}

template <class T>
bool Hart::load_slow(uint64_t va, T& out) {
  if (va & (sizeof(T) - 1)) {
    // Misaligned: assemble from bytes (each may fault on its own page).
    uint64_t v = 0;
    for (unsigned i = 0; i < sizeof(T); ++i) {
      uint8_t b;
      if (!load_slow<uint8_t>(va + i, b)) return false;
      v |= uint64_t{b} << (8 * i);
    }
    out = static_cast<T>(v);
    return true;
  }
  TlbEntry* e = tlb_entry(va, Access::kRead);
  if (!e) return false;
  if (RV_UNLIKELY(e->tag & kFlagWatch) && watch_slow(va, sizeof(T), kWatchRead, MemEvent::kRead, e, 0)) return false;
  if (RV_UNLIKELY(e->tag & kTlbPmp) && !pmp_ok(va, e, sizeof(T), Access::kRead)) return false;
  if (!(e->tag & kFlagMmio)) {
    out = host_load<T>(reinterpret_cast<const uint8_t*>(va + e->host_addend));
    return true;
  }
  uint64_t v;
  if (!bus_.load(va + e->phys_addend, sizeof(T), v)) {
    trap(kLoadAccessFault, va);
    return false;
  }
  end_block_here();  // a device access may change interrupt lines: take them at the next instruction
  out = static_cast<T>(v);
  return true;
}

template <class T>
bool Hart::store_slow(uint64_t va, T value) {
  if (va & (sizeof(T) - 1)) {
    // Misaligned: check every byte is writable first, then write them. A
    // store partly in memory and partly not (past the end of RAM) is an
    // access fault before any byte is written: a faulting store writes nothing.
    bool some_ram = false;
    uint64_t first_io = 0;
    bool some_io = false;
    for (unsigned i = 0; i < sizeof(T); ++i) {
      TlbEntry* e = tlb_entry(va + i, Access::kWrite);
      if (!e) return false;
      if (RV_UNLIKELY(e->tag & kFlagWatch) && watch_hit(va + i, 1, kWatchWrite)) return false;
      if (RV_UNLIKELY(e->tag & kTlbPmp) && !pmp_ok(va + i, e, 1, Access::kWrite)) return false;
      if (e->tag & kFlagMmio) {
        if (!some_io) first_io = va + i;
        some_io = true;
      } else {
        some_ram = true;
      }
    }
    if (some_ram && some_io) {
      trap(kStoreAccessFault, first_io);
      return false;
    }
    for (unsigned i = 0; i < sizeof(T); ++i)
      if (!store_slow<uint8_t>(va + i, static_cast<uint8_t>(uint64_t{value} >> (8 * i)))) return false;
    return true;
  }
  TlbEntry* e = tlb_entry(va, Access::kWrite);
  if (!e) return false;
  if (RV_UNLIKELY(e->tag & kFlagTrack)) {
    e->tag &= ~kFlagTrack;
    ram_.mark_dirty(va + e->phys_addend);
  }
  if (RV_UNLIKELY(e->tag & kFlagWatch) && watch_slow(va, sizeof(T), kWatchWrite, MemEvent::kWrite, e, value))
    return false;
  if (RV_UNLIKELY(e->tag & kTlbPmp) && !pmp_ok(va, e, sizeof(T), Access::kWrite)) return false;
  uint64_t pa = va + e->phys_addend;
  if (!(e->tag & kFlagMmio)) {
    host_store<T>(reinterpret_cast<uint8_t*>(va + e->host_addend), value);
    if (e->tag & kFlagCode) ram_.note_write(pa, sizeof(T));
    return true;
  }
  if (!bus_.store(pa, sizeof(T), uint64_t{value})) {
    trap(kStoreAccessFault, va);
    return false;
  }
  end_block_here();  // see load_slow
  if (RV_UNLIKELY(events_ != nullptr) &&
      events_->on_mmio_store(*this, pa, sizeof(T), uint64_t{value}, pc, current_icount(), !debug_suppress_)) {
    // Stop behind the store (an IPI sent): the handler retires it (store_failed).
    debug_hit_ = {DebugHit::kEvent, va, true, false};
    stop_after_ = true;
    return false;
  }
  return true;
}

template bool Hart::load_slow<uint8_t>(uint64_t, uint8_t&);
template bool Hart::load_slow<uint16_t>(uint64_t, uint16_t&);
template bool Hart::load_slow<uint32_t>(uint64_t, uint32_t&);
template bool Hart::load_slow<uint64_t>(uint64_t, uint64_t&);
template bool Hart::store_slow<uint8_t>(uint64_t, uint8_t);
template bool Hart::store_slow<uint16_t>(uint64_t, uint16_t);
template bool Hart::store_slow<uint32_t>(uint64_t, uint32_t);
template bool Hart::store_slow<uint64_t>(uint64_t, uint64_t);

uint8_t* Hart::amo_ptr(uint64_t va, unsigned size, bool sc) {
  if (RV_UNLIKELY(events_sync_)) note_sync();
  if (va & (size - 1)) {
    trap(kStoreMisaligned, va);
    return nullptr;
  }
  TlbEntry* e = tlb_entry(va, Access::kWrite);
  if (!e) return nullptr;
  if (RV_UNLIKELY(e->tag & kFlagTrack)) {
    e->tag &= ~kFlagTrack;
    ram_.mark_dirty(va + e->phys_addend);
  }
  // An AMO (or SC) reads and writes: any watchpoint on the bytes fires.
  if (RV_UNLIKELY(e->tag & kFlagWatch) &&
      watch_slow(va, size, kWatchAccess, sc ? MemEvent::kSc : MemEvent::kAmo, e, 0))
    return nullptr;
  // PMP: W is enough, as R=0 with W=1 cannot be programmed (pmp.h).
  if (RV_UNLIKELY(e->tag & kTlbPmp) && !pmp_ok(va, e, size, Access::kWrite)) return nullptr;
  if (e->tag & kFlagMmio) {
    trap(kStoreAccessFault, va);
    return nullptr;
  }
  if (e->tag & kFlagCode) ram_.note_write(va + e->phys_addend, size);
  return reinterpret_cast<uint8_t*>(va + e->host_addend);
}

// ---- debugger watchpoints ---------------------------------------------------------

bool Hart::watch_covers_page(uint64_t vpage, Access acc) const {
  // Write entries also serve AMOs, which read: any watchpoint marks them.
  uint8_t want = acc == Access::kWrite ? kWatchAccess : kWatchRead;
  for (const Watchpoint& w : watchpoints_)
    if ((w.mask & want) && w.addr < vpage + kPageSize && vpage < w.addr + w.len) return true;
  if (acc == Access::kExec) return false;
  for (const EventRange& r : event_ranges_)
    if (r.addr < vpage + kPageSize && vpage < r.addr + r.len) return true;
  return false;
}

bool Hart::watch_slow(uint64_t va, unsigned len, uint8_t mask, MemEvent::Kind kind, const TlbEntry* e,
                      uint64_t new_value) {
  if (!watchpoints_.empty() && watch_hit(va, len, mask)) return true;
  if (events_ == nullptr || (e->tag & kFlagMmio)) return false;  // events see RAM only
  bool in_range = false;
  for (const EventRange& r : event_ranges_)
    if (va < r.addr + r.len && r.addr < va + len) in_range = true;
  if (!in_range) return false;
  const uint8_t* host = reinterpret_cast<const uint8_t*>(va + e->host_addend);
  uint64_t old = 0;
  switch (len) {
    case 1: old = host_load<uint8_t>(host); break;
    case 2: old = host_load<uint16_t>(host); break;
    case 4: old = host_load<uint32_t>(host); break;
    default: old = host_load<uint64_t>(host); break;
  }
  MemEvent ev{kind, va, len, old, new_value, pc, current_icount()};
  if (!events_->on_mem(*this, ev, !debug_suppress_) || debug_suppress_) return false;
  debug_hit_ = {DebugHit::kEvent, va, kind != MemEvent::kRead, true};
  return true;
}

void Hart::set_events(EventHooks* hooks, std::vector<EventRange> ranges, bool sync) {
  bool flush = ranges != event_ranges_;
  events_ = hooks;
  event_ranges_ = std::move(ranges);
  events_sync_ = hooks != nullptr && sync;
  if (flush) flush_tlb();
}

bool Hart::watch_hit(uint64_t va, uint64_t len, uint8_t mask) {
  if (debug_suppress_) return false;
  for (const Watchpoint& w : watchpoints_) {
    if (!(w.mask & mask) || va >= w.addr + w.len || w.addr >= va + len) continue;
    debug_hit_.kind = DebugHit::kWatchpoint;
    debug_hit_.addr = va > w.addr ? va : w.addr;
    debug_hit_.write = (mask & kWatchWrite) != 0;
    return true;
  }
  return false;
}

bool Hart::has_watchpoint(uint64_t addr) const {
  for (const Watchpoint& w : watchpoints_)
    if (addr >= w.addr && addr - w.addr < w.len) return true;
  return false;
}

void Hart::set_watchpoints(std::vector<Watchpoint> w) {
  watchpoints_ = std::move(w);
  flush_tlb();
}

Flow Hart::do_sfence_vma(const Insn& in) {
  if (priv_ == kUser || (priv_ == kSupervisor && (mstatus_ & mstatus::TVM))) return illegal(in);
  if (in.rs1 != 0 && !tlb_has_superpages_) {
    uint64_t va = x[in.rs1];
    unsigned idx = (va >> kPageShift) & (kTlbSize - 1);
    for (unsigned c = kCtxU; c <= kCtxS; ++c)
      for (auto& kind : tlb_[c].e) kind[idx].tag = kTlbInvalid;
    ++jump_epoch_;
  } else {
    // A superpage is cached as many 4 KiB entries: drop them all.
    for (unsigned c = kCtxU; c <= kCtxS; ++c)
      for (auto& kind : tlb_[c].e)
        for (auto& e : kind) e.tag = kTlbInvalid;
    tlb_has_superpages_ = false;
    ++jump_epoch_;
  }
  pc += in.len;
  return kJump;
}

}  // namespace rv64
