// Saving and restoring a hart's architectural state (machine::Checkpoints,
// record/replay digests). The format is fixed-size and little-endian; a
// version word at the front lets a later format refuse an older one.
#include <xxhash.h>

#include <stdexcept>
#include <string>

#include "rv64/hart.h"

namespace rv64 {

namespace {

constexpr uint32_t kMagic = 0x31545248;  // "HRT1"

class Out {
 public:
  explicit Out(std::vector<uint8_t>& v) : v_(v) {}
  void u8(uint8_t x) { v_.push_back(x); }
  void u32(uint32_t x) {
    for (int i = 0; i < 4; ++i) v_.push_back(static_cast<uint8_t>(x >> (8 * i)));
  }
  void u64(uint64_t x) {
    for (int i = 0; i < 8; ++i) v_.push_back(static_cast<uint8_t>(x >> (8 * i)));
  }

 private:
  std::vector<uint8_t>& v_;
};

class In {
 public:
  explicit In(const uint8_t* p) : p_(p) {}
  uint8_t u8() { return *p_++; }
  uint32_t u32() {
    uint32_t x = 0;
    for (int i = 0; i < 4; ++i) x |= uint32_t{*p_++} << (8 * i);
    return x;
  }
  uint64_t u64() {
    uint64_t x = 0;
    for (int i = 0; i < 8; ++i) x |= uint64_t{*p_++} << (8 * i);
    return x;
  }
  const uint8_t* pos() const { return p_; }

 private:
  const uint8_t* p_;
};

}  // namespace

// Every field in one place, in one order, for every direction: `io` is a
// Saver, a Loader or a Sizer. (A friend of Hart, for the private fields.)
struct HartState {
template <class IO>
static void fields(IO& io, Hart& h, uint32_t& magic, uint32_t& hartid, uint8_t& priv, uint64_t& mip_hw,
                   uint8_t& in_wfi) {
  io.w32(magic);
  io.w32(hartid);
  for (unsigned i = 0; i < 32; ++i) io.w64(h.x[i]);
  for (unsigned i = 0; i < 32; ++i) io.w64(h.f[i]);
  io.w64(h.pc);
  io.w8(priv);
  io.w64(h.icount_);
  io.w64(h.traps_);
  io.w64(h.mstatus_);
  io.w64(h.medeleg_);
  io.w64(h.mideleg_);
  io.w64(h.mie_);
  io.w64(h.mip_sw_);
  io.w64(h.mtvec_);
  io.w64(h.mscratch_);
  io.w64(h.mepc_);
  io.w64(h.mcause_);
  io.w64(h.mtval_);
  io.w64(h.stvec_);
  io.w64(h.sscratch_);
  io.w64(h.sepc_);
  io.w64(h.scause_);
  io.w64(h.stval_);
  io.w64(h.satp_);
  io.w64(h.mcounteren_);
  io.w64(h.scounteren_);
  io.w64(h.menvcfg_);
  io.w64(h.senvcfg_);
  io.w64(h.mcountinhibit_);
  io.w64(h.stimecmp_);
  io.w64(h.mseccfg_);
  io.s64(h.cycle_offset_);
  io.s64(h.instret_offset_);
  io.b(h.sstc_pending_);
  for (auto& v : h.pmp_.cfg_words()) io.w64(v);
  for (auto& v : h.pmp_.addr_words()) io.w64(v);
  io.w64(h.tselect_);
  io.w8(h.frm);
  io.w8(h.fflags);
  io.w64(h.resv_addr);
  io.w64(h.resv_value);
  io.uns(h.resv_size);
  io.w64(mip_hw);
  io.w32(h.requests_saved_);  // requests_ (an atomic): staged by save_state/load_state
  io.b(h.wfi_);
  io.b(h.pause_);
  io.uns(h.spin_count_);
  io.w8(in_wfi);
  io.b(h.code_flush_pending_);
}
};

namespace {

struct Saver {
  Out o;
  void w8(uint8_t v) { o.u8(v); }
  void w32(uint32_t v) { o.u32(v); }
  void w64(uint64_t v) { o.u64(v); }
  void s64(int64_t v) { o.u64(static_cast<uint64_t>(v)); }
  void b(bool v) { o.u8(v ? 1 : 0); }
  void uns(unsigned v) { o.u32(v); }
};

struct Loader {
  In in;
  void w8(uint8_t& v) { v = in.u8(); }
  void w32(uint32_t& v) { v = in.u32(); }
  void w64(uint64_t& v) { v = in.u64(); }
  void s64(int64_t& v) { v = static_cast<int64_t>(in.u64()); }
  void b(bool& v) { v = in.u8() != 0; }
  void uns(unsigned& v) { v = in.u32(); }
};

// Counts the bytes: the state has a fixed size.
struct Sizer {
  size_t n = 0;
  void w8(uint8_t) { n += 1; }
  void w32(uint32_t) { n += 4; }
  void w64(uint64_t) { n += 8; }
  void s64(int64_t) { n += 8; }
  void b(bool) { n += 1; }
  void uns(unsigned) { n += 4; }
};

}  // namespace

void Hart::save_state(std::vector<uint8_t>& out) const {
  uint32_t magic = kMagic, id = hartid_;
  uint8_t priv = priv_;
  uint64_t mip_hw = mip_hw_.load(std::memory_order_acquire);
  uint8_t in_wfi = in_wfi_.load(std::memory_order_relaxed) ? 1 : 0;
  const_cast<Hart&>(*this).requests_saved_ = requests_.load(std::memory_order_acquire);
  Saver s{Out(out)};
  // The Saver only reads the fields it is given.
  HartState::fields(s, const_cast<Hart&>(*this), magic, id, priv, mip_hw, in_wfi);
}

void Hart::load_state(const uint8_t*& p, const uint8_t* end) {
  Sizer sz;
  {
    uint32_t m = 0, id = 0;
    uint8_t pr = 0, w = 0;
    uint64_t mh = 0;
    HartState::fields(sz, *this, m, id, pr, mh, w);
  }
  if (p == nullptr || end < p || static_cast<size_t>(end - p) < sz.n)
    throw std::runtime_error("hart state: truncated");
  {
    In peek(p);
    uint32_t magic = peek.u32(), id = peek.u32();
    if (magic != kMagic) throw std::runtime_error("hart state: unknown format");
    if (id != hartid_)
      throw std::runtime_error("hart state: saved from hart " + std::to_string(id) + ", not hart " +
                               std::to_string(hartid_));
  }
  uint32_t magic = 0, id = 0;
  uint8_t priv = 0, in_wfi = 0;
  uint64_t mip_hw = 0;
  Loader l{In(p)};
  HartState::fields(l, *this, magic, id, priv, mip_hw, in_wfi);
  p = l.in.pos();

  x[32] = 0;
  priv_ = static_cast<Priv>(priv & 3);
  mip_hw_.store(mip_hw, std::memory_order_release);
  requests_.store(requests_saved_, std::memory_order_release);
  in_wfi_.store(in_wfi != 0, std::memory_order_relaxed);
  stop_after_ = false;
  cur_insns_ = nullptr;
  flush_tlb();
  flush_code_cache();
  update_contexts();
  // kAttnIrq: re-evaluate interrupts; kAttnReq: apply restored requests.
  attention_.fetch_or(requests_saved_ ? 1 | 4 : 1, std::memory_order_release);
}

uint64_t Hart::state_hash() const {
  std::vector<uint8_t> v;
  v.reserve(1024);
  save_state(v);
  return XXH3_64bits(v.data(), v.size());
}

}  // namespace rv64
