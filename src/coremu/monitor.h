// Text commands about the machine shared by the REPL and gdb's `monitor`
// (qRcmd): `help`, `info harts`, `icount [HART]`, `pause`.
#pragma once

#include <string>

#include "coremu/debug.h"

namespace coremu {

struct CommandResult {
  bool ok = true;    // false: an error (text says why)
  std::string text;  // output, each line ending in '\n'
};

CommandResult run_monitor_command(Debugger& d, const std::string& line);

// One line per hart: "hart N  STATE  PRIV  pc=0x...  <symbol>  icount=N".
// Harts that are not parked show only their state.
std::string format_harts(Debugger& d);

}  // namespace coremu
