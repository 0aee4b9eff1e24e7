// The `coremu` binary: command line -> machine -> parallel run.
#include <fmt/core.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/options.h"
#include "coremu/console.h"
#include "coremu/debug.h"
#include "coremu/det_runner.h"
#include "coremu/progress.h"
#include "coremu/runner.h"
#include "replay/journal.h"
#include "replay/timeline.h"
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

// Host cores this process may run on (its affinity mask).
unsigned host_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return static_cast<unsigned>(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// Host threads for the harts: 0 = one per hart, N = a pool of N.
unsigned pool_threads(const cli::Options& o) {
  if (o.accel_pool) return o.accel_pool;
  if (o.accel_threads == "single") return 1;
  return 0;  // thread=multi, and the default
}

void use_demo(cli::Options& opts) {
  opts.machine.kernel = demo_path();
  opts.machine.bios = "none";
  opts.machine.smp = 4;
  fmt::print(stderr, "coremu: no arguments: running the bundled demo guest on {} harts ({})\n"
             "coremu: see 'coremu --help' for options\n", opts.machine.smp, opts.machine.kernel);
}

// Runs a debugger front end (the REPL on stdin, or a GDB server) on a
// machine driven by `ctl`, whose run() is `run_machine`. Returns the exit status.
int run_debugged(machine::Machine& m, coremu::Control& ctl, const std::function<int()>& run_machine, bool repl,
                 const std::string& gdb_addr, bool gdb_wait) {
  if (repl) {
    // The machine starts paused and runs on its own thread; stdin belongs
    // to the REPL (guest input goes through its `uart` command).
    ctl.enable_debug(true);
    coremu::Debugger debugger(m, ctl);
    int guest_status = 0;
    std::thread machine_thread([&] { guest_status = run_machine(); });
    repl::Repl session(debugger);
    int status = 0;
    {
      auto in = repl::stdin_source(session);
      status = session.run(*in);
    }
    ctl.stop();  // quit or end of input: nothing more to run
    machine_thread.join();
    (void)guest_status;
    return status;
  }
  ctl.enable_debug(gdb_wait);
  coremu::Debugger debugger(m, ctl);
  gdbstub::Server gdb(debugger, gdb_addr);
  gdb.start();
  fmt::print(stderr, "coremu: GDB server on {}{}\n", gdb_addr, gdb_wait ? " (harts wait for the debugger)" : "");
  int status = run_machine();
  gdb.shutdown();
  return status;
}

// `--watch SYMBOL|ADDR[:LEN]` (LEN default: 8 bytes).
rv64::EventRange watch_range(machine::Machine& m, const std::string& spec) {
  std::string what = spec, len_text;
  if (auto colon = spec.rfind(':'); colon != std::string::npos) {
    what = spec.substr(0, colon);
    len_text = spec.substr(colon + 1);
  }
  uint64_t len = 8;
  if (!len_text.empty()) {
    char* end = nullptr;
    len = std::strtoull(len_text.c_str(), &end, 0);
    if (*end || len == 0 || len > (1ull << 30))
      throw machine::ConfigError("replay: --watch " + spec + ": the length must be 1 to 2^30 bytes");
  }
  auto it = m.symbols().by_name.find(what);
  if (it != m.symbols().by_name.end()) return {it->second, len};
  char* end = nullptr;
  uint64_t addr = std::strtoull(what.c_str(), &end, 0);
  if (what.empty() || *end)
    throw machine::ConfigError("replay: --watch " + spec + ": no symbol '" + what + "' in the guest, and not an address");
  return {addr, len};
}

// Runs f(); if it takes more than a second, says `what` on the progress
// line's terminal meanwhile (hashing a large disk image takes a while).
template <class F>
auto announce_if_slow(coremu::ProgressLine& progress, const std::string& what, F f) {
  if (!progress.active()) return f();
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread t([&] {
    std::unique_lock<std::mutex> lk(mu);
    if (!cv.wait_for(lk, std::chrono::seconds(1), [&] { return done; })) progress.message("coremu: " + what + " ...");
  });
  struct Join {
    std::mutex& mu;
    std::condition_variable& cv;
    bool& done;
    std::thread& t;
    ~Join() {
      {
        std::lock_guard<std::mutex> lk(mu);
        done = true;
      }
      cv.notify_all();
      t.join();
    }
  } join{mu, cv, done, t};
  return f();
}

// --deterministic, `coremu record` and `coremu replay`.
int run_deterministic(const cli::Command& cmd, cli::Options opts) {
  std::unique_ptr<replay::LogReader> reader;
  coremu::DetOptions dopt;
  auto debugged_run = [&] { return cmd.repl || !cmd.gdb.empty() || opts.repl || !opts.gdb.empty(); };
  // The progress line (stderr, a terminal only; not under a debugger, whose
  // console the terminal is).
  std::unique_ptr<coremu::ProgressLine> progress;
  if (cmd.kind == cli::Command::kReplay) {
    reader = std::make_unique<replay::LogReader>(cmd.log);
    const replay::Header& h = reader->header();
    if (h.coremu_version != COREMU_VERSION)
      throw replay::LogError(fmt::format("'{}' was recorded by coremu {}; this is coremu {}, which may not run it "
                                         "the same way", cmd.log, h.coremu_version, COREMU_VERSION));
    opts = cli::parse_options(h.args);
    if (opts.demo) use_demo(opts);
    progress = std::make_unique<coremu::ProgressLine>(STDERR_FILENO, !cmd.quiet && !debugged_run());
    announce_if_slow(*progress, "replay: hashing the images to check them against the log",
                     [&] { replay::check_images(h, opts.machine); });
    if (opts.machine.smp != h.harts)
      throw replay::LogError(fmt::format("'{}' holds a {}-hart recording but its options give {}", cmd.log, h.harts,
                                         opts.machine.smp));
    dopt.quantum = h.quantum;
    if (h.chaos) dopt.chaos_seed = h.chaos_seed;
    dopt.digest_interval = h.digest_interval;
  } else {
    if (opts.quantum) dopt.quantum = opts.quantum;
    if (opts.chaos) dopt.chaos_seed = opts.chaos_seed;
  }
  if (!progress)
    progress = std::make_unique<coremu::ProgressLine>(STDERR_FILENO, !cmd.quiet && !opts.quiet && !debugged_run());
  if (cmd.kind == cli::Command::kRecord && (opts.repl || !opts.gdb.empty()))
    throw machine::ConfigError("record: a recording cannot be debugged while it runs; record it, then debug it "
                               "with 'coremu replay FILE --repl' or 'coremu replay FILE -s -S'");
  coremu::DetRunner det(dopt);
  machine::Machine m(opts.machine, det, det);
  for (const std::string& f : opts.symbols) m.add_symbols(f);
  for (const std::string& f : cmd.symbols) m.add_symbols(f);
  std::unique_ptr<replay::Recorder> rec;
  std::unique_ptr<replay::Replayer> rep;
  if (cmd.kind == cli::Command::kRecord) {
    replay::Header h;
    h.coremu_version = COREMU_VERSION;
    h.args = cmd.machine_args;
    h.images = announce_if_slow(*progress, "record: hashing the images for the log",
                                [&] { return replay::machine_images(opts.machine); });
    h.harts = opts.machine.smp;
    h.quantum = dopt.quantum;
    h.chaos = dopt.chaos_seed.has_value();
    h.chaos_seed = dopt.chaos_seed.value_or(0);
    h.digest_interval = dopt.digest_interval;
    rec = std::make_unique<replay::Recorder>(cmd.log, h);
    det.set_journal(rec.get());
  } else if (reader) {
    rep = std::make_unique<replay::Replayer>(*reader);
    det.set_journal(rep.get());
    if (cmd.has_to && !cmd.repl && cmd.gdb.empty()) det.set_stop_at(cmd.to);
    if (rep->end()) det.set_end_at(rep->end()->global_steps);
  }
  std::unique_ptr<coremu::FileBackend> serial;
  if (opts.machine.serial != "none") {
    serial = std::make_unique<coremu::FileBackend>(opts.machine.serial);
    m.set_serial_backend(det.output(serial.get()));
  }
  if (progress->active())
    det.set_progress(progress.get(), [&](coremu::ProgressLine::Status& st) {
      if (rec) st.log_bytes = static_cast<int64_t>(rec->bytes());
      if (rep && rep->end() && rep->end()->global_steps)
        st.fraction = double(st.pos) / double(rep->end()->global_steps);
      else if (rep && reader->truncated() && reader->covered_slice())
        st.fraction = double(det.slices()) / double(reader->covered_slice());
    });
  std::unique_ptr<coremu::StdinReader> input;
  bool debugged = cmd.repl || !cmd.gdb.empty() || opts.repl || !opts.gdb.empty();
  if (!rep && opts.machine.serial == "stdio" && !debugged)
    input = std::make_unique<coremu::StdinReader>(
        [&det](const uint8_t* d, size_t n) {
          det.queue_input(d, n);
          return n;
        },
        [&det] { det.stop(); });
  std::unique_ptr<replay::Timeline> timeline;
  if (!cmd.events.empty()) {
    std::vector<rv64::EventRange> ranges;
    for (const std::string& w : cmd.watch) ranges.push_back(watch_range(m, w));
    timeline = std::make_unique<replay::Timeline>(m, det, ranges);
    timeline->install();
  }
  int status;
  auto run_machine = [&] { return det.run(m); };
  if (debugged)
    status = run_debugged(m, det, run_machine, cmd.repl || opts.repl, cmd.gdb.empty() ? opts.gdb : cmd.gdb,
                          cmd.gdb.empty() ? opts.gdb_wait : cmd.gdb_wait);
  else
    status = run_machine();
  input.reset();
  det.set_progress(nullptr);
  progress->erase();
  if (timeline) {
    std::string err;
    timeline->uninstall();
    if (!timeline->write(cmd.events, err)) throw machine::ConfigError(err);
    fmt::print(stderr, "coremu: replay: {} events written to '{}'\n", timeline->size(), cmd.events);
  }
  uint64_t digest = m.state_digest();
  if (det.diverged()) {
    fmt::print(stderr, "coremu: replay: {}\n", det.end_note());
    return 2;
  }
  if (rec) rec->finish(det.slices(), status, det.steps(), digest);
  if (rep && det.reached_end_of_log() && !reader->truncated()) {
    // The recording was stopped (e.g. Ctrl-A x) before the guest shut down.
    fmt::print(stderr, "coremu: replay: reached the end of the recording at position {} (it was stopped there, "
               "not shut down by the guest)\n", det.steps());
    fmt::print(stderr, "final state digest: {:016x}\n", digest);
    if (rep->end()->digest != digest && !debugged) {
      fmt::print(stderr, "coremu: replay: divergence: the final state digest differs from the recording's ({:016x})\n",
                 rep->end()->digest);
      return 2;
    }
    return rep->end()->exit_status;
  }
  if (rep && det.reached_end_of_log()) {
    fmt::print(stderr, "coremu: replay: the log is truncated ({}); replayed its complete prefix: {} slices, "
               "position {}\n", reader->truncation_note(), det.slices(), det.steps());
    fmt::print(stderr, "state digest: {:016x}\n", digest);
    return 3;
  }
  if (rep && cmd.has_to && !debugged) {
    fmt::print(stderr, "coremu: replay: stopped at position {}\nstate digest: {:016x}\n", det.steps(), digest);
    return 0;
  }
  if (debugged && rep)
    fmt::print(stderr, "state digest at position {}: {:016x}\n", det.steps(), digest);
  else
    fmt::print(stderr, "final state digest: {:016x}\n", digest);
  if (rep && rep->end() && !debugged && rep->end()->digest != digest) {
    fmt::print(stderr, "coremu: replay: divergence: the final state digest differs from the recording's ({:016x})\n",
               rep->end()->digest);
    return 2;
  }
  if (rec)
    fmt::print(stderr, "coremu: recorded {} steps in {} slices to '{}' ({} bytes, {:.1f} per million steps; {} "
               "interrupt and {} digest records)\n", det.steps(), det.slices(), cmd.log, rec->bytes(),
               det.steps() ? double(rec->bytes()) * 1e6 / double(det.steps()) : 0.0, rec->interrupts(), rec->digests());
  return status;
}

int run(const std::vector<std::string>& all_args) {
  cli::Command cmd = cli::parse_command(all_args);
  if (cmd.kind == cli::Command::kReplay) return run_deterministic(cmd, cli::Options{});
  const std::vector<std::string>& args = cmd.machine_args;
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
  if (opts.demo) use_demo(opts);
  if (cmd.kind == cli::Command::kRecord || opts.deterministic) return run_deterministic(cmd, opts);

  // Scaled time (the default) depends on how many host cores the harts
  // share: a pool of N threads uses at most N.
  unsigned cpus = host_cpus();
  if (pool_threads(opts)) cpus = std::min(cpus, pool_threads(opts));
  coremu::HostClock clock(opts.clock == "host" ? coremu::HostClock::Mode::kHost : coremu::HostClock::Mode::kScaled,
                          cpus);
  coremu::Runner runner(clock, pool_threads(opts));
  machine::Machine m(opts.machine, runner, clock);
  for (const std::string& f : opts.symbols) m.add_symbols(f);
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
  if (opts.repl && !opts.gdb.empty())
    throw machine::ConfigError("--repl and a GDB server (-s, -gdb) cannot be used together");
  if (opts.repl || !opts.gdb.empty())
    return run_debugged(m, runner, [&] { return runner.run(m); }, opts.repl, opts.gdb, opts.gdb_wait);
  std::unique_ptr<coremu::StdinReader> input;
  if (opts.machine.serial == "stdio")
    input = std::make_unique<coremu::StdinReader>(
        [&m](const uint8_t* d, size_t n) { return m.serial_input(d, n); }, [&runner] { runner.stop(); });
  int status = runner.run(m);
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
  } catch (const replay::LogError& e) {
    fmt::print(stderr, "coremu: replay log: {}\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "coremu: out of memory (is -m too large?)\n");
    return 1;
  }
}
