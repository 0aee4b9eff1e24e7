// Virtual time for the machine: mtime at the virt board's 10 MHz timebase.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>

#include "machine/device.h"
#include "machine/memmap.h"

namespace coremu {

// Parallel mode: mtime follows the host's monotonic clock from machine start,
// minus the time the machine spent stopped in a debugger (freeze/thaw), so
// that timers do not all fire at once when a debugger resumes the guest.
class HostClock final : public machine::Clock {
 public:
  HostClock() : start_(std::chrono::steady_clock::now()) {}
  uint64_t now() override {
    int64_t f = frozen_ns_.load(std::memory_order_acquire);
    int64_t ns = f >= 0 ? f : elapsed_ns() - paused_ns_.load(std::memory_order_acquire);
    return static_cast<uint64_t>(ns) / (1'000'000'000 / machine::memmap::kTimebaseHz);
  }
  // Stops mtime (idempotent) until thaw().
  void freeze() {
    std::lock_guard<std::mutex> lk(mu_);
    if (frozen_ns_.load() < 0) frozen_ns_.store(elapsed_ns() - paused_ns_.load());
  }
  void thaw() {
    std::lock_guard<std::mutex> lk(mu_);
    int64_t f = frozen_ns_.load();
    if (f < 0) return;
    paused_ns_.store(elapsed_ns() - f);
    frozen_ns_.store(-1);
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
  int64_t elapsed_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count();
  }
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::atomic<int64_t> frozen_ns_{-1};  // mtime in ns while frozen, else -1
  std::atomic<int64_t> paused_ns_{0};   // total time spent frozen
};

}  // namespace coremu
