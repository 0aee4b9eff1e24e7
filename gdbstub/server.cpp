#include "server.h"

#include <fmt/core.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "coremu/monitor.h"
#include "machine/config.h"
#include "target.h"

namespace gdbstub {

using coremu::HartAction;
using coremu::PointType;
using coremu::StopEvent;
using coremu::StopReason;

Server::Server(coremu::Debugger& d, std::string address) : d_(d), address_(std::move(address)) {}

Server::~Server() {
  shutdown();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
}

void Server::start() {
  auto fail = [&](const std::string& why) {
    throw machine::ConfigError(fmt::format("-gdb {}: {}", address_, why));
  };
  if (address_.rfind("unix:", 0) == 0) {
    std::string path = address_.substr(5);
    sockaddr_un sa{};
    if (path.empty() || path.size() >= sizeof(sa.sun_path)) fail("bad socket path");
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) fail("exists and is not a socket");
      // A socket someone still listens on belongs to a live process (another
      // coremu): taking its path would cut it off. Only a stale one (from a
      // run that ended without removing it) is replaced.
      int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un pa{};
      pa.sun_family = AF_UNIX;
      std::memcpy(pa.sun_path, path.c_str(), path.size() + 1);
      bool live = probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&pa), sizeof(pa)) == 0;
      int err = errno;
      if (probe >= 0) ::close(probe);
      if (live || (err != ECONNREFUSED && err != ENOENT))
        fail("a process is listening on this socket (another coremu?); choose another path");
      ::unlink(path.c_str());  // a stale socket from an earlier run
    }
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0)
      fail(std::strerror(errno));
    unix_path_ = path;
  } else if (address_.rfind("tcp:", 0) == 0) {
    std::string rest = address_.substr(4);
    auto colon = rest.rfind(':');
    if (colon == std::string::npos) fail("expected tcp:HOST:PORT");
    std::string host = rest.substr(0, colon), port = rest.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) fail(::gai_strerror(rc));
    std::string err = "no usable address";
    bool any = false;  // bound to every interface (0.0.0.0 or [::])
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
      int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd < 0) continue;
      int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        listen_fd_ = fd;
        if (ai->ai_family == AF_INET)
          any = reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr.s_addr == htonl(INADDR_ANY);
        else if (ai->ai_family == AF_INET6)
          any = IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr);
        break;
      }
      err = std::strerror(errno);
      ::close(fd);
    }
    ::freeaddrinfo(res);
    if (listen_fd_ < 0) fail(err);
    if (any)
      fmt::print(stderr, "coremu: warning: -gdb {}: the GDB server listens on every network interface: anyone who "
                 "can reach port {} controls the machine, and through it can read and write its disk images\n",
                 address_, port);
  } else {
    fail("expected tcp:HOST:PORT or unix:PATH");
  }
  // Connections beyond the one being served are accepted and refused with
  // a message (refuse_extra), so the backlog only needs to hold them until then.
  if (::listen(listen_fd_, 8) != 0) fail(std::strerror(errno));
  thread_ = std::thread([this] { serve(); });
}

void Server::shutdown() {
  shutdown_.store(true);
  if (thread_.joinable()) thread_.join();
}

// ---- connection handling -------------------------------------------------------

void Server::serve() {
  while (!shutdown_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // fails harmlessly on Unix sockets
    fd_ = fd;
    session();
    ::close(fd_);
    fd_ = -1;
    if (exited_) break;
  }
}

// A client that connects while another is served: told so and closed at
// once, rather than left waiting in the listen queue until its connect or
// its first packet times out.
void Server::refuse_extra() {
  int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return;
  // A console-output packet (gdb prints it if it reads it), then the close.
  std::string msg = "coremu: another debugger is already connected to this machine; only one at a time\n";
  std::string pkt = frame("O" + to_hex(msg));
  (void)!::send(fd, pkt.data(), pkt.size(), MSG_NOSIGNAL);
  ::close(fd);
  fmt::print(stderr, "coremu: GDB server: refused a second connection (a debugger is already connected)\n");
}

void Server::session() {
  reader_ = PacketReader();
  no_ack_ = false;
  last_sent_.clear();
  got_packet_ = false;
  // gdb expects a stopped target when it attaches.
  stopped_ = d_.runner().pause_all();
  if (!stopped_) {
    // The machine already finished.
    exited_ = true;
    return;
  }
  last_stop_ = StopEvent{};
  last_stop_.reason = StopReason::kStep;  // reported as SIGTRAP, as QEMU does
  g_hart_ = c_hart_ = 0;
  c_all_ = true;
  uint8_t buf[4096];
  std::vector<PacketReader::Event> events;
  for (;;) {
    if (!stopped_ && check_stopped_event()) {
      if (exited_) return;
    }
    if (shutdown_.load() && stopped_) {
      // The machine finished while stopped (killed from elsewhere).
      send_packet(fmt::format("W{:02x}", d_.machine().shutdown_status().value_or(0) & 0xff));
      exited_ = true;
      return;
    }
    pollfd p[2] = {{fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    int rc = ::poll(p, 2, 20);
    if (rc < 0 && errno != EINTR) break;
    if (rc <= 0) continue;
    // The current client first: if it has just gone, the next one is served,
    // not refused (it waits in the listen queue for serve()).
    bool current = p[0].revents & (POLLIN | POLLHUP | POLLERR);
    if ((p[1].revents & POLLIN) && !current) refuse_extra();
    if (!current) continue;
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) break;  // the client went away
    events.clear();
    reader_.feed(buf, static_cast<size_t>(n), events);
    for (auto& ev : events) {
      switch (ev.kind) {
        case PacketReader::Kind::kAck:
          break;
        case PacketReader::Kind::kNack:
          if (!last_sent_.empty()) send_raw(last_sent_);
          break;
        case PacketReader::Kind::kBadPacket:
          if (!no_ack_) send_raw("-");
          break;
        case PacketReader::Kind::kInterrupt:
          if (!stopped_) {
            d_.runner().pause_all();
            stopped_ = true;
            reversing_ = false;
            StopEvent st;
            st.hart = g_hart_;
            st.reason = StopReason::kPaused;
            report(st);
          }
          break;
        case PacketReader::Kind::kPacket:
          got_packet_ = any_packet_ = true;
          if (!no_ack_) send_raw("+");
          if (!stopped_) {
            // All-stop: only ^C is expected while the harts run; answer
            // anything else with an error rather than touch running harts.
            send_packet("E01");
            break;
          }
          if (!handle(ev.data)) {
            if (exited_) return;
            end_session();
            return;
          }
          break;
      }
    }
  }
  end_session();
}

// Forgets the client: its breakpoints and watchpoints go, the harts resume.
void Server::end_session() {
  if (exited_) return;
  if (!got_packet_ && harts_wait_ && !any_packet_ && stopped_) {
    // A connection that said nothing (a port probe, such as another coremu
    // checking whether this socket is live) leaves harts that were waiting
    // for a debugger (-S) waiting.
    return;
  }
  if (!stopped_) d_.runner().pause_all();
  for (const auto& p : d_.points()) d_.remove_point(p.id);
  if (d_.runner().replaying()) {
    // A replay exists to be looked at: when its debugger leaves, it ends
    // (where it stands; coremu prints the state digest there).
    d_.runner().stop();
    exited_ = true;
    return;
  }
  std::vector<HartAction> all(d_.num_harts(), HartAction::kContinue);
  d_.runner().resume(all);
  // A stop that was pending is moot now that nobody listens: drain it.
  while (auto ev = d_.runner().wait_stop(std::chrono::milliseconds(0))) {
    if (ev->reason == StopReason::kExited) {
      exited_ = true;
      break;
    }
  }
  stopped_ = false;
}

bool Server::check_stopped_event() {
  auto ev = d_.runner().wait_stop(std::chrono::milliseconds(0));
  if (!ev) return false;
  if (ev->reason == StopReason::kExited) {
    send_packet(fmt::format("W{:02x}", ev->exit_status & 0xff));
    exited_ = true;
    return true;
  }
  d_.runner().pause_all();
  stopped_ = true;
  bool reversing = reversing_;
  reversing_ = false;
  if (reversing && ev->reason == StopReason::kWatchpoint) {
    ev = past_access(*ev);
    if (ev->reason == StopReason::kExited) {
      send_packet(fmt::format("W{:02x}", ev->exit_status & 0xff));
      exited_ = true;
      return true;
    }
  }
  report(*ev);
  return true;
}

// A watchpoint hit found running backwards stands just before the access
// (pc on the instruction), as forward hits do. gdb on RISC-V treats
// watchpoints as non-steppable: on a watchpoint stop it steps the thread
// over the access and compares the values, and running backwards that
// step goes backwards too. So the stop gdb sees is just behind the
// access: gdb's reverse step then lands on the accessing instruction,
// with memory as it was before the access, and prints the value the
// access changed (as it does on targets whose watchpoints fire after it).
StopEvent Server::past_access(const StopEvent& hit) {
  auto& r = d_.runner();
  std::vector<HartAction> acts(d_.num_harts(), HartAction::kStop);
  acts[hit.hart] = HartAction::kStep;
  r.resume(acts, 1);
  std::optional<StopEvent> ev;
  while (!(ev = r.wait_stop(std::chrono::milliseconds(50))))
    if (shutdown_.load()) return hit;
  if (ev->reason != StopReason::kExited) r.pause_all();
  if (ev->reason != StopReason::kStep || ev->hart != hit.hart) return *ev;  // something else came first: say that
  StopEvent out = hit;
  out.pc = ev->pc;
  out.icount = ev->icount;
  return out;
}

void Server::send_raw(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the session loop notices the dead socket
    off += static_cast<size_t>(n);
  }
}

void Server::send_packet(const std::string& payload) {
  last_sent_ = frame(payload);
  send_raw(last_sent_);
}

// ---- stops and resumption ---------------------------------------------------------

std::string Server::stop_reply(const StopEvent& ev) {
  if (ev.reason == StopReason::kExited) return fmt::format("W{:02x}", ev.exit_status & 0xff);
  int sig = ev.reason == StopReason::kPaused ? 2 : 5;
  // The ends of a replay: gdb says "No more reverse-execution history" and
  // keeps the session (a W would end it, and with it the way back).
  if (ev.reason == StopReason::kReplayStart || ev.reason == StopReason::kReplayEnd)
    return fmt::format("T05replaylog:{};thread:{:x};", ev.reason == StopReason::kReplayStart ? "begin" : "end",
                       ev.hart + 1);
  std::string r = fmt::format("T{:02x}thread:{:x};", sig, ev.hart + 1);
  if (ev.reason == StopReason::kBreakpoint) {
    auto t = d_.breakpoint_at(ev.hart, ev.pc);
    r += (t && *t == PointType::kHardware) ? "hwbreak:;" : "swbreak:;";
  } else if (ev.reason == StopReason::kWatchpoint) {
    auto t = d_.watchpoint_at(ev.hart, ev.addr);
    const char* kind = !t                              ? "awatch"
                       : *t == PointType::kWatchWrite  ? "watch"
                       : *t == PointType::kWatchRead   ? "rwatch"
                                                       : "awatch";
    r += fmt::format("{}:{:x};", kind, ev.addr);
  }
  return r;
}

void Server::report(const StopEvent& ev) {
  last_stop_ = ev;
  g_hart_ = ev.hart;
  // Stops gdb has no words for get a line on its console ('O' packets are
  // allowed while the target runs, that is, before the stop reply).
  std::string note = stop_note(ev);
  if (std::string c = d_.change(); !c.empty() && (!change_told_ || ev.reason == StopReason::kReplayEnd)) {
    // At the first stop after the change, and at the end of the recording.
    note = fmt::format("coremu: this replay has diverged: the debugger changed the machine ({}); states from "
                       "there on are not the recording's\n", c) + note;
    change_told_ = true;
  }
  if (!note.empty()) send_packet("O" + to_hex(note));
  send_packet(stop_reply(ev));
}

std::string Server::stop_note(const StopEvent& ev) {
  uint64_t pos = d_.runner().position().steps;
  switch (ev.reason) {
    case StopReason::kReplayEnd:
      if (auto st = d_.machine().shutdown_status())
        return fmt::format("coremu: end of the recording at pos {}: the guest exited with status {}\n", pos, *st);
      return fmt::format("coremu: end of the recording at pos {} (the log ends here)\n", pos);
    case StopReason::kReplayStart:
      return fmt::format("coremu: start of the recording (pos {})\n", pos);
    case StopReason::kEvent:
      // gdb sees a SIGTRAP; the line says which event breakpoint (set
      // with `monitor break ...`) stopped the hart, and why.
      return coremu::format_event_stop(d_, ev);
    case StopReason::kDivergence:
      return fmt::format("coremu: the replay diverged from the recording at pos {} (hart {} pc={:#x} icount={}); "
                         "states from here on are not the recorded run's\n",
                         pos, ev.hart, ev.pc, ev.icount);
    default:
      return "";
  }
}

void Server::resume(const std::vector<HartAction>& actions) {
  stopped_ = false;
  d_.runner().resume(actions);
}

// gdb resumes backwards with bs and bc only (there is no reverse vCont).
// bs steps one hart back: the thread of Hc, or with Hc0/Hc-1 (gdb's way
// when scheduler-locking is off) the thread gdb has selected, the same
// choice as the forward s packet. bc runs every hart back.
void Server::reverse(bool step) {
  std::vector<HartAction> actions(d_.num_harts(), step ? HartAction::kStop : HartAction::kContinue);
  if (step) actions[c_all_ ? g_hart_ : c_hart_] = HartAction::kStep;
  stopped_ = false;
  reversing_ = true;
  d_.runner().reverse(actions, 1);
}

int Server::hart_of_thread(int64_t tid, unsigned fallback) const {
  if (tid <= 0) return static_cast<int>(fallback);  // 0 = any, -1 = all
  if (static_cast<uint64_t>(tid) > d_.num_harts()) return -1;
  return static_cast<int>(tid - 1);
}

void Server::kill_machine() {
  d_.machine().request_shutdown(0);
  // A replay that already reached the guest's own shutdown stays up for
  // running backwards: kill ends it too.
  d_.runner().stop();
  exited_ = true;
}

// ---- packets ------------------------------------------------------------------------

bool Server::handle(const std::string& pkt) {
  if (pkt.empty()) {
    send_packet("");
    return true;
  }
  const char cmd = pkt[0];
  const std::string args = pkt.substr(1);
  switch (cmd) {
    case '?':
      send_packet(stop_reply(last_stop_));
      return true;
    case 'g': {
      if (!args.empty()) {
        send_packet("E01");
        return true;
      }
      rv64::Hart& h = d_.hart(g_hart_);
      std::string r;
      for (unsigned i = 0; i < kGRegs; ++i) r += reg_hex(*read_register(h, i));
      send_packet(r);
      return true;
    }
    case 'G': {
      auto bytes = from_hex(args);
      if (!bytes || bytes->size() < kGRegs * 8) {
        send_packet("E01");
        return true;
      }
      rv64::Hart& h = d_.hart(g_hart_);
      d_.note_change(fmt::format("register write (G) to hart {}", g_hart_));
      for (unsigned i = 0; i < kGRegs; ++i) {
        uint64_t v = 0;
        for (unsigned b = 0; b < 8; ++b) v |= uint64_t{(*bytes)[i * 8 + b]} << (8 * b);
        write_register(h, i, v);
      }
      send_packet("OK");
      return true;
    }
    case 'p': {
      auto n = parse_hex(args);
      std::optional<uint64_t> v;
      if (n && *n < 0x10000) v = read_register(d_.hart(g_hart_), static_cast<unsigned>(*n));
      send_packet(v ? reg_hex(*v, register_size(static_cast<unsigned>(*n))) : "E01");
      return true;
    }
    case 'P': {
      auto eq = args.find('=');
      auto n = eq == std::string::npos ? std::nullopt : parse_hex(args.substr(0, eq));
      auto v = eq == std::string::npos ? std::nullopt : parse_reg_hex(args.substr(eq + 1));
      if (n && v) d_.note_change(fmt::format("register write (P{:x}) to hart {}", *n, g_hart_));
      bool ok = n && v && *n < 0x10000 && write_register(d_.hart(g_hart_), static_cast<unsigned>(*n), *v);
      send_packet(ok ? "OK" : "E01");
      return true;
    }
    case 'm': {
      auto a = parse_mem_args(args);
      if (!a) {
        send_packet("E01");
        return true;
      }
      uint64_t len = std::min<uint64_t>(a->len, (kPacketSize - 16) / 2);
      std::vector<uint8_t> buf(len);
      // Return the readable prefix (gdb accepts a short read), else an error.
      uint64_t got = 0;
      while (got < len) {
        uint64_t chunk = std::min<uint64_t>(len - got, rv64::kPageSize - ((a->addr + got) & (rv64::kPageSize - 1)));
        if (!d_.read_memory(g_hart_, a->addr + got, buf.data() + got, chunk)) {
          // Maybe a device register: try the whole chunk at once only.
          break;
        }
        got += chunk;
      }
      send_packet(got || len == 0 ? to_hex(buf.data(), got) : "E14");
      return true;
    }
    case 'M':
    case 'X': {
      auto colon = args.find(':');
      auto a = colon == std::string::npos ? std::nullopt : parse_mem_args(args.substr(0, colon));
      if (!a) {
        send_packet("E01");
        return true;
      }
      std::string_view data = std::string_view(args).substr(colon + 1);
      std::vector<uint8_t> bytes;
      if (cmd == 'M') {
        auto b = from_hex(data);
        if (!b) {
          send_packet("E01");
          return true;
        }
        bytes = std::move(*b);
      } else {
        bytes.assign(data.begin(), data.end());  // already unescaped by the reader
      }
      if (bytes.size() != a->len) {
        send_packet("E01");
        return true;
      }
      bool ok = bytes.empty() || d_.write_memory(g_hart_, a->addr, bytes.data(), bytes.size());
      send_packet(ok ? "OK" : "E14");
      return true;
    }
    case 'Z':
    case 'z': {
      auto pa = parse_point(args);
      if (!pa) {
        send_packet("E01");
        return true;
      }
      static constexpr PointType kTypes[] = {PointType::kSoftware, PointType::kHardware, PointType::kWatchWrite,
                                             PointType::kWatchRead, PointType::kWatchAccess};
      PointType t = kTypes[pa->type];
      uint64_t len = pa->type >= 2 ? pa->kind : 1;
      if (pa->type >= 2 && (len == 0 || len > (1ull << 32))) {
        send_packet("E01");
        return true;
      }
      if (cmd == 'Z') {
        d_.add_point(t, pa->addr, len);
        send_packet("OK");
      } else {
        d_.remove_point(t, pa->addr, len);
        send_packet("OK");  // removing what is not there is not an error for gdb
      }
      return true;
    }
    case 'H': {
      if (args.size() < 2 || (args[0] != 'g' && args[0] != 'c')) {
        send_packet("E01");
        return true;
      }
      auto tid = parse_thread_id(args.substr(1));
      int h = tid ? hart_of_thread(*tid, args[0] == 'g' ? g_hart_ : c_hart_) : -1;
      if (h < 0) {
        send_packet("E01");
        return true;
      }
      if (args[0] == 'g') {
        g_hart_ = static_cast<unsigned>(h);
      } else {
        c_hart_ = static_cast<unsigned>(h);
        c_all_ = *tid <= 0;
      }
      send_packet("OK");
      return true;
    }
    case 'T': {
      auto tid = parse_thread_id(args);
      send_packet(tid && *tid > 0 && static_cast<uint64_t>(*tid) <= d_.num_harts() ? "OK" : "E01");
      return true;
    }
    case 'c':
    case 'C':
    case 's':
    case 'S': {
      // Legacy resumption: [sig;]addr. An address sets the pc first.
      std::string a = args;
      if ((cmd == 'C' || cmd == 'S')) {
        auto semi = a.find(';');
        a = semi == std::string::npos ? "" : a.substr(semi + 1);
      }
      unsigned target = c_all_ ? g_hart_ : c_hart_;
      if (!a.empty()) {
        auto addr = parse_hex(a);
        if (!addr) {
          send_packet("E01");
          return true;
        }
        d_.hart(target).pc = *addr;
      }
      std::vector<HartAction> actions(d_.num_harts(), HartAction::kStop);
      if (cmd == 'c' || cmd == 'C')
        actions.assign(d_.num_harts(), HartAction::kContinue);
      else
        actions[target] = HartAction::kStep;
      resume(actions);
      return true;
    }
    case 'b':
      // Reverse execution (bs, bc): advertised in qSupported only when the
      // machine replays a recording; otherwise an unknown packet.
      if (!d_.runner().can_reverse() || (args != "s" && args != "c")) {
        send_packet("");
        return true;
      }
      reverse(args == "s");
      return true;
    case 'D':
      send_packet("OK");
      return false;  // end_session resumes the harts
    case 'k':
      kill_machine();
      return false;
    case 'v':
      if (pkt.rfind("vCont", 0) == 0) return handle_vcont(pkt);
      if (pkt.rfind("vKill", 0) == 0) {
        send_packet("OK");
        kill_machine();
        return false;
      }
      if (pkt == "vMustReplyEmpty") {
        send_packet("");
        return true;
      }
      send_packet("");
      return true;
    case 'q':
    case 'Q':
      return handle_query(pkt);
    default:
      send_packet("");  // unknown packet: the empty reply
      return true;
  }
}

bool Server::handle_vcont(const std::string& pkt) {
  if (pkt == "vCont?") {
    send_packet("vCont;c;C;s;S;t");
    return true;
  }
  auto acts = parse_vcont(std::string_view(pkt).substr(5));
  if (!acts) {
    send_packet("E01");
    return true;
  }
  unsigned n = d_.num_harts();
  std::vector<HartAction> actions(n, HartAction::kStop);
  std::vector<bool> set(n, false);
  auto to_action = [](char a) {
    return a == 'c' ? HartAction::kContinue : a == 's' ? HartAction::kStep : HartAction::kStop;
  };
  for (const auto& a : *acts) {
    if (a.thread == -1 || a.thread == 0) {
      for (unsigned i = 0; i < n; ++i)
        if (!set[i]) actions[i] = to_action(a.action), set[i] = true;
    } else {
      int h = hart_of_thread(a.thread, 0);
      if (h < 0) {
        send_packet("E01");
        return true;
      }
      if (!set[h]) actions[h] = to_action(a.action), set[h] = true;
    }
  }
  bool any = false;
  for (auto a : actions) any |= a != HartAction::kStop;
  if (!any) {
    send_packet("OK");  // nothing to run (vCont;t in all-stop)
    return true;
  }
  resume(actions);
  return true;
}

std::string Server::thread_extra(unsigned hart) {
  rv64::Hart& h = d_.hart(hart);
  std::string sym = d_.symbol(h.pc);
  return fmt::format("{}, {}-mode{}", h.in_wfi() ? "WFI" : "stopped", coremu::priv_name(h.priv()),
                     sym.empty() ? "" : ", in " + sym);
}

std::string Server::threads_xml() {
  std::string x = "<?xml version=\"1.0\"?>\n<threads>\n";
  for (unsigned i = 0; i < d_.num_harts(); ++i)
    x += fmt::format("<thread id=\"{:x}\" core=\"{}\" name=\"hart {}\">{}</thread>\n", i + 1, i, i, thread_extra(i));
  x += "</threads>\n";
  return x;
}

std::string Server::xfer(const std::string& doc, const std::string& args) {
  auto a = parse_mem_args(args);
  if (!a) return "E01";
  if (a->addr >= doc.size()) return "l";
  uint64_t len = std::min<uint64_t>({a->len, doc.size() - a->addr, kPacketSize / 2});
  std::string part = doc.substr(a->addr, len);
  return (a->addr + len >= doc.size() ? "l" : "m") + escape_binary(part);
}

bool Server::handle_query(const std::string& pkt) {
  auto starts = [&](const char* p) { return pkt.rfind(p, 0) == 0; };
  if (starts("qSupported")) {
    send_packet(fmt::format("PacketSize={:x};qXfer:features:read+;qXfer:threads:read+;swbreak+;hwbreak+;"
                            "QStartNoAckMode+;vContSupported+{}",
                            kPacketSize, d_.runner().can_reverse() ? ";ReverseStep+;ReverseContinue+" : ""));
  } else if (pkt == "QStartNoAckMode") {
    send_packet("OK");
    no_ack_ = true;
    reader_.set_no_ack(true);
  } else if (pkt == "qfThreadInfo") {
    std::string r = "m";
    for (unsigned i = 0; i < d_.num_harts(); ++i) r += fmt::format("{}{:x}", i ? "," : "", i + 1);
    send_packet(r);
  } else if (pkt == "qsThreadInfo") {
    send_packet("l");
  } else if (pkt == "qC") {
    send_packet(fmt::format("QC{:x}", g_hart_ + 1));
  } else if (pkt == "qAttached" || starts("qAttached:")) {
    send_packet("1");
  } else if (starts("qThreadExtraInfo,")) {
    auto tid = parse_thread_id(std::string_view(pkt).substr(17));
    int h = tid ? hart_of_thread(*tid, g_hart_) : -1;
    send_packet(h < 0 ? "E01" : to_hex(thread_extra(static_cast<unsigned>(h))));
  } else if (starts("qXfer:features:read:target.xml:")) {
    send_packet(xfer(target_xml(), pkt.substr(31)));
  } else if (starts("qXfer:features:read:")) {
    send_packet("E00");  // only target.xml exists
  } else if (starts("qXfer:threads:read::")) {
    send_packet(xfer(threads_xml(), pkt.substr(20)));
  } else if (starts("qRcmd,")) {
    auto bytes = from_hex(std::string_view(pkt).substr(6));
    if (!bytes) {
      send_packet("E01");
      return true;
    }
    auto res = coremu::run_monitor_command(d_, std::string(bytes->begin(), bytes->end()), g_hart_);
    // Output as console packets, in pieces that fit.
    for (size_t off = 0; off < res.text.size(); off += 2000)
      send_packet("O" + to_hex(std::string_view(res.text).substr(off, 2000)));
    send_packet("OK");  // errors are in the text: an E reply would make gdb abort a script
  } else if (pkt == "qSymbol::") {
    send_packet("OK");
  } else {
    send_packet("");
  }
  return true;
}

}  // namespace gdbstub
