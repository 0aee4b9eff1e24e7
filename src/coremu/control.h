// Run control of a machine for debuggers (the GDB stub, the REPL): pause
// every hart, resume some, step, and the stops they report. Implemented by
// the parallel Runner and by the deterministic scheduler (DetRunner), which
// also runs backwards when it replays a recording.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace coremu {

// What a debugger asks of one hart when it resumes the machine.
enum class HartAction : uint8_t { kStop, kContinue, kStep };

// Why a hart (or the machine) stopped.
enum class StopReason : uint8_t {
  kPaused,      // pause_all() (e.g. gdb's Ctrl-C)
  kBreakpoint,  // reached a breakpoint: pc is on it, not executed
  kWatchpoint,  // about to make an access a watchpoint covers: pc is on it
  kStep,        // finished the requested steps
  kExited,      // the guest shut the machine down (exit_status)
  kEvent,       // an event breakpoint (Debugger::events().hit(hart) says which):
                // before an access (pc on the instruction) or after a trap,
                // an IPI or a failed SC (pc behind it)
  kReplayEnd,   // replay: reached the end of the recording (or of its usable prefix)
  kReplayStart, // replay, running backwards: reached the start of the recording
  kDivergence,  // replay: the machine no longer matches the recording (a digest differs)
};

struct StopEvent {
  unsigned hart = 0;
  StopReason reason = StopReason::kPaused;
  uint64_t pc = 0;
  uint64_t icount = 0;
  uint64_t addr = 0;   // watchpoint: the watched address the access touched
  bool write = false;  // watchpoint: the access wrote
  int exit_status = 0; // kExited (hart, pc, icount: the hart that shut the machine down, if known)
  bool before = false; // kEvent: stopped before the instruction at pc (continuing steps over it)
};

enum class HartRunState : uint8_t { kRunning, kWfi, kStopped };

// The debugger's view of how far a machine has run, for time travel.
struct Position {
  uint64_t steps = 0;  // steps (instructions + traps) of all harts together
};

class Control {
 public:
  virtual ~Control() = default;
  // ---- thread-safe; call enable_debug before the machine runs ----
  // All-stop: when one hart stops, every hart is asked to stop. If
  // `start_paused`, no hart runs until resume().
  virtual void enable_debug(bool start_paused) = 0;
  virtual bool debug_enabled() const = 0;
  // Stops every hart and waits until all are parked. Returns false if the
  // machine is not running.
  virtual bool pause_all() = 0;
  // True if every hart is parked (its state may be read and written).
  virtual bool all_parked() = 0;
  // Gives each hart an action (actions.size() == harts) and lets them go.
  // `steps`: instructions for the kStep harts.
  virtual void resume(const std::vector<HartAction>& actions, uint64_t steps = 1) = 0;
  // Waits up to `timeout` for the next stop. In all-stop mode the caller
  // then calls pause_all() before looking at harts.
  virtual std::optional<StopEvent> wait_stop(std::chrono::milliseconds timeout) = 0;
  virtual HartRunState state(unsigned hart) const = 0;
  // Whether an event stop not reported yet still stands (set by the Debugger).
  virtual void set_event_check(std::function<bool(const StopEvent&)> f) = 0;
  // Asks the machine to stop running for good (end of session).
  virtual void stop() = 0;

  // ---- determinism and time travel (every hart parked) ----
  // The machine runs deterministically (deterministic mode, record,
  // replay), so position() names one machine state: front ends print it.
  virtual bool deterministic() const { return false; }
  // Guest input comes from a recording (replay): the front ends refuse
  // to inject any (the REPL's `uart`).
  virtual bool replaying() const { return false; }
  // Whether reverse() and go_to() work (a replay with a debugger attached).
  virtual bool can_reverse() const { return false; }
  // Where the machine is now.
  virtual Position position() const { return {}; }
  // Runs backwards, like resume(): kStep for one hart goes back to the
  // state before that hart's last step; any kContinue runs back to the
  // last breakpoint or watchpoint hit (any hart), or to the start of the
  // recording (StopReason::kReplayStart). The stop comes from wait_stop().
  virtual void reverse(const std::vector<HartAction>& actions, uint64_t steps = 1) {}
  // Goes to an absolute position (backwards or forwards), ignoring
  // breakpoints; the stop (kStep, or kReplayEnd past the end) comes from
  // wait_stop(). False (and `err`) if impossible.
  virtual bool go_to(Position p, std::string& err) {
    err = "this machine is not replaying a recording";
    return false;
  }
  // Called (on the runner's thread, harts parked) whenever the machine is
  // put back to an earlier state (a checkpoint), so that state kept beside
  // the machine (the event breakpoints' shadow) can be dropped; nullptr
  // removes it. Only replays rewind.
  virtual void set_rewind_hook(std::function<void()> f) {}
};

}  // namespace coremu
