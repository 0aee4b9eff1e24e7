// `coremu replay FILE --events OUT.json`: the inter-core events of a
// recording (interrupts, IPIs sent through the CLINT, traps, failed SCs,
// and accesses to watched ranges with the hart-to-hart communication they
// carry) as a Chrome/Perfetto trace, one track per hart. Time is the
// replay position (global steps), shown as microseconds.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "coremu/det_runner.h"
#include "rv64/hart.h"

namespace replay {

class Timeline final : public rv64::EventHooks {
 public:
  // `watch`: virtual ranges (as the harts see them) whose reads and writes
  // are recorded, with an arrow from the hart that wrote a word last to
  // another hart that reads or updates it.
  Timeline(machine::Machine& m, const coremu::DetRunner& r, std::vector<rv64::EventRange> watch);
  void install();    // hooks every hart (before the machine runs)
  void uninstall();
  bool write(const std::string& path, std::string& err) const;
  size_t size() const { return events_.size(); }
  static constexpr size_t kMaxEvents = 2'000'000;

  bool on_mem(rv64::Hart& h, const rv64::MemEvent& e, bool may_stop) override;
  bool on_sc_fail(rv64::Hart& h, uint64_t va, uint64_t pc, uint64_t icount, bool may_stop) override;
  bool on_trap(rv64::Hart& h, uint64_t cause, uint64_t epc, uint64_t tval, uint64_t icount, bool may_stop) override;
  bool on_mmio_store(rv64::Hart& h, uint64_t pa, unsigned len, uint64_t value, uint64_t pc, uint64_t icount,
                     bool may_stop) override;
  void on_sync(rv64::Hart& h, uint64_t icount) override {}

 private:
  struct Event {
    uint64_t pos;
    unsigned hart;
    std::string name, cat;
    uint64_t pc, icount;
    std::string args;  // extra JSON members, without braces
    long flow_from = -1;  // index of the event an arrow comes from
  };
  void add(Event e);
  machine::Machine& m_;
  const coremu::DetRunner& r_;
  std::vector<rv64::EventRange> watch_;
  std::vector<Event> events_;
  bool dropped_ = false;
  std::map<uint64_t, size_t> last_write_;  // 8-byte word -> index of the event that wrote it last
};

}  // namespace replay
