// Devices on the virt board.
#pragma once

#include <cstdint>
#include <string_view>

#include "rv64/hart.h"

namespace machine {

// A memory-mapped device. Each device serialises its own state with its own
// lock: read/write may be called concurrently from any hart's thread.
class Device {
 public:
  virtual ~Device() = default;
  // `offset` is relative to the device's base; size is 1, 2, 4 or 8 and the
  // access is naturally aligned. Return false for an access fault.
  virtual bool read(uint64_t offset, unsigned size, uint64_t& value) = 0;
  virtual bool write(uint64_t offset, unsigned size, uint64_t value) = 0;
};

// How interrupt controllers (PLIC, CLINT) reach harts. Implemented by the
// parallel layer (src/coremu), which also wakes a hart sleeping in WFI.
// Devices never touch harts directly: they raise PLIC sources, and the
// PLIC/CLINT drive hart lines through this interface.
class HartLines {
 public:
  virtual ~HartLines() = default;
  virtual void set_line(unsigned hart, rv64::Irq irq, bool level) = 0;
  // The hart's timer deadline changed (mtimecmp written): re-arm sleepers.
  virtual void timer_changed(unsigned hart) = 0;
  // Something was posted to the hart (rv64::Hart::post_request): a hart
  // asleep in WFI re-checks wfi_wakeup_pending(). The default does what a
  // timer change does, which re-evaluates a sleeper in both schedulers.
  virtual void kick(unsigned hart) { timer_changed(hart); }
};

// The source of mtime (10 MHz timebase on virt). Owned by the parallel layer.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t now() = 0;
};

// A level-triggered interrupt source on the PLIC (sources 1..95).
class IrqSource {
 public:
  virtual ~IrqSource() = default;
  virtual void set_irq(unsigned source, bool level) = 0;
};

}  // namespace machine
