// Virtual time for the machine: mtime at the virt board's 10 MHz timebase.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

#include "machine/device.h"
#include "machine/memmap.h"

namespace coremu {

// Parallel mode: mtime follows the host's monotonic clock from machine
// start, minus the time the machine spent stopped in a debugger
// (freeze/thaw), so that timers do not all fire at once when a debugger
// resumes the guest.
//
// Scaled mode (the default, Mode::kScaled): while more harts want to run
// than the host has cores for, each of them gets only a share of a core,
// and a guest that sees host time finds its harts slow: at 255 harts on 2
// cores a hart runs about 1/128 of the time, so Linux's 100 Hz tick on
// every hart (and the work each tick starts) eats what the harts get.
// Scaled time runs at rate = min(1, cpus / runnable) of host time
// (runnable: harts not asleep in WFI), so that each running hart sees about
// one core's worth of progress per second of its time. With no more
// runnable harts than cores the rate is exactly 1 (host time).
//
// mtime is one piecewise-linear function of host time, the same for every
// hart and monotonic: a segment (base_host, base_virt, rate) read under a
// seqlock, re-based by update() at most every kMinRebaseNs when the rate
// should change. Mode::kHost never changes the rate (the clock of before).
class HostClock final : public machine::Clock {
 public:
  enum class Mode { kHost, kScaled };
  // Host time source in ns (monotonic); nullptr: std::chrono::steady_clock.
  using HostSource = int64_t (*)();
  // `cpus`: host cores the harts share (0: the host's). Fixed point: a rate
  // of 1 is kOne.
  static constexpr uint64_t kOne = 1ull << 32;
  static constexpr int64_t kMinRebaseNs = 1'000'000;  // at most one rate change per host ms
  static constexpr int64_t kNsPerTick = 1'000'000'000 / machine::memmap::kTimebaseHz;

  explicit HostClock(Mode mode = Mode::kHost, unsigned cpus = 0, HostSource src = nullptr);

  uint64_t now() override { return static_cast<uint64_t>(virt_ns()) / kNsPerTick; }
  // Virtual ns since the start (mtime * 100 but not rounded).
  int64_t virt_ns() const;
  // Stops mtime (idempotent) until thaw().
  void freeze();
  void thaw();
  // Host time until mtime reaches `ticks` (zero if already past), at the
  // current rate: a waiter must look again when it wakes (or is woken: see
  // update()), as the rate may have changed meanwhile. At most an hour.
  // While frozen: the wait at rate 1.
  std::chrono::nanoseconds until(uint64_t ticks) const;

  // ---- scaled mode: the runner says how many harts want to run ----
  Mode mode() const { return mode_; }
  unsigned cpus() const { return cpus_; }
  // Sets the number of harts that want to run (at machine start and reset:
  // every hart). Re-bases at once.
  void set_runnable(unsigned n);
  // A hart went to sleep (WFI) / woke up. Cheap (one atomic add); a hart
  // going to sleep should then call update(), which re-bases at once when
  // no hart is left to do it later.
  void hart_sleeps() { runnable_.fetch_sub(1, std::memory_order_relaxed); }
  void hart_wakes() { runnable_.fetch_add(1, std::memory_order_relaxed); }
  // Re-bases if the rate should change and the last re-base is at least
  // kMinRebaseNs old (or no hart is runnable: nobody would call later).
  // Returns true if it raised the rate: waits computed before may now be
  // too long, and the caller should wake the waiters (they look again).
  // Called by running harts about once per quantum; cheap when nothing
  // changes (a host clock read and three loads).
  bool update();
  // The current rate (kOne = host time; 0 while frozen).
  uint64_t rate() const { return rate_.load(std::memory_order_relaxed); }
  // The rate the runnable count asks for.
  uint64_t target_rate() const;
  // Re-bases so far (for tests and statistics).
  uint64_t rebases() const { return seq_.load(std::memory_order_relaxed) / 2; }
  int64_t host_ns() const;

 private:
  struct Seg {
    int64_t host, virt;
    uint64_t rate;
  };
  Seg read(int64_t& host) const;  // the current segment, and the host time read inside it
  static int64_t at(const Seg& s, int64_t host);
  void rebase_locked(uint64_t rate);  // under mu_

  const Mode mode_;
  const unsigned cpus_;
  const HostSource src_;
  const std::chrono::steady_clock::time_point start_;
  // The segment, under a seqlock: odd seq_ while mu_'s holder rewrites it.
  std::atomic<uint32_t> seq_{0};
  std::atomic<int64_t> base_host_{0}, base_virt_{0};
  std::atomic<uint64_t> rate_{kOne};
  std::atomic<int> runnable_{0};
  std::mutex mu_;         // writers (update, freeze, thaw, set_runnable)
  bool frozen_ = false;   // under mu_
  int64_t last_rebase_ = 0;  // under mu_
  std::atomic<int64_t> next_rebase_{0};  // host ns before which update() does nothing (a hint)
};

}  // namespace coremu
