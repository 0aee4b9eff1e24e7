// The event breakpoint and tracing commands (break shared/amo/lrsc-fail/
// ipi/irq/trap/race/lost-update, trace shared/export/stop) and the text of their stops.
// They are in the REPL's table and in gdb's `monitor` table alike.
#include <fmt/core.h>

#include "coremu/cmdparse.h"
#include "coremu/monitor.h"

namespace coremu {

namespace {

CommandResult fail(std::string msg) { return {false, std::move(msg) + "\n"}; }

constexpr uint64_t kMaxLen = 1u << 20;

bool parse_len(const std::string& s, uint64_t& len, std::string& err) {
  auto v = parse_number(s);
  if (!v || *v == 0 || *v > kMaxLen) {
    err = fmt::format("bad length '{}' (1 to {})", s, kMaxLen);
    return false;
  }
  len = *v;
  return true;
}

// "ADDR|SYMBOL [LEN]" from args[from...]; LEN defaults to 8.
bool parse_range(CommandContext& ctx, const std::vector<std::string>& a, size_t from, EventSpec& s,
                 std::string& err) {
  if (!parse_addr_arg(ctx.d, ctx.cur_hart, a[from], s.addr, err)) return false;
  s.len = 8;
  if (a.size() > from + 1 && !parse_len(a[from + 1], s.len, err)) return false;
  return true;
}

// A hart number, or "any"/"*"/"-" for every hart (-1).
bool parse_hart_or_any(Debugger& d, const std::string& s, int& out, std::string& err) {
  if (s == "any" || s == "*" || s == "-") {
    out = -1;
    return true;
  }
  unsigned h;
  if (!parse_hart_arg(d, s, h, err)) return false;
  out = static_cast<int>(h);
  return true;
}

CommandResult added(CommandContext& ctx, const char* cmd, const EventSpec& s) {
  std::string err;
  int id = ctx.d.add_event(s, err);
  if (id < 0) return fail(fmt::format("{}: {}", cmd, err));
  return {true, fmt::format("{} {}: {}\n", s.kind == EventKind::kTrace ? "trace" : "event breakpoint", id,
                            describe_event(ctx.d, s))};
}

CommandResult cmd_break_range(CommandContext& ctx, const Invocation& inv, EventKind k) {
  const char* cmd = k == EventKind::kShared ? "break shared" : k == EventKind::kLostUpdate ? "break lost-update" : "break amo";
  if (inv.args.empty() || inv.args.size() > 2)
    return fail(fmt::format("usage: {} ADDR{} [LEN]", cmd, k == EventKind::kAmo ? "" : "|SYMBOL"));
  EventSpec s;
  s.kind = k;
  std::string err;
  if (!parse_range(ctx, inv.args, 0, s, err)) return fail(fmt::format("{}: {}", cmd, err));
  return added(ctx, cmd, s);
}

CommandResult cmd_break_lrsc(CommandContext& ctx, const Invocation& inv) {
  if (inv.args.size() > 2) return fail("usage: break lrsc-fail [ADDR [LEN]]");
  EventSpec s;
  s.kind = EventKind::kLrscFail;
  std::string err;
  if (!inv.args.empty() && !parse_range(ctx, inv.args, 0, s, err)) return fail("break lrsc-fail: " + err);
  return added(ctx, "break lrsc-fail", s);
}

CommandResult cmd_break_ipi(CommandContext& ctx, const Invocation& inv) {
  if (inv.args.size() > 2) return fail("usage: break ipi [FROM] [TO]");
  EventSpec s;
  s.kind = EventKind::kIpi;
  std::string err;
  if (!inv.args.empty() && !parse_hart_or_any(ctx.d, inv.args[0], s.hart, err)) return fail("break ipi: " + err);
  if (inv.args.size() == 2 && !parse_hart_or_any(ctx.d, inv.args[1], s.to, err)) return fail("break ipi: " + err);
  return added(ctx, "break ipi", s);
}

CommandResult cmd_break_irq(CommandContext& ctx, const Invocation& inv) {
  if (inv.args.size() > 1) return fail("usage: break irq [HART]");
  EventSpec s;
  s.kind = EventKind::kIrq;
  std::string err;
  if (!inv.args.empty() && !parse_hart_or_any(ctx.d, inv.args[0], s.hart, err)) return fail("break irq: " + err);
  return added(ctx, "break irq", s);
}

CommandResult cmd_break_trap(CommandContext& ctx, const Invocation& inv) {
  if (inv.args.empty() || inv.args.size() > 2) return fail("usage: break trap CAUSE [HART]");
  EventSpec s;
  s.kind = EventKind::kTrap;
  auto c = parse_cause(inv.args[0]);
  if (!c)
    return fail(fmt::format("break trap: no exception cause '{}' (a number, or a name: see 'help break trap')",
                            inv.args[0]));
  s.cause = *c;
  std::string err;
  if (inv.args.size() == 2 && !parse_hart_or_any(ctx.d, inv.args[1], s.hart, err)) return fail("break trap: " + err);
  return added(ctx, "break trap", s);
}

CommandResult cmd_break_race(CommandContext& ctx, const Invocation& inv) {
  std::vector<std::string> a = inv.args;
  const char* usage = "usage: break race ADDR|SYMBOL [LEN] [window W]";
  EventSpec s;
  s.kind = EventKind::kRace;
  s.window = 10000;
  if (a.size() >= 2 && a[a.size() - 2] == "window") {
    auto w = parse_number(a.back());
    if (!w || *w == 0) return fail(fmt::format("break race: bad window '{}'", a.back()));
    s.window = *w;
    a.resize(a.size() - 2);
  } else if (!a.empty() && a.back() == "window") {
    return fail("break race: 'window' needs a number of instructions");
  }
  if (a.empty() || a.size() > 2) return fail(usage);
  std::string err;
  if (!parse_range(ctx, a, 0, s, err)) return fail("break race: " + err);
  return added(ctx, "break race", s);
}

// Why a command from gdb may not name a host file.
std::string no_host_files() {
  return "coremu writes no host files for a gdb client (anyone who reaches the debug port could create or "
         "overwrite files as the coremu user); give the command in coremu's own REPL (--repl), or trace to "
         "coremu's stdout (trace shared without FILE)";
}

CommandResult cmd_trace_shared(CommandContext& ctx, const Invocation& inv) {
  const auto& a = inv.args;
  if (a.empty() || a.size() > 3) return fail("usage: trace shared ADDR|SYMBOL [LEN] [FILE]");
  EventSpec s;
  s.kind = EventKind::kTrace;
  std::string err;
  if (!parse_addr_arg(ctx.d, ctx.cur_hart, a[0], s.addr, err)) return fail("trace shared: " + err);
  s.len = 8;
  size_t next = 1;
  if (a.size() > 1 && parse_number(a[1])) {
    if (!parse_len(a[1], s.len, err)) return fail("trace shared: " + err);
    next = 2;
  }
  if (a.size() > next + 1) return fail("usage: trace shared ADDR|SYMBOL [LEN] [FILE]");
  if (a.size() == next + 1) {
    if (!ctx.host_files) return fail("trace shared: " + no_host_files());
    s.file = a[next];
  }
  return added(ctx, "trace shared", s);
}

CommandResult cmd_trace_export(CommandContext& ctx, const Invocation& inv) {
  if (inv.args.size() != 2 || inv.args[0] != "chrome") return fail("usage: trace export chrome FILE");
  if (!ctx.host_files) return fail("trace export: " + no_host_files());
  std::string err;
  if (!ctx.d.events().export_chrome(inv.args[1], err)) return fail("trace export: " + err);
  return {true, fmt::format("trace: wrote {} accesses, {} harts, to {}\n", ctx.d.events().records().size(),
                            ctx.d.num_harts(), inv.args[1])};
}

CommandResult cmd_trace_stop(CommandContext& ctx, const Invocation& inv) {
  if (!inv.args.empty()) return fail("usage: trace stop");
  int n = 0;
  for (const Point& p : ctx.d.points())
    if (p.type == PointType::kEvent && p.event.kind == EventKind::kTrace && ctx.d.remove_point(p.id)) ++n;
  return {true, fmt::format("trace: stopped {} trace{} ({} accesses recorded)\n", n, n == 1 ? "" : "s",
                            ctx.d.events().records().size())};
}

// delete event [N]: event breakpoints and traces only, so that gdb (whose
// own breakpoints are not the REPL's to remove) can drop what `monitor
// break ...` set.
CommandResult cmd_delete_event(CommandContext& ctx, const Invocation& inv) {
  if (inv.args.size() > 1) return fail("usage: delete event [N]");
  auto is_event = [](const Point& p) { return p.type == PointType::kEvent; };
  if (inv.args.empty()) {
    unsigned n = 0;
    for (const auto& p : ctx.d.points())
      if (is_event(p) && ctx.d.remove_point(p.id)) ++n;
    return {true, fmt::format("deleted {} event breakpoint{} and traces\n", n, n == 1 ? "" : "s")};
  }
  auto v = parse_number(inv.args[0]);
  bool found = false;
  if (v && *v <= INT32_MAX)
    for (const auto& p : ctx.d.points())
      if (p.id == static_cast<int>(*v) && is_event(p)) found = ctx.d.remove_point(p.id);
  if (!found) return fail(fmt::format("delete event: no event breakpoint or trace '{}'", inv.args[0]));
  return {true, fmt::format("deleted {}\n", *v)};
}

std::string val(uint64_t v) { return fmt::format("{:#x}", v); }

}  // namespace

std::string describe_event(Debugger& d, const EventSpec& s) {
  auto range = [&] { return fmt::format("{:#x} len {}{}", s.addr, s.len, sym_suffix(d, s.addr)); };
  auto hart = [](int h) { return h < 0 ? std::string("any") : fmt::format("hart {}", h); };
  switch (s.kind) {
    case EventKind::kShared: return "shared " + range();
    case EventKind::kAmo: return "amo " + range();
    case EventKind::kLrscFail: return s.len ? "lrsc-fail " + range() : "lrsc-fail anywhere";
    case EventKind::kIpi: return fmt::format("ipi from {} to {}", hart(s.hart), hart(s.to));
    case EventKind::kIrq: return fmt::format("irq on {}", hart(s.hart));
    case EventKind::kTrap: return fmt::format("trap {} ({}) on {}", cause_name(s.cause), s.cause, hart(s.hart));
    case EventKind::kRace: return fmt::format("race {} window {}", range(), s.window);
    case EventKind::kTrace: return fmt::format("trace shared {} to {}", range(), s.file.empty() ? "stdout" : s.file);
    case EventKind::kLostUpdate: return "lost-update " + range();
  }
  return "?";
}

std::string format_event_stop(Debugger& d, const StopEvent& ev) {
  auto hit = d.events().hit(ev.hart);
  std::string where = fmt::format("pc={:#x}{} icount={}", ev.pc, sym_suffix(d, ev.pc), ev.icount);
  if (!hit) return fmt::format("stop: hart {} event {}\n", ev.hart, where);
  const EventHit& h = *hit;
  auto acc = [](char c) {
    return c == 'r' ? "read" : c == 'w' ? "write" : c == 'a' ? "amo" : "sc";
  };
  std::string values;
  if (h.access == 'r') values = "value=" + val(h.old_value);
  else if (h.has_new) values = fmt::format("old={} new={}", val(h.old_value), val(h.new_value));
  else values = "old=" + val(h.old_value);
  std::string addr = fmt::format("addr={:#x}{}", h.addr, sym_suffix(d, h.addr));
  std::string head = fmt::format("stop: hart {} {} {}", ev.hart, event_kind_name(h.kind), h.point);
  switch (h.kind) {
    case EventKind::kShared:
      return fmt::format("{} {} {} {} {} last write by hart {} pc={:#x}{} icount={}{}\n", head, acc(h.access), where,
                         addr, values, h.other, h.other_pc, sym_suffix(d, h.other_pc), h.other_icount,
                         h.other_has_value ? " value=" + val(h.other_value) : std::string());
    case EventKind::kRace:
      return fmt::format("{} {} {} {} {} conflicts with hart {} {} pc={:#x}{} icount={} (no fence, AMO or LR/SC between)\n",
                         head, acc(h.access), where, addr, values, h.other, acc(h.other_access), h.other_pc,
                         sym_suffix(d, h.other_pc), h.other_icount);
    case EventKind::kLostUpdate:
      return fmt::format("{} {} {} {} {} overwrites hart {} write pc={:#x}{} icount={}{}, made after this hart read "
                         "{} at pc={:#x}{} icount={}\n",
                         head, acc(h.access), where, addr, values, h.other, h.other_pc, sym_suffix(d, h.other_pc),
                         h.other_icount, h.other_has_value ? " value=" + val(h.other_value) : std::string(),
                         val(h.read_value), h.read_pc, sym_suffix(d, h.read_pc), h.read_icount);
    case EventKind::kAmo:
      return fmt::format("{} {} {} {} {}\n", head, acc(h.access), where, addr, values);
    case EventKind::kLrscFail:
      return fmt::format("{} {} sc at pc={:#x}{} icount={} {} failed\n", head, where, h.pc, sym_suffix(d, h.pc),
                         h.icount, addr);
    case EventKind::kIpi:
      return fmt::format("{} {} store at pc={:#x}{} icount={} {} value={} raises msip of hart {}\n", head, where,
                         h.pc, sym_suffix(d, h.pc), h.icount, addr, val(h.new_value), h.other);
    case EventKind::kIrq:
    case EventKind::kTrap:
      return fmt::format("{} {} cause={} ({:#x}) epc={:#x}{} tval={:#x}\n", head, where, cause_name(h.cause), h.cause,
                         h.pc, sym_suffix(d, h.pc), h.tval);
    case EventKind::kTrace:
      break;
  }
  return fmt::format("{} {}\n", head, where);
}

void add_event_commands(CommandTable& t) {
  t.add({"break shared", {}, "break shared ADDR|SYMBOL [LEN]",
         "stop when a hart accesses LEN bytes (default 8) last written by another hart",
         [](CommandContext& c, const Invocation& i) { return cmd_break_range(c, i, EventKind::kShared); }});
  t.add({"break amo", {}, "break amo ADDR [LEN]", "stop before an AMO or SC to the range",
         [](CommandContext& c, const Invocation& i) { return cmd_break_range(c, i, EventKind::kAmo); }});
  t.add({"break lrsc-fail", {}, "break lrsc-fail [ADDR [LEN]]", "stop after an SC fails (to the range only)",
         cmd_break_lrsc});
  t.add({"break ipi", {}, "break ipi [FROM] [TO]",
         "stop after a hart (FROM) sets a CLINT msip (of hart TO); 'any' for either", cmd_break_ipi});
  t.add({"break irq", {}, "break irq [HART]", "stop when a hart takes an interrupt (at the handler)", cmd_break_irq});
  t.add({"break trap", {}, "break trap CAUSE [HART]",
         "stop when a hart takes exception CAUSE (number or insn-misaligned insn-access-fault illegal-insn breakpoint "
         "load-misaligned load-access-fault store-misaligned store-access-fault ecall-u ecall-s ecall-m "
         "page-fault-insn page-fault-load page-fault-store)",
         cmd_break_trap});
  t.add({"break race", {}, "break race ADDR|SYMBOL [LEN] [window W]",
         "stop on conflicting accesses of two harts with no fence/AMO/LR/SC between them within W instructions "
         "(default 10000)",
         cmd_break_race});
  t.add({"break lost-update", {}, "break lost-update ADDR|SYMBOL [LEN]",
         "stop before a hart stores to a word it read, when another hart wrote the word after that read "
         "(the store would wipe out that update)",
         [](CommandContext& c, const Invocation& i) { return cmd_break_range(c, i, EventKind::kLostUpdate); }});
  t.add({"delete event", {}, "delete event [N]", "remove event breakpoint or trace N (all of them without N)",
         cmd_delete_event});
  t.add({"trace shared", {}, "trace shared ADDR|SYMBOL [LEN] [FILE]",
         "log every access to the range, in global order, to FILE (default stdout)", cmd_trace_shared});
  t.add({"trace export", {}, "trace export chrome FILE", "write the traced accesses as a Chrome/Perfetto trace",
         cmd_trace_export});
  t.add({"trace stop", {}, "trace stop", "stop every trace (the recorded accesses stay for export)", cmd_trace_stop});
}

}  // namespace coremu
