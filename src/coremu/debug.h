// The debug/control API shared by the GDB stub, the REPL and replay
// debugging: breakpoints and watchpoints over all harts or one, memory
// access through a hart's MMU or physical, and hart state for reports.
// Run control (pause, resume a subset, step, stop events, time travel) is the Control's (Runner or DetRunner).
//
// Breakpoints and watchpoints may only be changed, and hart state read or
// written, while every hart is parked (Runner::pause_all()).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "coremu/events.h"
#include "coremu/control.h"
#include "machine/machine.h"

namespace coremu {

enum class PointType : uint8_t { kSoftware, kHardware, kWatchWrite, kWatchRead, kWatchAccess, kEvent };

struct Point {
  int id;
  PointType type;
  uint64_t addr;
  uint64_t len;  // bytes (breakpoints: 1)
  int hart;      // -1: every hart
  EventSpec event{};  // kEvent: the event breakpoint or trace
};

class Debugger {
 public:
  Debugger(machine::Machine& m, Control& r);
  ~Debugger();

  machine::Machine& machine() { return m_; }
  Control& runner() { return r_; }
  unsigned num_harts() const { return m_.num_harts(); }
  rv64::Hart& hart(unsigned i) { return m_.hart(i); }

  // Adds a breakpoint or watchpoint (hart -1: all harts); returns its id.
  // Adding the same point twice adds a second reference (gdb may).
  int add_point(PointType t, uint64_t addr, uint64_t len, int hart = -1);
  // Removes one reference to a point with these properties; false if none.
  bool remove_point(PointType t, uint64_t addr, uint64_t len, int hart = -1);
  bool remove_point(int id);
  // Adds an event breakpoint or trace (kEvent); its id, or -1 and `err`.
  int add_event(const EventSpec& spec, std::string& err);
  // The event breakpoints and traces, their shadow state and hits.
  EventMonitor& events() { return *events_; }
  std::vector<Point> points() const;
  // The type of the breakpoint at pc that applies to `hart`, if any.
  std::optional<PointType> breakpoint_at(unsigned hart, uint64_t pc) const;
  // The type of the watchpoint covering addr that applies to `hart`.
  std::optional<PointType> watchpoint_at(unsigned hart, uint64_t addr) const;

  // Memory through `hart`'s MMU as it now stands (virtual), or physical.
  // RAM and ROM at any length; device registers only with naturally
  // aligned accesses of 1, 2, 4 or 8 bytes. False if any byte fails.
  bool read_memory(unsigned hart, uint64_t addr, uint8_t* out, size_t len, bool physical = false);
  bool write_memory(unsigned hart, uint64_t addr, const uint8_t* data, size_t len, bool physical = false);

  // A debugger changed the machine's state (a memory or register write).
  // In a replay that ends the run's agreement with the recording: the
  // first change is kept (what, and at which position) and reported by
  // `info replay`, the stops and the end of the replay. write_memory()
  // notes its writes itself; register writes are noted by the front end.
  // Outside a replay this does nothing.
  void note_change(const std::string& what);
  // "memory write at 0x80001000 (8 bytes) at position 1234", or "" if
  // the debugger has changed nothing in this replay.
  std::string change() const;

  // "name+0x12" for a pc inside a known ELF symbol, or "".
  std::string symbol(uint64_t pc) const { return m_.symbols().describe(pc); }

 private:
  bool apply(std::string* err = nullptr);  // pushes the point lists into the harts
  bool phys_access(uint64_t pa, uint8_t* buf, size_t len, bool write);

  machine::Machine& m_;
  Control& r_;
  mutable std::mutex mu_;
  std::vector<Point> points_;
  int next_id_ = 1;
  std::unique_ptr<EventMonitor> events_;
  std::string change_;  // under mu_
};

// Names of stop reasons, hart states and privilege modes for reports.
const char* to_string(HartRunState s);
const char* priv_name(rv64::Priv p);

}  // namespace coremu
