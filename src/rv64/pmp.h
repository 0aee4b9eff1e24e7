// Physical memory protection (privileged spec 1.12, section 3.7): the
// sixteen pmpcfg/pmpaddr entries of one hart and the checks they imply.
//
// A hart does not ask Pmp about every access. It asks page() when it fills
// a TLB entry: a page that one entry (or none) governs entirely for the
// access kind and privilege is allowed or denied as a whole, and the TLB
// entry then costs nothing more; a page split by entries gets a slow-path
// flag and each access through it asks allows(). Every change to the
// entries the hart makes through write_cfg()/write_addr() must flush its
// TLBs (they return whether anything changed).
//
// Rules implemented (all of 3.7.1 for 16 entries, granularity 4 bytes):
// - Entries are OFF, TOR (pmpaddr[i-1] <= a < pmpaddr[i], 0 below entry 0),
//   NA4 or NAPOT; the lowest-numbered entry matching any byte of an access
//   decides it, and fails it unless it matches every byte.
// - A matching entry's R/W/X apply to S and U mode always, and to M mode
//   only when the entry is locked (L). No entry matching: M succeeds, S and
//   U fail (at least one entry is implemented). So S and U run only once
//   firmware has programmed an entry, as on hardware (QEMU 7.2 instead
//   makes an mret to S or U illegal while no entry is programmed; its
//   sret faults at the first fetch, as here).
// - A locked entry's pmpcfg byte and pmpaddr ignore writes, and so does
//   pmpaddr[i-1] when entry i is locked TOR; only reset unlocks.
// - pmpcfg: bits 5 and 6 read as zero, and W without R is stored without W
//   (R=0, W=1 is reserved). pmpaddr holds address bits 55:2 (54 bits).
#pragma once

#include <cstdint>

namespace rv64 {

enum Priv : uint8_t;
enum class Access : uint8_t;

class Pmp {
 public:
  static constexpr unsigned kEntries = 16;

  // Every entry OFF and unlocked, every address zero (the reset state).
  void reset();

  // ---- the CSRs ----
  // pmpcfg0 (n = 0) or pmpcfg2 (n = 1): eight entries' bytes each.
  uint64_t read_cfg(unsigned n) const { return cfg_[n & 1]; }
  // Writes pmpcfg0/2 with the lock and WARL rules. True if anything changed.
  bool write_cfg(unsigned n, uint64_t v);
  uint64_t read_addr(unsigned i) const { return addr_[i % kEntries]; }
  // Writes pmpaddr i unless the lock rules forbid it. True if it changed.
  bool write_addr(unsigned i, uint64_t v);

  // ---- checks (physical addresses; `p` is the effective privilege) ----
  // Whether any access of privilege p can be denied at all: false in M mode
  // while every entry is OFF (one test: the reset state, and -bios none
  // guests that never touch PMP). S and U: always (no match fails).
  bool enforced(Priv p) const;
  // The spec's decision for an access of len bytes (1 to 8) at pa.
  bool allows(uint64_t pa, unsigned len, Access acc, Priv p) const;
  // The decision for every access of kind acc within the 4 KiB page at
  // `page`: kAllow or kDeny if the same for every byte range in it, else
  // kSplit (then ask allows() per access).
  enum class Page : uint8_t { kAllow, kDeny, kSplit };
  Page page(uint64_t page, Access acc, Priv p) const;

  // The raw CSR words, for saving and restoring a hart's state.
  uint64_t (&cfg_words())[2] { return cfg_; }
  uint64_t (&addr_words())[kEntries] { return addr_; }

 private:
  uint8_t cfg(unsigned i) const { return static_cast<uint8_t>(cfg_[i / 8] >> (8 * (i % 8))); }
  // Entry i's byte range [lo, hi); false if it matches nothing (OFF, or an
  // empty TOR range).
  bool range(unsigned i, uint64_t& lo, uint64_t& hi) const;
  // Whether entry i's permissions grant acc to privilege p.
  bool grants(unsigned i, Access acc, Priv p) const;

  uint64_t cfg_[2] = {};
  uint64_t addr_[kEntries] = {};
};

}  // namespace rv64
