#include <sys/mman.h>

#include <new>
#include <stdexcept>

#include "rv64/bus.h"

namespace rv64 {

Ram::Ram(uint64_t base, uint64_t size) : base_(base), size_(size) {
  // One host mapping for all of guest RAM; pages are committed lazily by the
  // host kernel, so a large -m costs nothing until the guest touches it.
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  host_ = static_cast<uint8_t*>(p);
  uint64_t pages = (size + kPageSize - 1) >> kPageShift;
  gen_ = std::make_unique<std::atomic<uint32_t>[]>(pages);
  code_ = std::make_unique<std::atomic<uint8_t>[]>(pages);
  dirty_ = std::make_unique<std::atomic<uint64_t>[]>(dirty_words());
}

Ram::~Ram() { munmap(host_, size_); }

void Ram::note_write(uint64_t pa, uint64_t len) {
  if (len == 0 || !contains(pa)) return;
  uint64_t end = pa + len - 1;
  if (!contains(end)) end = base_ + size_ - 1;
  bool track = tracking_.load(std::memory_order_relaxed);
  for (uint64_t p = page_index(pa); p <= page_index(end); ++p) {
    if (code_[p].load(std::memory_order_relaxed)) gen_[p].fetch_add(1, std::memory_order_release);
    if (track) mark_dirty(base_ + (p << kPageShift));
  }
}

void Ram::set_dirty_tracking(bool on) {
  for (uint64_t w = 0; w < dirty_words(); ++w) dirty_[w].store(0, std::memory_order_relaxed);
  tracking_.store(on, std::memory_order_relaxed);
}

uint64_t Ram::dirty_count() const {
  uint64_t n = 0;
  for (uint64_t w = 0; w < dirty_words(); ++w) n += static_cast<uint64_t>(__builtin_popcountll(dirty_[w].load(std::memory_order_relaxed)));
  return n;
}

}  // namespace rv64
