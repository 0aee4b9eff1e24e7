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

void use_demo(cli::Options& opts, bool quiet = false) {
  opts.machine.kernel = demo_path();
  opts.machine.bios = "none";
  opts.machine.smp = 4;
  if (!quiet)
    fmt::print(stderr, "coremu: no arguments: running the bundled demo guest on {} harts ({})\n"
               "coremu: see 'coremu --help' for options\n", opts.machine.smp, opts.machine.kernel);
}

std::string size_text(uint64_t bytes) {
  if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0) return fmt::format("{} GiB", bytes >> 30);
  if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0) return fmt::format("{} MiB", bytes >> 20);
  return fmt::format("{} bytes", bytes);
}

// What `coremu replay` is about to run, from the log: one line for the
// machine, one per image.
void print_replayed_machine(const std::string& log, const replay::Header& h, const cli::Options& o) {
  const machine::MachineConfig& m = o.machine;
  std::string sched = h.chaos ? fmt::format("chaos seed {}", h.chaos_seed) : "no chaos";
  fmt::print(stderr, "coremu: replaying '{}' (recorded by coremu {}): {} hart{}, {} RAM, {}, quantum {}\n", log,
             replay::shown(h.coremu_version), m.smp, m.smp == 1 ? "" : "s", size_text(m.ram_size), sched, h.quantum);
  if (m.bios == "default" || m.bios == "none")
    fmt::print(stderr, "coremu:   firmware: {}\n", m.bios == "none" ? "none" : "the built-in SBI");
  for (const replay::ImageInfo& im : h.images)
    fmt::print(stderr, "coremu:   {} '{}' ({} bytes, hash {:016x}){}\n", replay::shown(im.role),
               replay::shown(im.path), im.size, im.hash,
               im.role.starts_with("drive ") ? ": guest writes kept in memory" : "");
  if (!m.append.empty()) fmt::print(stderr, "coremu:   command line: {}\n", replay::shown(m.append));
}

// Runs a debugger front end (the REPL on stdin, or a GDB server) on a
// machine driven by `ctl`, whose run() is `run_machine`. Returns the exit status.
// `change` receives what the debugger changed in a replay (Debugger::change()).
int run_debugged(machine::Machine& m, coremu::Control& ctl, const std::function<int()>& run_machine, bool repl,
                 const std::string& gdb_addr, bool gdb_wait, std::string* change = nullptr) {
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
    if (change) *change = debugger.change();
    return status;
  }
  ctl.enable_debug(gdb_wait);
  coremu::Debugger debugger(m, ctl);
  gdbstub::Server gdb(debugger, gdb_addr);
  gdb.set_harts_wait(gdb_wait);
  gdb.start();
  fmt::print(stderr, "coremu: GDB server on {}{}\n", gdb_addr, gdb_wait ? " (harts wait for the debugger)" : "");
  int status = run_machine();
  gdb.shutdown();
  if (change) *change = debugger.change();
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

// The end of a replay: what it reached, checked against the recording's
// end record (position, slice, exit status, final digest). Returns the
// exit status: the recording's, 2 for a divergence, 3 for a truncated log.
int finish_replay(const cli::Command& cmd, replay::LogReader& reader, replay::Replayer& rep, coremu::DetRunner& det,
                  bool debugged, bool guest_exited, int status, uint64_t digest, const std::string& change) {
  const replay::Record* end = rep.end();
  uint64_t pos = det.steps();
  bool stopped_at_to = cmd.has_to && !debugged && !guest_exited && !det.reached_end_of_log();
  if (stopped_at_to && (reader.truncated() || pos < end->global_steps)) {
    fmt::print(stderr, "coremu: replay: stopped at position {}\nstate digest: {:016x}\n", pos, digest);
    return 0;
  }
  if (reader.truncated()) {
    if (det.reached_end_of_log())
      fmt::print(stderr, "coremu: replay: the log is truncated ({}); replayed its complete prefix: {} slices, "
                 "position {}\n", reader.truncation_note(), det.slices(), pos);
    else if (debugged)
      fmt::print(stderr, "coremu: replay: the log is truncated ({}); the session ended at position {}\n",
                 reader.truncation_note(), pos);
    else
      fmt::print(stderr, "coremu: replay: the log is truncated ({}); the guest shut the machine down at position {} "
                 "(slice {}) with status {}, but the recording's end record is missing, so nothing confirms that "
                 "end\n", reader.truncation_note(), pos, det.slices(), status);
    fmt::print(stderr, "state digest: {:016x}\n", digest);
    if (!change.empty()) fmt::print(stderr, "coremu: replay: diverged: the debugger changed the machine ({})\n", change);
    return 3;
  }
  // Not truncated: the log has its end record.
  if (debugged) {
    fmt::print(stderr, "state digest at position {}: {:016x}\n", pos, digest);
    if (!change.empty()) {
      fmt::print(stderr, "coremu: replay: diverged: the debugger changed the machine ({}), so this is not the "
                 "recorded run{}\n", change,
                 pos == end->global_steps ? fmt::format("; the recording's digest here is {:016x}", end->digest) : "");
      return 2;
    }
    if (pos == end->global_steps && digest != end->digest) {
      fmt::print(stderr, "coremu: replay: divergence: the state digest at the recording's end differs from the "
                 "recording's ({:016x})\n", end->digest);
      return 2;
    }
    // The session's status (the REPL's, or the guest's), or the recording's
    // when it was stopped (not shut down) and the session ends at its end.
    return det.reached_end_of_log() && !guest_exited && pos == end->global_steps ? end->exit_status : status;
  }
  if (det.reached_end_of_log()) {
    // The recording was stopped (e.g. Ctrl-A x) before the guest shut down.
    fmt::print(stderr, "coremu: replay: reached the end of the recording at position {} (it was stopped there, "
               "not shut down by the guest)\n", pos);
  }
  fmt::print(stderr, "final state digest: {:016x}\n", digest);
  // The run must end where, how and in the state the recording did.
  std::string differs;
  if (pos != end->global_steps)
    differs = fmt::format("it ended at position {}, the recording at {}", pos, end->global_steps);
  else if (det.slices() != end->slice)
    differs = fmt::format("it ended in slice {}, the recording in slice {}", det.slices(), end->slice);
  else if (!det.reached_end_of_log() && status != end->exit_status)
    differs = fmt::format("the guest exited with status {}, in the recording with {}", status, end->exit_status);
  else if (digest != end->digest)
    differs = fmt::format("the final state digest differs from the recording's ({:016x})", end->digest);
  if (!differs.empty()) {
    fmt::print(stderr, "coremu: replay: divergence: {}\n", differs);
    return 2;
  }
  return det.reached_end_of_log() ? end->exit_status : status;
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
                                         "the same way", cmd.log, replay::shown(h.coremu_version), COREMU_VERSION));
    // Only the machine's shape comes from the log; where the console goes
    // and who may debug come from this command line.
    try {
      opts = cli::parse_recorded(h.args);
    } catch (const machine::ConfigError& e) {
      throw replay::LogError(fmt::format("'{}': {}", cmd.log, e.what()));
    }
    if (opts.demo) use_demo(opts, true);
    opts.machine.serial = cmd.serial;
    if (cmd.jit >= 0) opts.machine.jit = cmd.jit == 1;  // the executor: either replays the same
    // The recording had the images as they were; a replay must leave them
    // so (the next replay checks them again): guest writes stay in memory.
    for (machine::DriveConfig& d : opts.machine.drives) d.snapshot = true;
    try {
      replay::check_header_values(h);
    } catch (const replay::LogError& e) {
      throw replay::LogError(fmt::format("'{}': {}", cmd.log, e.what()));
    }
    progress = std::make_unique<coremu::ProgressLine>(STDERR_FILENO, !cmd.quiet && !debugged_run());
    if (opts.machine.smp != h.harts)
      throw replay::LogError(fmt::format("'{}' holds a {}-hart recording but its options give {}", cmd.log, h.harts,
                                         opts.machine.smp));
    try {
      announce_if_slow(*progress, "replay: hashing the images to check them against the log",
                       [&] { replay::check_images(h, opts.machine); });
    } catch (const replay::LogError& e) {
      throw replay::LogError(fmt::format("'{}': {}", cmd.log, e.what()));
    }
    print_replayed_machine(cmd.log, h, opts);
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
    h.args = cli::recorded_args(cmd.machine_args);  // what shapes the machine; no host-side choices
    h.images = announce_if_slow(*progress, "record: hashing the images for the log",
                                [&] { return replay::machine_images(opts.machine); });
    h.harts = opts.machine.smp;
    h.quantum = dopt.quantum;
    h.chaos = dopt.chaos_seed.has_value();
    h.chaos_seed = dopt.chaos_seed.value_or(0);
    h.digest_interval = dopt.digest_interval;
    rec = std::make_unique<replay::Recorder>(cmd.log, h);
    det.set_journal(rec.get());
    for (const machine::DriveConfig& d : opts.machine.drives)
      if (!d.readonly && !d.snapshot)
        fmt::print(stderr, "coremu: record: drive '{}' is writable: the guest's writes change '{}', and the log "
                   "replays only against the image as it was before them: copy it now (or record with snapshot=on)\n",
                   d.id, d.file);
  } else if (reader) {
    try {
      rep = std::make_unique<replay::Replayer>(*reader);
    } catch (const replay::LogError& e) {
      throw replay::LogError(fmt::format("'{}': {}", cmd.log, e.what()));
    }
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
  std::string change;  // what a debugger changed in the replay, if anything
  auto run_machine = [&] { return det.run(m); };
  if (debugged)
    status = run_debugged(m, det, run_machine, cmd.repl || opts.repl, cmd.gdb.empty() ? opts.gdb : cmd.gdb,
                          cmd.gdb.empty() ? opts.gdb_wait : cmd.gdb_wait, &change);
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
    if (!change.empty())
      fmt::print(stderr, "coremu: replay: (the debugger had changed the machine before: {})\n", change);
    return 2;
  }
  if (rec) {
    rec->finish(det.slices(), status, det.steps(), digest);
    fmt::print(stderr, "final state digest: {:016x}\n", digest);
    fmt::print(stderr, "coremu: recorded {} steps in {} slices to '{}' ({} bytes, {:.1f} per million steps; {} "
               "interrupt and {} digest records)\n", det.steps(), det.slices(), cmd.log, rec->bytes(),
               det.steps() ? double(rec->bytes()) * 1e6 / double(det.steps()) : 0.0, rec->interrupts(), rec->digests());
    return status;
  }
  if (!rep) {
    fmt::print(stderr, "final state digest: {:016x}\n", digest);
    return status;
  }
  return finish_replay(cmd, *reader, *rep, det, debugged, m.shutdown_status().has_value(), status, digest, change);
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
