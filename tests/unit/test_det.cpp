// The deterministic scheduler in-process: repeatable runs, replay of a
// recorded run through the journal, divergence reports, and time travel
// through the Control interface (go_to, reverse step and continue).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "coremu/det_runner.h"
#include "machine/config.h"
#include "machine/machine.h"
#include "replay/journal.h"
#include "replay/log.h"

namespace {

using coremu::DetOptions;
using coremu::DetRunner;
using coremu::HartAction;
using coremu::StopReason;

std::string guest(const char* name) { return std::string(COREMU_GUEST_DIR) + "/" + name + ".elf"; }

machine::MachineConfig race_machine() {
  machine::MachineConfig c;
  c.smp = 4;
  c.ram_size = 32ull << 20;
  c.kernel = guest("race_small");
  c.serial = "none";
  return c;
}

struct Out : machine::CharBackend {
  std::string text;
  void write(const uint8_t* d, size_t n) override { text.append(reinterpret_cast<const char*>(d), n); }
};

struct RunResult {
  std::string out;
  uint64_t digest = 0;
  int status = -1;
  uint64_t steps = 0;
};

RunResult run_once(DetOptions o, coremu::Journal* j = nullptr) {
  DetRunner r(o);
  if (j) r.set_journal(j);
  machine::Machine m(race_machine(), r, r);
  Out out;
  m.set_serial_backend(r.output(&out));
  RunResult res;
  res.status = r.run(m);
  res.out = out.text;
  res.digest = m.state_digest();
  res.steps = r.steps();
  return res;
}

// Records a run with these options (a chaos seed) to `path`.
RunResult record(const DetOptions& o, const std::string& path) {
  replay::Header h;
  h.coremu_version = "test";
  h.harts = 4;
  h.quantum = o.quantum;
  h.chaos = o.chaos_seed.has_value();
  h.chaos_seed = o.chaos_seed.value_or(0);
  h.digest_interval = o.digest_interval;
  replay::Recorder recorder(path, h);
  RunResult rec = run_once(o, &recorder);
  recorder.finish(1000000, rec.status, rec.steps, rec.digest);
  return rec;
}

std::string tmpfile(const char* tag) {
  return std::string("/tmp/coremu-test-det-") + tag + "-" + std::to_string(getpid()) + ".log";
}

TEST(DetRunner, SameRunTwiceAndChaosSeedsDiffer) {
  if (access(guest("race_small").c_str(), R_OK) != 0) GTEST_SKIP() << "guest programs not built";
  RunResult a = run_once({}), b = run_once({});
  EXPECT_EQ(a.status, 0);
  EXPECT_NE(a.out.find("race: 4 harts"), std::string::npos) << a.out;
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(a.digest, b.digest);
  EXPECT_EQ(a.steps, b.steps);
  DetOptions c;
  c.chaos_seed = 6;
  RunResult x = run_once(c), y = run_once(c);
  EXPECT_EQ(x.digest, y.digest);
  EXPECT_NE(x.digest, a.digest);  // another schedule, another end state
}

// Records a run, then replays it from a log that has been tampered with:
// the replay must stop and name the hart and the point that differ.
TEST(DetRunner, ReplayReportsTheFirstDivergence) {
  if (access(guest("race_small").c_str(), R_OK) != 0) GTEST_SKIP() << "guest programs not built";
  DetOptions o;
  o.chaos_seed = 6;
  o.digest_interval = 4;
  std::string path = tmpfile("rec");
  RunResult rec = record(o, path);
  // An honest replay matches.
  {
    replay::LogReader reader(path);
    replay::Replayer rep(reader);
    RunResult again = run_once(o, &rep);
    EXPECT_EQ(again.digest, rec.digest);
    EXPECT_EQ(again.out, rec.out);
  }
  // Copy the log, changing hart 2's hash in the first digest record after
  // the first that lists hart 2 (a digest lists the harts that ran since
  // the one before).
  replay::LogReader reader(path);
  std::string bad = tmpfile("bad");
  int digests = 0;
  bool changed = false;
  {
    replay::LogWriter w(bad, reader.header());
    while (auto r = reader.next()) {
      if (r->kind == replay::Record::kEnd) break;
      if (r->kind == replay::Record::kDigest && ++digests >= 2 && !changed)
        for (size_t k = 0; k < r->harts.size(); ++k)
          if ((r->digest_harts.empty() ? k : r->digest_harts[k]) == 2) {
            r->harts[k].second ^= 1;
            changed = true;
          }
      w.add(*r);
    }
    w.flush(~0ull >> 1);
  }
  ASSERT_GE(digests, 2);
  ASSERT_TRUE(changed);
  replay::LogReader bad_reader(bad);
  replay::Replayer rep(bad_reader);
  DetRunner r(o);
  r.set_journal(&rep);
  machine::Machine m(race_machine(), r, r);
  r.run(m);
  EXPECT_TRUE(r.diverged());
  EXPECT_NE(r.end_note().find("hart 2 at icount "), std::string::npos) << r.end_note();
  std::remove(path.c_str());
  std::remove(bad.c_str());
}

// Time travel through Control, as the REPL and gdb use it.
TEST(DetRunner, GoToAndReverseReachTheSameStates) {
  if (access(guest("race_small").c_str(), R_OK) != 0) GTEST_SKIP() << "guest programs not built";
  DetOptions o;
  o.chaos_seed = 6;
  o.checkpoint_interval = 1'000;  // many checkpoints in a short run
  std::string path = tmpfile("tt");
  RunResult rec = record(o, path);
  replay::LogReader reader(path);
  replay::Replayer rep(reader);
  DetRunner r(o);
  r.set_journal(&rep);
  machine::Machine m(race_machine(), r, r);
  r.enable_debug(true);
  std::thread t([&] { r.run(m); });
  auto wait = [&] {
    auto ev = r.wait_stop(std::chrono::seconds(60));
    EXPECT_TRUE(ev.has_value());
    EXPECT_TRUE(r.pause_all());
    return ev.value_or(coremu::StopEvent{});
  };
  ASSERT_TRUE(r.pause_all());
  ASSERT_TRUE(r.can_reverse());
  std::string err;
  auto digest_at = [&](uint64_t p) {
    EXPECT_TRUE(r.go_to({p}, err)) << err;
    wait();
    EXPECT_EQ(r.position().steps, p);
    return m.state_digest();
  };
  uint64_t d30 = digest_at(6'000), d70 = digest_at(11'000), d10 = digest_at(2'000);
  EXPECT_EQ(digest_at(11'000), d70);  // forwards again
  EXPECT_EQ(digest_at(6'000), d30);  // backwards
  EXPECT_EQ(digest_at(2'000), d10);
  EXPECT_NE(d10, d30);
  // Step hart 1 forward 5 steps, then back 5: the same state.
  std::vector<HartAction> acts(4, HartAction::kStop);
  acts[1] = HartAction::kStep;
  uint64_t s1 = m.hart(1).steps();
  uint64_t before = m.hart(1).state_hash();
  r.resume(acts, 5);
  wait();
  EXPECT_EQ(m.hart(1).steps(), s1 + 5);
  r.reverse(acts, 5);
  coremu::StopEvent ev = wait();
  EXPECT_EQ(ev.hart, 1u);
  EXPECT_EQ(m.hart(1).steps(), s1);
  // Other harts may be at another point of the schedule (the stop is just
  // before hart 1's next step), but hart 1 is as it was.
  EXPECT_EQ(m.hart(1).state_hash(), before);
  // Reverse continue with no breakpoint runs back to the start.
  r.reverse(std::vector<HartAction>(4, HartAction::kContinue));
  ev = wait();
  EXPECT_EQ(ev.reason, StopReason::kReplayStart);
  EXPECT_EQ(r.position().steps, 0u);
  // And forward to the end: the recorded final state.
  r.resume(std::vector<HartAction>(4, HartAction::kContinue));
  ev = wait();
  EXPECT_EQ(ev.reason, StopReason::kReplayEnd);
  EXPECT_EQ(m.state_digest(), rec.digest);
  r.stop();
  t.join();
  std::remove(path.c_str());
}

}  // namespace

// Records compress extremely well: a log of a few KiB can hold millions of
// them. The replayer refuses a log whose records need more memory than its
// budget, instead of exhausting the host (issue 15).
TEST(Replayer, RefusesALogWhoseRecordsExceedItsMemoryBudget) {
  std::string path = tmpfile("bomb");
  replay::Header h;
  h.coremu_version = "0.1.0";
  h.harts = 2;
  h.quantum = 100;
  h.digest_interval = 1024;
  {
    replay::LogWriter w(path, h);
    replay::Record r;
    r.kind = replay::Record::kInterrupt;
    r.cause = (1ull << 63) | 7;
    for (uint64_t i = 0; i < 200000; ++i) {
      r.slice = i / 4;
      r.icount = r.steps = i;
      w.add(r);
    }
    replay::Record end;
    end.slice = 200000 / 4;
    w.finish(end);
  }
  replay::LogReader small(path);
  try {
    replay::Replayer rep(small, 1 << 20);
    ADD_FAILURE() << "a 1 MiB budget held 200000 interrupt records";
  } catch (const replay::LogError& e) {
    EXPECT_NE(std::string(e.what()).find("more than 1 MiB of memory"), std::string::npos) << e.what();
  }
  replay::LogReader enough(path);
  replay::Replayer rep(enough, 64 << 20);
  EXPECT_NE(rep.end(), nullptr);
  std::remove(path.c_str());
}
