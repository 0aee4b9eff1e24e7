// Little-endian byte serialisation of machine state (Machine::save_state,
// the devices' save/load, machine::Checkpoints).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace machine {

class StateWriter {
 public:
  void u8(uint8_t v) { buf_.push_back(v); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void bytes(const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    buf_.insert(buf_.end(), b, b + n);
  }
  // A length (u64) followed by the bytes.
  void blob(const void* p, size_t n) {
    u64(n);
    bytes(p, n);
  }
  std::vector<uint8_t>& data() { return buf_; }
  const std::vector<uint8_t>& data() const { return buf_; }
  size_t size() const { return buf_.size(); }
  // For a state digest rather than a checkpoint: what the digest leaves
  // out (a drive's snapshot overlay: disk contents are not in the digest,
  // whether they went to the file or stayed in memory) is not written.
  bool for_digest = false;

 private:
  std::vector<uint8_t> buf_;
};

// Reads what a StateWriter wrote. Every read past the end throws
// std::runtime_error, so a truncated or foreign state cannot be half-read
// into memory that is not there.
class StateReader {
 public:
  // Reads `v` in place: it must outlive the reader (hence no temporaries).
  explicit StateReader(const std::vector<uint8_t>& v) : p_(v.data()), end_(v.data() + v.size()) {}
  explicit StateReader(std::vector<uint8_t>&&) = delete;
  StateReader(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) {}

  uint8_t u8() {
    need(1);
    return *p_++;
  }
  uint32_t u32() {
    need(4);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t{*p_++} << (8 * i);
    return v;
  }
  uint64_t u64() {
    need(8);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{*p_++} << (8 * i);
    return v;
  }
  bool boolean() { return u8() != 0; }
  void bytes(void* dst, size_t n) {
    need(n);
    if (n) std::memcpy(dst, p_, n);
    p_ += n;
  }
  // A length written by StateWriter::blob; throws if it exceeds `max`.
  std::vector<uint8_t> blob(size_t max) {
    uint64_t n = u64();
    if (n > max || n > remaining()) fail("implausible length");
    std::vector<uint8_t> v(static_cast<size_t>(n));
    bytes(v.data(), v.size());
    return v;
  }
  // Checks a tag written with u32 (a section marker).
  void expect_u32(uint32_t want, const char* what) {
    if (u32() != want) fail(std::string("expected ") + what);
  }

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  bool at_end() const { return p_ == end_; }
  // For formats parsed by others (rv64::Hart::load_state): the raw cursor.
  const uint8_t*& cursor() { return p_; }
  const uint8_t* end() const { return end_; }

  [[noreturn]] static void fail(const std::string& why) { throw std::runtime_error("machine state: " + why); }

 private:
  void need(size_t n) const {
    if (remaining() < n) fail("truncated");
  }
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace machine
