// SiFive PLIC as on QEMU's virt board: 95 level-triggered sources (1..95),
// priorities 0..7, two contexts per hart (2h: M-mode -> MEI, 2h+1: S-mode
// -> SEI).
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "machine/device.h"
#include "machine/memmap.h"

namespace machine {

class StateWriter;
class StateReader;

class Plic final : public Device, public IrqSource {
 public:
  static constexpr unsigned kSources = memmap::kPlicSources;  // ids 0..95, 0 = none
  static constexpr unsigned kWords = (kSources + 31) / 32;
  static constexpr uint64_t kPendingBase = 0x1000, kEnableBase = 0x2000, kEnableStride = 0x80;
  static constexpr uint64_t kContextBase = 0x200000, kContextStride = 0x1000;

  Plic(HartLines& lines, unsigned num_harts);

  // Size of the register window for `num_harts` harts (at least QEMU's
  // 0x600000, larger when more than 512 harts need contexts).
  static uint64_t window_size(unsigned num_harts);

  // IrqSource: level of a source's input line (thread-safe).
  void set_irq(unsigned source, bool level) override;
  // Clears all registers and drives every context's line low.
  void reset();
  // Machine state (machine/state.h): the registers and internal state,
  // under the device's lock. load() does not drive interrupt lines: the
  // receivers' state (PLIC levels, hart lines) is restored with them.
  void save(StateWriter& w) const;
  void load(StateReader& r);

  bool read(uint64_t offset, unsigned size, uint64_t& value) override;
  bool write(uint64_t offset, unsigned size, uint64_t value) override;

 private:
  unsigned contexts() const { return static_cast<unsigned>(threshold_.size()); }
  // Best claimable source for a context (0 if none). Caller holds mu_.
  unsigned best(unsigned ctx) const;
  // Recomputes every context's output and drives the lines that changed.
  void update();
  void drive(unsigned ctx, bool level);

  mutable std::mutex mu_;
  HartLines& lines_;
  uint8_t priority_[kSources] = {};
  uint32_t level_[kWords] = {};       // input line levels
  uint32_t pending_[kWords] = {};     // gateway pending bits
  uint32_t in_service_[kWords] = {};  // claimed, not yet completed
  std::vector<uint32_t> enable_;      // kWords per context
  std::vector<uint8_t> threshold_;
  std::vector<uint8_t> output_;       // line level last driven per context
};

}  // namespace machine
