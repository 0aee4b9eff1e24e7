// The GDB server: the remote serial protocol over TCP or a Unix socket,
// driving the machine through the debug/control API (coremu/debug.h).
//
// Every hart is a gdb thread (id = hart + 1). All-stop: when one hart stops
// (breakpoint, watchpoint, step done, Ctrl-C) every hart is stopped before
// the stop is reported. One client at a time; when it detaches or vanishes
// its breakpoints are removed, the harts resume and the server waits for
// the next one.
//
// Replaying a recording (Control::can_reverse()), the server also runs
// backwards: ReverseStep+ and ReverseContinue+ in qSupported, the bs and
// bc packets, and replaylog:begin / replaylog:end stop replies at the
// ends of the recording (with a line on gdb's console saying why).
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "coremu/debug.h"
#include "rsp.h"

namespace gdbstub {

class Server {
 public:
  // address: "tcp:HOST:PORT" or "unix:PATH" (cli::Options::gdb).
  Server(coremu::Debugger& d, std::string address);
  ~Server();
  // Binds and listens (throws machine::ConfigError if it cannot) and starts
  // serving on a thread of its own.
  void start();
  // The harts wait for the debugger before they start (-S): a connection
  // that sends no packet (a probe) leaves them waiting, until a debugger
  // has actually talked to the server.
  void set_harts_wait(bool wait) { harts_wait_ = wait; }
  // The machine has finished: tell a connected client (W packet), stop.
  void shutdown();

  static constexpr size_t kPacketSize = 0x4000;

 private:
  void serve();
  void session();
  void refuse_extra();
  // Handles one packet; returns false to end the session.
  bool handle(const std::string& pkt);
  void send_packet(const std::string& payload);
  void send_raw(const std::string& bytes);
  void report(const coremu::StopEvent& ev);
  std::string stop_reply(const coremu::StopEvent& ev);
  void resume(const std::vector<coremu::HartAction>& actions);
  void reverse(bool step);  // bs, bc
  coremu::StopEvent past_access(const coremu::StopEvent& hit);
  // A line for gdb's console about a stop gdb has no words for, or "".
  std::string stop_note(const coremu::StopEvent& ev);
  bool check_stopped_event();  // running: a stop or exit arrived?
  void end_session();
  void kill_machine();

  bool handle_query(const std::string& pkt);
  bool handle_vcont(const std::string& pkt);
  std::string thread_extra(unsigned hart);
  std::string threads_xml();
  std::string xfer(const std::string& doc, const std::string& args);
  int hart_of_thread(int64_t tid, unsigned fallback) const;

  coremu::Debugger& d_;
  std::string address_;
  int listen_fd_ = -1;
  int fd_ = -1;
  std::string unix_path_;
  std::thread thread_;
  std::atomic<bool> shutdown_{false};

  // Session state.
  PacketReader reader_;
  bool no_ack_ = false;
  bool stopped_ = true;
  bool exited_ = false;
  unsigned g_hart_ = 0, c_hart_ = 0;
  bool c_all_ = true;
  std::string last_sent_;
  bool reversing_ = false;  // the harts run backwards (bs, bc)
  bool change_told_ = false;
  bool got_packet_ = false;   // the current client has sent a packet
  bool any_packet_ = false;   // some client has
  bool harts_wait_ = false;   // set_harts_wait()  // gdb has been told that the debugger's writes made the replay diverge
  coremu::StopEvent last_stop_;
};

}  // namespace gdbstub
