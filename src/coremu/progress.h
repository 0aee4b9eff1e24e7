// A progress line for long deterministic runs, recordings and replays: one
// line on stderr, rewritten in place ("\r" + erase to end of line) at most
// a few times a second, and only when stderr is a terminal. Guest output
// goes to the same terminal, so the line is erased before guest bytes are
// written and is not drawn again until the guest's output ends a line
// (drawing over a half-written line, a shell prompt, would hide it).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace coremu {

class ProgressLine {
 public:
  struct Status {
    uint64_t pos = 0;          // global steps (the position)
    unsigned running = 0;      // harts not asleep in WFI
    unsigned asleep = 0;
    int64_t log_bytes = -1;    // record: bytes written so far (-1: not recording)
    double fraction = -1;      // replay: how much of the log is done, 0..1 (-1: unknown)
  };

  // `fd`: where to draw (stderr). Draws only if `enabled` and fd is a
  // terminal (isatty); `force_tty` skips the isatty test (tests).
  ProgressLine(int fd, bool enabled, bool force_tty = false);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  bool active() const { return active_; }
  // Cheap enough to call between slices: looks at the clock every 64th call
  // and draws when the last drawing is kPeriod old.
  void tick(const Status& s) {
    if (active_ && (++calls_ & 63) == 0) maybe_draw(s);
  }
  // Draws now (rate-limited all the same).
  void maybe_draw(const Status& s);
  // Erases the line if it is shown (before other output to the terminal).
  void erase();
  // Guest output is about to be written / was written (its last byte).
  void before_output() { erase(); }
  void after_output(uint8_t last) { line_open_ = last != '\n'; }
  // Prints a message on a line of its own (erasing the progress line first).
  void message(const std::string& text);
  // The text of the line for `s` (no control characters), with the rate
  // computed from `steps_per_s`; public for tests.
  static std::string format(const Status& s, double steps_per_s);

  static constexpr std::chrono::milliseconds kPeriod{250};

 private:
  int fd_;
  bool active_;
  bool shown_ = false;
  bool line_open_ = false;  // the guest's last output did not end a line
  uint64_t calls_ = 0;
  std::chrono::steady_clock::time_point last_draw_, rate_t_;
  uint64_t rate_pos_ = 0;
  double rate_ = 0;
};

}  // namespace coremu
