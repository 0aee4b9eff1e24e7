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
  void note_write(uint64_t pa, uint64_t len);

 private:
  uint64_t base_, size_;
  uint8_t* host_ = nullptr;
  std::unique_ptr<std::atomic<uint32_t>[]> gen_;
  std::unique_ptr<std::atomic<uint8_t>[]> code_;
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
