// Host memory for generated code, never writable and executable at once.
//
// One block of shared memory mapped twice: a read-write view that
// only the translator writes through, and a read-execute view that only
// harts jump into. No page is ever mapped writable and executable in the
// same view, so a guest that could make coremu write arbitrary bytes still
// could not make it write host code it then runs (W^X). The two views are
// the same physical pages, so bytes written through one are seen by the
// other at once (x86-64 keeps instruction fetch coherent with stores).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace rv64::jit {

class CodeBuffer {
 public:
  // Maps `bytes` (rounded up to pages) twice. Throws std::runtime_error
  // with the reason if the host refuses (no memfd, no mapping).
  explicit CodeBuffer(size_t bytes);
  ~CodeBuffer();
  CodeBuffer(const CodeBuffer&) = delete;
  CodeBuffer& operator=(const CodeBuffer&) = delete;

  size_t size() const { return size_; }
  uint8_t* rw() const { return rw_; }
  const uint8_t* rx() const { return rx_; }
  // The executable address of a byte written at `w` (inside the RW view).
  const uint8_t* to_rx(const uint8_t* w) const { return rx_ + (w - rw_); }
  uint8_t* to_rw(const uint8_t* x) const { return rw_ + (x - rx_); }
  bool contains_rx(const void* p) const {
    auto* b = static_cast<const uint8_t*>(p);
    return b >= rx_ && b < rx_ + size_;
  }

 private:
  void release();
  size_t size_ = 0;
  uint8_t* rw_ = nullptr;
  uint8_t* rx_ = nullptr;
};

}  // namespace rv64::jit
