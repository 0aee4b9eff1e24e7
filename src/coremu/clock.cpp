#include "coremu/clock.h"

#include <algorithm>
#include <thread>

namespace coremu {

namespace {
// A re-base that lowers the rate starts the new segment this much (virtual
// ns) ahead of the old one: a reader that read the segment just before the
// re-base and the host clock just after it (the host clock read is no
// memory access, so the seqlock cannot order it exactly; the window is a
// few host instructions) computes with the old, faster rate, and must not
// see a later value than readers of the new segment.
constexpr int64_t kSlackNs = 1000;
constexpr int64_t kHourNs = 3'600'000'000'000;
}  // namespace

HostClock::HostClock(Mode mode, unsigned cpus, HostSource src)
    : mode_(mode),
      cpus_(cpus ? cpus : std::max(1u, std::thread::hardware_concurrency())),
      src_(src),
      start_(std::chrono::steady_clock::now()) {
  base_host_.store(host_ns(), std::memory_order_relaxed);
}

int64_t HostClock::host_ns() const {
  if (src_) return src_();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count();
}

HostClock::Seg HostClock::read(int64_t& host) const {
  for (unsigned spins = 0;; ++spins) {
    uint32_t s1 = seq_.load(std::memory_order_acquire);
    if (!(s1 & 1)) {
      host = host_ns();
      // Acquire loads (plain loads on x86): a value from a re-base that
      // began after s1 was read makes the check below see its odd count
      // (the writer's stores are releases after that count). No fences:
      // ThreadSanitizer understands this form.
      Seg g{base_host_.load(std::memory_order_acquire), base_virt_.load(std::memory_order_acquire),
            rate_.load(std::memory_order_acquire)};
      if (seq_.load(std::memory_order_relaxed) == s1) return g;
    }
    // A writer is in the middle of a re-base (a few instructions, unless
    // its thread was preempted there: then let it run).
    if (spins >= 64) std::this_thread::yield();
  }
}

int64_t HostClock::at(const Seg& s, int64_t host) {
  int64_t d = host - s.host;
  if (d <= 0) return s.virt;  // a host time read before the segment began: its start
  if (s.rate == kOne) return s.virt + d;
  return s.virt + static_cast<int64_t>((static_cast<unsigned __int128>(d) * s.rate) >> 32);
}

int64_t HostClock::virt_ns() const {
  int64_t host;
  Seg s = read(host);
  return at(s, host);
}

std::chrono::nanoseconds HostClock::until(uint64_t ticks) const {
  int64_t host;
  Seg s = read(host);
  int64_t v = at(s, host);
  if (ticks > static_cast<uint64_t>(INT64_MAX / kNsPerTick)) return std::chrono::hours(1);
  int64_t target = static_cast<int64_t>(ticks) * kNsPerTick;
  if (target <= v) return std::chrono::nanoseconds(0);
  uint64_t d = static_cast<uint64_t>(target - v);
  // Frozen: as host time (as the clock always did). Nothing should wait for
  // a deadline then (every hart is parked), and a waiter that wakes looks
  // again; thaw() is followed by a resume that wakes the harts anyway.
  if (s.rate == 0) s.rate = kOne;
  if (s.rate == kOne) return std::chrono::nanoseconds(std::min<uint64_t>(d, kHourNs));
  // Host ns for d virtual ns at this rate, rounded up (so that a waiter
  // that wakes on time finds mtime at the deadline).
  unsigned __int128 h = ((static_cast<unsigned __int128>(d) << 32) + s.rate - 1) / s.rate;
  return std::chrono::nanoseconds(h > static_cast<unsigned __int128>(kHourNs) ? kHourNs : static_cast<int64_t>(h));
}

uint64_t HostClock::target_rate() const {
  if (mode_ != Mode::kScaled) return kOne;
  int r = runnable_.load(std::memory_order_relaxed);
  if (r <= static_cast<int>(cpus_)) return kOne;
  return (static_cast<uint64_t>(cpus_) << 32) / static_cast<uint64_t>(r);
}

void HostClock::rebase_locked(uint64_t rate) {
  // The odd count before the stores below (they are releases) and, in
  // practice, before the host clock read (a locked instruction on x86 is a
  // full barrier).
  uint32_t s = seq_.fetch_add(1, std::memory_order_acq_rel);
  int64_t h = host_ns();
  Seg old{base_host_.load(std::memory_order_relaxed), base_virt_.load(std::memory_order_relaxed),
          rate_.load(std::memory_order_relaxed)};
  int64_t v = at(old, h);
  if (rate != 0 && rate < old.rate) v += kSlackNs;
  base_host_.store(std::max(h, old.host), std::memory_order_release);
  base_virt_.store(v, std::memory_order_release);
  rate_.store(rate, std::memory_order_release);
  seq_.store(s + 2, std::memory_order_release);
  last_rebase_ = h;
  next_rebase_.store(h + kMinRebaseNs, std::memory_order_relaxed);
}

void HostClock::freeze() {
  std::lock_guard<std::mutex> lk(mu_);
  if (frozen_) return;
  frozen_ = true;
  rebase_locked(0);
}

void HostClock::thaw() {
  std::lock_guard<std::mutex> lk(mu_);
  if (!frozen_) return;
  frozen_ = false;
  rebase_locked(target_rate());
}

void HostClock::set_runnable(unsigned n) {
  std::lock_guard<std::mutex> lk(mu_);
  runnable_.store(static_cast<int>(n), std::memory_order_relaxed);
  if (!frozen_ && target_rate() != rate_.load(std::memory_order_relaxed)) rebase_locked(target_rate());
}

namespace {
// Whether a re-base from `cur` to `want` is worth it: always to or from
// exactly 1 (host time), else when the rate moves by more than 1/16 (the
// runnable count jitters by a hart or two all the time).
bool worth(uint64_t cur, uint64_t want) {
  if (want == cur) return false;
  if (want == HostClock::kOne || cur == HostClock::kOne) return true;
  uint64_t diff = want > cur ? want - cur : cur - want;
  return diff > cur / 16;
}
}  // namespace

bool HostClock::update() {
  if (mode_ != Mode::kScaled) return false;
  int r = runnable_.load(std::memory_order_relaxed);
  // With no hart runnable nobody would re-base later, while every hart
  // sleeps on a wait computed at the old rate: re-base now.
  bool force = r <= 0;
  if (!force && host_ns() < next_rebase_.load(std::memory_order_relaxed)) return false;
  if (!worth(rate_.load(std::memory_order_relaxed), target_rate())) return false;
  std::unique_lock<std::mutex> lk(mu_, std::defer_lock);
  if (force)
    lk.lock();
  else if (!lk.try_lock())
    return false;  // another thread is re-basing
  if (frozen_) return false;
  uint64_t old = rate_.load(std::memory_order_relaxed), want = target_rate();
  if (!worth(old, want)) return false;
  if (runnable_.load(std::memory_order_relaxed) > 0 && host_ns() < last_rebase_ + kMinRebaseNs) return false;
  rebase_locked(want);
  return want > old;
}

}  // namespace coremu
