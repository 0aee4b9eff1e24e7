// The seam between a hart and the machine around it.
//
// A hart owns no memory and no devices. Guest RAM is one host mapping that
// the hart reads and writes directly (through its software TLB); everything
// else goes through the virtual Bus calls, which are the slow path.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace rv64 {

inline constexpr unsigned kPageShift = 12;
inline constexpr uint64_t kPageSize = 1ull << kPageShift;

// Guest RAM: [base, base + size) backed by host memory at `host`.
// Per 4 KiB page it keeps a "holds decoded code" flag and a generation that
// is bumped whenever a write reaches a code page through the slow path (or a
// device's DMA), so harts can notice stale decoded blocks lazily.
//
// Dirty tracking (machine::Checkpoints): while enabled, a per-page bitmap
// records every page that may have been written. Nothing on a hart's fast
// path touches it: a page is marked when a hart fills a write TLB entry for
// it (or a store finds a write entry re-armed after a checkpoint, see
// Hart::rearm_dirty_tracking) and by note_write(), which every other writer
// calls (device DMA, loaders, debuggers, page-walk A/D updates).
class Ram {
 public:
  Ram(uint64_t base, uint64_t size);
  ~Ram();
  Ram(const Ram&) = delete;
  Ram& operator=(const Ram&) = delete;

  uint64_t base() const { return base_; }
  uint64_t size() const { return size_; }
  uint8_t* host() const { return host_; }
  bool contains(uint64_t pa, uint64_t len = 1) const {
    return pa >= base_ && pa - base_ < size_ && len <= size_ - (pa - base_);
  }
  uint8_t* ptr(uint64_t pa) const { return host_ + (pa - base_); }

  uint64_t page_index(uint64_t pa) const { return (pa - base_) >> kPageShift; }
  std::atomic<uint32_t>& generation(uint64_t pa) { return gen_[page_index(pa)]; }
  bool is_code(uint64_t pa) const { return code_[page_index(pa)].load(std::memory_order_relaxed) != 0; }
  // Marks the page as holding decoded code; returns true if it was not yet.
  bool mark_code(uint64_t pa) { return code_[page_index(pa)].exchange(1, std::memory_order_relaxed) == 0; }
  // Call after anything other than a hart's fast path wrote [pa, pa+len):
  // bumps the generation of each code page in the range.
  // Also marks the pages dirty while tracking is on.
  void note_write(uint64_t pa, uint64_t len);

  // ---- dirty tracking ----
  uint64_t num_pages() const { return (size_ + kPageSize - 1) >> kPageShift; }
  // Turns tracking on or off; either way the bitmap is cleared.
  void set_dirty_tracking(bool on);
  bool dirty_tracking() const { return tracking_.load(std::memory_order_relaxed); }
  // Marks the page holding `pa` (inside RAM) as written, if tracking.
  void mark_dirty(uint64_t pa) {
    if (!tracking_.load(std::memory_order_relaxed)) return;
    uint64_t i = page_index(pa);
    std::atomic<uint64_t>& w = dirty_[i >> 6];
    uint64_t bit = 1ull << (i & 63);
    if (!(w.load(std::memory_order_relaxed) & bit)) w.fetch_or(bit, std::memory_order_relaxed);
  }
  bool is_dirty(uint64_t page_idx) const {
    return (dirty_[page_idx >> 6].load(std::memory_order_relaxed) >> (page_idx & 63)) & 1;
  }
  // Calls f(page_index) for every dirty page, in increasing order, and
  // clears the bitmap. Only while no hart is running.
  template <class F>
  void take_dirty(F&& f) {
    for (uint64_t w = 0; w < dirty_words(); ++w) {
      uint64_t bits = dirty_[w].exchange(0, std::memory_order_relaxed);
      while (bits) {
        f(w * 64 + static_cast<uint64_t>(__builtin_ctzll(bits)));
        bits &= bits - 1;
      }
    }
  }
  // Number of dirty pages (for tests and statistics).
  uint64_t dirty_count() const;

 private:
  uint64_t dirty_words() const { return (num_pages() + 63) / 64; }

  uint64_t base_, size_;
  uint8_t* host_ = nullptr;
  std::unique_ptr<std::atomic<uint32_t>[]> gen_;
  std::unique_ptr<std::atomic<uint8_t>[]> code_;
  std::unique_ptr<std::atomic<uint64_t>[]> dirty_;
  std::atomic<bool> tracking_{false};
};

// What a hart needs from the machine. Implemented by machine::Machine.
class Bus {
 public:
  virtual ~Bus() = default;

  // Guest RAM, accessed directly on the fast path.
  virtual Ram& ram() = 0;

  // Host pointer to a directly accessible page (RAM or ROM) holding `pa`, for
  // filling a TLB entry, or nullptr if that page must go through load/store
  // (MMIO, or a RAM page with a device overlay such as HTIF's tohost).
  // `write` asks for a writable page (ROM is not).
  virtual uint8_t* direct_page(uint64_t pa, bool write) = 0;

  // Slow-path physical accesses (size 1, 2, 4 or 8; naturally aligned).
  // Return false for an access fault (nothing mapped there).
  virtual bool load(uint64_t pa, unsigned size, uint64_t& value) = 0;
  virtual bool store(uint64_t pa, unsigned size, uint64_t value) = 0;

  // The machine timer (mtime), in timebase ticks.
  virtual uint64_t mtime() = 0;
};

}  // namespace rv64
