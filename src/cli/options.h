// The `coremu` command line: qemu-system-riscv64 compatible options for the
// `virt` board, plus coremu's own options.
//
// The syntax is QEMU's: options start with one dash or two (`-smp 4` and
// `--smp 4` are the same), take their argument as the next word, and
// structured arguments are comma-separated `key=value` lists in which ",,"
// stands for a literal comma (`-drive file=a,,b.img,if=none,id=d0`). The
// first item of some lists may omit its key (`-smp 4` is `-smp cpus=4`).
// docs/user-guide.md describes every option.
#pragma once

#include <string>
#include <vector>

#include "machine/config.h"

namespace cli {

struct Options {
  machine::MachineConfig machine;

  // Informational requests: when help or version is set, nothing else is
  // meaningful; print help_output (for help) and exit with status 0.
  bool help = false;       // -h, -help, --help, -M help, -device help, -cpu help, -accel help
  bool version = false;    // -version, --version
  std::string help_output; // the text to print for `help` (usage, or the list asked for)

  bool nographic = false;  // -nographic (serial on stdio; coremu has no display anyway)
  bool demo = false;       // no arguments at all: the caller runs the bundled demo guest

  // Parsed now, used by later features.
  std::string accel_threads;  // -accel tcg,thread=X: "single", "multi", or "" when not given
  unsigned accel_pool = 0;    // -accel tcg,threads=N (coremu): a pool of N host threads, 0 = not given
  bool gdb_wait = false;      // -S: do not start the harts until a debugger says so
  std::string gdb;            // "" (no stub), "tcp:HOST:PORT" or "unix:PATH"; -s is tcp:127.0.0.1:1234
  bool repl = false;          // --repl: the machine starts paused under the command console on stdin
  std::vector<std::string> symbols;  // --symbols FILE (repeatable): ELF symbols for the debuggers, nothing loaded
  std::string clock;          // --clock scaled|host: guest time in the parallel mode ("" = not given: scaled)

  // Deterministic mode (also implied by `coremu record`).
  bool deterministic = false;  // --deterministic: every hart on one host thread, time from instruction counts
  uint64_t quantum = 0;        // --quantum N: steps per slice (0: the default)
  bool chaos = false;          // --chaos SEED: vary slices and hart order from SEED
  uint64_t chaos_seed = 0;
  bool quiet = false;          // -q: no progress line on stderr (deterministic mode)
};

// `coremu record ...` and `coremu replay ...` (anything else is a plain run).
struct Command {
  enum Kind : uint8_t { kRun, kRecord, kReplay } kind = kRun;
  std::vector<std::string> machine_args;  // kRun, kRecord: the options for parse_options
  std::string log;                        // kRecord: -o FILE; kReplay: the log to replay
  // kReplay only: how to look at the replay (the machine comes from the log).
  bool repl = false, gdb_wait = false;
  bool quiet = false;                     // kRecord, kReplay: -q, no progress line (not part of the machine)
  std::string gdb;                        // as Options::gdb
  std::string serial = "stdio";           // -serial DEV, as MachineConfig::serial (a log's is never used)
  bool has_to = false;
  uint64_t to = 0;                        // --to POS: stop at this position
  std::string events;                     // --events OUT.json: the inter-core timeline
  std::vector<std::string> watch;         // --watch SYMBOL|ADDR[:LEN]: ranges the timeline follows
  std::vector<std::string> symbols;       // --symbols FILE: more symbols (e.g. vmlinux) for the debuggers
  int jit = -1;                           // -accel tcg,jit=on|off: the executor (1/0; -1: as recorded)
};

// Parses argv without argv[0]. With no arguments at all it returns
// demo = true and a default machine. On any error it throws
// machine::ConfigError with a one-line message that names the offending
// option (the caller prefixes "coremu: "). Never crashes or throws anything
// else on any input (it is fuzzed), except std::bad_alloc.
Options parse_options(const std::vector<std::string>& args);

// Splits off the `record`/`replay` subcommands and their own options; the
// same error rules as parse_options.
Command parse_command(const std::vector<std::string>& args);

// The part of a recording's command line that shapes the machine
// (harts, RAM, board, firmware, kernel, initrd, device tree, drives,
// devices, deterministic-mode options), in order: what `coremu record`
// stores in its log. Host-side choices (-serial, -nographic, -accel,
// --symbols, ...) are left out. The same errors as parse_options.
std::vector<std::string> recorded_args(const std::vector<std::string>& args);

// Parses the options stored in a replay log: only what recorded_args()
// keeps is accepted; anything else (an edited log asking for -serial
// file:PATH, -gdb, --repl, -machine dumpdtb=FILE, ...) throws ConfigError
// naming it. The caller prefixes where the options came from.
Options parse_recorded(const std::vector<std::string>& args);

// `coremu --help`: a usage line, then every option on one line.
std::string help_text();

}  // namespace cli
