// The thin parallel layer: runs every hart of a machine on its own host
// thread (COREMU's design), delivers interrupts between harts (atomic pending
// bits plus a wake-up for a hart sleeping in WFI), and owns time.
//
// src/rv64 has no threads; this is the only place that creates them for
// harts. Devices reach harts only through the HartLines interface below.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "coremu/clock.h"
#include "machine/device.h"
#include "machine/machine.h"

namespace coremu {

class Runner final : public machine::HartLines {
 public:
  explicit Runner(HostClock& clock) : clock_(clock) {}
  ~Runner() override;

  // Runs `m` until the guest shuts it down (or stop() is called); handles
  // guest-requested reboots. Returns the guest's exit status.
  int run(machine::Machine& m);
  // Asks every hart to stop (thread-safe; used on shutdown and by signals).
  void stop();

  // machine::HartLines (thread-safe)
  void set_line(unsigned hart, rv64::Irq irq, bool level) override;
  void timer_changed(unsigned hart) override;

  // Instructions a hart runs between checks of its timer.
  static constexpr uint64_t kQuantum = 10'000;

 private:
  struct Slot {
    std::mutex mu;
    std::condition_variable cv;
  };
  void hart_loop(unsigned i);
  void wake(unsigned i);

  HostClock& clock_;
  machine::Machine* m_ = nullptr;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<bool> stop_{false};
};

}  // namespace coremu
