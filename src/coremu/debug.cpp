#include "coremu/debug.h"

#include <fmt/core.h>

#include <cstdio>

#include <algorithm>
#include <cstring>
#include <map>

namespace coremu {

namespace {
bool is_breakpoint(PointType t) { return t == PointType::kSoftware || t == PointType::kHardware; }
bool is_watchpoint(PointType t) {
  return t == PointType::kWatchRead || t == PointType::kWatchWrite || t == PointType::kWatchAccess;
}
uint8_t watch_mask(PointType t) {
  switch (t) {
    case PointType::kWatchRead: return rv64::kWatchRead;
    case PointType::kWatchWrite: return rv64::kWatchWrite;
    case PointType::kWatchAccess: return rv64::kWatchAccess;
    default: return 0;
  }
}
}  // namespace

const char* to_string(HartRunState s) {
  switch (s) {
    case HartRunState::kRunning: return "running";
    case HartRunState::kWfi: return "wfi";
    case HartRunState::kStopped: return "stopped";
  }
  return "?";
}

const char* priv_name(rv64::Priv p) {
  switch (p) {
    case rv64::kUser: return "U";
    case rv64::kSupervisor: return "S";
    case rv64::kMachine: return "M";
  }
  return "?";
}

Debugger::Debugger(machine::Machine& m, Control& r)
    : m_(m), r_(r), events_(std::make_unique<EventMonitor>(m.num_harts())) {
  events_->symbolize = [this](uint64_t pc) { return m_.symbols().describe(pc); };
  r_.set_event_check([this](const StopEvent& ev) { return events_->hit(ev.hart).has_value(); });
  // A replay going back to a checkpoint: the event shadow (who wrote each
  // word last...) would describe the future; it restarts empty there, so
  // that re-execution from the checkpoint rebuilds the same shadow every
  // time (reverse-continue's scan and its final pass see the same stops).
  r_.set_rewind_hook([this] { events_->forget(); });
}

Debugger::~Debugger() {
  r_.set_event_check(nullptr);
  r_.set_rewind_hook(nullptr);
  // The harts must not call into a monitor that is gone.
  for (unsigned h = 0; h < m_.num_harts(); ++h) m_.hart(h).set_events(nullptr, {}, false);
}

int Debugger::add_event(const EventSpec& spec, std::string& err) {
  std::lock_guard<std::mutex> lk(mu_);
  int id = next_id_;
  Point p{id, PointType::kEvent, spec.addr, std::max<uint64_t>(spec.len, 1), -1, spec};
  points_.push_back(p);
  if (!apply(&err)) {
    points_.pop_back();
    apply();
    return -1;
  }
  ++next_id_;
  return id;
}

int Debugger::add_point(PointType t, uint64_t addr, uint64_t len, int hart) {
  std::lock_guard<std::mutex> lk(mu_);
  int id = next_id_++;
  points_.push_back({id, t, addr, std::max<uint64_t>(len, 1), hart});
  apply();
  return id;
}

bool Debugger::remove_point(PointType t, uint64_t addr, uint64_t len, int hart) {
  std::lock_guard<std::mutex> lk(mu_);
  len = std::max<uint64_t>(len, 1);
  auto it = std::find_if(points_.begin(), points_.end(), [&](const Point& p) {
    return p.type == t && p.addr == addr && (is_breakpoint(t) || p.len == len) && p.hart == hart;
  });
  if (it == points_.end()) return false;
  points_.erase(it);
  apply();
  return true;
}

bool Debugger::remove_point(int id) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = std::find_if(points_.begin(), points_.end(), [&](const Point& p) { return p.id == id; });
  if (it == points_.end()) return false;
  points_.erase(it);
  apply();
  return true;
}

std::vector<Point> Debugger::points() const {
  std::lock_guard<std::mutex> lk(mu_);
  return points_;
}

std::optional<PointType> Debugger::breakpoint_at(unsigned hart, uint64_t pc) const {
  std::lock_guard<std::mutex> lk(mu_);
  for (const Point& p : points_)
    if (is_breakpoint(p.type) && p.addr == pc && (p.hart < 0 || static_cast<unsigned>(p.hart) == hart))
      return p.type;
  return std::nullopt;
}

std::optional<PointType> Debugger::watchpoint_at(unsigned hart, uint64_t addr) const {
  std::lock_guard<std::mutex> lk(mu_);
  for (const Point& p : points_)
    if (is_watchpoint(p.type) && addr >= p.addr && addr - p.addr < p.len &&
        (p.hart < 0 || static_cast<unsigned>(p.hart) == hart))
      return p.type;
  return std::nullopt;
}

bool Debugger::apply(std::string* err) {
  std::map<int, EventSpec> evs;
  for (const Point& p : points_)
    if (p.type == PointType::kEvent) evs[p.id] = p.event;
  std::string e;
  if (!events_->set_points(evs, e)) {
    if (err) *err = e;
    return false;
  }
  rv64::EventHooks* hooks = events_->empty() ? nullptr : events_.get();
  std::vector<rv64::EventRange> ranges = events_->ranges();
  bool sync = events_->wants_sync();
  for (unsigned h = 0; h < m_.num_harts(); ++h) m_.hart(h).set_events(hooks, ranges, sync);
  for (unsigned h = 0; h < m_.num_harts(); ++h) {
    std::vector<uint64_t> bps;
    std::vector<rv64::Watchpoint> wps;
    for (const Point& p : points_) {
      if (p.hart >= 0 && static_cast<unsigned>(p.hart) != h) continue;
      if (p.type == PointType::kEvent) continue;
      if (is_breakpoint(p.type))
        bps.push_back(p.addr);
      else
        wps.push_back({p.addr, p.len, watch_mask(p.type)});
    }
    rv64::Hart& hart = m_.hart(h);
    // Only flush what changed: a breakpoint change costs a hart its decoded
    // blocks, a watchpoint change its TLB.
    std::sort(bps.begin(), bps.end());
    bps.erase(std::unique(bps.begin(), bps.end()), bps.end());
    if (bps != hart.breakpoints()) hart.set_breakpoints(std::move(bps));
    if (wps != hart.watchpoints()) hart.set_watchpoints(std::move(wps));
  }
  return true;
}

bool Debugger::phys_access(uint64_t pa, uint8_t* buf, size_t len, bool write) {
  if (write ? m_.write_phys(pa, buf, len) : m_.read_phys(pa, buf, len)) return true;
  // Device registers: one naturally aligned access.
  if ((len != 1 && len != 2 && len != 4 && len != 8) || (pa & (len - 1))) return false;
  uint64_t v = 0;
  if (write) {
    std::memcpy(&v, buf, len);
    return m_.store(pa, static_cast<unsigned>(len), v);
  }
  if (!m_.load(pa, static_cast<unsigned>(len), v)) return false;
  std::memcpy(buf, &v, len);
  return true;
}

bool Debugger::read_memory(unsigned hart, uint64_t addr, uint8_t* out, size_t len, bool physical) {
  if (physical) return phys_access(addr, out, len, false);
  rv64::Hart& h = m_.hart(hart);
  while (len > 0) {
    size_t chunk = std::min<uint64_t>(len, rv64::kPageSize - (addr & (rv64::kPageSize - 1)));
    auto pa = h.translate_debug(addr, rv64::Access::kRead);
    if (!pa) pa = h.translate_debug(addr, rv64::Access::kExec);  // execute-only code
    if (!pa || !phys_access(*pa, out, chunk, false)) return false;
    addr += chunk;
    out += chunk;
    len -= chunk;
  }
  return true;
}

void Debugger::note_change(const std::string& what) {
  if (!r_.replaying()) return;
  std::string text = fmt::format("{} at position {}", what, r_.position().steps);
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!change_.empty()) return;
    change_ = text;
  }
  fmt::print(stderr, "coremu: replay: the debugger changed the machine ({}): from here on it does not follow the "
             "recording, and its digests are not the recording's\n", text);
}

std::string Debugger::change() const {
  std::lock_guard<std::mutex> lk(mu_);
  return change_;
}

bool Debugger::write_memory(unsigned hart, uint64_t addr, const uint8_t* data, size_t len, bool physical) {
  if (len) note_change(fmt::format("{}memory write at {:#x} ({} bytes)", physical ? "physical " : "", addr, len));
  std::vector<uint8_t> buf(data, data + len);
  if (physical) return phys_access(addr, buf.data(), len, true);
  rv64::Hart& h = m_.hart(hart);
  uint8_t* p = buf.data();
  while (len > 0) {
    size_t chunk = std::min<uint64_t>(len, rv64::kPageSize - (addr & (rv64::kPageSize - 1)));
    // A debugger may patch read-only or execute-only pages: any mapping will do.
    auto pa = h.translate_debug(addr, rv64::Access::kWrite);
    if (!pa) pa = h.translate_debug(addr, rv64::Access::kRead);
    if (!pa) pa = h.translate_debug(addr, rv64::Access::kExec);
    if (!pa || !phys_access(*pa, p, chunk, true)) return false;
    addr += chunk;
    p += chunk;
    len -= chunk;
  }
  return true;
}

}  // namespace coremu
