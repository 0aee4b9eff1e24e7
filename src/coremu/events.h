// Event breakpoints on shared memory and access tracing (issue 5): the
// hooks a hart calls from its slow paths (rv64::EventHooks), the shadow
// state they keep, and what they found when they stopped a hart.
//
// One EventMonitor serves every hart of a machine. Its state (the shadow
// of each range, the per-hart synchronisation clocks, the trace) is under
// one mutex, taken only on the slow paths that reach the hooks: accesses
// to pages an event range covers, trap entry, failed SCs, device stores,
// and the synchronising instructions while race breakpoints exist.
//
// The points are set by the Debugger (add_point / remove_point) while
// every hart is parked; the hooks then run on the harts' threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "rv64/hart.h"

namespace coremu {

enum class EventKind : uint8_t { kShared, kAmo, kLrscFail, kIpi, kIrq, kTrap, kRace, kTrace, kLostUpdate };

// One event breakpoint or trace (see Debugger::add_event).
struct EventSpec {
  EventKind kind = EventKind::kShared;
  uint64_t addr = 0, len = 0;  // the range (lrsc-fail: len 0 = anywhere)
  int hart = -1;               // irq, trap: the hart (-1 any); ipi: the sender
  int to = -1;                 // ipi: the target hart (-1 any)
  uint64_t cause = 0;          // trap: the exception cause
  uint64_t window = 0;         // race: instructions
  std::string file;            // trace: output file ("" = stdout)
};

// What an event breakpoint saw when it stopped a hart.
struct EventHit {
  int point = 0;
  EventKind kind = EventKind::kShared;
  char access = 'r';           // 'r' read, 'w' write, 'a' AMO, 's' SC
  uint64_t pc = 0;             // the instruction (for after-stops: the one that caused it)
  uint64_t icount = 0;
  uint64_t addr = 0;
  unsigned len = 0;
  uint64_t old_value = 0, new_value = 0;  // memory before, the value stored
  bool has_new = false;
  // The other hart (shared, race; ipi: the target).
  bool has_other = false;
  unsigned other = 0;
  char other_access = 'w';
  uint64_t other_pc = 0, other_icount = 0, other_value = 0;
  bool other_has_value = false;
  uint64_t cause = 0, tval = 0;  // trap, irq
  // lost-update: this hart's read of the word, before the other hart's write.
  uint64_t read_pc = 0, read_icount = 0, read_value = 0;
};

// One traced access.
struct TraceRecord {
  uint64_t seq;
  unsigned hart;
  uint64_t icount, pc, addr;
  unsigned len;
  char access;  // r w a s
  uint64_t value;  // read: the value; write: the new value; AMO/SC: the old value
};

// Exception cause names for `break trap` ("ecall-s", "page-fault-load"...).
std::optional<uint64_t> parse_cause(const std::string& s);
std::string cause_name(uint64_t cause);  // interrupts too ("irq-mti")
// `s` as the inside of a JSON string (quotes and backslashes escaped,
// control characters dropped), for the Chrome trace files.
std::string json_escape(const std::string& s);
const char* event_kind_name(EventKind k);

class EventMonitor final : public rv64::EventHooks {
 public:
  explicit EventMonitor(unsigned num_harts);
  ~EventMonitor() override;

  // Replaces the points (id -> spec). Shadow state of points kept by id
  // survives; trace files of removed traces are closed. Harts parked.
  // False (err) if a trace file cannot be opened.
  bool set_points(const std::map<int, EventSpec>& pts, std::string& err);
  bool empty() const { return points_.empty(); }
  bool wants_sync() const;  // a race breakpoint exists
  std::vector<rv64::EventRange> ranges() const;  // pages to mark in the TLBs

  // Forgets what the shadow learned (last writers, reads, synchronisation,
  // pending stops), keeping the points and the trace: the machine went
  // back to an earlier state. Harts parked.
  void forget();

  // What stopped `hart` last (valid while it is parked after that stop).
  std::optional<EventHit> hit(unsigned hart) const;

  // The trace recorded so far, in global order (at most kMaxRecords).
  std::vector<TraceRecord> records() const;
  // Writes the recorded accesses as a Chrome trace-event JSON file; false (err) if it cannot.
  bool export_chrome(const std::string& path, std::string& err) const;
  static constexpr size_t kMaxRecords = 1'000'000;
  // "name+0x12" for a pc (trace lines, the Chrome trace); set before any point.
  std::function<std::string(uint64_t)> symbolize;

  // rv64::EventHooks (hart threads)
  bool on_mem(rv64::Hart& h, const rv64::MemEvent& e, bool may_stop) override;
  bool on_sc_fail(rv64::Hart& h, uint64_t va, uint64_t pc, uint64_t icount, bool may_stop) override;
  bool on_trap(rv64::Hart& h, uint64_t cause, uint64_t epc, uint64_t tval, uint64_t icount, bool may_stop) override;
  bool on_mmio_store(rv64::Hart& h, uint64_t pa, unsigned len, uint64_t value, uint64_t pc, uint64_t icount,
                     bool may_stop) override;
  void on_sync(rv64::Hart& h, uint64_t icount) override;

 private:
  // The last write to one 8-byte word (shared breakpoints).
  struct Writer {
    int hart = -1;
    uint64_t pc = 0, icount = 0, value = 0;
    bool has_value = false;
  };
  // A hart's last read and last write of one word (race breakpoints).
  struct Acc {
    uint64_t seq = 0;  // 0: none
    uint64_t pc = 0, icount = 0;
    uint64_t value = 0;  // lost-update reads: the value read
  };
  // One word of a lost-update breakpoint: its last write (any hart) and,
  // per hart, its last read and the sequence number of its last write.
  struct LostWord {
    Writer last;
    uint64_t last_seq = 0;
    std::vector<Acc> reads;         // [hart], allocated on first use
    std::vector<uint64_t> written;  // [hart]: seq of its last write
  };
  struct RaceWord {
    std::vector<Acc> last;  // [hart * 2 + (write ? 1 : 0)], allocated on first use
  };
  struct Point {
    int id;
    EventSpec spec;
    std::vector<Writer> writers;  // shared: per word
    std::vector<RaceWord> race;   // race: per word
    std::vector<LostWord> lost;   // lost-update: per word
    std::FILE* out = nullptr;     // trace
    bool own_file = false;
  };
  static bool overlaps(const EventSpec& s, uint64_t va, unsigned len) {
    return va < s.addr + s.len && s.addr < va + len;
  }
  void stop_locked(unsigned hart, const EventHit& hit);
  static EventHit hit_of(const Point& p, uint64_t pc, uint64_t icount);  // point, kind, pc, icount set
  static void set_writer(EventHit& hit, const Writer& w);                // the other hart: w's write

  const unsigned n_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Point>> points_;
  uint64_t seq_ = 0;                  // accesses seen, in global order
  std::vector<uint64_t> sync_seq_;    // per hart: seq_ at its last synchronising op
  std::vector<uint64_t> seen_icount_; // per hart: its icount at its last hook
  std::vector<std::optional<EventHit>> hits_;
  std::vector<TraceRecord> records_;
  bool dropped_ = false;
};

}  // namespace coremu
