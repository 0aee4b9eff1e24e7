// The debugger front ends when they drive a replay (reverse execution):
// the GDB server's bs/bc packets and replaylog stop replies, the REPL's
// goto/rstep/rcontinue/info replay and its stop lines. A scripted
// Control stands in for the deterministic scheduler: it records what the
// front ends ask of it and answers with the stops a test gives it.
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "coremu/debug.h"
#include "coremu/monitor.h"
#include "machine/machine.h"
#include "repl.h"
#include "rsp.h"
#include "server.h"

using coremu::HartAction;
using coremu::StopEvent;
using coremu::StopReason;

namespace {

struct NoLines : machine::HartLines {
  void set_line(unsigned, rv64::Irq, bool) override {}
  void timer_changed(unsigned) override {}
};
struct NoClock : machine::Clock {
  uint64_t now() override { return 0; }
};

// What a front end asked of the control.
struct Call {
  std::string what;  // "resume", "reverse", "goto"
  std::vector<HartAction> actions;
  uint64_t n = 0;  // steps, or the position of goto
};

// A Control whose stops are scripted: each resume/reverse/go_to takes the
// next scripted stop (and position), or makes a kStep stop of the first
// stepping hart at an unchanged position.
class ScriptedControl : public coremu::Control {
 public:
  // Atomic: the tests flip them while the server's thread may read them.
  std::atomic<bool> reverse_ok{true}, det{true}, replay{true};

  void script(StopEvent ev, uint64_t pos) {
    std::lock_guard<std::mutex> lk(mu_);
    script_.push_back({ev, pos});
  }
  std::vector<Call> calls() {
    std::lock_guard<std::mutex> lk(mu_);
    return calls_;
  }
  void set_pos(uint64_t p) {
    std::lock_guard<std::mutex> lk(mu_);
    pos_ = p;
  }

  void enable_debug(bool) override {}
  bool debug_enabled() const override { return true; }
  bool pause_all() override { return true; }
  bool all_parked() override { return true; }
  void resume(const std::vector<HartAction>& a, uint64_t steps) override { go({"resume", a, steps}); }
  std::optional<StopEvent> wait_stop(std::chrono::milliseconds timeout) override {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait_for(lk, timeout, [&] { return !stops_.empty(); });
    if (stops_.empty()) return std::nullopt;
    StopEvent ev = stops_.front();
    stops_.pop_front();
    return ev;
  }
  coremu::HartRunState state(unsigned) const override { return coremu::HartRunState::kStopped; }
  void set_event_check(std::function<bool(const StopEvent&)>) override {}
  void stop() override {}
  bool deterministic() const override { return det; }
  bool replaying() const override { return replay; }
  bool can_reverse() const override { return reverse_ok; }
  coremu::Position position() const override {
    std::lock_guard<std::mutex> lk(mu_);
    return {pos_};
  }
  void reverse(const std::vector<HartAction>& a, uint64_t steps) override { go({"reverse", a, steps}); }
  bool go_to(coremu::Position p, std::string& err) override {
    if (!reverse_ok) return Control::go_to(p, err);
    go({"goto", {}, p.steps}, p.steps);
    return true;
  }

 private:
  struct Scripted {
    StopEvent ev;
    uint64_t pos;
  };
  void go(Call c, std::optional<uint64_t> to = std::nullopt) {
    std::lock_guard<std::mutex> lk(mu_);
    calls_.push_back(c);
    if (!script_.empty()) {
      stops_.push_back(script_.front().ev);
      pos_ = script_.front().pos;
      script_.pop_front();
    } else {
      StopEvent ev;
      ev.reason = StopReason::kStep;
      for (unsigned h = 0; h < c.actions.size(); ++h)
        if (c.actions[h] == HartAction::kStep) {
          ev.hart = h;
          break;
        }
      if (to) pos_ = *to;
      stops_.push_back(ev);
    }
    cv_.notify_all();
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Scripted> script_;
  std::deque<StopEvent> stops_;
  std::vector<Call> calls_;
  uint64_t pos_ = 0;
};

std::vector<HartAction> acts(std::initializer_list<HartAction> l) { return l; }
constexpr auto S = HartAction::kStop, C = HartAction::kContinue, T = HartAction::kStep;

StopEvent stop_of(StopReason r, unsigned hart, uint64_t pc = 0x80000010) {
  StopEvent ev;
  ev.reason = r;
  ev.hart = hart;
  ev.pc = pc;
  ev.icount = 7;
  return ev;
}

struct Fixture : ::testing::Test {
  NoLines lines;
  NoClock clock;
  machine::MachineConfig cfg = [] {
    machine::MachineConfig c;
    c.smp = 2;
    c.ram_size = 16 << 20;
    return c;
  }();
  machine::Machine m{cfg, lines, clock};
  ScriptedControl ctl;
  coremu::Debugger d{m, ctl};
};

// ---- the GDB server --------------------------------------------------------------------

// A gdb stand-in on the server's Unix socket, in no-ack mode.
class Client {
 public:
  explicit Client(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
    for (int i = 0; i < 200; ++i) {
      if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(cmd("QStartNoAckMode"), "OK");
  }
  ~Client() { ::close(fd_); }
  void send(const std::string& payload) {
    std::string f = gdbstub::frame(payload);
    ASSERT_EQ(::write(fd_, f.data(), f.size()), static_cast<ssize_t>(f.size()));
  }
  // The next packet (acks skipped); "<timeout>" if none comes within 5 s.
  std::string recv() {
    for (int i = 0; i < 500; ++i) {
      while (!pending_.empty()) {
        auto ev = pending_.front();
        pending_.pop_front();
        if (ev.kind == gdbstub::PacketReader::Kind::kPacket) return ev.data;
      }
      timeval tv{0, 10000};
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      uint8_t buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) {
        std::vector<gdbstub::PacketReader::Event> evs;
        reader_.feed(buf, static_cast<size_t>(n), evs);
        pending_.insert(pending_.end(), evs.begin(), evs.end());
      }
    }
    return "<timeout>";
  }
  std::string cmd(const std::string& payload) {
    send(payload);
    return recv();
  }

 private:
  int fd_ = -1;
  gdbstub::PacketReader reader_;
  std::deque<gdbstub::PacketReader::Event> pending_;
};

std::string unhex(const std::string& h) {
  auto b = gdbstub::from_hex(h);
  return b ? std::string(b->begin(), b->end()) : "<bad hex>";
}

struct ServerFixture : Fixture {
  std::filesystem::path sock = std::filesystem::temp_directory_path() /
                               ("coremu-rr-" + std::to_string(::getpid()) + "-" +
                                ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".sock");
  std::unique_ptr<gdbstub::Server> server;
  void start() {
    server = std::make_unique<gdbstub::Server>(d, "unix:" + sock.string());
    server->start();
  }
  void TearDown() override {
    server.reset();
    std::filesystem::remove(sock);
  }
};

TEST_F(ServerFixture, NoReversePacketsWithoutAReplay) {
  ctl.reverse_ok = false;
  start();
  Client c(sock);
  std::string sup = c.cmd("qSupported:multiprocess+;swbreak+;hwbreak+");
  EXPECT_NE(sup.find("vContSupported+"), std::string::npos);
  EXPECT_EQ(sup.find("Reverse"), std::string::npos);
  EXPECT_EQ(c.cmd("bs"), "");  // unknown packet
  EXPECT_EQ(c.cmd("bc"), "");
  EXPECT_TRUE(ctl.calls().empty());
  EXPECT_EQ(c.cmd("D"), "OK");
}

TEST_F(ServerFixture, AdvertisesReverseAndStepsTheSelectedThreadBack) {
  start();
  Client c(sock);
  std::string sup = c.cmd("qSupported:multiprocess+;swbreak+;hwbreak+");
  EXPECT_NE(sup.find(";ReverseStep+;ReverseContinue+"), std::string::npos) << sup;
  // gdb with scheduler-locking off: Hc0, then bs for the thread it shows (Hg).
  EXPECT_EQ(c.cmd("Hg2"), "OK");
  EXPECT_EQ(c.cmd("Hc0"), "OK");
  ctl.script(stop_of(StopReason::kStep, 1), 41);
  EXPECT_EQ(c.cmd("bs"), "T05thread:2;");
  // Stepping over a breakpoint or watchpoint, gdb names the thread.
  EXPECT_EQ(c.cmd("Hc1"), "OK");
  EXPECT_EQ(c.cmd("bs"), "T05thread:1;");
  auto calls = ctl.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].what, "reverse");
  EXPECT_EQ(calls[0].actions, acts({S, T}));
  EXPECT_EQ(calls[0].n, 1u);
  EXPECT_EQ(calls[1].actions, acts({T, S}));
  EXPECT_EQ(c.cmd("bx"), "");  // not a reverse packet
  EXPECT_EQ(c.cmd("D"), "OK");
}

TEST_F(ServerFixture, ReverseContinueToTheStartSaysReplaylogBegin) {
  start();
  Client c(sock);
  ctl.set_pos(500);
  ctl.script(stop_of(StopReason::kReplayStart, 0), 0);
  c.send("bc");
  std::string note = c.recv();
  ASSERT_EQ(note[0], 'O');
  EXPECT_EQ(unhex(note.substr(1)), "coremu: start of the recording (pos 0)\n");
  EXPECT_EQ(c.recv(), "T05replaylog:begin;thread:1;");
  auto calls = ctl.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].what, "reverse");
  EXPECT_EQ(calls[0].actions, acts({C, C}));
  EXPECT_EQ(c.cmd("?"), "T05replaylog:begin;thread:1;");
  EXPECT_EQ(c.cmd("D"), "OK");
}

TEST_F(ServerFixture, ReverseStopsAtBreakpointsLikeForwardOnes) {
  start();
  Client c(sock);
  EXPECT_EQ(c.cmd("Z0,80000010,4"), "OK");
  ctl.script(stop_of(StopReason::kBreakpoint, 1, 0x80000010), 300);
  EXPECT_EQ(c.cmd("bc"), "T05thread:2;swbreak:;");
  EXPECT_EQ(c.cmd("D"), "OK");
}

// A watchpoint hit found backwards stands before the access; gdb steps
// non-steppable (RISC-V) watchpoints in the direction it runs, so the
// server shows it the state just behind the access.
TEST_F(ServerFixture, ReverseWatchpointStopIsReportedBehindTheAccess) {
  start();
  Client c(sock);
  EXPECT_EQ(c.cmd("Z2,80001000,8"), "OK");
  StopEvent hit = stop_of(StopReason::kWatchpoint, 1, 0x80000020);
  hit.addr = 0x80001000;
  hit.write = true;
  ctl.script(hit, 300);
  ctl.script(stop_of(StopReason::kStep, 1, 0x80000024), 301);
  EXPECT_EQ(c.cmd("bc"), "T05thread:2;watch:80001000;");
  auto calls = ctl.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].what, "reverse");
  EXPECT_EQ(calls[1].what, "resume");  // one step of the accessing hart
  EXPECT_EQ(calls[1].actions, acts({S, T}));
  EXPECT_EQ(calls[1].n, 1u);
  // Forward watchpoint stops are reported where they happen.
  ctl.script(hit, 300);
  EXPECT_EQ(c.cmd("vCont;c"), "T05thread:2;watch:80001000;");
  EXPECT_EQ(ctl.calls().size(), 3u);
  EXPECT_EQ(c.cmd("D"), "OK");
}

TEST_F(ServerFixture, EndOfTheRecordingAndDivergence) {
  start();
  Client c(sock);
  ctl.script(stop_of(StopReason::kReplayEnd, 0), 9000);
  c.send("vCont;c");
  std::string note = c.recv();
  ASSERT_EQ(note[0], 'O');
  EXPECT_EQ(unhex(note.substr(1)), "coremu: end of the recording at pos 9000 (the log ends here)\n");
  EXPECT_EQ(c.recv(), "T05replaylog:end;thread:1;");
  ctl.script(stop_of(StopReason::kDivergence, 1, 0x80000040), 9100);
  c.send("vCont;c");
  note = c.recv();
  ASSERT_EQ(note[0], 'O');
  EXPECT_EQ(unhex(note.substr(1)).rfind("coremu: the replay diverged from the recording at pos 9100 (hart 1 pc=0x80000040", 0),
            0u);
  EXPECT_EQ(c.recv(), "T05thread:2;");
  // The guest exited at the end of the replay: still a replaylog stop (the
  // session goes on and can run backwards), with the status on the console.
  m.request_shutdown(3);
  ctl.script(stop_of(StopReason::kReplayEnd, 0), 9200);
  c.send("vCont;c");
  note = c.recv();
  EXPECT_EQ(unhex(note.substr(1)), "coremu: end of the recording at pos 9200: the guest exited with status 3\n");
  EXPECT_EQ(c.recv(), "T05replaylog:end;thread:1;");
  EXPECT_EQ(c.cmd("D"), "OK");
}

std::string monitor(Client& c, const std::string& line) {
  c.send("qRcmd," + gdbstub::to_hex(line));
  std::string out;
  for (;;) {
    std::string p = c.recv();
    if (p.empty() || p[0] != 'O' || p == "OK") return out + (p == "OK" ? "" : "<" + p + ">");
    out += unhex(p.substr(1));
  }
}

TEST_F(ServerFixture, MonitorInfoReplayAndGoto) {
  start();
  Client c(sock);
  ctl.set_pos(1234);
  std::string info = monitor(c, "info replay");
  EXPECT_NE(info.find("pos=1234 (steps of all harts)\n"), std::string::npos) << info;
  EXPECT_NE(info.find("reverse execution: available\n"), std::string::npos) << info;
  EXPECT_EQ(monitor(c, "position"), info);
  std::string g = monitor(c, "goto 77");
  EXPECT_NE(g.find("stop: hart 0 step pc=0x0 icount=0 pos=77\n"), std::string::npos) << g;
  EXPECT_NE(g.find("maintenance flush register-cache"), std::string::npos) << g;
  auto calls = ctl.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].what, "goto");
  EXPECT_EQ(calls[0].n, 77u);
  EXPECT_EQ(monitor(c, "goto x"), "goto: bad position 'x' (a number of steps of all harts)\n");
  ctl.reverse_ok = false;
  EXPECT_EQ(monitor(c, "goto 5"), "goto: reverse execution needs a replay (coremu replay FILE)\n");
  EXPECT_EQ(c.cmd("D"), "OK");
}

// ---- the REPL ------------------------------------------------------------------------------

struct ReplFixture : Fixture {
  char* buf = nullptr;
  size_t len = 0;
  FILE* out = open_memstream(&buf, &len);
  repl::Repl r{d, out};
  ~ReplFixture() override {
    std::fclose(out);
    std::free(buf);
  }
  // Runs one line and returns what it printed.
  std::string run(const std::string& line) {
    size_t before = len;
    r.execute(line);
    std::fflush(out);
    return std::string(buf + before, len - before);
  }
  // The first line of what `line` printed.
  std::string first(const std::string& line) {
    std::string s = run(line);
    return s.substr(0, s.find('\n'));
  }
};

TEST_F(ReplFixture, TimeTravelNeedsAReplay) {
  ctl.reverse_ok = false;
  ctl.det = false;
  ctl.replay = false;
  const std::string why = "reverse execution needs a replay: coremu replay FILE --repl";
  EXPECT_EQ(first("rstep"), "error: rstep: " + why);
  EXPECT_EQ(first("rstep 1 4"), "error: rstep: " + why);
  EXPECT_EQ(first("rcontinue"), "error: rcontinue: " + why);
  EXPECT_EQ(first("rc"), "error: rcontinue: " + why);
  EXPECT_EQ(first("goto 100"), "error: goto: " + why);
  EXPECT_EQ(first("info replay").rfind("not deterministic", 0), 0u);
  EXPECT_TRUE(ctl.calls().empty());
  // Not deterministic: stop lines have no position.
  EXPECT_EQ(first("step 1"), "stop: hart 1 step pc=0x0 icount=0");
  EXPECT_EQ(first("uart \"x\"").rfind("uart: sent", 0), 0u);
}

TEST_F(ReplFixture, ArgumentErrors) {
  EXPECT_EQ(first("rstep 9"), "error: rstep: no hart '9' (harts are 0..1)");
  EXPECT_EQ(first("rstep 0 0"), "error: rstep: bad count '0'");
  EXPECT_EQ(first("rstep 0 1 2"), "error: usage: rstep [HART] [N]");
  EXPECT_EQ(first("goto"), "error: usage: goto POS");
  EXPECT_EQ(first("goto soon"), "error: goto: bad position 'soon' (a number of steps of all harts)");
  EXPECT_EQ(first("rcontinue 1"), "error: usage: rcontinue");
  EXPECT_TRUE(ctl.calls().empty());
}

TEST_F(ReplFixture, ReverseStepGotoAndReverseContinue) {
  ctl.set_pos(1000);
  std::string info = run("info replay");
  EXPECT_EQ(info, "pos=1000 (steps of all harts)\nreplaying a recording: guest input comes from it\n"
                  "reverse execution: available\n");
  // rstep defaults to the hart of the last stop.
  ctl.script(stop_of(StopReason::kBreakpoint, 1, 0x80000010), 900);
  EXPECT_EQ(first("continue"), "stop: hart 1 breakpoint pc=0x80000010 icount=7 pos=900");
  ctl.script(stop_of(StopReason::kStep, 1, 0x8000000c), 897);
  EXPECT_EQ(first("rstep"), "stop: hart 1 step pc=0x8000000c icount=7 pos=897");
  ctl.script(stop_of(StopReason::kStep, 0, 0x80000004), 880);
  EXPECT_EQ(first("rs 0 5"), "stop: hart 0 step pc=0x80000004 icount=7 pos=880");
  EXPECT_EQ(first("goto 42"), "stop: hart 0 step pc=0x0 icount=0 pos=42");
  ctl.script(stop_of(StopReason::kReplayStart, 0, 0x1000), 0);
  std::string start = run("rc");
  EXPECT_EQ(start.substr(0, start.find('\n')), "stop: hart 0 start of recording pc=0x1000 icount=7 pos=0");
  EXPECT_NE(start.find("\n=> 0x1000"), std::string::npos) << start;  // the instruction at the pc
  auto calls = ctl.calls();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(calls[1].what, "reverse");
  EXPECT_EQ(calls[1].actions, acts({S, T}));
  EXPECT_EQ(calls[1].n, 1u);
  EXPECT_EQ(calls[2].actions, acts({T, S}));
  EXPECT_EQ(calls[2].n, 5u);
  EXPECT_EQ(calls[3].what, "goto");
  EXPECT_EQ(calls[3].n, 42u);
  EXPECT_EQ(calls[4].what, "reverse");
  EXPECT_EQ(calls[4].actions, acts({C, C}));
}

TEST_F(ReplFixture, StopLinesOfAReplay) {
  EXPECT_EQ(run("watch w 0x80001000"), "watchpoint 1 w 0x80001000 len 8 (all harts)\n");
  StopEvent w = stop_of(StopReason::kWatchpoint, 1, 0x80000020);
  w.addr = 0x80001000;
  w.write = true;
  ctl.script(w, 350);
  EXPECT_EQ(first("rc"), "stop: hart 1 watchpoint 1 write addr=0x80001000 pc=0x80000020 icount=7 pos=350");
  ctl.script(stop_of(StopReason::kDivergence, 1, 0x80000040), 400);
  EXPECT_EQ(first("c"),
            "stop: hart 1 divergence (the replay no longer matches the recording) pc=0x80000040 icount=7 pos=400");
  ctl.script(stop_of(StopReason::kReplayEnd, 0, 0x80000050), 500);
  EXPECT_EQ(first("c"), "stop: hart 0 end of recording pc=0x80000050 icount=7 pos=500");
  EXPECT_FALSE(r.finished());
  m.request_shutdown(0);
  ctl.script(stop_of(StopReason::kReplayEnd, 0, 0x80000050), 600);
  EXPECT_EQ(first("c"), "stop: hart 0 end of recording (guest exited with status 0) pc=0x80000050 icount=7 pos=600");
  EXPECT_FALSE(r.finished());  // the session goes on: it can run backwards
  EXPECT_EQ(first("uart \"hello\""), "error: uart: input comes from the recording (this is a replay)");
}

TEST_F(ReplFixture, DeterministicButNotReplaying) {
  ctl.reverse_ok = false;
  ctl.replay = false;
  ctl.set_pos(10);
  EXPECT_EQ(run("info replay"),
            "pos=10 (steps of all harts)\nnot replaying a recording\n"
            "reverse execution: not available (only in a replay: coremu replay FILE)\n");
  EXPECT_EQ(first("step 0 3"), "stop: hart 0 step pc=0x0 icount=0 pos=10");
}

}  // namespace
