// Text commands about the machine, shared by the REPL (repl/) and gdb's
// `monitor` (qRcmd): a table of commands, and the inspection commands both
// reach: `help`, `info harts`, `icount`, `pause`, `regs`, `csr`, `x`, `xp`,
// `disas`, `bt`, `info break`, and for replays `info replay` and `goto`.
// The REPL adds the run-control commands (continue, step, break, rstep,
// ...) to its own copy of the table.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "coremu/debug.h"

namespace coremu {

struct CommandResult {
  bool ok = true;    // false: an error (text says why, one line, no "error:" prefix)
  std::string text;  // output, each line ending in '\n'
};

// What a command runs against: the debugger and the hart that commands
// default to (the REPL's current hart: the one that stopped last).
struct CommandContext {
  Debugger& d;
  unsigned cur_hart = 0;
  // Commands may create or write host files (trace export, trace shared
  // FILE): true at the REPL, where the person at coremu's terminal types
  // them; false for gdb's monitor, which anyone who reaches the debug port
  // can send.
  bool host_files = true;
};

// One parsed invocation: `x/4xg sym 1` is name "x", modifier "4xg",
// args {"sym", "1"}.
struct Invocation {
  std::string name;
  std::string modifier;
  bool has_modifier = false;
  std::vector<std::string> args;
  const class CommandTable* table = nullptr;  // the table that ran it (for help)
};

using CommandFn = std::function<CommandResult(CommandContext&, const Invocation&)>;

struct Command {
  std::string name;                  // one or two words: "continue", "info harts"
  std::vector<std::string> aliases;  // "c"
  std::string usage;                 // "x/NFU ADDR [HART]"
  std::string help;                  // one line
  CommandFn fn;
  bool modifier = false;             // takes a /NFU suffix
  bool needs_parked = true;          // refuses to run while harts run
};

class CommandTable {
 public:
  // Adds a command; one of the same name is replaced.
  void add(Command c);
  const std::vector<Command>& commands() const { return cmds_; }
  // Parses and runs one line. Empty lines and comments give ok and "".
  CommandResult run(CommandContext& ctx, const std::string& line) const;
  // Finds the command a tokenized line names (`consumed`: its words).
  const Command* find(const std::vector<std::string>& words, size_t& consumed) const;
  std::string help(const std::string& title) const;

 private:
  std::vector<Command> cmds_;
};

// Adds the inspection commands (the list at the top) to `t`.
void add_inspect_commands(CommandTable& t);

// Adds the event breakpoint and tracing commands (break shared, break amo,
// break lrsc-fail, break ipi, break irq, break trap, break race, trace
// shared, trace export, trace stop) to `t`.
void add_event_commands(CommandTable& t);
// "shared 0x80001000 len 8 <counter>": an event point for `info break`.
std::string describe_event(Debugger& d, const EventSpec& s);
// The "stop:" line of a StopReason::kEvent stop.
std::string format_event_stop(Debugger& d, const StopEvent& ev);

// Adds `info replay` (aliases position, pos) and a `goto POS` that waits
// for the stop itself (gdb's monitor; the REPL has its own goto, rstep and
// rcontinue).
void add_replay_commands(CommandTable& t);

// The "stop:" line of any stop ("stop: hart 2 breakpoint 1 pc=... icount=N"),
// ending in " pos=P" on a deterministic machine.
std::string format_stop_line(Debugger& d, const StopEvent& ev);

// gdb's `monitor LINE`: the inspection, event and replay commands, defaulting to `cur_hart`.
CommandResult run_monitor_command(Debugger& d, const std::string& line, unsigned cur_hart = 0);

// One line per hart: "hart N  STATE  PRIV  pc=0x...  <symbol>  icount=N".
// Harts that are not parked show only their state.
std::string format_harts(Debugger& d);

// " <symbol+off>" for an address inside a known symbol, or "".
std::string sym_suffix(Debugger& d, uint64_t addr);

// Argument helpers for commands (false: `err` says why).
bool parse_hart_arg(Debugger& d, const std::string& s, unsigned& out, std::string& err);
// An address expression (number, symbol[+off], $reg of `hart`).
bool parse_addr_arg(Debugger& d, unsigned hart, const std::string& s, uint64_t& out, std::string& err);

}  // namespace coremu
