// The record/replay log file: what `coremu record` writes and `coremu replay`
// reads. A file header, then zstd-compressed, checksummed chunks of records;
// the byte format is docs/replay-log-format.md. This module only encodes,
// decodes and validates; it knows nothing about machines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace replay {

// A bad or unreadable log, or an I/O error: the message is for the user and
// names the file.
struct LogError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ImageInfo {
  std::string role;  // "kernel", "bios", "initrd", "dtb", "drive0", ...
  std::string path;
  uint64_t size = 0;
  uint64_t hash = 0;  // replay::hash_image() of the file (a hash of its 1 MiB blocks' XXH3 hashes)
  bool operator==(const ImageInfo&) const = default;
};

struct Header {
  std::string coremu_version;     // e.g. "0.1.0"; at most kMaxVersionLength bytes, no NUL
  std::vector<std::string> args;  // the machine options, as given on the command line
  std::vector<ImageInfo> images;
  uint32_t harts = 0;  // 1 .. kMaxHarts
  uint64_t quantum = 0;
  bool chaos = false;
  uint64_t chaos_seed = 0;
  uint64_t digest_interval = 0;  // global steps between digest records (version 3; slices before)
  bool operator==(const Header&) const = default;
};

struct Record {
  enum Kind : uint8_t { kInput = 1, kInterrupt = 2, kDigest = 3, kEnd = 4 };
  Kind kind = kInput;
  // Scheduler slice number. kInput: injected before this slice starts;
  // others: the slice it happened in / after. Records are added (and read
  // back) in non-decreasing slice order.
  uint64_t slice = 0;
  uint32_t hart = 0;    // kInput: the UART (0); kInterrupt: the hart that took it (< Header::harts)
  uint64_t icount = 0;  // kInterrupt: the hart's instruction count when it took it
  uint64_t steps = 0;   // kInterrupt: the hart's steps (instructions + traps) when it took it
  uint64_t cause = 0;   // kInterrupt: mcause/scause value (interrupt bit set)
  std::vector<uint8_t> bytes;                        // kInput: bytes given to the device (<= kMaxInputBytes)
  std::vector<std::pair<uint64_t, uint64_t>> harts;  // kDigest: per listed hart {steps, state hash} (<= Header::harts)
  // kDigest: the hart of each harts[] entry, increasing and < Header::harts;
  // empty when harts[i] is hart i (every hart listed, the normal form the
  // reader also returns for 0, 1, 2, ... count-1).
  std::vector<uint32_t> digest_harts;
  uint64_t global_steps = 0;                         // kDigest, kEnd: virtual time in steps
  uint64_t digest = 0;                               // kDigest: combined; kEnd: final machine state digest
  int32_t exit_status = 0;                           // kEnd
  // Fields a kind does not use are not written; they read back as defaults.
  bool operator==(const Record&) const = default;
};

// Format version written and accepted.
// 3: digests list only the harts that ran since the previous digest, at an
// interval in steps; interrupt records store traps and a rotated cause; the
// deterministic clock follows each runnable hart's steps (recordings of 1
// do not replay the same); images are hashed block by block (2 was that
// change alone, never released).
inline constexpr uint32_t kFormatVersion = 3;

// Limits. The writer refuses larger values (std::invalid_argument: a caller
// bug); the reader refuses files that claim larger ones.
inline constexpr size_t kMaxVersionLength = 40;
inline constexpr uint32_t kMaxHarts = 65536;
inline constexpr size_t kMaxInputBytes = size_t{16} << 20;  // one kInput record
inline constexpr size_t kMaxString = size_t{1} << 20;       // an argument, role or path
inline constexpr size_t kMaxChunkRaw = size_t{64} << 20;    // a chunk's uncompressed payload
inline constexpr size_t kChunkTarget = size_t{64} << 10;    // add() ends a chunk past this size
// The records of a whole log, uncompressed: far more than any recording
// writes (its chunks are about kChunkTarget each, at most one every few ms),
// and a bound on the work a small file of highly compressed chunks can cause.
inline constexpr uint64_t kMaxLogRaw = uint64_t{4} << 30;

class LogWriter {
 public:
  // Creates (truncates) `path` and writes the file header and the header
  // chunk. Throws LogError on I/O errors (the message names the path and
  // strerror), std::invalid_argument if `h` exceeds a limit.
  LogWriter(const std::string& path, const Header& h);
  ~LogWriter();  // flushes what is buffered (as a chunk) if finish() was not called
  LogWriter(LogWriter&&) noexcept;
  LogWriter& operator=(LogWriter&&) noexcept;

  // Appends to the current chunk buffer; ends the chunk when the buffer
  // passes kChunkTarget, claiming as covered the slice before the last
  // record's (more records of that slice may follow). Throws
  // std::invalid_argument for a record whose slice is below the previous
  // one's, a kEnd record (use finish()), or a field over its limit.
  void add(const Record& r);
  // Ends the current chunk: compressed (zstd), checksummed and written with
  // one write(2), so a process killed afterwards leaves it complete on disk.
  // Every record of a slice <= `covered_slice` must be in the file by now.
  // The covered slice never goes down (a smaller value keeps the last one).
  // Writes nothing if no record is buffered and the covered slice is unchanged.
  void flush(uint64_t covered_slice);
  // Adds the kEnd record (`end.kind` is ignored), flushes with covered slice
  // end.slice, closes. The writer takes nothing after that.
  void finish(const Record& end);
  uint64_t bytes_written() const;  // file size so far

 private:
  struct State;
  std::unique_ptr<State> s_;
};

class LogReader {
 public:
  // Validates the WHOLE file up front: every chunk's checksum,
  // decompression and records, reading it a chunk at a time (the file's
  // header first, each chunk's header before its payload: memory stays
  // bounded by one chunk whatever the file's size). Only regular files;
  // the file is kept open and read again by next(). Throws LogError with a clear message for a
  // file that is not a coremu replay log (bad magic), another format
  // version (names both), a corrupt file header or header chunk, a corrupt
  // chunk ("corrupt chunk 7 at offset 123456: checksum mismatch"), and a log
  // that ends before its header chunk is complete (nothing to replay).
  // A log whose chunks hold more than `max_raw` bytes of records
  // uncompressed is refused too (LogError), as the chunks are read.
  explicit LogReader(const std::string& path, uint64_t max_raw = kMaxLogRaw);
  // The same for a log held in memory; `name` stands for the path in messages.
  LogReader(std::vector<uint8_t> bytes, std::string name, uint64_t max_raw = kMaxLogRaw);
  ~LogReader();
  LogReader(LogReader&&) noexcept;
  LogReader& operator=(LogReader&&) noexcept;

  const Header& header() const;
  std::optional<Record> next();  // records in order; nullopt at the end of the usable log
  // The file ends inside a chunk, or has no kEnd record: only a prefix is usable.
  bool truncated() const;
  // The covered slice of the last complete chunk: every record of a slice
  // <= covered_slice() is delivered by next() (replay of a truncated log
  // stops there). Meaningless (0) when data_chunks() is 0.
  uint64_t covered_slice() const;
  std::string truncation_note() const;  // empty unless truncated()
  size_t data_chunks() const;           // complete chunks after the header chunk

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace replay
