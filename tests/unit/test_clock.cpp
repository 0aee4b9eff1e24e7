// coremu::HostClock: host time, and scaled time for more harts than host cores.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "coremu/clock.h"

using coremu::HostClock;

namespace {

std::atomic<int64_t> g_host{0};  // the fake host clock of these tests, in ns
int64_t fake_host() { return g_host.load(); }

constexpr int64_t kMs = 1'000'000;

struct ClockTest : ::testing::Test {
  void SetUp() override { g_host = 0; }
  static void advance(int64_t ns) { g_host += ns; }
};

TEST_F(ClockTest, HostModeIsHostTime) {
  HostClock c(HostClock::Mode::kHost, 2, fake_host);
  c.set_runnable(255);
  EXPECT_EQ(c.rate(), HostClock::kOne);
  advance(5 * kMs);
  EXPECT_FALSE(c.update());
  EXPECT_EQ(c.now(), 50'000u);  // 5 ms at 10 MHz
  EXPECT_EQ(c.rate(), HostClock::kOne);
}

TEST_F(ClockTest, RateIsOneWhenNotOvercommitted) {
  HostClock c(HostClock::Mode::kScaled, 4, fake_host);
  c.set_runnable(4);
  EXPECT_EQ(c.rate(), HostClock::kOne);
  for (int i = 0; i < 100; ++i) {
    advance(kMs / 3);
    if (i % 2 == 0) c.hart_sleeps(); else c.hart_wakes();  // 3 or 4 runnable
    c.update();
    EXPECT_EQ(c.rate(), HostClock::kOne);
  }
  // Exactly host time (no re-base ever happened).
  EXPECT_EQ(c.virt_ns(), g_host.load());
  EXPECT_EQ(c.rebases(), 0u);
}

TEST_F(ClockTest, RateIsCoresOverRunnable) {
  HostClock c(HostClock::Mode::kScaled, 2, fake_host);
  c.set_runnable(8);  // re-bases at once
  EXPECT_EQ(c.rate(), HostClock::kOne / 4);
  int64_t v0 = c.virt_ns();
  advance(4 * kMs);
  EXPECT_EQ(c.virt_ns() - v0, 1 * kMs);
  // Six harts go to sleep: 2 runnable on 2 cores, host time again.
  for (int i = 0; i < 6; ++i) c.hart_sleeps();
  int64_t before = c.virt_ns();
  EXPECT_TRUE(c.update());  // raised
  EXPECT_EQ(c.virt_ns(), before);  // continuous: the new segment starts where the old one is
  // And back to 8 runnable: a re-base that lowers the rate starts at most
  // 1 us (the slack for racing readers) ahead.
  advance(2 * kMs);
  for (int i = 0; i < 6; ++i) c.hart_wakes();
  before = c.virt_ns();
  EXPECT_FALSE(c.update());
  EXPECT_EQ(c.rate(), HostClock::kOne / 4);
  EXPECT_GE(c.virt_ns(), before);
  EXPECT_LE(c.virt_ns(), before + 1000);
  advance(4 * kMs);
  EXPECT_GE(c.virt_ns() - before, 1 * kMs);
  EXPECT_LE(c.virt_ns() - before, 1 * kMs + 1000);
  for (int i = 0; i < 6; ++i) c.hart_sleeps();
  advance(kMs);
  EXPECT_TRUE(c.update());
  EXPECT_EQ(c.rate(), HostClock::kOne);
  int64_t v1 = c.virt_ns();
  advance(3 * kMs);
  EXPECT_EQ(c.virt_ns() - v1, 3 * kMs);
}

TEST_F(ClockTest, RebasesAtMostEveryMillisecond) {
  HostClock c(HostClock::Mode::kScaled, 2, fake_host);
  c.set_runnable(4);
  EXPECT_EQ(c.rate(), HostClock::kOne / 2);
  uint64_t n = c.rebases();
  c.hart_sleeps();  // 3 runnable: 2/3
  advance(kMs / 2);
  EXPECT_FALSE(c.update());
  EXPECT_EQ(c.rate(), HostClock::kOne / 2);
  EXPECT_EQ(c.rebases(), n);
  advance(kMs / 2);
  EXPECT_TRUE(c.update());
  EXPECT_EQ(c.rate(), (2ull << 32) / 3);
  EXPECT_EQ(c.rebases(), n + 1);
  // No hart runnable: at once (nobody would call update() later).
  c.hart_sleeps();
  c.hart_sleeps();
  c.hart_sleeps();
  EXPECT_TRUE(c.update());
  EXPECT_EQ(c.rate(), HostClock::kOne);
}

TEST_F(ClockTest, UntilConvertsDeadlinesAtTheRate) {
  HostClock c(HostClock::Mode::kScaled, 2, fake_host);
  c.set_runnable(8);  // rate 1/4
  uint64_t now = c.now();
  EXPECT_EQ(c.until(now).count(), 0);
  EXPECT_EQ(c.until(now ? now - 1 : 0).count(), 0);
  uint64_t deadline = now + 1000;  // 100 us of guest time: 400 us of host time
  auto w = c.until(deadline);
  EXPECT_GE(w.count(), 400'000 - 4 * HostClock::kNsPerTick);
  EXPECT_LE(w.count(), 400'000);
  advance(w.count() - 1);
  EXPECT_LT(c.now(), deadline);
  advance(1);
  EXPECT_GE(c.now(), deadline);  // a waiter that wakes on time finds the deadline reached
  EXPECT_EQ(c.until(deadline).count(), 0);
  // Far away: an hour at most.
  EXPECT_EQ(c.until(~0ull), std::chrono::hours(1));
  EXPECT_EQ(c.until(c.now() + 10'000'000'000ull), std::chrono::hours(1));
}

TEST_F(ClockTest, FreezeStopsTimeAndThawGoesOn) {
  HostClock c(HostClock::Mode::kScaled, 2, fake_host);
  c.set_runnable(2);
  advance(10 * kMs);
  c.freeze();
  uint64_t f = c.now();
  advance(100 * kMs);
  EXPECT_EQ(c.now(), f);
  EXPECT_EQ(c.until(f + 1).count(), HostClock::kNsPerTick);  // as host time: waiters look again when they wake
  c.hart_sleeps();
  EXPECT_FALSE(c.update());  // no re-base while frozen
  EXPECT_EQ(c.rate(), 0u);
  c.thaw();
  EXPECT_EQ(c.rate(), HostClock::kOne);
  EXPECT_EQ(c.now(), f);
  advance(kMs);
  EXPECT_EQ(c.now(), f + 10'000);
}

TEST_F(ClockTest, MonotonicAcrossRateChanges) {
  HostClock c(HostClock::Mode::kScaled, 2, fake_host);
  c.set_runnable(64);
  std::mt19937 rng(7);
  int runnable = 64;
  int64_t last = c.virt_ns();
  for (int i = 0; i < 20000; ++i) {
    advance(rng() % (kMs / 2));
    if (rng() % 2 && runnable > 0) {
      c.hart_sleeps();
      --runnable;
    } else if (runnable < 255) {
      c.hart_wakes();
      ++runnable;
    }
    c.update();
    int64_t v = c.virt_ns();
    ASSERT_GE(v, last) << "step " << i;
    last = v;
    uint64_t want = runnable <= 2 ? HostClock::kOne : (2ull << 32) / runnable;
    // The rate follows the runnable count within the 1/16 hysteresis (or
    // the 1 ms re-base interval, which the next steps catch up).
    if (c.rate() == want) continue;
    ASSERT_NE(c.rate(), 0u);
  }
  EXPECT_GT(c.rebases(), 100u);
  EXPECT_LT(c.virt_ns(), g_host.load());  // slower than host time on the whole
}

// Real host time, threads reading while others change the rate (TSan sees
// this one): every value read is at least every value read before it by
// any thread.
TEST(ClockThreads, MonotonicForEveryReader) {
  HostClock c(HostClock::Mode::kScaled, 1);
  c.set_runnable(16);
  std::atomic<int64_t> seen{0};
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> t;
  for (int r = 0; r < 3; ++r)
    t.emplace_back([&] {
      while (!done.load()) {
        int64_t before = seen.load(std::memory_order_acquire);
        int64_t v = c.virt_ns();
        if (v < before) bad.fetch_add(1);
        int64_t cur = seen.load(std::memory_order_relaxed);
        while (cur < v && !seen.compare_exchange_weak(cur, v, std::memory_order_release)) {
        }
        (void)c.until(static_cast<uint64_t>(v / HostClock::kNsPerTick) + 100);
      }
    });
  t.emplace_back([&] {
    for (int i = 0; i < 3000; ++i) {
      if (i % 3 == 2) c.hart_wakes(); else c.hart_sleeps();
      if (i % 64 == 0) c.set_runnable(16);
      c.update();
      if (i % 500 == 0) {
        c.freeze();
        c.thaw();
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    done = true;
  });
  for (auto& th : t) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(c.rebases(), 10u);
}

}  // namespace
