// The `coremu` binary: command line -> machine -> parallel run.
#include <fmt/core.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/options.h"
#include "coremu/console.h"
#include "coremu/debug.h"
#include "coremu/runner.h"
#include "repl.h"
#include "server.h"
#include "machine/machine.h"

namespace {

// The bundled demo guest, built from tests/guest/demo at build time, lives
// next to the binary in the build tree (guest/demo.elf).
std::string demo_path() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::filesystem::path dir = ec ? std::filesystem::path(".") : exe.parent_path();
  for (auto p : {dir / "guest" / "demo.elf", dir / ".." / "guest" / "demo.elf"})
    if (std::filesystem::exists(p)) return p.string();
  throw machine::ConfigError("the bundled demo guest (guest/demo.elf next to the coremu binary) is missing; "
                             "build it with 'cmake --build build' or pass -kernel FILE");
}

// Host threads for the harts: 0 = one per hart, N = a pool of N.
unsigned pool_threads(const cli::Options& o) {
  if (o.accel_pool) return o.accel_pool;
  if (o.accel_threads == "single") return 1;
  return 0;  // thread=multi, and the default
}

int run(const std::vector<std::string>& args) {
  cli::Options opts = cli::parse_options(args);
  if (opts.help) {
    fmt::print("{}", opts.help_output);
    return 0;
  }
  if (opts.version) {
    // Build scripts (xv6's Makefile among them) parse QEMU's banner for a
    // version; coremu follows qemu-system-riscv64 7.2's command line.
    fmt::print("QEMU emulator version 7.2.0 (coremu {}, qemu-system-riscv64 compatible)\n"
               "coremu {}: a parallel RISC-V full-system emulator\n", COREMU_VERSION, COREMU_VERSION);
    return 0;
  }
  if (opts.gdb_wait && opts.gdb.empty())
    throw machine::ConfigError("-S waits for a debugger to start the harts: add -s or -gdb DEV");
  if (opts.demo) {
    opts.machine.kernel = demo_path();
    opts.machine.bios = "none";
    opts.machine.smp = 4;
    fmt::print(stderr, "coremu: no arguments: running the bundled demo guest on {} harts ({})\n"
               "coremu: see 'coremu --help' for options\n", opts.machine.smp, opts.machine.kernel);
  }

  coremu::HostClock clock;
  coremu::Runner runner(clock, pool_threads(opts));
  machine::Machine m(opts.machine, runner, clock);
  if (!opts.machine.dumpdtb.empty()) {
    std::ofstream out(opts.machine.dumpdtb, std::ios::binary);
    out.write(reinterpret_cast<const char*>(m.fdt().data()), static_cast<std::streamsize>(m.fdt().size()));
    if (!out) throw machine::ConfigError("cannot write device tree to '" + opts.machine.dumpdtb + "'");
    return 0;
  }
  std::unique_ptr<coremu::FileBackend> serial;
  if (opts.machine.serial != "none") {
    serial = std::make_unique<coremu::FileBackend>(opts.machine.serial);
    m.set_serial_backend(serial.get());
  }
  std::unique_ptr<coremu::Debugger> debugger;
  if (opts.repl) {
    if (!opts.gdb.empty()) throw machine::ConfigError("--repl and a GDB server (-s, -gdb) cannot be used together");
    // The machine starts paused and runs on its own threads; stdin belongs
    // to the REPL (guest input goes through its `uart` command).
    runner.enable_debug(true);
    debugger = std::make_unique<coremu::Debugger>(m, runner);
    int guest_status = 0;
    std::thread machine_thread([&] { guest_status = runner.run(m); });
    repl::Repl session(*debugger);
    int status = 0;
    {
      auto in = repl::stdin_source(session);
      status = session.run(*in);
    }
    runner.stop();  // quit or end of input: nothing more to run
    machine_thread.join();
    (void)guest_status;
    return status;
  }
  std::unique_ptr<gdbstub::Server> gdb;
  if (!opts.gdb.empty()) {
    runner.enable_debug(opts.gdb_wait);
    debugger = std::make_unique<coremu::Debugger>(m, runner);
    gdb = std::make_unique<gdbstub::Server>(*debugger, opts.gdb);
    gdb->start();
    fmt::print(stderr, "coremu: GDB server on {}{}\n", opts.gdb, opts.gdb_wait ? " (harts wait for the debugger)" : "");
  }
  std::unique_ptr<coremu::StdinReader> input;
  if (opts.machine.serial == "stdio") input = std::make_unique<coremu::StdinReader>(m, [&runner] { runner.stop(); });
  int status = runner.run(m);
  if (gdb) gdb->shutdown();
  input.reset();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return run(args);
  } catch (const machine::ConfigError& e) {
    fmt::print(stderr, "coremu: {}\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "coremu: out of memory (is -m too large?)\n");
    return 1;
  }
}
