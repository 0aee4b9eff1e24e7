// The host side of the guest's serial port: output to stdout or a file,
// input from stdin (raw mode on a terminal, with QEMU's Ctrl-A escapes).
#pragma once

#include <atomic>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

#include "machine/machine.h"

namespace coremu {

// Writes guest output to a file descriptor (stdout) or a file.
class FileBackend final : public machine::CharBackend {
 public:
  // "stdio" or "file:PATH"; throws machine::ConfigError if PATH can't be opened.
  explicit FileBackend(const std::string& spec);
  ~FileBackend() override;
  void write(const uint8_t* data, size_t len) override;

 private:
  int fd_ = 1;
  bool own_ = false;
};

// Reads stdin on its own thread and feeds the guest UART. On a terminal it
// switches to raw mode (restored on destruction) and handles Ctrl-A x (quit)
// and Ctrl-A a (send Ctrl-A) like QEMU's -nographic.
class StdinReader {
 public:
  // `sink` offers bytes to the guest and returns how many it took (it is
  // called again with the rest until all are taken).
  StdinReader(std::function<size_t(const uint8_t*, size_t)> sink, std::function<void()> on_quit);
  ~StdinReader();
  StdinReader(const StdinReader&) = delete;
  StdinReader& operator=(const StdinReader&) = delete;

 private:
  void loop();
  std::function<size_t(const uint8_t*, size_t)> sink_;
  std::function<void()> on_quit_;
  std::atomic<bool> stop_{false};
  bool raw_ = false;
  std::thread thread_;
};

}  // namespace coremu
