// Physical memory protection: see pmp.h.
#include "rv64/pmp.h"

#include <bit>

#include "rv64/hart.h"

namespace rv64 {

namespace {
constexpr uint8_t kR = 1, kW = 2, kX = 4, kL = 0x80;
constexpr unsigned kOff = 0, kTor = 1, kNa4 = 2, kNapot = 3;
unsigned mode_of(uint8_t cfg) { return (cfg >> 3) & 3; }
constexpr uint64_t kAddrMask = (1ull << 54) - 1;       // pmpaddr: address bits 55:2
constexpr uint64_t kModeBits = 0x1818181818181818ull;  // A of every byte of a pmpcfg word
}  // namespace

void Pmp::reset() {
  cfg_[0] = cfg_[1] = 0;
  for (uint64_t& a : addr_) a = 0;
}

bool Pmp::write_cfg(unsigned n, uint64_t v) {
  uint64_t& word = cfg_[n & 1];
  uint64_t nv = word;
  for (unsigned b = 0; b < 8; ++b) {
    uint64_t oldb = (word >> (8 * b)) & 0xff, newb = (v >> (8 * b)) & 0x9f;  // bits 5, 6: zero
    if ((newb & (kR | kW)) == kW) newb &= ~uint64_t{kW};  // R=0, W=1 is reserved
    if (!(oldb & kL)) nv = (nv & ~(0xffull << (8 * b))) | (newb << (8 * b));
  }
  bool changed = nv != word;
  word = nv;
  return changed;
}

bool Pmp::write_addr(unsigned i, uint64_t v) {
  if (i >= kEntries || (cfg(i) & kL)) return false;
  if (i + 1 < kEntries && (cfg(i + 1) & kL) && mode_of(cfg(i + 1)) == kTor) return false;
  v &= kAddrMask;
  bool changed = v != addr_[i];
  addr_[i] = v;
  return changed;
}

// In M mode an unlocked entry still fails an access it matches only in
// part, so any entry that is not OFF can deny something.
bool Pmp::enforced(Priv p) const { return p != kMachine || ((cfg_[0] | cfg_[1]) & kModeBits) != 0; }

bool Pmp::range(unsigned i, uint64_t& lo, uint64_t& hi) const {
  switch (mode_of(cfg(i))) {
    case kTor:
      lo = i == 0 ? 0 : addr_[i - 1] << 2;
      hi = addr_[i] << 2;
      return lo < hi;
    case kNa4:
      lo = addr_[i] << 2;
      hi = lo + 4;
      return true;
    case kNapot: {
      // pmpaddr = base bits, a zero, then t ones: a region of 2^(t+3) bytes.
      unsigned t = static_cast<unsigned>(std::countr_one(addr_[i]));  // at most 54
      uint64_t size = 1ull << (t + 3);
      lo = (addr_[i] << 2) & ~(size - 1);
      hi = lo + size;
      return true;
    }
    default:
      return false;
  }
}

bool Pmp::grants(unsigned i, Access acc, Priv p) const {
  uint8_t c = cfg(i);
  if (p == kMachine && !(c & kL)) return true;
  uint8_t need = acc == Access::kExec ? kX : acc == Access::kWrite ? kW : kR;
  return (c & need) != 0;
}

bool Pmp::allows(uint64_t pa, unsigned len, Access acc, Priv p) const {
  uint64_t end = pa + len;
  for (unsigned i = 0; i < kEntries; ++i) {
    uint64_t lo, hi;
    if (!range(i, lo, hi) || pa >= hi || end <= lo) continue;  // matches no byte
    if (pa < lo || end > hi) return false;                     // matches only some bytes
    return grants(i, acc, p);
  }
  return p == kMachine;
}

Pmp::Page Pmp::page(uint64_t page, Access acc, Priv p) const {
  uint64_t end = page + kPageSize;
  // M-mode fetches are checked per 16-bit parcel (Hart::fetch_slow), and a
  // parcel never straddles a 4-byte granule, so it is never matched only
  // in part: an unlocked entry allows every parcel it matches, and only
  // locked entries can split or deny an M-mode code page.
  bool m_fetch = p == kMachine && acc == Access::kExec;
  bool some_allowed = false;  // (m_fetch) bytes an earlier unlocked entry allows
  for (unsigned i = 0; i < kEntries; ++i) {
    uint64_t lo, hi;
    if (!range(i, lo, hi) || page >= hi || end <= lo) continue;
    bool whole = page >= lo && end <= hi;
    if (m_fetch && !(cfg(i) & kL)) {
      if (whole) return Page::kAllow;
      some_allowed = true;
      continue;
    }
    // Entry i is the first to match any byte of the page (that is still
    // undecided): it decides the whole page only if it covers all of it.
    if (!whole) return Page::kSplit;
    if (grants(i, acc, p)) return Page::kAllow;
    return some_allowed ? Page::kSplit : Page::kDeny;
  }
  return p == kMachine ? Page::kAllow : Page::kDeny;
}

}  // namespace rv64
