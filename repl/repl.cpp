#include "repl.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>

#include "coremu/cmdparse.h"
#include "rv64/insn.h"
#include "rv64/regnames.h"

namespace repl {

using coremu::CommandContext;
using coremu::CommandResult;
using coremu::HartAction;
using coremu::Invocation;
using coremu::PointType;
using coremu::StopEvent;
using coremu::StopReason;

std::atomic<bool> Repl::interrupt_{false};

namespace {

CommandResult fail(std::string msg) { return {false, std::move(msg) + "\n"}; }

}  // namespace

Repl::Repl(coremu::Debugger& d, std::FILE* out) : d_(d), out_(out) {
  coremu::add_inspect_commands(table_);
  coremu::add_replay_commands(table_);
  add_commands();
  coremu::add_event_commands(table_);
}

void Repl::add_commands() {
  auto bind = [this](CommandResult (Repl::*fn)(const Invocation&)) {
    return [this, fn](CommandContext&, const Invocation& inv) { return (this->*fn)(inv); };
  };
  table_.add({"continue", {"c", "cont"}, "continue", "run every hart until the next stop", bind(&Repl::cmd_continue)});
  table_.add({"step", {"s", "si", "stepi"}, "step [HART] [N]",
              "run one hart N instructions (default 1), the others frozen", bind(&Repl::cmd_step)});
  table_.add({"stepall", {}, "stepall [N]", "run every hart N instructions (default 1)", bind(&Repl::cmd_stepall)});
  table_.add({"set reg", {"set register"}, "set reg HART NAME VALUE",
              "write a register: x0-x31/ABI name, f0-f31, pc, a CSR name or priv", bind(&Repl::cmd_set_reg)});
  table_.add({"set mem", {}, "set mem ADDR VALUE [b|h|w|g] [HART]",
              "write a value of 1, 2, 4 or 8 bytes (default g) through a hart's MMU", bind(&Repl::cmd_set_mem)});
  table_.add({"break", {"b"}, "break ADDR|SYMBOL [hart H]", "stop before the instruction at ADDR (on hart H only)",
              bind(&Repl::cmd_break)});
  table_.add({"watch", {}, "watch r|w|rw ADDR|SYMBOL [LEN] [hart H]",
              "stop before an access (read, write, either) to LEN bytes (default 8)", bind(&Repl::cmd_watch)});
  table_.add({"delete", {"d"}, "delete [N]", "remove breakpoint/watchpoint N (all without N)", bind(&Repl::cmd_delete)});
  table_.add({"uart", {}, "uart \"TEXT\"", "send TEXT (C escapes: \\n \\r \\t \\xHH ...) to the guest's UART",
              bind(&Repl::cmd_uart), false, false});
  table_.add({"goto", {}, "goto POS", "replay: go to position POS (steps of all harts), backwards or forwards",
              bind(&Repl::cmd_goto)});
  table_.add({"rstep", {"rs", "rsi", "reverse-stepi"}, "rstep [HART] [N]",
              "replay: take back one hart's last N steps (default 1)", bind(&Repl::cmd_rstep)});
  table_.add({"rcontinue", {"rc", "reverse-continue"}, "rcontinue",
              "replay: run backwards to the last breakpoint or watchpoint hit, or to the start",
              bind(&Repl::cmd_rcontinue)});
  table_.add({"quit", {"q", "exit"}, "quit", "end the session (exit status 0)", bind(&Repl::cmd_quit), false, false});
}

int Repl::run(LineSource& in) {
  // The machine comes up with every hart parked before its first instruction.
  if (!d_.runner().pause_all()) {
    fmt::print(out_, "error: the machine did not start\n");
    std::fflush(out_);
    return 1;
  }
  while (!done_) {
    auto line = in.next();
    if (!line) break;  // end of input: like quit
    execute(*line);
  }
  return status_;
}

bool Repl::execute(const std::string& line) {
  CommandContext ctx{d_, cur_};
  CommandResult r = table_.run(ctx, line);
  if (!r.ok) fmt::print(out_, "error: {}", r.text);
  else fmt::print(out_, "{}", r.text);
  std::fflush(out_);
  return !done_;
}

// ---- stops ----

void Repl::feed_uart() {
  if (uart_pending_.empty()) return;
  size_t n = d_.machine().serial_input(reinterpret_cast<const uint8_t*>(uart_pending_.data()), uart_pending_.size());
  uart_pending_.erase(0, n);
}

StopEvent Repl::next_stop() {
  auto& r = d_.runner();
  for (;;) {
    feed_uart();
    auto ev = r.wait_stop(std::chrono::milliseconds(uart_pending_.empty() ? 50 : 5));
    if (!ev) {
      if (interrupt_.exchange(false) && r.pause_all()) {
        StopEvent p;
        p.hart = cur_;
        p.reason = StopReason::kPaused;
        p.pc = d_.hart(cur_).pc;
        p.icount = d_.hart(cur_).icount();
        return p;
      }
      continue;
    }
    if (ev->reason == StopReason::kExited) {
      done_ = true;
      status_ = ev->exit_status;
      return *ev;
    }
    // A replay that reached the guest's exit goes on (it can run
    // backwards); the end of input then exits with the guest's status.
    if (ev->reason == StopReason::kReplayEnd) {
      if (auto st = d_.machine().shutdown_status()) status_ = *st;
    }
    // All-stop: the other harts stop too. If the machine finished
    // meanwhile, its exit event comes next.
    if (!r.pause_all()) continue;
    cur_ = ev->hart < d_.num_harts() ? ev->hart : 0;
    return *ev;
  }
}

std::string Repl::report(const StopEvent& ev) {
  std::string out = coremu::format_stop_line(d_, ev);
  if (ev.reason != StopReason::kExited) {
    // The instruction the hart executes next.
    CommandContext ctx{d_, ev.hart};
    CommandResult dis = table_.run(ctx, "x/i $pc");
    if (dis.ok) out += dis.text;
  }
  return out;
}

// ---- run control ----

CommandResult Repl::cmd_continue(const Invocation& inv) {
  if (!inv.args.empty()) return fail("usage: continue");
  auto& r = d_.runner();
  unsigned n = d_.num_harts();
  // A hart sitting on a breakpoint it did not just report (it stepped onto
  // it, or its pc was set there) steps over it first, as gdb does.
  std::vector<HartAction> acts(n, HartAction::kStop);
  bool any = false;
  for (unsigned i = 0; i < n; ++i) {
    bool reported = last_stop_ && last_stop_->hart == i && last_stop_->pc == d_.hart(i).pc &&
                    (last_stop_->reason == StopReason::kBreakpoint || last_stop_->reason == StopReason::kWatchpoint);
    if (!reported && d_.breakpoint_at(i, d_.hart(i).pc)) {
      acts[i] = HartAction::kStep;
      any = true;
    }
  }
  if (any) {
    r.resume(acts, 1);
    StopEvent ev = next_stop();
    // Not a step: a stop the hart had not reported yet comes first.
    if (done_ || ev.reason != StopReason::kStep) {
      last_stop_ = ev;
      return {true, report(ev)};
    }
  }
  r.resume(std::vector<HartAction>(n, HartAction::kContinue));
  StopEvent ev = next_stop();
  last_stop_ = ev;
  return {true, report(ev)};
}

CommandResult Repl::cmd_step(const Invocation& inv) {
  if (inv.args.size() > 2) return fail("usage: step [HART] [N]");
  unsigned h = cur_;
  uint64_t steps = 1;
  std::string err;
  if (!inv.args.empty() && !coremu::parse_hart_arg(d_, inv.args[0], h, err)) return fail("step: " + err);
  if (inv.args.size() == 2) {
    auto v = coremu::parse_number(inv.args[1]);
    if (!v || *v == 0) return fail(fmt::format("step: bad count '{}'", inv.args[1]));
    steps = *v;
  }
  std::vector<HartAction> acts(d_.num_harts(), HartAction::kStop);
  acts[h] = HartAction::kStep;
  d_.runner().resume(acts, steps);
  StopEvent ev = next_stop();
  last_stop_ = ev;
  return {true, report(ev)};
}

CommandResult Repl::cmd_stepall(const Invocation& inv) {
  if (inv.args.size() > 1) return fail("usage: stepall [N]");
  uint64_t steps = 1;
  if (inv.args.size() == 1) {
    auto v = coremu::parse_number(inv.args[0]);
    if (!v || *v == 0) return fail(fmt::format("stepall: bad count '{}'", inv.args[0]));
    steps = *v;
  }
  d_.runner().resume(std::vector<HartAction>(d_.num_harts(), HartAction::kStep), steps);
  StopEvent ev = next_stop();
  last_stop_ = ev;
  std::string out = report(ev);
  if (!done_) out += coremu::format_harts(d_);
  return {true, out};
}

CommandResult Repl::cmd_set_reg(const Invocation& inv) {
  if (inv.args.size() != 3) return fail("usage: set reg HART NAME VALUE");
  unsigned h;
  std::string err;
  if (!coremu::parse_hart_arg(d_, inv.args[0], h, err)) return fail("set reg: " + err);
  uint64_t v;
  if (!coremu::parse_addr_arg(d_, h, inv.args[2], v, err)) return fail("set reg: " + err);
  rv64::Hart& hart = d_.hart(h);
  const std::string& name = inv.args[1];
  d_.note_change(fmt::format("register write to hart {} {}", h, name));
  if (auto r = rv64::parse_reg(name)) {
    if (*r == rv64::kRegPc) hart.pc = v;
    else if (*r < 32) {
      if (*r) hart.x[*r] = v;
    } else {
      hart.f[*r - 32] = v;
    }
  } else if (name == "priv") {
    if (v != rv64::kUser && v != rv64::kSupervisor && v != rv64::kMachine)
      return fail(fmt::format("set reg: bad privilege {} (0 U, 1 S, 3 M)", v));
    hart.set_priv(static_cast<rv64::Priv>(v));
  } else if (auto c = rv64::csr_number(name)) {
    if (!hart.csr_write(*c, v)) return fail(fmt::format("set reg: hart {} cannot write {}", h, name));
    hart.csr_read(*c, v);  // what it holds now (WARL fields)
  } else {
    return fail(fmt::format("set reg: no register '{}'", name));
  }
  return {true, fmt::format("hart {} {} = {:#x}\n", h, name, v)};
}

CommandResult Repl::cmd_set_mem(const Invocation& inv) {
  const auto& a = inv.args;
  if (a.size() < 2 || a.size() > 4) return fail("usage: set mem ADDR VALUE [b|h|w|g] [HART]");
  unsigned h = cur_, size = 8;
  std::string err;
  size_t hart_at = 2;
  if (a.size() >= 3 && a[2].size() == 1 && std::string("bhwg").find(a[2][0]) != std::string::npos) {
    size = a[2][0] == 'b' ? 1 : a[2][0] == 'h' ? 2 : a[2][0] == 'w' ? 4 : 8;
    hart_at = 3;
  }
  if (a.size() > hart_at + 1) return fail("usage: set mem ADDR VALUE [b|h|w|g] [HART]");
  if (a.size() == hart_at + 1 && !coremu::parse_hart_arg(d_, a[hart_at], h, err)) return fail("set mem: " + err);
  uint64_t addr, v;
  if (!coremu::parse_addr_arg(d_, h, a[0], addr, err)) return fail("set mem: " + err);
  if (!coremu::parse_addr_arg(d_, h, a[1], v, err)) return fail("set mem: " + err);
  uint8_t b[8];
  for (unsigned j = 0; j < 8; ++j) b[j] = static_cast<uint8_t>(v >> (8 * j));
  if (!d_.write_memory(h, addr, b, size))
    return fail(fmt::format("set mem: cannot write {:#x} through the hart's MMU (hart {})", addr, h));
  return {true, fmt::format("{:#x}{} = {:#x} ({} bytes)\n", addr, coremu::sym_suffix(d_, addr), v, size)};
}

namespace {
// Parses a trailing "hart H" off args; false (and err) if malformed.
bool take_hart_suffix(coremu::Debugger& d, std::vector<std::string>& args, int& hart, std::string& err) {
  hart = -1;
  if (args.size() >= 2 && args[args.size() - 2] == "hart") {
    unsigned h;
    if (!coremu::parse_hart_arg(d, args.back(), h, err)) return false;
    hart = static_cast<int>(h);
    args.resize(args.size() - 2);
  } else if (!args.empty() && args.back() == "hart") {
    err = "'hart' needs a hart number";
    return false;
  }
  return true;
}
std::string hart_text(int h) { return h < 0 ? "all harts" : fmt::format("hart {}", h); }
}  // namespace

CommandResult Repl::cmd_break(const Invocation& inv) {
  std::vector<std::string> args = inv.args;
  int hart;
  std::string err;
  if (!take_hart_suffix(d_, args, hart, err)) return fail("break: " + err);
  if (args.size() != 1) return fail("usage: break ADDR|SYMBOL [hart H]");
  uint64_t addr;
  if (!coremu::parse_addr_arg(d_, hart < 0 ? cur_ : static_cast<unsigned>(hart), args[0], addr, err))
    return fail("break: " + err);
  int id = d_.add_point(PointType::kSoftware, addr, 1, hart);
  return {true, fmt::format("breakpoint {} at {:#x}{} ({})\n", id, addr, coremu::sym_suffix(d_, addr), hart_text(hart))};
}

CommandResult Repl::cmd_watch(const Invocation& inv) {
  std::vector<std::string> args = inv.args;
  int hart;
  std::string err;
  const char* usage = "usage: watch r|w|rw ADDR|SYMBOL [LEN] [hart H]";
  if (!take_hart_suffix(d_, args, hart, err)) return fail("watch: " + err);
  if (args.size() < 2 || args.size() > 3) return fail(usage);
  PointType t;
  if (args[0] == "r") t = PointType::kWatchRead;
  else if (args[0] == "w") t = PointType::kWatchWrite;
  else if (args[0] == "rw" || args[0] == "a") t = PointType::kWatchAccess;
  else return fail(fmt::format("watch: the kind is r, w or rw, not '{}'", args[0]));
  uint64_t addr, len = 8;
  if (!coremu::parse_addr_arg(d_, hart < 0 ? cur_ : static_cast<unsigned>(hart), args[1], addr, err))
    return fail("watch: " + err);
  if (args.size() == 3) {
    auto v = coremu::parse_number(args[2]);
    if (!v || *v == 0 || *v > (1u << 20)) return fail(fmt::format("watch: bad length '{}' (1 to 1048576)", args[2]));
    len = *v;
  }
  int id = d_.add_point(t, addr, len, hart);
  return {true, fmt::format("watchpoint {} {} {:#x} len {}{} ({})\n", id, args[0] == "a" ? "rw" : args[0], addr, len,
                            coremu::sym_suffix(d_, addr), hart_text(hart))};
}

CommandResult Repl::cmd_delete(const Invocation& inv) {
  if (inv.args.size() > 1) return fail("usage: delete [N]");
  if (inv.args.empty()) {
    auto pts = d_.points();
    for (const auto& p : pts) d_.remove_point(p.id);
    return {true, fmt::format("deleted {} breakpoints and watchpoints\n", pts.size())};
  }
  auto v = coremu::parse_number(inv.args[0]);
  if (!v || *v > INT32_MAX || !d_.remove_point(static_cast<int>(*v)))
    return fail(fmt::format("delete: no breakpoint or watchpoint '{}'", inv.args[0]));
  return {true, fmt::format("deleted {}\n", *v)};
}

CommandResult Repl::cmd_uart(const Invocation& inv) {
  if (inv.args.empty()) return fail("usage: uart \"TEXT\"");
  if (d_.runner().replaying()) return fail("uart: input comes from the recording (this is a replay)");
  std::string text;
  for (size_t i = 0; i < inv.args.size(); ++i) text += (i ? " " : "") + inv.args[i];
  uart_pending_ += text;
  feed_uart();
  if (uart_pending_.empty()) return {true, fmt::format("uart: sent {} bytes\n", text.size())};
  return {true, fmt::format("uart: sent {} bytes; {} wait for room in the receive FIFO (sent as the guest runs)\n",
                            text.size() - std::min(text.size(), uart_pending_.size()), uart_pending_.size())};
}

// ---- time travel (coremu replay FILE --repl) ----

namespace {
const char* kNeedsReplay = "reverse execution needs a replay: coremu replay FILE --repl";
}

CommandResult Repl::cmd_goto(const Invocation& inv) {
  if (inv.args.size() != 1) return fail("usage: goto POS");
  auto pos = coremu::parse_number(inv.args[0]);
  if (!pos) return fail(fmt::format("goto: bad position '{}' (a number of steps of all harts)", inv.args[0]));
  if (!d_.runner().can_reverse()) return fail(fmt::format("goto: {}", kNeedsReplay));
  std::string err;
  if (!d_.runner().go_to(coremu::Position{*pos}, err)) return fail("goto: " + err);
  StopEvent ev = next_stop();
  last_stop_ = ev;
  return {true, report(ev)};
}

CommandResult Repl::cmd_rstep(const Invocation& inv) {
  if (inv.args.size() > 2) return fail("usage: rstep [HART] [N]");
  unsigned h = cur_;
  uint64_t steps = 1;
  std::string err;
  if (!inv.args.empty() && !coremu::parse_hart_arg(d_, inv.args[0], h, err)) return fail("rstep: " + err);
  if (inv.args.size() == 2) {
    auto v = coremu::parse_number(inv.args[1]);
    if (!v || *v == 0) return fail(fmt::format("rstep: bad count '{}'", inv.args[1]));
    steps = *v;
  }
  if (!d_.runner().can_reverse()) return fail(fmt::format("rstep: {}", kNeedsReplay));
  std::vector<HartAction> acts(d_.num_harts(), HartAction::kStop);
  acts[h] = HartAction::kStep;
  d_.runner().reverse(acts, steps);
  StopEvent ev = next_stop();
  last_stop_ = ev;
  return {true, report(ev)};
}

CommandResult Repl::cmd_rcontinue(const Invocation& inv) {
  if (!inv.args.empty()) return fail("usage: rcontinue");
  if (!d_.runner().can_reverse()) return fail(fmt::format("rcontinue: {}", kNeedsReplay));
  d_.runner().reverse(std::vector<HartAction>(d_.num_harts(), HartAction::kContinue));
  StopEvent ev = next_stop();
  last_stop_ = ev;
  return {true, report(ev)};
}

CommandResult Repl::cmd_quit(const Invocation& inv) {
  if (!inv.args.empty()) return fail("usage: quit");
  done_ = true;
  status_ = 0;
  return {};
}

}  // namespace repl
