#include "replay/timeline.h"

#include <fmt/core.h>

#include <cstdio>

#include "coremu/events.h"
#include "machine/memmap.h"

namespace replay {

Timeline::Timeline(machine::Machine& m, const coremu::DetRunner& r, std::vector<rv64::EventRange> watch)
    : m_(m), r_(r), watch_(std::move(watch)) {}

void Timeline::install() {
  for (unsigned i = 0; i < m_.num_harts(); ++i) m_.hart(i).set_events(this, watch_, false);
}

void Timeline::uninstall() {
  for (unsigned i = 0; i < m_.num_harts(); ++i) m_.hart(i).set_events(nullptr, {}, false);
}

void Timeline::add(Event e) {
  if (events_.size() >= kMaxEvents) {
    dropped_ = true;
    return;
  }
  events_.push_back(std::move(e));
}

bool Timeline::on_mem(rv64::Hart& h, const rv64::MemEvent& e, bool) {
  bool hit = false;
  for (const rv64::EventRange& w : watch_) hit |= e.va < w.addr + w.len && w.addr < e.va + e.len;
  if (!hit) return false;
  static const char* kNames[] = {"read", "write", "amo", "sc"};
  Event ev{r_.position_now(), h.hartid(), fmt::format("{} {:#x}", kNames[e.kind], e.va), "shared", e.pc, e.icount,
           fmt::format("\"addr\":\"{:#x}\",\"len\":{},\"old\":\"{:#x}\"", e.va, e.len, e.old_value)};
  uint64_t word = e.va & ~7ull;
  auto it = last_write_.find(word);
  // A hart reading (or updating) a word another hart wrote last: communication.
  if (it != last_write_.end() && it->second < events_.size() && events_[it->second].hart != h.hartid()) {
    ev.flow_from = static_cast<long>(it->second);
    ev.args += fmt::format(",\"from_hart\":{}", events_[it->second].hart);
  }
  add(std::move(ev));
  if (e.kind != rv64::MemEvent::kRead && !events_.empty()) last_write_[word] = events_.size() - 1;
  return false;
}

bool Timeline::on_sc_fail(rv64::Hart& h, uint64_t va, uint64_t pc, uint64_t icount, bool) {
  add({r_.position_now(), h.hartid(), fmt::format("sc fail {:#x}", va), "sync", pc, icount, ""});
  return false;
}

bool Timeline::on_trap(rv64::Hart& h, uint64_t cause, uint64_t epc, uint64_t tval, uint64_t icount, bool) {
  bool irq = (cause & rv64::kInterruptBit) != 0;
  add({r_.position_now(), h.hartid(), coremu::cause_name(cause), irq ? "interrupt" : "trap", epc, icount,
       fmt::format("\"cause\":{},\"tval\":\"{:#x}\"", cause & 0xff, tval)});
  return false;
}

bool Timeline::on_mmio_store(rv64::Hart& h, uint64_t pa, unsigned len, uint64_t value, uint64_t pc, uint64_t icount,
                             bool) {
  using machine::memmap::kClintBase;
  uint64_t n = m_.num_harts();
  if (pa >= kClintBase && pa < kClintBase + 4 * n && (value & 1))
    add({r_.position_now(), h.hartid(), fmt::format("ipi -> hart {}", (pa - kClintBase) / 4), "ipi", pc, icount,
         fmt::format("\"to\":{}", (pa - kClintBase) / 4)});
  return false;
}

bool Timeline::write(const std::string& path, std::string& err) const {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) {
    err = fmt::format("cannot write '{}'", path);
    return false;
  }
  fmt::print(f, "{{\"displayTimeUnit\":\"ns\",\"otherData\":{{\"time\":\"replay position (global steps)\","
                "\"dropped\":{}}},\"traceEvents\":[\n", dropped_ ? "true" : "false");
  fmt::print(f, "{{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":0,\"tid\":0,\"args\":{{\"name\":\"coremu replay\"}}}}");
  for (unsigned h = 0; h < m_.num_harts(); ++h)
    fmt::print(f, ",\n{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":0,\"tid\":{},\"args\":{{\"name\":\"hart {}\"}}}}",
               h, h);
  for (size_t i = 0; i < events_.size(); ++i) {
    const Event& e = events_[i];
    std::string esc = coremu::json_escape(m_.symbols().describe(e.pc));
    fmt::print(f,
               ",\n{{\"name\":\"{}\",\"cat\":\"{}\",\"ph\":\"X\",\"ts\":{},\"dur\":1,\"pid\":0,\"tid\":{},"
               "\"args\":{{\"pc\":\"{:#x}\",\"symbol\":\"{}\",\"icount\":{}{}{}}}}}",
               e.name, e.cat, e.pos, e.hart, e.pc, esc, e.icount, e.args.empty() ? "" : ",", e.args);
    if (e.flow_from >= 0) {
      const Event& from = events_[static_cast<size_t>(e.flow_from)];
      fmt::print(f, ",\n{{\"name\":\"data\",\"cat\":\"flow\",\"ph\":\"s\",\"id\":{},\"ts\":{},\"pid\":0,\"tid\":{}}}", i,
                 from.pos, from.hart);
      fmt::print(f, ",\n{{\"name\":\"data\",\"cat\":\"flow\",\"ph\":\"f\",\"bp\":\"e\",\"id\":{},\"ts\":{},\"pid\":0,"
                    "\"tid\":{}}}", i, e.pos, e.hart);
    }
  }
  fmt::print(f, "\n]}}\n");
  bool ok = std::fflush(f) == 0;
  ok &= std::fclose(f) == 0;
  if (!ok) err = fmt::format("error writing '{}'", path);
  return ok;
}

}  // namespace replay
