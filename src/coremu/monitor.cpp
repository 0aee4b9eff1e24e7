#include "coremu/monitor.h"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "coremu/cmdparse.h"
#include "rv64/insn.h"
#include "rv64/regnames.h"

namespace coremu {

namespace {

CommandResult fail(std::string msg) { return {false, std::move(msg) + "\n"}; }

// Start of the function (symbol) containing addr, or addr itself.
uint64_t symbol_start(Debugger& d, uint64_t addr) {
  const auto& by = d.machine().symbols().by_addr;
  auto it = by.upper_bound(addr);
  if (it == by.begin()) return addr;
  return std::prev(it)->first;
}

std::string escape_char(uint8_t c, char quote) {
  switch (c) {
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\0': return "\\0";
    case '\\': return "\\\\";
    default: break;
  }
  if (c == static_cast<uint8_t>(quote)) return std::string("\\") + quote;
  if (c >= 0x20 && c < 0x7f) return std::string(1, static_cast<char>(c));
  return fmt::format("\\x{:02x}", c);
}

const char* where(bool physical) { return physical ? "physical memory" : "the hart's MMU"; }

// Reads one instruction at addr: its raw bits and length; false if unreadable.
bool read_insn(Debugger& d, unsigned hart, uint64_t addr, bool physical, uint32_t& raw, unsigned& len) {
  uint8_t b[4] = {};
  if (!d.read_memory(hart, addr, b, 2, physical)) return false;
  uint16_t lo = static_cast<uint16_t>(b[0] | b[1] << 8);
  len = rv64::insn_length(lo);
  raw = lo;
  if (len == 4) {
    if (!d.read_memory(hart, addr + 2, b + 2, 2, physical)) return false;
    raw |= static_cast<uint32_t>(b[2] | b[3] << 8) << 16;
  }
  return true;
}

std::string insn_line(Debugger& d, uint64_t addr, uint32_t raw, unsigned len, bool here) {
  std::string text = rv64::disassemble(raw, addr);
  auto tab = text.find('\t');
  if (tab != std::string::npos) text = fmt::format("{:<8} {}", text.substr(0, tab), text.substr(tab + 1));
  std::string hex = len == 4 ? fmt::format("{:08x}", raw) : fmt::format("    {:04x}", raw & 0xffff);
  return fmt::format("{}{:#x}{}:  {}  {}\n", here ? "=> " : "   ", addr, sym_suffix(d, addr), hex, text);
}

// ---- the commands ----

CommandResult cmd_help(CommandContext&, const Invocation& inv) {
  if (!inv.table) return {};
  if (inv.args.empty()) return {true, inv.table->help("commands")};
  std::vector<std::string> w = inv.args;
  size_t used = 0;
  const Command* c = inv.table->find(w, used);
  if (!c) return fail(fmt::format("help: no command '{}'", inv.args[0]));
  std::string out = fmt::format("{}  {}\n", c->usage, c->help);
  if (!c->aliases.empty()) {
    out += "  aliases:";
    for (auto& a : c->aliases) out += " " + a;
    out += "\n";
  }
  return {true, out};
}

CommandResult cmd_info_harts(CommandContext& ctx, const Invocation& inv) {
  if (!inv.args.empty()) return fail("usage: info harts");
  return {true, format_harts(ctx.d)};
}

CommandResult cmd_icount(CommandContext& ctx, const Invocation& inv) {
  Debugger& d = ctx.d;
  if (inv.args.size() > 1) return fail("usage: icount [HART]");
  std::string err;
  if (inv.args.size() == 1) {
    unsigned h;
    if (!parse_hart_arg(d, inv.args[0], h, err)) return fail("icount: " + err);
    return {true, fmt::format("{}\n", d.hart(h).icount())};
  }
  std::string out;
  for (unsigned i = 0; i < d.num_harts(); ++i) out += fmt::format("hart {} {}\n", i, d.hart(i).icount());
  return {true, out};
}

CommandResult cmd_pause(CommandContext& ctx, const Invocation& inv) {
  if (!inv.args.empty()) return fail("usage: pause");
  if (!ctx.d.runner().pause_all()) return fail("pause: the machine is not running");
  return {true, "all harts paused\n"};
}

CommandResult cmd_regs(CommandContext& ctx, const Invocation& inv) {
  Debugger& d = ctx.d;
  if (inv.args.size() > 1) return fail("usage: regs [HART]");
  unsigned hn = ctx.cur_hart;
  std::string err;
  if (inv.args.size() == 1 && !parse_hart_arg(d, inv.args[0], hn, err)) return fail("regs: " + err);
  rv64::Hart& h = d.hart(hn);
  std::string out = fmt::format("hart {}  pc={:#018x}{}  priv={}  icount={}\n", hn, h.pc, sym_suffix(d, h.pc),
                                priv_name(h.priv()), h.icount());
  for (unsigned i = 0; i < 32; ++i)
    out += fmt::format("{:<4} {:#018x}{}", rv64::gpr_name(i), i ? h.x[i] : 0, i % 4 == 3 ? "\n" : "  ");
  for (unsigned i = 0; i < 32; ++i)
    out += fmt::format("{:<4} {:#018x}{}", rv64::fpr_name(i), h.f[i], i % 4 == 3 ? "\n" : "  ");
  return {true, out};
}

CommandResult cmd_csr(CommandContext& ctx, const Invocation& inv) {
  Debugger& d = ctx.d;
  if (inv.args.empty() || inv.args.size() > 2) return fail("usage: csr NAME [HART]");
  unsigned hn = ctx.cur_hart;
  std::string err;
  if (inv.args.size() == 2 && !parse_hart_arg(d, inv.args[1], hn, err)) return fail("csr: " + err);
  auto num = rv64::csr_number(inv.args[0]);
  if (!num) {
    auto n = parse_number(inv.args[0]);
    if (!n || *n > 0xfff) return fail(fmt::format("csr: no CSR '{}'", inv.args[0]));
    num = static_cast<unsigned>(*n);
  }
  uint64_t v = 0;
  if (!d.hart(hn).csr_read(*num, v)) return fail(fmt::format("csr: hart {} has no CSR {:#x}", hn, *num));
  auto name = rv64::csr_name(*num);
  return {true, fmt::format("hart {} {} = {:#018x}\n", hn, name ? std::string(*name) : fmt::format("csr{:#x}", *num), v)};
}

CommandResult examine(CommandContext& ctx, const Invocation& inv, bool physical) {
  Debugger& d = ctx.d;
  const char* cmd = physical ? "xp" : "x";
  std::string err;
  XFormat f;
  if (!parse_xformat(inv.modifier, f, err)) return fail(fmt::format("{}: {}", cmd, err));
  size_t max_args = physical ? 1 : 2;
  if (inv.args.empty() || inv.args.size() > max_args)
    return fail(physical ? "usage: xp/NFU ADDR" : "usage: x/NFU ADDR [HART]");
  unsigned hn = ctx.cur_hart;
  if (inv.args.size() == 2 && !parse_hart_arg(d, inv.args[1], hn, err)) return fail(fmt::format("{}: {}", cmd, err));
  uint64_t addr;
  if (!parse_addr_arg(d, hn, inv.args[0], addr, err)) return fail(fmt::format("{}: {}", cmd, err));
  auto unreadable = [&](uint64_t a) {
    return fail(fmt::format("{}: cannot read {:#x} through {}{}", cmd, a, where(physical),
                            physical ? "" : fmt::format(" (hart {})", hn)));
  };
  std::string out;
  if (f.format == 'i') {
    for (uint64_t k = 0; k < f.count; ++k) {
      uint32_t raw;
      unsigned len;
      if (!read_insn(d, hn, addr, physical, raw, len)) return unreadable(addr);
      out += insn_line(d, addr, raw, len, !physical && addr == d.hart(hn).pc);
      addr += len;
    }
    return {true, out};
  }
  if (f.format == 's') {
    for (uint64_t k = 0; k < f.count; ++k) {
      std::string s;
      uint64_t a = addr;
      for (;;) {
        uint8_t c;
        if (!d.read_memory(hn, a, &c, 1, physical)) return unreadable(a);
        ++a;
        if (c == 0) break;
        s += escape_char(c, '"');
        if (a - addr >= 4096) break;
      }
      out += fmt::format("{:#x}{}:  \"{}\"\n", addr, sym_suffix(d, addr), s);
      addr = a;
    }
    return {true, out};
  }
  unsigned per_line = f.format == 'c' ? 8 : std::max(1u, 16 / f.size);
  for (uint64_t k = 0; k < f.count; ++k) {
    uint64_t a = addr + k * f.size;
    if (k % per_line == 0) out += fmt::format("{}{:#x}{}:", k ? "\n" : "", a, sym_suffix(d, a));
    uint8_t b[8] = {};
    if (!d.read_memory(hn, a, b, f.size, physical)) return unreadable(a);
    uint64_t v = 0;
    for (unsigned j = 0; j < f.size; ++j) v |= static_cast<uint64_t>(b[j]) << (8 * j);
    unsigned bits = 8 * f.size;
    int64_t sv = bits == 64 ? static_cast<int64_t>(v) : static_cast<int64_t>(v << (64 - bits)) >> (64 - bits);
    switch (f.format) {
      case 'x': out += fmt::format("  0x{:0{}x}", v, f.size * 2); break;
      case 'd': out += fmt::format("  {}", sv); break;
      case 'u': out += fmt::format("  {}", v); break;
      case 'c': out += fmt::format("  {} '{}'", sv, escape_char(static_cast<uint8_t>(v), '\'')); break;
    }
  }
  out += "\n";
  return {true, out};
}

CommandResult cmd_disas(CommandContext& ctx, const Invocation& inv) {
  Debugger& d = ctx.d;
  if (inv.args.size() > 2) return fail("usage: disas [ADDR] [N]");
  unsigned hn = ctx.cur_hart;
  uint64_t addr = d.hart(hn).pc, n = 8;
  std::string err;
  if (!inv.args.empty() && !parse_addr_arg(d, hn, inv.args[0], addr, err)) return fail("disas: " + err);
  if (inv.args.size() == 2) {
    auto v = parse_number(inv.args[1]);
    if (!v || *v == 0 || *v > 100000) return fail(fmt::format("disas: bad count '{}'", inv.args[1]));
    n = *v;
  }
  std::string out;
  for (uint64_t k = 0; k < n; ++k) {
    uint32_t raw;
    unsigned len;
    if (!read_insn(d, hn, addr, false, raw, len))
      return fail(fmt::format("disas: cannot read {:#x} through the hart's MMU (hart {})", addr, hn));
    out += insn_line(d, addr, raw, len, addr == d.hart(hn).pc);
    addr += len;
  }
  return {true, out};
}

// Best effort: frame 0 is the pc; then ra when it points into another
// function than the pc (true in a leaf function or at a function's entry);
// then the s0 frame-pointer chain (saved ra at fp-8, caller's fp at fp-16,
// as GCC lays out frames with -fno-omit-frame-pointer), followed while it
// looks like a stack: 8-aligned, above sp, growing, returning into symbols.
CommandResult cmd_bt(CommandContext& ctx, const Invocation& inv) {
  Debugger& d = ctx.d;
  if (inv.args.size() > 1) return fail("usage: bt [HART]");
  unsigned hn = ctx.cur_hart;
  std::string err;
  if (inv.args.size() == 1 && !parse_hart_arg(d, inv.args[0], hn, err)) return fail("bt: " + err);
  rv64::Hart& h = d.hart(hn);
  std::string out = fmt::format("#0  {:#018x}{}\n", h.pc, sym_suffix(d, h.pc));
  int n = 1;
  uint64_t last = h.pc;
  uint64_t ra = h.x[1];
  if (ra && !d.symbol(ra).empty() && symbol_start(d, ra) != symbol_start(d, h.pc)) {
    out += fmt::format("#{:<2} {:#018x}{}  (ra)\n", n++, ra, sym_suffix(d, ra));
    last = ra;
  }
  uint64_t fp = h.x[8], sp = h.x[2];
  for (int k = 0; k < 64; ++k) {
    if (fp == 0 || (fp & 7) || fp <= sp || fp - sp > (64u << 20)) break;
    uint64_t saved_ra = 0, saved_fp = 0;
    if (!d.read_memory(hn, fp - 8, reinterpret_cast<uint8_t*>(&saved_ra), 8) ||
        !d.read_memory(hn, fp - 16, reinterpret_cast<uint8_t*>(&saved_fp), 8))
      break;
    if (saved_ra == 0 || d.symbol(saved_ra).empty()) break;
    if (saved_ra != last) out += fmt::format("#{:<2} {:#018x}{}  (frame {:#x})\n", n++, saved_ra, sym_suffix(d, saved_ra), fp);
    last = saved_ra;
    sp = fp;
    fp = saved_fp;
  }
  return {true, out};
}

const char* point_kind(PointType t) {
  switch (t) {
    case PointType::kSoftware:
    case PointType::kHardware: return "breakpoint";
    case PointType::kWatchRead: return "watch r";
    case PointType::kWatchWrite: return "watch w";
    case PointType::kWatchAccess: return "watch rw";
    case PointType::kEvent: return "event";
  }
  return "?";
}

CommandResult cmd_info_break(CommandContext& ctx, const Invocation& inv) {
  if (!inv.args.empty()) return fail("usage: info break");
  auto pts = ctx.d.points();
  if (pts.empty()) return {true, "no breakpoints or watchpoints\n"};
  std::string out;
  for (const Point& p : pts) {
    if (p.type == PointType::kEvent) {
      out += fmt::format("{:<3} {:<10} {}\n", p.id, p.event.kind == EventKind::kTrace ? "trace" : "event",
                         describe_event(ctx.d, p.event));
      continue;
    }
    bool bp = p.type == PointType::kSoftware || p.type == PointType::kHardware;
    out += fmt::format("{:<3} {:<10} {:#x}{}{}  {}\n", p.id, point_kind(p.type), p.addr,
                       bp ? "" : fmt::format(" len {}", p.len), sym_suffix(ctx.d, p.addr),
                       p.hart < 0 ? std::string("all harts") : fmt::format("hart {}", p.hart));
  }
  return {true, out};
}

const char* kNeedsReplay = "reverse execution needs a replay (coremu replay FILE)";

CommandResult cmd_info_replay(CommandContext& ctx, const Invocation& inv) {
  if (!inv.args.empty()) return fail("usage: info replay");
  Control& r = ctx.d.runner();
  if (!r.deterministic())
    return {true, "not deterministic: no positions, no reverse execution (a replay has both: coremu replay FILE)\n"};
  std::string out = fmt::format("pos={} (steps of all harts)\n", r.position().steps);
  out += r.replaying() ? "replaying a recording: guest input comes from it\n" : "not replaying a recording\n";
  out += r.can_reverse()  ? "reverse execution: available\n"
         : r.replaying() ? "reverse execution: not available (the machine cannot be checkpointed: see the message "
                           "at start)\n"
                         : "reverse execution: not available (only in a replay: coremu replay FILE)\n";
  if (std::string c = ctx.d.change(); !c.empty())
    out += fmt::format("diverged: the debugger changed the machine ({}); states from there on are not the "
                       "recording's\n", c);
  return {true, out};
}

bool parse_pos(const Invocation& inv, uint64_t& pos, std::string& err) {
  if (inv.args.size() != 1) {
    err = "usage: goto POS";
    return false;
  }
  auto v = parse_number(inv.args[0]);
  if (!v) {
    err = fmt::format("goto: bad position '{}' (a number of steps of all harts)", inv.args[0]);
    return false;
  }
  pos = *v;
  return true;
}

// gdb's `monitor goto POS`: moves the machine and waits for it here (gdb
// is not told: its register cache is stale until it is flushed).
CommandResult cmd_goto_monitor(CommandContext& ctx, const Invocation& inv) {
  uint64_t pos;
  std::string err;
  if (!parse_pos(inv, pos, err)) return fail(err);
  Control& r = ctx.d.runner();
  if (!r.can_reverse()) return fail(fmt::format("goto: {}", kNeedsReplay));
  if (!r.go_to(Position{pos}, err)) return fail("goto: " + err);
  std::optional<StopEvent> ev;
  while (!(ev = r.wait_stop(std::chrono::milliseconds(100)))) {
  }
  if (ev->reason != StopReason::kExited) r.pause_all();
  return {true, format_stop_line(ctx.d, *ev) +
                    "(gdb caches registers and memory: 'maintenance flush register-cache' shows the new state)\n"};
}

}  // namespace

// ---- helpers ----

std::string sym_suffix(Debugger& d, uint64_t addr) {
  std::string s = d.symbol(addr);
  return s.empty() ? "" : " <" + s + ">";
}

bool parse_hart_arg(Debugger& d, const std::string& s, unsigned& out, std::string& err) {
  auto v = parse_number(s);
  if (!v || *v >= d.num_harts()) {
    err = fmt::format("no hart '{}' (harts are 0..{})", s, d.num_harts() - 1);
    return false;
  }
  out = static_cast<unsigned>(*v);
  return true;
}

bool parse_addr_arg(Debugger& d, unsigned hart, const std::string& s, uint64_t& out, std::string& err) {
  ExprLookup lk;
  lk.symbol = [&d](std::string_view name) -> std::optional<uint64_t> {
    const auto& by = d.machine().symbols().by_name;
    auto it = by.find(std::string(name));
    if (it == by.end()) return std::nullopt;
    return it->second;
  };
  lk.reg = [&d, hart](std::string_view name) -> std::optional<uint64_t> {
    rv64::Hart& h = d.hart(hart);
    if (auto r = rv64::parse_reg(name)) {
      if (*r == rv64::kRegPc) return h.pc;
      if (*r < 32) return *r ? h.x[*r] : 0;
      return h.f[*r - 32];
    }
    if (auto c = rv64::csr_number(name)) {
      uint64_t v;
      if (h.csr_read(*c, v)) return v;
    }
    return std::nullopt;
  };
  auto v = parse_expr(s, lk, err);
  if (!v) return false;
  out = *v;
  return true;
}

std::string format_stop_line(Debugger& d, const StopEvent& ev) {
  auto is_bp = [](PointType t) { return t == PointType::kSoftware || t == PointType::kHardware; };
  std::string reason;
  std::string line;
  switch (ev.reason) {
    case StopReason::kEvent: line = format_event_stop(d, ev); break;
    case StopReason::kPaused: reason = "paused"; break;
    case StopReason::kStep: reason = "step"; break;
    case StopReason::kExited: reason = fmt::format("exited status {}", ev.exit_status); break;
    case StopReason::kReplayStart: reason = "start of recording"; break;
    case StopReason::kReplayEnd: {
      auto st = d.machine().shutdown_status();
      reason = st ? fmt::format("end of recording (guest exited with status {})", *st) : "end of recording";
      break;
    }
    case StopReason::kDivergence: reason = "divergence (the replay no longer matches the recording)"; break;
    case StopReason::kBreakpoint: {
      int id = -1;
      for (const auto& p : d.points())
        if (is_bp(p.type) && p.addr == ev.pc && (p.hart < 0 || p.hart == static_cast<int>(ev.hart))) id = p.id;
      reason = id >= 0 ? fmt::format("breakpoint {}", id) : "breakpoint";
      break;
    }
    case StopReason::kWatchpoint: {
      int id = -1;
      for (const auto& p : d.points()) {
        if (is_bp(p.type) || p.type == PointType::kEvent || (p.hart >= 0 && p.hart != static_cast<int>(ev.hart)))
          continue;
        if (ev.addr < p.addr || ev.addr - p.addr >= p.len) continue;
        bool fits = p.type == PointType::kWatchAccess || (ev.write ? p.type == PointType::kWatchWrite
                                                                   : p.type == PointType::kWatchRead);
        if (fits || id < 0) id = p.id;
      }
      reason = fmt::format("{} {} addr={:#x}{}", id >= 0 ? fmt::format("watchpoint {}", id) : "watchpoint",
                           ev.write ? "write" : "read", ev.addr, sym_suffix(d, ev.addr));
      break;
    }
  }
  if (line.empty())
    line = fmt::format("stop: hart {} {} pc={:#x}{} icount={}\n", ev.hart, reason, ev.pc, sym_suffix(d, ev.pc),
                       ev.icount);
  if (d.runner().deterministic()) {
    if (!line.empty() && line.back() == '\n') line.pop_back();
    line += fmt::format(" pos={}\n", d.runner().position().steps);
  }
  return line;
}

std::string format_harts(Debugger& d) {
  std::string out;
  bool parked = d.runner().all_parked();
  for (unsigned i = 0; i < d.num_harts(); ++i) {
    HartRunState st = d.runner().state(i);
    if (!parked) {
      out += fmt::format("hart {:<3} {}\n", i, to_string(st));
      continue;
    }
    rv64::Hart& h = d.hart(i);
    std::string sym = d.symbol(h.pc);
    out += fmt::format("hart {:<3} {:<7} {}  pc={:#018x}  {:<24} icount={}\n", i, h.in_wfi() ? "wfi" : "stopped",
                       priv_name(h.priv()), h.pc, sym.empty() ? "-" : "<" + sym + ">", h.icount());
  }
  return out;
}

// ---- the table ----

void CommandTable::add(Command c) {
  auto it = std::find_if(cmds_.begin(), cmds_.end(), [&](const Command& x) { return x.name == c.name; });
  if (it != cmds_.end()) *it = std::move(c);
  else cmds_.push_back(std::move(c));
}

const Command* CommandTable::find(const std::vector<std::string>& words, size_t& consumed) const {
  if (words.empty()) return nullptr;
  std::string first = words[0].substr(0, words[0].find('/'));
  auto matches = [](const Command& c, const std::string& n) {
    return c.name == n || std::find(c.aliases.begin(), c.aliases.end(), n) != c.aliases.end();
  };
  if (words.size() >= 2) {
    std::string two = first + " " + words[1];
    for (const Command& c : cmds_)
      if (matches(c, two)) {
        consumed = 2;
        return &c;
      }
  }
  for (const Command& c : cmds_)
    if (matches(c, first)) {
      consumed = 1;
      return &c;
    }
  return nullptr;
}

CommandResult CommandTable::run(CommandContext& ctx, const std::string& line) const {
  std::string err;
  auto words = tokenize(line, err);
  if (!words) return fail(err);
  if (words->empty()) return {};
  size_t used = 0;
  const Command* c = find(*words, used);
  if (!c) {
    // A two-word command's first word alone ("info") names its family.
    std::string first = (*words)[0];
    std::string family;
    for (const Command& x : cmds_)
      if (x.name.rfind(first + " ", 0) == 0) family += (family.empty() ? "" : ", ") + x.name;
    if (!family.empty()) return fail(fmt::format("'{}' needs a subcommand: {}", line, family));
    return fail(fmt::format("unknown command '{}' (try 'help')", line));
  }
  Invocation inv;
  inv.name = c->name;
  inv.table = this;
  auto slash = (*words)[0].find('/');
  if (slash != std::string::npos) {
    if (!c->modifier || used != 1) return fail(fmt::format("{}: takes no /format", c->name));
    inv.has_modifier = true;
    inv.modifier = (*words)[0].substr(slash + 1);
  }
  inv.args.assign(words->begin() + static_cast<std::ptrdiff_t>(used), words->end());
  if (c->needs_parked && !ctx.d.runner().all_parked())
    return fail(fmt::format("{}: the harts are running (pause first)", c->name));
  if (ctx.cur_hart >= ctx.d.num_harts()) ctx.cur_hart = 0;
  return c->fn(ctx, inv);
}

std::string CommandTable::help(const std::string& title) const {
  std::string out = title + ":\n";
  size_t w = 0;
  for (const Command& c : cmds_) w = std::max(w, c.usage.size());
  for (const Command& c : cmds_) {
    std::string al;
    for (auto& a : c.aliases) al += (al.empty() ? " (" : ", ") + a;
    if (!al.empty()) al += ")";
    out += fmt::format("  {:<{}}  {}{}\n", c.usage, w, c.help, al);
  }
  return out;
}

void add_replay_commands(CommandTable& t) {
  t.add({"info replay", {"position", "pos"}, "info replay",
         "the position (steps of all harts) of a deterministic machine, and whether it can run backwards",
         cmd_info_replay});
  t.add({"goto", {}, "goto POS", "replay: go to position POS (steps of all harts), backwards or forwards",
         cmd_goto_monitor});
}

void add_inspect_commands(CommandTable& t) {
  t.add({"help", {"?"}, "help [COMMAND]", "this text, or one command's usage", cmd_help, false, false});
  t.add({"info harts", {"info h"}, "info harts", "one line per hart: state, privilege, pc, symbol, icount",
         cmd_info_harts, false, false});
  t.add({"icount", {}, "icount [HART]", "instructions retired by one hart, or by each", cmd_icount});
  t.add({"pause", {}, "pause", "stop every hart", cmd_pause, false, false});
  t.add({"regs", {"info registers", "info reg"}, "regs [HART]", "a hart's pc, privilege, integer and FP registers",
         cmd_regs});
  t.add({"csr", {}, "csr NAME|NUMBER [HART]", "a CSR of a hart", cmd_csr});
  t.add({"x", {}, "x/NFU ADDR [HART]",
         "memory through a hart's MMU: N count, F format x d u c s i, U size b h w g",
         [](CommandContext& c, const Invocation& i) { return examine(c, i, false); }, true});
  t.add({"xp", {}, "xp/NFU ADDR", "physical memory, formats as for x",
         [](CommandContext& c, const Invocation& i) { return examine(c, i, true); }, true});
  t.add({"disas", {"disassemble"}, "disas [ADDR] [N]", "N instructions (default 8) from ADDR (default the pc)",
         cmd_disas});
  t.add({"bt", {"backtrace", "where"}, "bt [HART]", "backtrace: pc, ra, then the s0 frame-pointer chain", cmd_bt});
  t.add({"info break", {"info breakpoints", "info b", "info watch"}, "info break",
         "the breakpoints, watchpoints, event breakpoints and traces", cmd_info_break});
}

CommandResult run_monitor_command(Debugger& d, const std::string& line, unsigned cur_hart) {
  static const CommandTable table = [] {
    CommandTable t;
    add_inspect_commands(t);
    add_event_commands(t);
    add_replay_commands(t);
    return t;
  }();
  CommandContext ctx{d, cur_hart};
  ctx.host_files = false;  // a gdb client is not the person at coremu's terminal
  if (line.find_first_not_of(" \t\r\n") == std::string::npos) return table.run(ctx, "help");
  return table.run(ctx, line);
}

}  // namespace coremu
