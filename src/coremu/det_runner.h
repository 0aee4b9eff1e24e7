// The deterministic scheduler: every hart of a machine on one host thread,
// interleaved in slices of a fixed number of steps (or a seeded "chaos"
// schedule), with time derived from the steps executed. The same machine,
// options and input give the same run, bit for bit. Record and replay
// (src/replay) plug into it through a Journal; while replaying it also
// keeps checkpoints and runs backwards for a debugger.
//
// Positions. Every state a debugger sees is "just before global step P+1":
// P counts the steps (instructions retired plus traps taken) of all harts
// together, and the next step belongs to the hart of the current slice.
// Breakpoints, watchpoints, pauses, single steps and go_to() all stop at
// such a point, so a position names one machine state exactly.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "coremu/control.h"
#include "coremu/progress.h"
#include "machine/device.h"
#include "machine/machine.h"

namespace machine {
class Checkpoints;
}

namespace coremu {

struct DetOptions {
  uint64_t quantum = 10'000;           // steps per slice
  std::optional<uint64_t> chaos_seed;  // vary slices and the hart order from this seed
  // Global steps between hart-state digests (record/replay): a digest at the
  // first slice start at or past each multiple. In steps, not slices: idle
  // harts make many short slices.
  uint64_t digest_interval = 1ull << 24;
  uint64_t checkpoint_interval = 20'000'000;  // steps between checkpoints (reverse execution)
};

// What record and replay add to the scheduler. Called on the scheduler's
// thread only.
class Journal {
 public:
  virtual ~Journal() = default;
  virtual bool replaying() const = 0;
  // Replay: the input the log gives before `slice` (empty if none). Record:
  // not called.
  virtual std::vector<uint8_t> input_for(uint64_t slice) { return {}; }
  // Replay: whether the log holds anything at or after `slice` (false: the
  // recording ended here). Record: not called.
  virtual bool has_more(uint64_t slice) { return false; }
  // Replay: the last slice the log covers (~0: all of the run).
  virtual uint64_t covered_slice() const { return ~0ull; }
  // Record: bytes the UART accepted before `slice`.
  virtual void input(uint64_t slice, const uint8_t* data, size_t len) {}
  // An interrupt taken by hart h. Replay: "" if the log agrees, else why not.
  virtual std::string interrupt(uint64_t slice, const rv64::Hart& h, uint64_t cause) = 0;
  // Hart digests {steps, hash} at the start of `slice` (and each hart's
  // icount, for reports). Replay: "" if the log agrees, else a report
  // naming the first divergent hart.
  virtual std::string digest(uint64_t slice, uint64_t pos, const std::vector<std::pair<uint64_t, uint64_t>>& harts,
                             const std::vector<uint64_t>& icounts) = 0;
  // Record: a moment to write buffered records out (between slices; `now`:
  // the machine is about to wait for input, write everything).
  virtual void sync(uint64_t slice, bool now) {}
  // Replay: where the journal's cursor is (saved with checkpoints).
  virtual uint64_t mark() const { return 0; }
  virtual void rewind(uint64_t mark) {}
};

class DetRunner final : public machine::HartLines, public machine::Clock, public Control,
                        private rv64::InterruptObserver {
 public:
  explicit DetRunner(DetOptions opt = {});
  ~DetRunner() override;

  // Runs `m` until the guest shuts it down, stop() is called or (replay)
  // the recording ends; returns the guest's exit status. With a debugger
  // (enable_debug), it returns only after stop().
  int run(machine::Machine& m);
  void set_journal(Journal* j) { journal_ = j; }
  // A progress line, drawn between slices (and erased around guest output);
  // `fill` adds what the scheduler does not know (log bytes, replay fraction).
  void set_progress(ProgressLine* p, std::function<void(ProgressLine::Status&)> fill = {}) {
    progress_ = p;
    progress_fill_ = std::move(fill);
  }
  // Replay without a debugger: stop (and return) at this position.
  void set_stop_at(uint64_t pos) { stop_at_ = pos; }
  // Replay: where the recording ended (its end record's position): the
  // replay ends there too (StopReason::kReplayEnd) unless the guest shuts
  // the machine down first, as it did when it was recorded.
  void set_end_at(uint64_t pos) { end_at_ = pos; }
  // How the run ended: "" (guest shutdown), or why the replay stopped
  // early (end of a truncated log, divergence, --to reached).
  const std::string& end_note() const { return end_note_; }
  bool diverged() const { return diverged_; }
  bool reached_end_of_log() const { return log_ended_; }
  // Guest input (e.g. from stdin; thread-safe): given to the UART at the
  // start of the next slice, in order. Ignored while replaying.
  void queue_input(const uint8_t* data, size_t len);
  void input_closed();
  // Wraps the guest's serial output: while re-executing history after
  // running backwards, output already shown is not shown again.
  machine::CharBackend* output(machine::CharBackend* real);
  // Steps of all harts so far (exact between slices and at stops).
  uint64_t steps() const { return pos_; }
  // The position now, also from inside a hart's run (scheduler thread).
  uint64_t position_now() const { return cur_pos(); }
  uint64_t slices() const { return slice_; }

  // machine::HartLines, machine::Clock (scheduler thread)
  void set_line(unsigned hart, rv64::Irq irq, bool level) override;
  // A CLINT mtimecmp write or an SBI wake-up (kick): the hart's timer
  // line and sleep are looked at again when the next slice starts.
  void timer_changed(unsigned hart) override { touch(hart); }
  uint64_t now() override;
  // Virtual time: a hart's own steps per timer tick (10 MHz timebase). A
  // slice of k steps advances time by k / (kStepsPerTick * R) ticks, R being
  // the number of runnable harts (not asleep in WFI) when the slice starts:
  // each runnable hart sees kStepsPerTick of its own steps per tick, however
  // many harts share the one host thread (as the parallel mode's scaled
  // clock gives each running hart a core's worth of progress). Exact: fixed
  // point with 32 fraction bits, the same arithmetic in record and replay.
  static constexpr uint64_t kStepsPerTick = 10;
  // Harts not asleep in WFI (between slices).
  unsigned runnable() const { return s_.runnable; }

  // Control
  void enable_debug(bool start_paused) override;
  bool debug_enabled() const override { return debug_; }
  bool pause_all() override;
  bool all_parked() override;
  void resume(const std::vector<HartAction>& actions, uint64_t steps = 1) override;
  std::optional<StopEvent> wait_stop(std::chrono::milliseconds timeout) override;
  HartRunState state(unsigned hart) const override;
  void set_event_check(std::function<bool(const StopEvent&)> f) override {}
  void set_rewind_hook(std::function<void()> f) override { rewind_hook_ = std::move(f); }
  void stop() override;
  bool deterministic() const override { return true; }
  bool replaying() const override { return journal_ && journal_->replaying(); }
  bool can_reverse() const override;
  Position position() const override { return {pos_}; }
  void reverse(const std::vector<HartAction>& actions, uint64_t steps = 1) override;
  bool go_to(Position p, std::string& err) override;

 private:
  class Output;
  struct Cmd {
    enum Kind : uint8_t { kContinue, kStep, kReverseStep, kReverseContinue, kGoto } kind = kContinue;
    unsigned hart = 0;
    uint64_t n = 0;
  };
  // What ends a forward run (besides the guest and the debugger).
  struct Limits {
    bool breakpoints = true;             // stop at breakpoint/watchpoint/event hits (else step over them)
    uint64_t pos = ~0ull;                // stop just before global step pos+1
    int step_hart = -1;                  // stop once this hart's steps reach step_target...
    uint64_t step_target = 0;
    int before_hart = -1;                // ...or just before this hart takes step before_target+1
    uint64_t before_target = 0;
    std::vector<std::pair<uint64_t, StopEvent>>* hits = nullptr;  // collect hits (pos) instead of stopping
  };
  // Scheduler state saved with each checkpoint.
  struct Sched {
    uint64_t slice = 0, pos = 0, rng = 0, slice_end = 0, mark = 0, next_digest = 0;
    // Time (see kStepsPerTick): ticks and 2^-32 ticks at the start of the
    // current slice, the slice's start position and its runnable harts.
    uint64_t ticks = 0, tick_frac = 0, slice_pos = 0;
    unsigned slice_runnable = 1;
    unsigned runnable = 0;  // harts with asleep[i] == 0
    unsigned cur = 0;
    bool in_slice = false;
    std::vector<uint8_t> asleep;
    std::vector<uint64_t> hart_steps;
  };
  struct Ckpt {
    size_t id;
    Sched s;
  };

  void on_interrupt(rv64::Hart& h, uint64_t cause) override;
  // Runs forward until a stop; returns it.
  StopEvent advance(const Limits& lim);
  // Starts the next slice (input, timers, wake-ups, choice of hart);
  // false if nothing can ever run again (replay: end of the log).
  StopEvent execute(const Cmd& c);
  StopEvent reverse_step(unsigned hart, uint64_t n);
  StopEvent reverse_continue();
  StopEvent go_to_pos(uint64_t p);
  void restore(const Ckpt& c);
  const Ckpt* checkpoint_before(uint64_t pos, int hart, uint64_t hart_steps) const;
  void maybe_checkpoint();
  // Between slices: timer lines, Sstc and WFI wake-ups of the harts whose
  // deadline has come or that were touched since, not of every hart.
  void update_timers();
  void touch(unsigned i);
  void touch_all();
  void arm(unsigned i, uint64_t now);  // hart i's next deadline after `now` into the heap
  // Time advanced by `k` steps of a slice with `r` runnable harts, in 2^-32 ticks.
  static uint64_t time_fp(uint64_t k, unsigned r);
  void end_slice();  // the current slice is over: commit its time
  void set_asleep(unsigned i, bool v);
  uint64_t next_rand();
  StopEvent stop_here(StopReason r);
  StopEvent hit_event(unsigned hart);
  uint64_t cur_pos() const;  // pos_ including the running hart's progress in its run() call
  void check_digest();

  DetOptions opt_;
  Journal* journal_ = nullptr;
  machine::Machine* m_ = nullptr;
  unsigned n_ = 0;

  // The schedule.
  Sched s_;
  uint64_t& slice_ = s_.slice;
  uint64_t& pos_ = s_.pos;
  uint64_t run_base_ = 0;   // cur hart's steps() when its current run() call started
  bool running_hart_ = false;
  uint64_t stop_at_ = ~0ull, end_at_ = ~0ull;
  std::string end_note_;
  bool diverged_ = false, log_ended_ = false, finished_ = false;
  std::string divergence_;

  // Live input (not replaying).
  std::mutex in_mu_;
  std::condition_variable in_cv_;
  std::deque<uint8_t> input_;
  bool input_closed_ = false;

  // Output suppression while re-executing.
  std::unique_ptr<Output> out_;
  uint64_t shown_pos_ = 0;  // output up to here has been shown

  // Timers: harts to look at again, and a min-heap of {deadline, hart}
  // (an entry is stale unless due_[hart] is still its deadline).
  std::vector<unsigned> dirty_;
  std::vector<uint8_t> is_dirty_;
  std::vector<uint64_t> due_;
  std::vector<std::pair<uint64_t, unsigned>> heap_;

  // Reverse execution.
  std::unique_ptr<machine::Checkpoints> ckpts_;
  std::vector<Ckpt> ck_;
  uint64_t next_ck_pos_ = 0;

  // Debugger control.
  bool debug_ = false, start_paused_ = false;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Cmd> cmd_;
  bool parked_ = false, started_ = false;
  std::atomic<bool> stop_{false}, pause_req_{false};
  std::atomic<unsigned> cur_hart_{0};  // s_.cur, for other threads
  std::atomic<bool> reverse_ok_{false};
  std::deque<StopEvent> events_;
  std::vector<uint64_t> reported_pc_;  // per hart: the breakpoint/watchpoint stop last reported (step over it)
  std::function<void()> rewind_hook_;  // set_rewind_hook: called after every restore()
  ProgressLine* progress_ = nullptr;
  std::function<void(ProgressLine::Status&)> progress_fill_;
  uint64_t progress_calls_ = 0;
  void draw_progress();
};

}  // namespace coremu
