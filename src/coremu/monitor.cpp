#include "coremu/monitor.h"

#include <fmt/core.h>

#include <charconv>
#include <sstream>
#include <vector>

namespace coremu {

namespace {

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  for (std::string s; in >> s;) w.push_back(s);
  return w;
}

bool parse_hart(Debugger& d, const std::string& s, unsigned& out) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v >= d.num_harts()) return false;
  out = v;
  return true;
}

const char* kHelp =
    "monitor commands:\n"
    "  info harts      one line per hart: state, privilege, pc, symbol, icount\n"
    "  icount [HART]   instructions retired by one hart, or by each\n"
    "  pause           stop every hart\n"
    "  help            this text\n";

}  // namespace

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

CommandResult run_monitor_command(Debugger& d, const std::string& line) {
  auto w = words(line);
  if (w.empty() || w[0] == "help") return {true, kHelp};
  if (w[0] == "info" && w.size() == 2 && w[1] == "harts") return {true, format_harts(d)};
  if (w[0] == "icount" && w.size() <= 2) {
    if (!d.runner().all_parked()) return {false, "icount: the harts are running (pause first)\n"};
    std::string out;
    if (w.size() == 2) {
      unsigned h;
      if (!parse_hart(d, w[1], h))
        return {false, fmt::format("icount: no hart '{}' (harts are 0..{})\n", w[1], d.num_harts() - 1)};
      return {true, fmt::format("{}\n", d.hart(h).icount())};
    }
    for (unsigned i = 0; i < d.num_harts(); ++i) out += fmt::format("hart {} {}\n", i, d.hart(i).icount());
    return {true, out};
  }
  if (w[0] == "pause" && w.size() == 1) {
    if (!d.runner().pause_all()) return {false, "pause: the machine is not running\n"};
    return {true, "all harts paused\n"};
  }
  return {false, fmt::format("unknown command '{}' (try 'help')\n", line)};
}

}  // namespace coremu
