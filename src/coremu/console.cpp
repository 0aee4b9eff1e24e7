#include "coremu/console.h"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "machine/config.h"

namespace coremu {

namespace {
termios g_saved_tty;  // only touched by the one StdinReader that owns the tty
}

FileBackend::FileBackend(const std::string& spec) {
  if (spec.rfind("file:", 0) == 0) {
    std::string path = spec.substr(5);
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw machine::ConfigError("cannot open serial output file '" + path + "': " + std::strerror(errno));
    own_ = true;
  }
}

FileBackend::~FileBackend() {
  if (own_) ::close(fd_);
}

void FileBackend::write(const uint8_t* data, size_t len) {
  while (len > 0) {
    ssize_t n = ::write(fd_, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // output closed: drop, as a disconnected serial line would
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
}

StdinReader::StdinReader(std::function<size_t(const uint8_t*, size_t)> sink, std::function<void()> on_quit)
    : sink_(std::move(sink)), on_quit_(std::move(on_quit)) {
  if (isatty(0)) {
    termios t;
    if (tcgetattr(0, &g_saved_tty) == 0) {
      t = g_saved_tty;
      cfmakeraw(&t);
      t.c_oflag |= OPOST | ONLCR;  // keep "\n" -> "\r\n" on output
      raw_ = tcsetattr(0, TCSANOW, &t) == 0;
    }
  }
  thread_ = std::thread([this] { loop(); });
}

StdinReader::~StdinReader() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (raw_) tcsetattr(0, TCSANOW, &g_saved_tty);
}

void StdinReader::loop() {
  bool escape = false;
  while (!stop_.load()) {
    pollfd p{0, POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r < 0 && errno != EINTR) return;
    if (r <= 0) continue;
    uint8_t buf[256];
    ssize_t n = ::read(0, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return;  // EOF: the guest simply gets no more input
    for (ssize_t i = 0; i < n; ++i) {
      uint8_t c = buf[i];
      if (raw_) {
        if (escape) {
          escape = false;
          if (c == 'x') {
            static const char msg[] = "coremu: terminated\r\n";
            (void)!::write(2, msg, sizeof msg - 1);
            on_quit_();
            return;
          }
          if (c != 1) continue;  // Ctrl-A a / Ctrl-A Ctrl-A send Ctrl-A; others ignored
        } else if (c == 1) {
          escape = true;
          continue;
        }
      }
      // Back-pressure: wait until the UART has room rather than dropping.
      while (!stop_.load() && sink_(&c, 1) == 0)
        ::usleep(1000);
    }
  }
}

}  // namespace coremu
