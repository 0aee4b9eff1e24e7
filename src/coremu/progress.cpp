#include "coremu/progress.h"

#include <fmt/core.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace coremu {

namespace {

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a terminal that went away: nothing to do about it
    off += size_t(n);
  }
}

// 1234567 -> "1.23M" (SI prefixes, three significant digits).
std::string si(double v) {
  const char* units[] = {"", "k", "M", "G", "T", "P"};
  int u = 0;
  while (v >= 999.5 && u < 5) {
    v /= 1000;
    ++u;
  }
  if (u == 0) return fmt::format("{:.0f}", v);
  int digits = v < 9.995 ? 2 : v < 99.95 ? 1 : 0;
  return fmt::format("{:.{}f}{}", v, digits, units[u]);
}

}  // namespace

ProgressLine::ProgressLine(int fd, bool enabled, bool force_tty)
    : fd_(fd), active_(enabled && (force_tty || ::isatty(fd) == 1)) {
  last_draw_ = rate_t_ = std::chrono::steady_clock::now();
}

ProgressLine::~ProgressLine() { erase(); }

std::string ProgressLine::format(const Status& s, double steps_per_s) {
  std::string t = fmt::format("coremu: pos {} | {} insns/s | harts {} running, {} asleep", si(double(s.pos)),
                              si(steps_per_s), s.running, s.asleep);
  if (s.log_bytes >= 0) t += fmt::format(" | log {}B", si(double(s.log_bytes)));
  if (s.fraction >= 0) t += fmt::format(" | replay {:.1f} %", 100 * std::min(1.0, s.fraction));
  return t;
}

void ProgressLine::maybe_draw(const Status& s) {
  if (!active_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < kPeriod) return;
  double dt = std::chrono::duration<double>(now - rate_t_).count();
  if (dt > 0 && s.pos >= rate_pos_) rate_ = double(s.pos - rate_pos_) / dt;
  rate_t_ = now;
  rate_pos_ = s.pos;
  last_draw_ = now;
  if (line_open_) return;  // the guest is in the middle of a line
  std::string text = format(s, rate_);
  // A line wider than the terminal would wrap, and "\r" only goes back to
  // the start of its last row.
  struct winsize ws {};
  if (::ioctl(fd_, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && text.size() >= ws.ws_col) text.resize(ws.ws_col - 1);
  write_all(fd_, "\r\033[K" + text);
  shown_ = true;
}

void ProgressLine::erase() {
  if (!shown_) return;
  write_all(fd_, "\r\033[K");
  shown_ = false;
}

void ProgressLine::message(const std::string& text) {
  if (!active_) return;
  erase();
  write_all(fd_, text + "\n");
}

}  // namespace coremu
