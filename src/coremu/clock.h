// Virtual time for the machine: mtime at the virt board's 10 MHz timebase.
#pragma once

#include <chrono>

#include "machine/device.h"
#include "machine/memmap.h"

namespace coremu {

// Parallel mode: mtime follows the host's monotonic clock from machine start.
class HostClock final : public machine::Clock {
 public:
  HostClock() : start_(std::chrono::steady_clock::now()) {}
  uint64_t now() override {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count();
    return static_cast<uint64_t>(ns) / (1'000'000'000 / machine::memmap::kTimebaseHz);
  }
  // Host time until mtime reaches `ticks` (zero if already past).
  std::chrono::nanoseconds until(uint64_t ticks) {
    uint64_t n = now();
    if (ticks <= n) return std::chrono::nanoseconds(0);
    uint64_t d = ticks - n;
    constexpr uint64_t kNsPerTick = 1'000'000'000 / machine::memmap::kTimebaseHz;
    if (d > 3'600'000'000'000ull / kNsPerTick) return std::chrono::hours(1);
    return std::chrono::nanoseconds(d * kNsPerTick);
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace coremu
