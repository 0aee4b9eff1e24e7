// SiFive CLINT / ACLINT (MSWI + MTIMER) with QEMU virt's layout:
// msip[h] at 4*h, mtimecmp[h] at 0x4000 + 8*h, mtime at 0xbff8.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "machine/device.h"

namespace machine {

class StateWriter;
class StateReader;

class Clint final : public Device {
 public:
  static constexpr uint64_t kMsipBase = 0x0, kMtimecmpBase = 0x4000, kMtimeOffset = 0xbff8;

  Clint(HartLines& lines, Clock& clock, unsigned num_harts);

  // A hart's timer compare value (thread-safe, lock-free).
  uint64_t mtimecmp(unsigned hart) const {
    return hart < num_harts_ ? mtimecmp_[hart].load(std::memory_order_acquire) : ~0ull;
  }
  // msip cleared and mtimecmp = UINT64_MAX for every hart; lines lowered.
  void reset();
  // Machine state (machine/state.h): the registers and internal state,
  // under the device's lock. load() does not drive interrupt lines: the
  // receivers' state (PLIC levels, hart lines) is restored with them.
  void save(StateWriter& w) const;
  void load(StateReader& r);

  bool read(uint64_t offset, unsigned size, uint64_t& value) override;
  bool write(uint64_t offset, unsigned size, uint64_t value) override;

 private:
  void set_mtimecmp(unsigned hart, uint64_t value);  // caller holds mu_

  mutable std::mutex mu_;
  HartLines& lines_;
  Clock& clock_;
  unsigned num_harts_;
  std::unique_ptr<std::atomic<uint64_t>[]> mtimecmp_;
  std::unique_ptr<uint8_t[]> msip_;
};

}  // namespace machine
