// bench/direct_run: the uniprocessor baseline for measuring what coremu's
// parallel layer costs. It takes the coremu command line, builds the same
// machine::Machine as `coremu -smp 1 ...`, and runs its one hart with
// rv64::Hart::run() in a loop on the main thread, without coremu::Runner: no
// hart thread, no condition variable, no wake-ups. Like the runner it
// refreshes the timer line (mtime >= mtimecmp) and Sstc before each quantum
// of Runner::kQuantum instructions, and sleeps through WFI until the next
// timer deadline. bench/run.sh times it against coremu on bench_compute.
//
//   build/direct_run -M virt -bios none -nographic -smp 1 -kernel build/guest/bench_compute.elf
#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/options.h"
#include "coremu/clock.h"
#include "coremu/console.h"
#include "coremu/runner.h"
#include "machine/machine.h"

namespace {

// Interrupt lines straight to the hart: there is no other thread to wake.
class DirectLines final : public machine::HartLines {
 public:
  void attach(machine::Machine* m) { m_ = m; }
  void set_line(unsigned hart, rv64::Irq irq, bool level) override {
    if (m_ && hart < m_->num_harts()) m_->hart(hart).set_irq_line(irq, level);
  }
  void timer_changed(unsigned) override {}

 private:
  machine::Machine* m_ = nullptr;
};

// Refreshes the hart's timer inputs from the clock, as Runner::hart_loop does.
void update_timers(machine::Machine& m, rv64::Hart& h, coremu::HostClock& clock) {
  uint64_t now = clock.now();
  h.set_irq_line(rv64::kMTI, now >= m.mtimecmp(0));
  h.update_sstc(now);
}

int run(const std::vector<std::string>& args) {
  cli::Options opts = cli::parse_options(args);
  if (opts.help || opts.version || opts.demo) {
    fmt::print(stderr, "usage: direct_run <coremu options with -smp 1 and -kernel FILE>\n");
    return opts.demo ? 1 : 0;
  }
  if (opts.machine.smp != 1)
    throw machine::ConfigError("direct_run runs one hart only: use -smp 1");

  coremu::HostClock clock;
  DirectLines lines;
  machine::Machine m(opts.machine, lines, clock);
  lines.attach(&m);
  std::unique_ptr<coremu::FileBackend> serial;
  if (opts.machine.serial != "none") {
    serial = std::make_unique<coremu::FileBackend>(opts.machine.serial);
    m.set_serial_backend(serial.get());
  }

  rv64::Hart& h = m.hart(0);
  std::atomic<bool> stop{false};
  // Called from this thread (the finisher is written by the hart we run).
  m.on_shutdown = [&] {
    stop.store(true, std::memory_order_relaxed);
    h.request_attention();
  };
  for (;;) {
    while (!stop.load(std::memory_order_relaxed)) {
      update_timers(m, h, clock);
      rv64::Exit e = h.run(coremu::Runner::kQuantum);
      if (e != rv64::Exit::kWfi) continue;
      // WFI: only the timer can wake a lone hart here (no serial input).
      while (!stop.load(std::memory_order_relaxed)) {
        update_timers(m, h, clock);
        if (h.wfi_wakeup_pending()) break;
        uint64_t deadline = std::min(m.mtimecmp(0), h.sstc_deadline());
        auto wait = std::chrono::nanoseconds(std::chrono::milliseconds(10));
        if (deadline > clock.now()) wait = std::min(wait, clock.until(deadline));
        std::this_thread::sleep_for(wait);
      }
    }
    if (m.reboot_requested() && !m.shutdown_status()) {
      m.clear_reboot();
      m.reset();
      stop.store(false);
      continue;
    }
    break;
  }
  m.on_shutdown = nullptr;
  return m.shutdown_status().value_or(0);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return run(args);
  } catch (const machine::ConfigError& e) {
    fmt::print(stderr, "direct_run: {}\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "direct_run: out of memory (is -m too large?)\n");
    return 1;
  }
}
