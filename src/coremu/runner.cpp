#include "coremu/runner.h"

#include <algorithm>

namespace coremu {

Runner::~Runner() = default;  // run() joins every thread before it returns

void Runner::wake(unsigned i) {
  if (i >= slots_.size()) return;
  Slot& s = *slots_[i];
  { std::lock_guard<std::mutex> lk(s.mu); }
  s.cv.notify_one();
}

void Runner::set_line(unsigned hart, rv64::Irq irq, bool level) {
  if (!m_ || hart >= m_->num_harts()) return;
  m_->hart(hart).set_irq_line(irq, level);
  if (level) wake(hart);
}

void Runner::timer_changed(unsigned hart) { wake(hart); }

void Runner::stop() {
  stop_.store(true);
  if (!m_) return;
  for (unsigned i = 0; i < m_->num_harts() && i < slots_.size(); ++i) {
    m_->hart(i).request_attention();
    wake(i);
  }
}

void Runner::hart_loop(unsigned i) {
  machine::Machine& m = *m_;
  rv64::Hart& h = m.hart(i);
  Slot& slot = *slots_[i];
  while (!stop_.load(std::memory_order_relaxed)) {
    uint64_t now = clock_.now();
    h.set_irq_line(rv64::kMTI, now >= m.mtimecmp(i));
    h.update_sstc(now);
    rv64::Exit e = h.run(kQuantum);
    if (e == rv64::Exit::kPause) {
      // The guest is spinning: let a hart that holds what it waits for run.
      std::this_thread::yield();
      continue;
    }
    if (e != rv64::Exit::kWfi) continue;
    // WFI: sleep until an enabled interrupt is pending, the next timer
    // deadline passes, or the machine stops.
    std::unique_lock<std::mutex> lk(slot.mu);
    while (!stop_.load(std::memory_order_relaxed) && !h.wfi_wakeup_pending()) {
      now = clock_.now();
      h.set_irq_line(rv64::kMTI, now >= m.mtimecmp(i));
      h.update_sstc(now);
      if (h.wfi_wakeup_pending()) break;
      uint64_t deadline = std::min(m.mtimecmp(i), h.sstc_deadline());
      // A deadline already past means its interrupt is masked in mie: only
      // another event can wake us, but look again now and then.
      auto wait = deadline > now ? clock_.until(deadline) : std::chrono::nanoseconds(std::chrono::milliseconds(10));
      slot.cv.wait_for(lk, std::min<std::chrono::nanoseconds>(wait, std::chrono::milliseconds(100)));
    }
  }
}

int Runner::run(machine::Machine& m) {
  m_ = &m;
  m.on_shutdown = [this] { stop(); };
  for (;;) {
    stop_.store(false);
    slots_.clear();
    for (unsigned i = 0; i < m.num_harts(); ++i) slots_.push_back(std::make_unique<Slot>());
    std::vector<std::thread> threads;
    threads.reserve(m.num_harts());
    for (unsigned i = 0; i < m.num_harts(); ++i) threads.emplace_back([this, i] { hart_loop(i); });
    for (auto& t : threads) t.join();
    if (m.reboot_requested() && !m.shutdown_status()) {
      m.clear_reboot();
      m.reset();
      continue;
    }
    break;
  }
  m.on_shutdown = nullptr;
  m_ = nullptr;  // the machine may be destroyed before this runner
  return m.shutdown_status().value_or(0);
}

}  // namespace coremu
