// The thin parallel layer: runs every hart of a machine on its own host
// thread (COREMU's design), delivers interrupts between harts (atomic pending
// bits plus a wake-up for a hart sleeping in WFI), owns time, and gives a
// debugger control over each hart (pause, resume a subset, step, stop
// reports).
//
// src/rv64 has no threads; this is the only place that creates them for
// harts. Devices reach harts only through the HartLines interface below.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "coremu/clock.h"
#include "coremu/control.h"
#include "machine/device.h"
#include "machine/machine.h"

namespace coremu {

class Runner final : public machine::HartLines, public Control {
 public:
  // pool_threads == 0: one host thread per hart (COREMU's design). N > 0:
  // a pool of N host threads takes turns running the harts, a quantum at a
  // time, and harts asleep in WFI or stopped by a debugger cost nothing.
  explicit Runner(HostClock& clock, unsigned pool_threads = 0) : clock_(clock), pool_threads_(pool_threads) {}
  ~Runner() override;

  // Runs `m` until the guest shuts it down (or stop() is called); handles
  // guest-requested reboots. Returns the guest's exit status.
  int run(machine::Machine& m);
  // Asks every hart to stop (thread-safe, but it takes locks: not from a
  // signal handler, which should set a flag for a thread to act on).
  void stop() override;

  // machine::HartLines (thread-safe)
  void set_line(unsigned hart, rv64::Irq irq, bool level) override;
  void timer_changed(unsigned hart) override;

  // Instructions a hart runs between checks of its timer.
  static constexpr uint64_t kQuantum = 10'000;

  // ---- debugger control (thread-safe; call enable_debug before run) ----
  // All-stop: when one hart stops, every hart is asked to stop. If
  // `start_paused`, no hart runs until resume().
  void enable_debug(bool start_paused) override;
  bool debug_enabled() const override { return debug_; }
  // Stops every hart and waits until all are parked (bounded: a running
  // hart stops at its next block boundary, a sleeping one is woken).
  // Returns false if the machine is not running.
  bool pause_all() override;
  // True if every hart is parked (its state may be read and written).
  bool all_parked() override;
  // Gives each hart an action (actions.size() == harts) and lets them go.
  // `steps`: instructions for the kStep harts. If a resumed hart still has
  // a stop it has not reported (a breakpoint hit while another hart's stop
  // was being reported), nothing runs and that stop is reported at once.
  void resume(const std::vector<HartAction>& actions, uint64_t steps = 1) override;
  // Waits up to `timeout` for the next stop. In all-stop mode the caller
  // then calls pause_all() before looking at harts.
  std::optional<StopEvent> wait_stop(std::chrono::milliseconds timeout) override;
  HartRunState state(unsigned hart) const override;
  // Whether an event stop a hart has not reported yet still stands (its
  // event breakpoint was not deleted meanwhile); set by the Debugger.
  void set_event_check(std::function<bool(const StopEvent&)> f) override { event_check_ = std::move(f); }

 private:
  struct Slot {
    std::mutex mu;
    std::condition_variable cv;
    std::atomic<bool> stop_req{false};  // action != kContinue: come to control()
    std::atomic<uint8_t> state{0};      // HartRunState
    // Pool mode, under pool_mu_: where the hart is.
    enum class Where : uint8_t { kQueued, kRunning, kSleeping, kParked } where = Where::kQueued;
    bool requeue = false;  // under pool_mu_: resumed while its worker was parking it
    // Thread per hart, under mu: the WFI wait in progress (for
    // wake_early_sleepers): its timer deadline (mtime) and when, in the
    // clock's host ns, the hart planned to wake for it; waiting = false
    // when it waits for no deadline (or is not waiting).
    bool waiting = false;
    uint64_t deadline = 0;
    int64_t wake_host = 0;
  };
  struct Ctl {
    HartAction action = HartAction::kContinue;
    uint64_t steps = 0;
    bool parked = false;
    uint64_t reported_pc = ~0ull;   // pc of the breakpoint/watchpoint stop last reported
    std::optional<StopEvent> pending;  // a stop not reported yet
  };
  void hart_loop(unsigned i);
  void wake(unsigned i);
  // Pool mode.
  void pool_worker();
  // Runs one quantum of hart i (or its debugger action); returns where it
  // goes next: kQueued (run again), kSleeping (WFI) or kParked.
  Slot::Where pool_slice(unsigned i);
  // Under pool_mu_: queues sleeping harts whose interrupt is now pending.
  void pool_wake_due_locked(uint64_t now);
  void update_timer(unsigned i, uint64_t now);
  // Scaled clock: lets the clock re-base; if it raised the rate, wakes the
  // sleepers whose timer waits were computed at the lower rate and are now
  // too long. Call with no Slot::mu and no pool_mu_ held.
  void clock_update();
  void wake_early_sleepers();
  // Parks the hart while its action is kStop, then runs a requested step.
  void control(unsigned i);
  // Under ctl_mu_ (held by lk, released while the hart runs): the hart's
  // requested steps, then its stop event and kStop.
  void run_steps(unsigned i, std::unique_lock<std::mutex>& lk);
  // Under ctl_mu_ (released on return): steps a continuing hart off the
  // breakpoint/watchpoint it last reported, if it still sits there.
  void step_over_reported(unsigned i, std::unique_lock<std::mutex>& lk);
  void post_stop_locked(const StopEvent& ev);
  static StopEvent debug_stop(unsigned i, const rv64::Hart& h);  // the stop for Exit::kDebug
  void set_action_locked(unsigned i, HartAction a);

  HostClock& clock_;
  const unsigned pool_threads_;
  std::atomic<machine::Machine*> m_{nullptr};
  machine::Machine& mach() const { return *m_.load(std::memory_order_acquire); }
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::deque<unsigned> runq_;
  uint64_t next_due_ = 0;  // earliest timer deadline of a sleeping hart (a hint)
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<bool> stop_{false};
  std::atomic<int> exit_hart_{-1};  // the hart that shut the machine down, -1 if none

  bool debug_ = false;
  bool start_paused_ = false;
  mutable std::mutex ctl_mu_;
  std::condition_variable ctl_cv_;  // harts wait here while parked
  std::condition_variable ev_cv_;   // the debugger waits here
  std::vector<Ctl> ctl_;
  std::deque<StopEvent> events_;
  bool running_ = false;
  std::function<bool(const StopEvent&)> event_check_;
};

}  // namespace coremu
