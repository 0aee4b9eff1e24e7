// The REPL: a command console that controls a machine through the
// debug/control API (coremu::Runner and coremu::Debugger), started with
// `coremu --repl`. The machine starts paused; commands inspect it, set
// breakpoints and watchpoints, and run it (continue, step, stepall; on a
// replay also backwards: goto, rstep, rcontinue) until the next stop,
// which is reported on one line beginning "stop:".
//
// The commands live in a table (coremu::CommandTable): the inspection
// commands shared with gdb's `monitor` (src/coremu/monitor.h) plus the
// run-control commands added here. New commands (event breakpoints,
// tracing) are added with table().add().
#pragma once

#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "coremu/debug.h"
#include "coremu/monitor.h"

namespace repl {

// Where the REPL's lines come from.
class LineSource {
 public:
  virtual ~LineSource() = default;
  // The next line (without its newline); nullopt at the end of input.
  virtual std::optional<std::string> next() = 0;
};

class Repl {
 public:
  explicit Repl(coremu::Debugger& d, std::FILE* out = stdout);

  // Waits for the machine to come up paused, then runs lines from `in`
  // until `quit`, the end of input or the guest's exit. Returns the exit
  // status for the process: the guest's if it exited, else 0.
  int run(LineSource& in);
  // Runs one line and prints its output; false when the session is over.
  bool execute(const std::string& line);
  bool finished() const { return done_; }
  int exit_status() const { return status_; }

  coremu::CommandTable& table() { return table_; }
  coremu::Debugger& debugger() { return d_; }

  // Asks a running `continue` to pause (from a SIGINT handler: only sets a flag).
  static void interrupt() { interrupt_.store(true); }

 private:
  void add_commands();
  coremu::CommandResult cmd_continue(const coremu::Invocation& inv);
  coremu::CommandResult cmd_step(const coremu::Invocation& inv);
  coremu::CommandResult cmd_stepall(const coremu::Invocation& inv);
  coremu::CommandResult cmd_set_reg(const coremu::Invocation& inv);
  coremu::CommandResult cmd_set_mem(const coremu::Invocation& inv);
  coremu::CommandResult cmd_break(const coremu::Invocation& inv);
  coremu::CommandResult cmd_watch(const coremu::Invocation& inv);
  coremu::CommandResult cmd_delete(const coremu::Invocation& inv);
  coremu::CommandResult cmd_uart(const coremu::Invocation& inv);
  coremu::CommandResult cmd_quit(const coremu::Invocation& inv);
  coremu::CommandResult cmd_goto(const coremu::Invocation& inv);
  coremu::CommandResult cmd_rstep(const coremu::Invocation& inv);
  coremu::CommandResult cmd_rcontinue(const coremu::Invocation& inv);

  // Waits for the next stop event (feeding queued UART input, pausing on
  // an interrupt); the machine is paused again when it returns, unless it
  // exited.
  coremu::StopEvent next_stop();
  // The "stop:" line for an event, and a line with the instruction at the pc.
  std::string report(const coremu::StopEvent& ev);
  void feed_uart();

  coremu::Debugger& d_;
  std::FILE* out_;
  coremu::CommandTable table_;
  unsigned cur_ = 0;  // the hart commands default to: the one that stopped last
  std::optional<coremu::StopEvent> last_stop_;  // the stop reported last
  bool done_ = false;
  int status_ = 0;
  std::string uart_pending_;  // input the UART's receive FIFO had no room for yet
  static std::atomic<bool> interrupt_;
};

// Lines from stdin: readline (history in ~/.coremu_history, completion of
// commands, symbols and hart numbers, Ctrl-C pauses a `continue`) when
// stdin is a terminal; plain lines otherwise.
std::unique_ptr<LineSource> stdin_source(Repl& r);

}  // namespace repl
