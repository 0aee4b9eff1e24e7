#include "coremu/runner.h"

#include <algorithm>

namespace coremu {

namespace {
// The hart this host thread is running now (-1: none), for the exit report.
thread_local int tl_hart = -1;
}  // namespace

Runner::~Runner() = default;  // run() joins every thread before it returns

void Runner::wake(unsigned i) {
  if (i >= slots_.size()) return;
  Slot& s = *slots_[i];
  if (pool_threads_) {
    // Queue a sleeping hart if it has a reason to run (the interrupt may
    // be masked, or the line lowered again).
    std::lock_guard<std::mutex> lk(pool_mu_);
    if (s.where == Slot::Where::kSleeping &&
        (mach().hart(i).wfi_wakeup_pending() || s.stop_req.load(std::memory_order_acquire))) {
      s.where = Slot::Where::kQueued;
      clock_.hart_wakes();
      runq_.push_back(i);
      pool_cv_.notify_one();
    }
    return;
  }
  { std::lock_guard<std::mutex> lk(s.mu); }
  s.cv.notify_one();
}

void Runner::update_timer(unsigned i, uint64_t now) {
  rv64::Hart& h = mach().hart(i);
  h.set_irq_line(rv64::kMTI, now >= mach().mtimecmp(i));
  h.update_sstc(now);
}

void Runner::clock_update() {
  if (clock_.update()) wake_early_sleepers();
}

void Runner::wake_early_sleepers() {
  if (pool_threads_) {
    // The workers' waits are computed under pool_mu_: after this lock
    // they either wait (and get the notification) or see the new rate.
    std::lock_guard<std::mutex> lk(pool_mu_);
    pool_cv_.notify_all();
    return;
  }
  // Each sleeper computes its wait under its Slot::mu: after taking it here
  // it either waits already (and is checked) or will see the new rate.
  int64_t now = clock_.host_ns();
  for (auto& sp : slots_) {
    Slot& s = *sp;
    std::unique_lock<std::mutex> lk(s.mu);
    if (!s.waiting) continue;
    int64_t planned = s.wake_host - now;
    int64_t need = clock_.until(s.deadline).count();
    // Wake it if it would sleep notably too long (it computes a new wait).
    if (need < planned - planned / 8 - 20'000) {
      lk.unlock();
      s.cv.notify_one();
    }
  }
}

void Runner::set_line(unsigned hart, rv64::Irq irq, bool level) {
  machine::Machine* m = m_.load(std::memory_order_acquire);
  if (!m || hart >= m->num_harts()) return;
  m->hart(hart).set_irq_line(irq, level);
  if (level) wake(hart);
}

void Runner::timer_changed(unsigned hart) {
  if (pool_threads_) {
    // The deadline may now be earlier than the one the pool waits for.
    std::lock_guard<std::mutex> lk(pool_mu_);
    next_due_ = 0;
    pool_cv_.notify_one();
    return;
  }
  wake(hart);
}

void Runner::stop() {
  stop_.store(true);
  {
    std::lock_guard<std::mutex> lk(ctl_mu_);
    ctl_cv_.notify_all();
  }
  {
    std::lock_guard<std::mutex> lk(pool_mu_);
    pool_cv_.notify_all();
  }
  // Under ctl_mu_: run() sets up slots_ and m_ under it too (stop() may
  // come from another thread, e.g. the REPL's, while run() starts or ends).
  std::lock_guard<std::mutex> lk(ctl_mu_);
  machine::Machine* m = m_.load(std::memory_order_acquire);
  if (!m) return;
  for (unsigned i = 0; i < m->num_harts() && i < slots_.size(); ++i) {
    m->hart(i).request_attention();
    wake(i);
  }
}

// ---- debugger control ------------------------------------------------------------

void Runner::enable_debug(bool start_paused) {
  std::lock_guard<std::mutex> lk(ctl_mu_);
  debug_ = true;
  start_paused_ = start_paused;
  if (start_paused) clock_.freeze();
}

void Runner::set_action_locked(unsigned i, HartAction a) {
  ctl_[i].action = a;
  slots_[i]->stop_req.store(a != HartAction::kContinue, std::memory_order_release);
  if (a != HartAction::kContinue) {
    mach().hart(i).request_attention();
    wake(i);
  }
}

StopEvent Runner::debug_stop(unsigned i, const rv64::Hart& h) {
  const rv64::DebugHit& d = h.debug_hit();
  StopReason r = d.kind == rv64::DebugHit::kBreakpoint   ? StopReason::kBreakpoint
                 : d.kind == rv64::DebugHit::kWatchpoint ? StopReason::kWatchpoint
                                                         : StopReason::kEvent;
  StopEvent ev{i, r, h.pc, h.icount(), d.addr, d.write};
  ev.before = d.before;
  return ev;
}

// A stop that leaves the hart on the instruction it stopped before: continuing steps over it.
static bool stops_before(const StopEvent& ev) {
  return ev.reason == StopReason::kBreakpoint || ev.reason == StopReason::kWatchpoint ||
         (ev.reason == StopReason::kEvent && ev.before);
}

void Runner::post_stop_locked(const StopEvent& ev) {
  events_.push_back(ev);
  // All-stop: every other running hart stops too.
  for (unsigned j = 0; j < ctl_.size(); ++j)
    if (ctl_[j].action == HartAction::kContinue) set_action_locked(j, HartAction::kStop);
  ev_cv_.notify_all();
}

void Runner::run_steps(unsigned i, std::unique_lock<std::mutex>& lk) {
  rv64::Hart& h = mach().hart(i);
  uint64_t n = ctl_[i].steps;
  ctl_[i].reported_pc = ~0ull;
  lk.unlock();
  for (uint64_t k = 0; k < n && !stop_.load(std::memory_order_relaxed); ++k) h.step();
  lk.lock();
  StopEvent ev{i, StopReason::kStep, h.pc, h.icount()};
  set_action_locked(i, HartAction::kStop);
  post_stop_locked(ev);
}

void Runner::step_over_reported(unsigned i, std::unique_lock<std::mutex>& lk) {
  // Continuing from the breakpoint or watchpoint it last reported: step
  // over it first (a debugger like gdb steps over by itself instead).
  rv64::Hart& h = mach().hart(i);
  bool skip = ctl_[i].reported_pc == h.pc;
  ctl_[i].reported_pc = ~0ull;
  lk.unlock();
  if (skip) h.step();
}

void Runner::control(unsigned i) {
  Slot& s = *slots_[i];
  std::unique_lock<std::mutex> lk(ctl_mu_);
  Ctl& c = ctl_[i];
  while (c.action == HartAction::kStop && !stop_.load()) {
    c.parked = true;
    s.state.store(static_cast<uint8_t>(HartRunState::kStopped), std::memory_order_relaxed);
    ev_cv_.notify_all();
    ctl_cv_.wait(lk);
  }
  c.parked = false;
  if (stop_.load()) return;
  s.state.store(static_cast<uint8_t>(HartRunState::kRunning), std::memory_order_relaxed);
  if (c.action == HartAction::kStep) {
    run_steps(i, lk);
    return;
  }
  step_over_reported(i, lk);
}

bool Runner::all_parked() {
  std::lock_guard<std::mutex> lk(ctl_mu_);
  if (!running_) return false;
  return std::all_of(ctl_.begin(), ctl_.end(), [](const Ctl& c) { return c.parked; });
}

bool Runner::pause_all() {
  std::unique_lock<std::mutex> lk(ctl_mu_);
  if (!debug_) return false;
  if (!ev_cv_.wait_for(lk, std::chrono::seconds(30), [&] { return running_ || stop_.load(); }) || !running_)
    return false;
  for (unsigned j = 0; j < ctl_.size(); ++j)
    if (ctl_[j].action == HartAction::kContinue) set_action_locked(j, HartAction::kStop);
  bool ok = ev_cv_.wait_for(lk, std::chrono::seconds(30), [&] {
    return !running_ || std::all_of(ctl_.begin(), ctl_.end(), [](const Ctl& c) { return c.parked; });
  });
  if (!ok || !running_) return false;
  clock_.freeze();
  // Stops that were not reported wait on their hart (see resume()).
  for (auto it = events_.begin(); it != events_.end();) {
    if (it->reason == StopReason::kBreakpoint || it->reason == StopReason::kWatchpoint ||
        it->reason == StopReason::kEvent) {
      ctl_[it->hart].pending = *it;
      it = events_.erase(it);
    } else if (it->reason != StopReason::kExited) {
      it = events_.erase(it);
    } else {
      ++it;
    }
  }
  return true;
}

void Runner::resume(const std::vector<HartAction>& actions, uint64_t steps) {
  std::lock_guard<std::mutex> lk(ctl_mu_);
  if (!running_ || actions.size() != ctl_.size()) return;
  // A resumed hart with a stop it never reported reports it now, if it
  // still stands (the debugger may have moved the pc or removed the point).
  for (unsigned j = 0; j < ctl_.size(); ++j) {
    auto& p = ctl_[j].pending;
    if (!p || actions[j] == HartAction::kStop) continue;
    rv64::Hart& h = mach().hart(j);
    bool valid = h.pc == p->pc && (p->reason == StopReason::kBreakpoint   ? h.has_breakpoint(h.pc)
                                   : p->reason == StopReason::kWatchpoint ? h.has_watchpoint(p->addr)
                                                                          : h.events_active() &&
                                                                                (!event_check_ || event_check_(*p)));
    StopEvent ev = *p;
    p.reset();
    if (valid) {
      events_.push_back(ev);
      ev_cv_.notify_all();
      return;
    }
  }
  bool any_continue = false;
  for (unsigned j = 0; j < ctl_.size(); ++j) {
    if (actions[j] != HartAction::kStop) {
      ctl_[j].pending.reset();
      // No longer parked from now on, not from when its thread wakes: a
      // pause_all() right after this must wait for a stepping hart to finish.
      if (!pool_threads_) ctl_[j].parked = false;
    }
    ctl_[j].steps = steps;
    set_action_locked(j, actions[j]);
    any_continue |= actions[j] == HartAction::kContinue;
  }
  if (any_continue) clock_.thaw();
  if (pool_threads_) {
    // Parked harts are on no queue: queue the ones given something to do.
    std::lock_guard<std::mutex> plk(pool_mu_);
    for (unsigned j = 0; j < ctl_.size(); ++j) {
      Slot& s = *slots_[j];
      if (actions[j] != HartAction::kStop && s.where == Slot::Where::kParked) {
        ctl_[j].parked = false;
        s.where = Slot::Where::kQueued;
        runq_.push_back(j);
      } else if (actions[j] != HartAction::kStop && s.where == Slot::Where::kRunning) {
        // Parked by its slice, but its worker has not yet recorded that
        // (pool_worker): the worker queues it again instead.
        ctl_[j].parked = false;
        s.requeue = true;
      }
    }
    pool_cv_.notify_all();
  }
  ctl_cv_.notify_all();
}

std::optional<StopEvent> Runner::wait_stop(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(ctl_mu_);
  ev_cv_.wait_for(lk, timeout, [&] { return !events_.empty(); });
  if (events_.empty()) return std::nullopt;
  StopEvent ev = events_.front();
  events_.pop_front();
  if (stops_before(ev) && ev.hart < ctl_.size()) ctl_[ev.hart].reported_pc = ev.pc;
  return ev;
}

HartRunState Runner::state(unsigned hart) const {
  std::lock_guard<std::mutex> lk(ctl_mu_);
  if (hart >= slots_.size()) return HartRunState::kStopped;
  return static_cast<HartRunState>(slots_[hart]->state.load(std::memory_order_relaxed));
}

// ---- pool mode: N host threads take turns running the harts -----------------------

Runner::Slot::Where Runner::pool_slice(unsigned i) {
  tl_hart = static_cast<int>(i);
  rv64::Hart& h = mach().hart(i);
  Slot& s = *slots_[i];
  h.set_in_wfi(false);
  s.state.store(static_cast<uint8_t>(HartRunState::kRunning), std::memory_order_relaxed);
  auto park_locked = [&] {
    ctl_[i].parked = true;
    s.state.store(static_cast<uint8_t>(HartRunState::kStopped), std::memory_order_relaxed);
    ev_cv_.notify_all();
    return Slot::Where::kParked;
  };
  if (s.stop_req.load(std::memory_order_acquire)) {
    std::unique_lock<std::mutex> lk(ctl_mu_);
    Ctl& c = ctl_[i];
    if (c.action == HartAction::kStop || stop_.load()) return park_locked();
    if (c.action == HartAction::kStep) {
      run_steps(i, lk);
      return park_locked();
    }
  }
  if (debug_) {
    std::unique_lock<std::mutex> lk(ctl_mu_);
    step_over_reported(i, lk);
  }
  clock_update();
  update_timer(i, clock_.now());
  rv64::Exit e = h.run(kQuantum);
  switch (e) {
    case rv64::Exit::kDebug: {
      StopEvent ev = debug_stop(i, h);
      std::lock_guard<std::mutex> lk(ctl_mu_);
      set_action_locked(i, HartAction::kStop);
      post_stop_locked(ev);
      return park_locked();
    }
    case rv64::Exit::kWfi:
      return Slot::Where::kSleeping;
    default:
      return Slot::Where::kQueued;  // a spinning hart (kPause) goes to the back too
  }
}

void Runner::pool_wake_due_locked(uint64_t now) {
  uint64_t due = ~0ull;
  for (unsigned i = 0; i < slots_.size(); ++i) {
    Slot& s = *slots_[i];
    if (s.where != Slot::Where::kSleeping) continue;
    update_timer(i, now);
    rv64::Hart& h = mach().hart(i);
    if (h.wfi_wakeup_pending() || s.stop_req.load(std::memory_order_acquire)) {
      s.where = Slot::Where::kQueued;
      clock_.hart_wakes();
      runq_.push_back(i);
      continue;
    }
    uint64_t d = std::min(mach().mtimecmp(i), h.sstc_deadline());
    if (d > now) due = std::min(due, d);
  }
  next_due_ = due;
}

void Runner::pool_worker() {
  std::unique_lock<std::mutex> lk(pool_mu_);
  while (!stop_.load()) {
    uint64_t now = clock_.now();
    if (now >= next_due_) pool_wake_due_locked(now);
    if (runq_.empty()) {
      // Nothing to run: sleep until a hart is queued (wake()), a timer
      // deadline is changed (timer_changed()) or the earliest one passes.
      if (next_due_ == ~0ull)
        pool_cv_.wait(lk);
      else
        pool_cv_.wait_for(lk, clock_.until(next_due_));
      continue;
    }
    unsigned i = runq_.front();
    runq_.pop_front();
    Slot& s = *slots_[i];
    s.where = Slot::Where::kRunning;
    lk.unlock();
    Slot::Where w = pool_slice(i);
    lk.lock();
    if (w == Slot::Where::kSleeping) {
      // Check again under the lock: an interrupt raised since run() returned
      // found the hart not yet asleep (see wake()).
      now = clock_.now();
      update_timer(i, now);
      rv64::Hart& h = mach().hart(i);
      if (h.wfi_wakeup_pending() || s.stop_req.load(std::memory_order_acquire)) {
        w = Slot::Where::kQueued;
      } else {
        uint64_t d = std::min(mach().mtimecmp(i), h.sstc_deadline());
        if (d > now) next_due_ = std::min(next_due_, d);
        h.set_in_wfi(true);
        s.state.store(static_cast<uint8_t>(HartRunState::kWfi), std::memory_order_relaxed);
        // One hart fewer wants to run: time may go faster now, and the
        // workers' waits were computed at the old rate (we hold pool_mu_).
        clock_.hart_sleeps();
        if (clock_.update()) pool_cv_.notify_all();
      }
    }
    if (w == Slot::Where::kParked && s.requeue) w = Slot::Where::kQueued;  // resumed meanwhile
    s.requeue = false;
    s.where = w;
    if (w == Slot::Where::kQueued) {
      runq_.push_back(i);
      if (runq_.size() > 1) pool_cv_.notify_one();
    }
  }
  pool_cv_.notify_all();
}

// ---- the hart threads ---------------------------------------------------------------

void Runner::hart_loop(unsigned i) {
  machine::Machine& m = mach();
  rv64::Hart& h = m.hart(i);
  Slot& slot = *slots_[i];
  tl_hart = static_cast<int>(i);
  while (!stop_.load(std::memory_order_relaxed)) {
    if (RV_UNLIKELY(slot.stop_req.load(std::memory_order_acquire))) {
      control(i);
      continue;
    }
    clock_update();
    uint64_t now = clock_.now();
    h.set_irq_line(rv64::kMTI, now >= m.mtimecmp(i));
    h.update_sstc(now);
    rv64::Exit e = h.run(kQuantum);
    if (e == rv64::Exit::kDebug) {
      StopEvent ev = debug_stop(i, h);
      std::lock_guard<std::mutex> lk(ctl_mu_);
      set_action_locked(i, HartAction::kStop);
      post_stop_locked(ev);
      continue;
    }
    if (e == rv64::Exit::kPause) {
      // The guest is spinning: let a hart that holds what it waits for run.
      std::this_thread::yield();
      continue;
    }
    if (e != rv64::Exit::kWfi) continue;
    // WFI: sleep until an enabled interrupt is pending, the next timer
    // deadline passes, a debugger stops the hart, or the machine stops.
    // Asleep, the hart does not count as runnable for the scaled clock.
    clock_.hart_sleeps();
    clock_update();
    std::unique_lock<std::mutex> lk(slot.mu);
    slot.state.store(static_cast<uint8_t>(HartRunState::kWfi), std::memory_order_relaxed);
    h.set_in_wfi(true);
    while (!stop_.load(std::memory_order_relaxed) && !slot.stop_req.load(std::memory_order_acquire) &&
           !h.wfi_wakeup_pending()) {
      now = clock_.now();
      h.set_irq_line(rv64::kMTI, now >= m.mtimecmp(i));
      h.update_sstc(now);
      if (h.wfi_wakeup_pending()) break;
      uint64_t deadline = std::min(m.mtimecmp(i), h.sstc_deadline());
      // No polling: every other reason to wake (an interrupt line, a new
      // mtimecmp, a debugger, shutdown) notifies this slot. A deadline
      // already past means its interrupt is masked in mie: only another
      // event can wake the hart.
      // The wait holds at the clock's current rate; if the rate goes up
      // meanwhile, wake_early_sleepers() wakes the hart to compute again.
      if (deadline > now) {
        auto wait = clock_.until(deadline);
        slot.waiting = true;
        slot.deadline = deadline;
        slot.wake_host = clock_.host_ns() + wait.count();
        slot.cv.wait_for(lk, wait);
        slot.waiting = false;
      } else {
        slot.cv.wait(lk);
      }
    }
    h.set_in_wfi(false);
    slot.state.store(static_cast<uint8_t>(HartRunState::kRunning), std::memory_order_relaxed);
    lk.unlock();
    clock_.hart_wakes();
  }
}

int Runner::run(machine::Machine& m) {
  {
    std::lock_guard<std::mutex> lk(ctl_mu_);
    m_.store(&m, std::memory_order_release);
  }
  exit_hart_.store(-1);
  m.on_shutdown = [this] {
    // Called on the thread of the hart that shut the machine down.
    if (tl_hart >= 0) exit_hart_.store(tl_hart);
    stop();
  };
  for (;;) {
    stop_.store(false);
    {
      std::lock_guard<std::mutex> lk(ctl_mu_);
      slots_.clear();
      for (unsigned i = 0; i < m.num_harts(); ++i) slots_.push_back(std::make_unique<Slot>());
      if (ctl_.size() != m.num_harts()) {
        ctl_.assign(m.num_harts(), Ctl{});
        if (start_paused_)
          for (auto& c : ctl_) c.action = HartAction::kStop;
      }
      std::lock_guard<std::mutex> plk(pool_mu_);
      runq_.clear();
      next_due_ = 0;
      for (unsigned i = 0; i < m.num_harts(); ++i) {
        ctl_[i].parked = false;
        slots_[i]->stop_req.store(ctl_[i].action != HartAction::kContinue);
        if (pool_threads_ && ctl_[i].action == HartAction::kStop) {
          // Stopped from the start: parked without ever being queued.
          ctl_[i].parked = true;
          slots_[i]->where = Slot::Where::kParked;
          slots_[i]->state.store(static_cast<uint8_t>(HartRunState::kStopped));
        } else {
          runq_.push_back(i);
        }
      }
      running_ = true;
      clock_.set_runnable(m.num_harts());
      ev_cv_.notify_all();
    }
    std::vector<std::thread> threads;
    if (pool_threads_) {
      unsigned n = std::min(pool_threads_, m.num_harts());
      for (unsigned t = 0; t < n; ++t) threads.emplace_back([this] { pool_worker(); });
    } else {
      threads.reserve(m.num_harts());
      for (unsigned i = 0; i < m.num_harts(); ++i) threads.emplace_back([this, i] { hart_loop(i); });
    }
    for (auto& t : threads) t.join();
    if (m.reboot_requested() && !m.shutdown_status()) {
      m.clear_reboot();
      m.reset();
      continue;
    }
    break;
  }
  int status = m.shutdown_status().value_or(0);
  {
    std::lock_guard<std::mutex> lk(ctl_mu_);
    running_ = false;
    if (debug_) {
      StopEvent ev;
      ev.reason = StopReason::kExited;
      ev.exit_status = status;
      int eh = exit_hart_.load();
      if (eh >= 0 && static_cast<unsigned>(eh) < m.num_harts()) {
        ev.hart = static_cast<unsigned>(eh);
        ev.pc = m.hart(ev.hart).pc;
        ev.icount = m.hart(ev.hart).icount();
      }
      events_.push_back(ev);
    }
    ev_cv_.notify_all();
  }
  m.on_shutdown = nullptr;
  {
    std::lock_guard<std::mutex> lk(ctl_mu_);
    m_.store(nullptr, std::memory_order_release);  // the machine may be destroyed before this runner
  }
  return status;
}

}  // namespace coremu
