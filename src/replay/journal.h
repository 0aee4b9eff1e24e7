// Record and replay on top of the deterministic scheduler: a Journal that
// writes every input and check of a run to a log (Recorder), and one that
// feeds a run from a log and checks it against it (Replayer).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "coremu/det_runner.h"
#include "replay/log.h"

namespace replay {

// An image's identity in a log: its size, and a hash of its contents:
// XXH3_64bits (seeded with the size) of the XXH3_64bits hashes (8 bytes
// little-endian each) of its 1 MiB blocks, the last one shorter. A block
// in a hole of a sparse file is known to be zeros and is not read, so a
// large sparse disk hashes in the time its allocated data takes; the value
// depends only on the bytes. Regular files only: throws LogError naming
// `role` and the path for a FIFO, a device (/dev/zero would never end),
// a directory, or a read error. Prints a note on stderr before hashing
// more than 1 GiB of data.
// Text from a log (a path, the kernel command line) as it may be printed:
// control characters escaped (\x1b, so an edited log cannot send escape
// sequences to the terminal), at most 300 characters.
std::string shown(std::string_view s);

struct ImageHash {
  uint64_t size = 0, hash = 0;
};
ImageHash hash_image(const std::string& path, const std::string& role);
uint64_t hash_file(const std::string& path);  // hash_image(path).hash
// The images a configuration loads, with their hashes (role, path).
std::vector<ImageInfo> machine_images(const machine::MachineConfig& cfg);
// Checks that the images the log's machine loads are exactly the ones in
// its image list (role and path), and still the same (size and hash);
// throws LogError naming the first that is missing, extra or different.
void check_images(const Header& h, const machine::MachineConfig& cfg);
// The part of check_images that reads no file: the image list against the
// images `cfg` loads (fuzzed with the options a log holds).
void check_image_list(const Header& h, const machine::MachineConfig& cfg);
// The header values a replay runs with must be ones a recording can have
// (quantum 1..2^40, digest interval 1..2^32, no chaos seed without chaos);
// throws LogError naming the value.
void check_header_values(const Header& h);

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
  // Reads every record of `r` into memory. Records compress very well, so
  // a small hostile log can decode to far more than it is: throws LogError
  // once they need more than `memory_budget` bytes (default: a quarter of
  // the host's RAM, at least 256 MiB).
  explicit Replayer(LogReader& r, uint64_t memory_budget = 0);
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
  struct Irq {  // a kInterrupt record, compactly: a replay holds every one
    uint64_t slice, icount, steps, cause;
    uint32_t hart;
  };
  std::vector<Irq> irqs_;
  std::map<uint64_t, Record> digests_;
  Record end_;
  bool has_end_ = false;
  bool truncated_ = false;
  uint64_t covered_ = ~0ull;
  uint64_t next_irq_ = 0;
};

}  // namespace replay
