#include "machine/clint.h"

#include <vector>

#include "machine/state.h"

namespace machine {

Clint::Clint(HartLines& lines, Clock& clock, unsigned num_harts)
    : lines_(lines),
      clock_(clock),
      num_harts_(num_harts),
      mtimecmp_(std::make_unique<std::atomic<uint64_t>[]>(num_harts)),
      msip_(std::make_unique<uint8_t[]>(num_harts)) {
  for (unsigned h = 0; h < num_harts_; ++h) mtimecmp_[h].store(~0ull);
}

void Clint::reset() {
  std::lock_guard<std::mutex> lk(mu_);
  for (unsigned h = 0; h < num_harts_; ++h) {
    msip_[h] = 0;
    mtimecmp_[h].store(~0ull, std::memory_order_release);
    lines_.set_line(h, rv64::kMSI, false);
    lines_.set_line(h, rv64::kMTI, false);
  }
}

namespace {
constexpr uint32_t kClintTag = 0x544e4c43;  // "CLNT"
}

void Clint::save(StateWriter& w) const {
  std::lock_guard<std::mutex> lk(mu_);
  w.u32(kClintTag);
  w.u32(num_harts_);
  for (unsigned h = 0; h < num_harts_; ++h) {
    w.u64(mtimecmp_[h].load(std::memory_order_relaxed));
    w.u8(msip_[h]);
  }
}

void Clint::load(StateReader& r) {
  r.expect_u32(kClintTag, "CLINT state");
  if (r.u32() != num_harts_) StateReader::fail("CLINT state for another number of harts");
  std::vector<uint64_t> cmp(num_harts_);
  std::vector<uint8_t> msip(num_harts_);
  for (unsigned h = 0; h < num_harts_; ++h) {
    cmp[h] = r.u64();
    msip[h] = r.u8() & 1;
  }
  std::lock_guard<std::mutex> lk(mu_);
  for (unsigned h = 0; h < num_harts_; ++h) {
    mtimecmp_[h].store(cmp[h], std::memory_order_release);
    msip_[h] = msip[h];
  }
}

void Clint::set_mtimecmp(unsigned hart, uint64_t value) {
  mtimecmp_[hart].store(value, std::memory_order_release);
  lines_.set_line(hart, rv64::kMTI, clock_.now() >= value);
  lines_.timer_changed(hart);
}

bool Clint::read(uint64_t offset, unsigned size, uint64_t& value) {
  value = 0;
  if (offset >= kMtimeOffset) {
    if (size == 8 && offset == kMtimeOffset) {
      value = clock_.now();
    } else if (size == 4) {
      value = (clock_.now() >> (offset == kMtimeOffset ? 0 : 32)) & 0xffffffff;
    } else {
      return false;
    }
    return true;
  }
  std::lock_guard<std::mutex> lk(mu_);
  if (offset >= kMtimecmpBase) {
    uint64_t h = (offset - kMtimecmpBase) / 8;
    if (size != 4 && size != 8) return false;
    if (h < num_harts_) {
      uint64_t v = mtimecmp_[h].load(std::memory_order_relaxed);
      value = size == 8 ? v : (v >> ((offset & 4) * 8)) & 0xffffffff;
    }
    return true;
  }
  if (size != 4) return false;
  uint64_t h = offset / 4;
  if (h < num_harts_) value = msip_[h];
  return true;
}

bool Clint::write(uint64_t offset, unsigned size, uint64_t value) {
  if (offset >= kMtimeOffset) return size == 4 || size == 8;  // mtime is read-only here
  std::lock_guard<std::mutex> lk(mu_);
  if (offset >= kMtimecmpBase) {
    uint64_t h = (offset - kMtimecmpBase) / 8;
    if (size != 4 && size != 8) return false;
    if (h >= num_harts_) return true;
    uint64_t v = value;
    if (size == 4) {
      uint64_t old = mtimecmp_[h].load(std::memory_order_relaxed);
      v = (offset & 4) ? (old & 0xffffffffull) | (value << 32) : (old & ~0xffffffffull) | (value & 0xffffffff);
    }
    set_mtimecmp(static_cast<unsigned>(h), v);
    return true;
  }
  if (size != 4) return false;
  uint64_t h = offset / 4;
  if (h >= num_harts_) return true;
  msip_[h] = value & 1;
  lines_.set_line(static_cast<unsigned>(h), rv64::kMSI, value & 1);
  return true;
}

}  // namespace machine
