#include "coremu/events.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>

#include "machine/memmap.h"

namespace coremu {

namespace {

struct CauseName {
  const char* name;
  uint64_t cause;
};
constexpr CauseName kCauses[] = {
    {"insn-misaligned", 0},   {"insn-access-fault", 1},  {"illegal-insn", 2},     {"breakpoint", 3},
    {"load-misaligned", 4},   {"load-access-fault", 5},  {"store-misaligned", 6}, {"store-access-fault", 7},
    {"ecall-u", 8},           {"ecall-s", 9},            {"ecall-m", 11},         {"page-fault-insn", 12},
    {"page-fault-load", 13},  {"page-fault-store", 15},
};
constexpr const char* kIrqNames[16] = {nullptr, "irq-ssi", nullptr, "irq-msi", nullptr, "irq-sti", nullptr, "irq-mti",
                                       nullptr, "irq-sei", nullptr, "irq-mei", nullptr, nullptr,   nullptr, nullptr};

char access_char(rv64::MemEvent::Kind k) {
  switch (k) {
    case rv64::MemEvent::kRead: return 'r';
    case rv64::MemEvent::kWrite: return 'w';
    case rv64::MemEvent::kAmo: return 'a';
    case rv64::MemEvent::kSc: return 's';
  }
  return '?';
}

}  // namespace

std::optional<uint64_t> parse_cause(const std::string& s) {
  for (const CauseName& c : kCauses)
    if (s == c.name) return c.cause;
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  int base = 10;
  size_t i = 0;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    i = 2;
  }
  for (; i < s.size(); ++i) {
    int d = std::isdigit(static_cast<unsigned char>(s[i])) ? s[i] - '0'
            : (base == 16 && std::isxdigit(static_cast<unsigned char>(s[i])))
                ? std::tolower(static_cast<unsigned char>(s[i])) - 'a' + 10
                : -1;
    if (d < 0) return std::nullopt;
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    if (v > 63) return std::nullopt;
  }
  return v;
}

std::string cause_name(uint64_t cause) {
  if (cause & rv64::kInterruptBit) {
    uint64_t c = cause & ~rv64::kInterruptBit;
    if (c < 16 && kIrqNames[c]) return kIrqNames[c];
    return fmt::format("irq-{}", c);
  }
  for (const CauseName& c : kCauses)
    if (c.cause == cause) return c.name;
  return fmt::format("cause-{}", cause);
}

const char* event_kind_name(EventKind k) {
  switch (k) {
    case EventKind::kShared: return "shared";
    case EventKind::kAmo: return "amo";
    case EventKind::kLrscFail: return "lrsc-fail";
    case EventKind::kIpi: return "ipi";
    case EventKind::kIrq: return "irq";
    case EventKind::kTrap: return "trap";
    case EventKind::kRace: return "race";
    case EventKind::kTrace: return "trace";
    case EventKind::kLostUpdate: return "lost-update";
  }
  return "?";
}

EventMonitor::EventMonitor(unsigned num_harts)
    : n_(num_harts), sync_seq_(num_harts, 0), seen_icount_(num_harts, 0), hits_(num_harts) {}

EventMonitor::~EventMonitor() {
  for (auto& p : points_)
    if (p->own_file) std::fclose(p->out);
}

bool EventMonitor::set_points(const std::map<int, EventSpec>& pts, std::string& err) {
  std::lock_guard<std::mutex> lk(mu_);
  auto find = [&](int id) {
    return std::find_if(points_.begin(), points_.end(), [&](const auto& p) { return p->id == id; });
  };
  // Open the new trace files first: a failure changes nothing.
  std::map<int, std::FILE*> opened;
  for (const auto& [id, spec] : pts) {
    if (spec.kind != EventKind::kTrace || spec.file.empty() || find(id) != points_.end()) continue;
    std::FILE* f = std::fopen(spec.file.c_str(), "w");
    if (!f) {
      for (auto& [i, o] : opened) std::fclose(o);
      err = fmt::format("cannot write '{}'", spec.file);
      return false;
    }
    opened[id] = f;
  }
  std::vector<std::unique_ptr<Point>> next;
  for (const auto& [id, spec] : pts) {
    auto it = find(id);
    if (it != points_.end()) {
      next.push_back(std::move(*it));
      points_.erase(it);
      continue;
    }
    auto p = std::make_unique<Point>();
    p->id = id;
    p->spec = spec;
    uint64_t words = spec.len ? ((spec.addr + spec.len + 7) >> 3) - (spec.addr >> 3) : 0;
    if (spec.kind == EventKind::kShared) p->writers.resize(words);
    if (spec.kind == EventKind::kRace) p->race.resize(words);
    if (spec.kind == EventKind::kLostUpdate) p->lost.resize(words);
    if (spec.kind == EventKind::kTrace) {
      p->own_file = opened.count(id) != 0;
      p->out = p->own_file ? opened[id] : stdout;
    }
    next.push_back(std::move(p));
  }
  for (auto& p : points_) {  // the removed ones
    if (p->own_file) std::fclose(p->out);
    else if (p->out) std::fflush(p->out);
  }
  points_ = std::move(next);
  // A stop not reported yet whose point is gone no longer stands (Runner::resume).
  for (auto& h : hits_)
    if (h && std::none_of(points_.begin(), points_.end(), [&](const auto& p) { return p->id == h->point; }))
      h.reset();
  return true;
}

bool EventMonitor::wants_sync() const {
  std::lock_guard<std::mutex> lk(mu_);
  return std::any_of(points_.begin(), points_.end(), [](const auto& p) { return p->spec.kind == EventKind::kRace; });
}

std::vector<rv64::EventRange> EventMonitor::ranges() const {
  std::lock_guard<std::mutex> lk(mu_);
  std::vector<rv64::EventRange> r;
  for (const auto& p : points_) {
    EventKind k = p->spec.kind;
    if (k == EventKind::kShared || k == EventKind::kAmo || k == EventKind::kRace || k == EventKind::kTrace ||
        k == EventKind::kLostUpdate)
      r.push_back({p->spec.addr, p->spec.len});
  }
  return r;
}

void EventMonitor::forget() {
  std::lock_guard<std::mutex> lk(mu_);
  for (auto& p : points_) {
    std::fill(p->writers.begin(), p->writers.end(), Writer{});
    std::fill(p->race.begin(), p->race.end(), RaceWord{});
    std::fill(p->lost.begin(), p->lost.end(), LostWord{});
  }
  std::fill(sync_seq_.begin(), sync_seq_.end(), 0);
  std::fill(seen_icount_.begin(), seen_icount_.end(), 0);
  for (auto& h : hits_) h.reset();
}

std::optional<EventHit> EventMonitor::hit(unsigned hart) const {
  std::lock_guard<std::mutex> lk(mu_);
  if (hart >= hits_.size()) return std::nullopt;
  return hits_[hart];
}

std::vector<TraceRecord> EventMonitor::records() const {
  std::lock_guard<std::mutex> lk(mu_);
  return records_;
}

void EventMonitor::stop_locked(unsigned hart, const EventHit& hit) { hits_[hart] = hit; }

EventHit EventMonitor::hit_of(const Point& p, uint64_t pc, uint64_t icount) {
  EventHit hit;
  hit.point = p.id;
  hit.kind = p.spec.kind;
  hit.pc = pc;
  hit.icount = icount;
  return hit;
}

void EventMonitor::set_writer(EventHit& hit, const Writer& w) {
  hit.has_other = true;
  hit.other = static_cast<unsigned>(w.hart);
  hit.other_access = 'w';
  hit.other_pc = w.pc;
  hit.other_icount = w.icount;
  hit.other_value = w.value;
  hit.other_has_value = w.has_value;
}

// ---- the hooks ----

bool EventMonitor::on_mem(rv64::Hart& h, const rv64::MemEvent& e, bool may_stop) {
  std::lock_guard<std::mutex> lk(mu_);
  const unsigned me = h.hartid();
  if (me >= n_) return false;
  seen_icount_[me] = e.icount;
  const bool atomic = e.kind == rv64::MemEvent::kAmo || e.kind == rv64::MemEvent::kSc;
  const bool writes = e.kind != rv64::MemEvent::kRead;
  const char acc = access_char(e.kind);
  const uint64_t first_word = e.va >> 3, last_word = (e.va + e.len - 1) >> 3;

  EventHit hit;
  hit.access = acc;
  hit.pc = e.pc;
  hit.icount = e.icount;
  hit.addr = e.va;
  hit.len = e.len;
  hit.old_value = e.old_value;
  hit.new_value = e.new_value;
  hit.has_new = e.kind == rv64::MemEvent::kWrite;
  bool stop = false;

  // Decide first: a stop abandons the access, which runs again (and is
  // recorded) when the hart is stepped over it.
  for (auto& pp : points_) {
    if (!may_stop || stop) break;
    Point& p = *pp;
    const EventSpec& s = p.spec;
    if (!overlaps(s, e.va, e.len)) continue;
    uint64_t base = s.addr >> 3;
    switch (s.kind) {
      case EventKind::kAmo:
        if (atomic) stop = true;
        break;
      case EventKind::kShared:
        for (uint64_t w = std::max(first_word, base); w <= last_word && w - base < p.writers.size(); ++w) {
          const Writer& wr = p.writers[w - base];
          if (wr.hart < 0 || static_cast<unsigned>(wr.hart) == me) continue;
          stop = true;
          set_writer(hit, wr);
          break;
        }
        break;
      case EventKind::kRace: {
        if (atomic) break;  // atomics synchronise; they are not racing accesses
        uint64_t best = 0;
        for (uint64_t w = std::max(first_word, base); w <= last_word && w - base < p.race.size(); ++w) {
          const RaceWord& rw = p.race[w - base];
          if (rw.last.empty()) continue;
          for (unsigned b = 0; b < n_; ++b) {
            if (b == me) continue;
            for (int wr = 1; wr >= 0; --wr) {
              if (!wr && !writes) continue;  // two reads do not conflict
              const Acc& a = rw.last[b * 2 + static_cast<unsigned>(wr)];
              if (a.seq == 0 || a.seq <= best) continue;
              if (sync_seq_[b] >= a.seq || sync_seq_[me] >= a.seq) continue;  // synchronised since
              if (seen_icount_[b] > a.icount + s.window) continue;           // outside the window
              best = a.seq;
              stop = true;
              hit.has_other = true;
              hit.other = b;
              hit.other_access = wr ? 'w' : 'r';
              hit.other_pc = a.pc;
              hit.other_icount = a.icount;
              hit.other_has_value = false;
            }
          }
        }
        break;
      }
      case EventKind::kLostUpdate:
        // A plain store whose hart read the word (and has not written it
        // since), while another hart wrote it after that read: the store
        // would wipe out an update this hart never saw.
        if (e.kind != rv64::MemEvent::kWrite) break;
        for (uint64_t w = std::max(first_word, base); w <= last_word && w - base < p.lost.size(); ++w) {
          const LostWord& lw = p.lost[w - base];
          if (lw.reads.empty() || lw.last.hart < 0 || static_cast<unsigned>(lw.last.hart) == me) continue;
          const Acc& rd = lw.reads[me];
          if (rd.seq == 0 || rd.seq < lw.written[me] || lw.last_seq < rd.seq) continue;
          stop = true;
          set_writer(hit, lw.last);
          hit.read_pc = rd.pc;
          hit.read_icount = rd.icount;
          hit.read_value = rd.value;
          break;
        }
        break;
      default:
        break;
    }
    if (stop) {
      hit.point = p.id;
      hit.kind = s.kind;
    }
  }
  if (stop) {
    stop_locked(me, hit);
    return true;
  }

  // The access proceeds: record it.
  const uint64_t seq = ++seq_;
  for (auto& pp : points_) {
    Point& p = *pp;
    const EventSpec& s = p.spec;
    if (!overlaps(s, e.va, e.len)) continue;
    uint64_t base = s.addr >> 3;
    switch (s.kind) {
      case EventKind::kShared:
        if (!writes) break;
        for (uint64_t w = std::max(first_word, base); w <= last_word && w - base < p.writers.size(); ++w)
          p.writers[w - base] = {static_cast<int>(me), e.pc, e.icount, e.new_value, e.kind == rv64::MemEvent::kWrite};
        break;
      case EventKind::kRace:
        if (atomic) break;
        for (uint64_t w = std::max(first_word, base); w <= last_word && w - base < p.race.size(); ++w) {
          RaceWord& rw = p.race[w - base];
          if (rw.last.empty()) rw.last.resize(2 * n_);
          rw.last[me * 2 + (writes ? 1 : 0)] = {seq, e.pc, e.icount};
        }
        break;
      case EventKind::kLostUpdate:
        for (uint64_t w = std::max(first_word, base); w <= last_word && w - base < p.lost.size(); ++w) {
          LostWord& lw = p.lost[w - base];
          if (lw.reads.empty()) {
            lw.reads.resize(n_);
            lw.written.resize(n_);
          }
          if (!writes) {
            lw.reads[me] = {seq, e.pc, e.icount, e.old_value};
          } else {
            lw.last = {static_cast<int>(me), e.pc, e.icount, e.new_value, e.kind == rv64::MemEvent::kWrite};
            lw.last_seq = seq;
            lw.written[me] = seq;
          }
        }
        break;
      case EventKind::kTrace: {
        uint64_t value = e.kind == rv64::MemEvent::kWrite ? e.new_value : e.old_value;
        if (records_.size() < kMaxRecords) records_.push_back({seq, me, e.icount, e.pc, e.va, e.len, acc, value});
        else dropped_ = true;
        std::string sym = symbolize ? symbolize(e.pc) : std::string();
        fmt::print(p.out, "trace: seq={} hart={} icount={} pc={:#x}{} {} addr={:#x} len={} value={:#x}\n", seq, me,
                   e.icount, e.pc, sym.empty() ? "" : " <" + sym + ">", acc, e.va, e.len, value);
        if (p.out == stdout) std::fflush(p.out);
        break;
      }
      default:
        break;
    }
  }
  return false;
}

bool EventMonitor::on_sc_fail(rv64::Hart& h, uint64_t va, uint64_t pc, uint64_t icount, bool may_stop) {
  if (!may_stop) return false;
  std::lock_guard<std::mutex> lk(mu_);
  const unsigned me = h.hartid();
  if (me >= n_) return false;
  for (auto& p : points_) {
    const EventSpec& s = p->spec;
    if (s.kind != EventKind::kLrscFail || (s.len && !overlaps(s, va, 1))) continue;
    EventHit hit = hit_of(*p, pc, icount);
    hit.access = 's';
    hit.addr = va;
    stop_locked(me, hit);
    return true;
  }
  return false;
}

bool EventMonitor::on_trap(rv64::Hart& h, uint64_t cause, uint64_t epc, uint64_t tval, uint64_t icount,
                           bool may_stop) {
  if (!may_stop) return false;
  std::lock_guard<std::mutex> lk(mu_);
  const unsigned me = h.hartid();
  if (me >= n_) return false;
  const bool irq = (cause & rv64::kInterruptBit) != 0;
  for (auto& p : points_) {
    const EventSpec& s = p->spec;
    if (s.kind != (irq ? EventKind::kIrq : EventKind::kTrap)) continue;
    if (s.hart >= 0 && static_cast<unsigned>(s.hart) != me) continue;
    if (!irq && s.cause != cause) continue;
    EventHit hit = hit_of(*p, epc, icount);
    hit.cause = cause;
    hit.tval = tval;
    stop_locked(me, hit);
    return true;
  }
  return false;
}

bool EventMonitor::on_mmio_store(rv64::Hart& h, uint64_t pa, unsigned len, uint64_t value, uint64_t pc,
                                 uint64_t icount, bool may_stop) {
  namespace mm = machine::memmap;
  // CLINT msip registers: 4 bytes per hart at the CLINT's base.
  if (!may_stop || pa < mm::kClintBase || pa >= mm::kClintBase + 4ull * n_ || !(value & 1)) return false;
  (void)len;
  const unsigned to = static_cast<unsigned>((pa - mm::kClintBase) / 4);
  std::lock_guard<std::mutex> lk(mu_);
  const unsigned me = h.hartid();
  if (me >= n_) return false;
  for (auto& p : points_) {
    const EventSpec& s = p->spec;
    if (s.kind != EventKind::kIpi) continue;
    if ((s.hart >= 0 && static_cast<unsigned>(s.hart) != me) || (s.to >= 0 && static_cast<unsigned>(s.to) != to))
      continue;
    EventHit hit = hit_of(*p, pc, icount);
    hit.access = 'w';
    hit.addr = pa;
    hit.new_value = value;
    hit.has_new = true;
    hit.has_other = true;
    hit.other = to;
    stop_locked(me, hit);
    return true;
  }
  return false;
}

void EventMonitor::on_sync(rv64::Hart& h, uint64_t icount) {
  std::lock_guard<std::mutex> lk(mu_);
  const unsigned me = h.hartid();
  if (me >= n_) return;
  sync_seq_[me] = seq_;
  seen_icount_[me] = icount;
}

// ---- Chrome trace ----

std::string json_escape(const std::string& s) {
  std::string esc;
  for (char c : s) {
    if (c == '"' || c == '\\') esc += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) esc += c;
  }
  return esc;
}

bool EventMonitor::export_chrome(const std::string& path, std::string& err) const {
  std::vector<TraceRecord> recs = records();
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) {
    err = fmt::format("cannot write '{}'", path);
    return false;
  }
  fmt::print(f, "{{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
  fmt::print(f, "{{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":0,\"tid\":0,\"args\":{{\"name\":\"coremu\"}}}}");
  for (unsigned h = 0; h < n_; ++h)
    fmt::print(f, ",\n{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":0,\"tid\":{},\"args\":{{\"name\":\"hart {}\"}}}}",
               h, h);
  for (const TraceRecord& r : recs) {
    std::string esc = json_escape(symbolize ? symbolize(r.pc) : std::string());
    // One microsecond per access in the global order: "ts" is the sequence number.
    fmt::print(f,
               ",\n{{\"name\":\"{} {:#x}\",\"cat\":\"mem\",\"ph\":\"X\",\"ts\":{},\"dur\":1,\"pid\":0,\"tid\":{},"
               "\"args\":{{\"seq\":{},\"icount\":{},\"pc\":\"{:#x}\",\"symbol\":\"{}\",\"len\":{},\"value\":\"{:#x}\"}}}}",
               r.access, r.addr, r.seq, r.hart, r.seq, r.icount, r.pc, esc, r.len, r.value);
  }
  fmt::print(f, "\n]}}\n");
  bool ok = std::fflush(f) == 0;
  ok &= std::fclose(f) == 0;
  if (!ok) err = fmt::format("error writing '{}'", path);
  return ok;
}

}  // namespace coremu
