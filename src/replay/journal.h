// Record and replay on top of the deterministic scheduler: a Journal that
// writes every input and check of a run to a log (Recorder), and one that
// feeds a run from a log and checks it against it (Replayer).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "coremu/det_runner.h"
#include "replay/log.h"

namespace replay {

// XXH3 of a file's contents (throws LogError if it cannot be read).
uint64_t hash_file(const std::string& path);
// The images a configuration loads, with their hashes (role, path).
std::vector<ImageInfo> machine_images(const machine::MachineConfig& cfg);
// Checks that the images a log was recorded with are still the same;
// throws LogError naming the first that differs.
void check_images(const Header& h, const machine::MachineConfig& cfg);

class Recorder final : public coremu::Journal {
 public:
  Recorder(const std::string& path, const Header& h);
  bool replaying() const override { return false; }
  void input(uint64_t slice, const uint8_t* data, size_t len) override;
  std::string interrupt(uint64_t slice, const rv64::Hart& h, uint64_t cause) override;
  std::string digest(uint64_t slice, uint64_t pos, const std::vector<std::pair<uint64_t, uint64_t>>& harts,
                     const std::vector<uint64_t>& icounts) override;
  void sync(uint64_t slice, bool now) override;
  void finish(uint64_t slice, int status, uint64_t pos, uint64_t final_digest);
  uint64_t bytes() const { return w_.bytes_written(); }
  // Records written so far, by kind.
  uint64_t interrupts() const { return interrupts_; }
  uint64_t digests() const { return digests_; }

 private:
  LogWriter w_;
  std::chrono::steady_clock::time_point last_flush_;
  std::vector<uint64_t> last_steps_;
  uint64_t interrupts_ = 0, digests_ = 0;  // each hart's steps at the previous digest (~0: none yet)
};

class Replayer final : public coremu::Journal {
 public:
  explicit Replayer(LogReader& r);
  bool replaying() const override { return true; }
  std::vector<uint8_t> input_for(uint64_t slice) override;
  bool has_more(uint64_t slice) override;
  uint64_t covered_slice() const override { return covered_; }
  std::string interrupt(uint64_t slice, const rv64::Hart& h, uint64_t cause) override;
  std::string digest(uint64_t slice, uint64_t pos, const std::vector<std::pair<uint64_t, uint64_t>>& harts,
                     const std::vector<uint64_t>& icounts) override;
  uint64_t mark() const override { return next_irq_; }
  void rewind(uint64_t mark) override { next_irq_ = mark; }
  // The recording's end (exit status and final digest), if it has one.
  const Record* end() const { return has_end_ ? &end_ : nullptr; }

 private:
  std::map<uint64_t, std::vector<uint8_t>> inputs_;
  std::vector<Record> irqs_;
  std::map<uint64_t, Record> digests_;
  Record end_;
  bool has_end_ = false;
  bool truncated_ = false;
  uint64_t covered_ = ~0ull;
  uint64_t next_irq_ = 0;
};

}  // namespace replay
