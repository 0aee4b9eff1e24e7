// The record/replay log file (src/replay/log.h, docs/replay-log-format.md).
// The suite is lower case so that `ctest -R replaylog` finds it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "replay/log.h"

using replay::Header;
using replay::LogError;
using replay::LogReader;
using replay::LogWriter;
using replay::Record;

namespace {

std::string temp_path(const std::string& tag) {
  return ::testing::TempDir() + "replaylog_" + tag + "_" + std::to_string(getpid()) + ".log";
}

std::vector<uint8_t> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

Header test_header(uint32_t harts = 4) {
  Header h;
  h.coremu_version = "0.1.0";
  h.args = {"-M", "virt", "-smp", std::to_string(harts), "-kernel", "guest.elf", ""};
  h.images = {{"kernel", "guest.elf", 12345, 0x0123456789abcdefull}, {"drive0", "/tmp/d i s k.img", 8 << 20, 7}};
  h.harts = harts;
  h.quantum = 10000;
  h.chaos = true;
  h.chaos_seed = 0xfeedfacecafebeefull;
  h.digest_interval = 64;
  return h;
}

Record input(uint64_t slice, std::vector<uint8_t> bytes) {
  Record r;
  r.kind = Record::kInput;
  r.slice = slice;
  r.bytes = std::move(bytes);
  return r;
}
Record irq(uint64_t slice, uint32_t hart, uint64_t icount) {
  Record r;
  r.kind = Record::kInterrupt;
  r.slice = slice;
  r.hart = hart;
  r.icount = icount;
  r.steps = icount + 3;
  r.cause = (1ull << 63) | 7;
  return r;
}
Record digest(uint64_t slice, uint32_t harts) {
  Record r;
  r.kind = Record::kDigest;
  r.slice = slice;
  for (uint32_t i = 0; i < harts; i++) r.harts.push_back({slice * 1000 + i, XXH3_64bits(&i, sizeof i) ^ slice});
  r.global_steps = slice * 1000 * harts;
  r.digest = XXH3_64bits(r.harts.data(), r.harts.size() * sizeof r.harts[0]);
  return r;
}
Record end_record(uint64_t slice, int32_t status) {
  Record r;
  r.kind = Record::kEnd;
  r.slice = slice;
  r.global_steps = ~0ull;
  r.digest = 0x5555aaaa5555aaaaull;
  r.exit_status = status;
  return r;
}

std::vector<Record> read_all(LogReader& rd) {
  std::vector<Record> out;
  while (auto r = rd.next()) out.push_back(std::move(*r));
  return out;
}

// Offsets of the chunks (the header chunk first) of a log's bytes.
std::vector<size_t> chunk_offsets(const std::vector<uint8_t>& b) {
  std::vector<size_t> offs;
  for (size_t off = 64; off + 48 <= b.size();) {
    offs.push_back(off);
    uint32_t stored = b[off + 20] | b[off + 21] << 8 | b[off + 22] << 16 | uint32_t(b[off + 23]) << 24;
    off += 48 + stored;
  }
  return offs;
}

std::string error_of(std::vector<uint8_t> bytes) {
  try {
    LogReader rd(std::move(bytes), "t.log");
    return "";
  } catch (const LogError& e) {
    return e.what();
  }
}

}  // namespace

TEST(replaylog, RoundTripAllKinds) {
  std::string path = temp_path("roundtrip");
  Header h = test_header(255);
  std::mt19937_64 rng(42);
  std::vector<Record> want;
  std::vector<uint8_t> big(3 << 20);  // several chunks' worth, hard to compress
  for (auto& b : big) b = uint8_t(rng());
  want.push_back(input(0, {'h', 'i', '\n'}));
  want.push_back(input(0, {}));
  want.push_back(irq(0, 254, 0));
  want.push_back(input(1, big));
  for (uint64_t s = 2; s < 3000; s++) {
    if (s % 7 == 0) want.push_back(irq(s, uint32_t(s % 255), s * 99991));
    if (s % 64 == 0) want.push_back(digest(s, 255));
    if (s % 64 == 32) {  // a digest of some harts only
      Record d = digest(s, 3);
      d.digest_harts = {3, 17, 254};
      want.push_back(d);
    }
    if (s % 500 == 0) want.push_back(input(s, std::vector<uint8_t>(s, uint8_t(s))));
  }
  want.push_back(irq(~0ull - 1, 0, ~0ull));
  want.push_back(end_record(~0ull - 1, -3));
  uint64_t written;
  {
    LogWriter w(path, h);
    for (size_t i = 0; i + 1 < want.size(); i++) {
      w.add(want[i]);
      if (i % 100 == 0) w.flush(want[i].slice);
    }
    w.finish(want.back());
    written = w.bytes_written();
  }
  std::vector<uint8_t> bytes = slurp(path);
  EXPECT_EQ(written, bytes.size());
  int methods = 0;  // random input is stored as it is, the rest compressed
  for (size_t off : chunk_offsets(bytes)) methods |= 1 << bytes[off + 5];
  EXPECT_EQ(methods, 3);
  LogReader rd(path);
  EXPECT_EQ(rd.header(), h);
  EXPECT_FALSE(rd.truncated());
  EXPECT_EQ(rd.truncation_note(), "");
  EXPECT_EQ(rd.covered_slice(), ~0ull - 1);
  EXPECT_GT(rd.data_chunks(), 5u);
  std::vector<Record> got = read_all(rd);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); i++) EXPECT_EQ(got[i], want[i]) << "record " << i;
  EXPECT_FALSE(rd.next().has_value());
  // Random input is stored at about its size; digests compress.
  EXPECT_LT(written, big.size() + (200u << 10));
  std::remove(path.c_str());
}

TEST(replaylog, ExtremeFieldValues) {
  std::string path = temp_path("extreme");
  Header h;
  h.harts = replay::kMaxHarts;
  h.coremu_version = std::string(replay::kMaxVersionLength, 'v');
  h.args = {std::string(replay::kMaxString, 'a')};
  Record in = input(0, std::vector<uint8_t>(replay::kMaxInputBytes, 0xab));
  in.hart = ~0u;
  Record end = end_record(0, INT32_MIN);
  {
    LogWriter w(path, h);
    w.add(in);
    w.finish(end);
  }
  LogReader rd(path);
  EXPECT_EQ(rd.header(), h);
  EXPECT_EQ(rd.next(), in);
  EXPECT_EQ(rd.next(), end);
  EXPECT_EQ(rd.next(), std::nullopt);
  std::remove(path.c_str());
}

TEST(replaylog, WriterRefusesBadUse) {
  std::string path = temp_path("refuse");
  LogWriter w(path, test_header(4));
  w.add(irq(5, 3, 1));
  EXPECT_THROW(w.add(irq(4, 0, 1)), std::invalid_argument);  // slice goes back
  EXPECT_THROW(w.add(irq(6, 4, 1)), std::invalid_argument);  // no hart 4
  EXPECT_THROW(w.add(digest(6, 5)), std::invalid_argument);
  EXPECT_THROW(w.add(end_record(6, 0)), std::invalid_argument);
  EXPECT_THROW(w.finish(end_record(4, 0)), std::invalid_argument);
  w.finish(end_record(6, 0));
  EXPECT_THROW(w.add(irq(7, 0, 1)), std::logic_error);
  EXPECT_THROW(w.flush(7), std::logic_error);
  Header bad = test_header(4);
  bad.harts = 0;
  EXPECT_THROW((LogWriter{path, bad}), std::invalid_argument);
  std::remove(path.c_str());
}

TEST(replaylog, IoErrorsNameThePath) {
  try {
    LogWriter w("/nonexistent-dir/x.log", test_header());
    FAIL() << "no error";
  } catch (const LogError& e) {
    EXPECT_STREQ(e.what(), "cannot create replay log '/nonexistent-dir/x.log': No such file or directory");
  }
  try {
    LogReader r("/nonexistent-dir/x.log");
    FAIL() << "no error";
  } catch (const LogError& e) {
    EXPECT_STREQ(e.what(), "cannot open replay log '/nonexistent-dir/x.log': No such file or directory");
  }
  EXPECT_THROW(LogReader("/dev/null"), LogError);  // not a regular file
}

// Every way the last chunk can be cut leaves the earlier chunks usable.
TEST(replaylog, CutAnywhereInLastChunkIsTruncation) {
  std::string path = temp_path("cut");
  std::vector<Record> first = {input(1, {'a'}), irq(2, 1, 100), digest(3, 4)};
  std::vector<Record> second = {irq(5, 0, 200), input(6, {'b', 'c'}), digest(7, 4)};
  size_t last_start;
  {
    LogWriter w(path, test_header());
    for (auto& r : first) w.add(r);
    w.flush(4);
    for (auto& r : second) w.add(r);
    last_start = w.bytes_written();
    w.finish(end_record(8, 0));
  }
  std::vector<uint8_t> all = slurp(path);
  ASSERT_EQ(chunk_offsets(all).back(), last_start);
  for (size_t cut = last_start; cut < all.size(); cut++) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    LogReader rd(std::vector<uint8_t>(all.begin(), all.begin() + cut), "cut.log");
    EXPECT_TRUE(rd.truncated());
    EXPECT_EQ(rd.covered_slice(), 4u);
    EXPECT_EQ(rd.data_chunks(), 1u);
    EXPECT_EQ(read_all(rd), first);
    if (cut == last_start)
      EXPECT_EQ(rd.truncation_note(), "the log has no end record: it stops after chunk 1 at offset " +
                                          std::to_string(cut) + " (was the recording killed?); complete up to slice 4");
    else
      EXPECT_EQ(rd.truncation_note(), "the log ends inside chunk 2 at offset " + std::to_string(last_start) +
                                          " (was the recording killed?); complete up to slice 4");
  }
  // Cut inside the header chunk: nothing to replay.
  EXPECT_NE(error_of({all.begin(), all.begin() + 70}).find("ends inside its header chunk"), std::string::npos);
  EXPECT_NE(error_of({all.begin(), all.begin() + 64}).find("ends inside its header chunk"), std::string::npos);
  EXPECT_NE(error_of({all.begin(), all.begin() + 20}).find("ends inside its file header"), std::string::npos);
  std::remove(path.c_str());
}

// One flipped byte anywhere is an error that names where it is.
TEST(replaylog, FlippedByteIsCorruption) {
  std::string path = temp_path("flip");
  {
    LogWriter w(path, test_header());
    w.add(input(1, {'x', 'y'}));
    w.flush(1);
    w.add(irq(2, 3, 1));
    w.add(digest(2, 4));
    w.flush(2);
    w.finish(end_record(3, 1));
  }
  std::vector<uint8_t> all = slurp(path);
  std::vector<size_t> offs = chunk_offsets(all);
  ASSERT_EQ(offs.size(), 4u);
  ASSERT_EQ(error_of(all), "");
  for (size_t i = 0; i < all.size(); i++) {
    std::vector<uint8_t> b = all;
    b[i] ^= 0x20;
    std::string err = error_of(b);
    SCOPED_TRACE("byte " + std::to_string(i) + ": " + err);
    if (i < 64) {
      EXPECT_NE(err, "");
      continue;
    }
    size_t n = offs.size() - 1;
    while (offs[n] > i) n--;
    std::string where = (n == 0 ? "corrupt header chunk" : "corrupt chunk " + std::to_string(n)) + " at offset " +
                        std::to_string(offs[n]) + ": ";
    EXPECT_EQ(err.rfind("t.log: " + where, 0), 0u);
  }
  std::remove(path.c_str());
}

// zstd turns a few KiB of repeated records into megabytes: the reader
// bounds the total it decompresses (kMaxLogRaw; here a small bound).
TEST(replaylog, RefusesMoreRecordsThanItsBound) {
  std::string path = temp_path("many");
  {
    LogWriter w(path, test_header());
    Record r;
    r.kind = Record::kInterrupt;
    for (uint64_t i = 0; i < 400000; ++i) {
      r.slice = i;
      w.add(r);
    }
    Record end;
    end.slice = 400000;
    w.finish(end);
  }
  std::vector<uint8_t> b = slurp(path);
  EXPECT_LT(b.size(), 200000u);  // compressed: a few bytes per record at most
  try {
    LogReader rd(b, "t.log", 1 << 20);
    ADD_FAILURE() << "more than 1 MiB of records accepted";
  } catch (const LogError& e) {
    EXPECT_NE(std::string(e.what()).find("t.log: its chunks hold more than 1 MiB of records uncompressed"),
              std::string::npos) << e.what();
  }
  LogReader ok(b, "t.log");
  EXPECT_FALSE(ok.truncated());
  std::remove(path.c_str());
}

TEST(replaylog, NotALogAndOtherVersions) {
  EXPECT_EQ(error_of({}), "t.log is empty, not a coremu replay log");
  EXPECT_EQ(error_of({'\x7f', 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0}),
            "t.log is not a coremu replay log (bad magic)");
  std::string path = temp_path("version");
  { LogWriter w(path, test_header()); }
  std::vector<uint8_t> b = slurp(path);
  b[8] = 4;  // format version 4, header checksum made right again
  uint64_t sum = XXH3_64bits(b.data(), 56);
  for (int i = 0; i < 8; i++) b[56 + i] = uint8_t(sum >> (8 * i));
  EXPECT_EQ(error_of(b),
            "t.log: replay log format version 4 (written by coremu 0.1.0), but this coremu reads version 3");
  b.resize(12);  // still names the version when only that much is there
  EXPECT_EQ(error_of(b), "t.log: replay log format version 4, but this coremu reads version 3");
  std::remove(path.c_str());
}

// A chunk that is well formed on the outside but claims too much is refused
// before anything is allocated for it.
TEST(replaylog, HostileLengthsAreRefused) {
  std::string path = temp_path("hostile");
  {
    LogWriter w(path, test_header());
    w.finish(end_record(0, 0));
  }
  std::vector<uint8_t> b = slurp(path);
  size_t off = chunk_offsets(b).back();
  b[off + 19] = 0x10;  // raw length 256 MiB + a bit
  uint8_t* h = &b[off];
  uint64_t sum = XXH3_64bits_withSeed(h + 48, b.size() - off - 48, XXH3_64bits(h, 32));
  for (int i = 0; i < 8; i++) h[32 + i] = uint8_t(sum >> (8 * i));
  sum = XXH3_64bits(h, 40);
  for (int i = 0; i < 8; i++) h[40 + i] = uint8_t(sum >> (8 * i));
  EXPECT_NE(error_of(b).find("corrupt chunk 1 at offset " + std::to_string(off) + ": payload of"), std::string::npos)
      << error_of(b);
  std::remove(path.c_str());
}

TEST(replaylog, DestructorFlushesAndEmptyFlushWritesNothing) {
  std::string path = temp_path("dtor");
  {
    LogWriter w(path, test_header());
    uint64_t before = w.bytes_written();
    w.flush(0);
    EXPECT_EQ(w.bytes_written(), before);  // nothing new to say
    w.flush(9);
    EXPECT_GT(w.bytes_written(), before);  // an empty chunk that advances the covered slice
    before = w.bytes_written();
    w.flush(3);
    EXPECT_EQ(w.bytes_written(), before);  // covered never goes back
    w.add(input(10, {'q'}));
  }
  LogReader rd(path);
  EXPECT_TRUE(rd.truncated());
  EXPECT_EQ(rd.covered_slice(), 9u);
  EXPECT_EQ(rd.data_chunks(), 2u);
  EXPECT_EQ(read_all(rd), std::vector<Record>{input(10, {'q'})});
  EXPECT_NE(rd.truncation_note().find("no end record"), std::string::npos);
  std::remove(path.c_str());
}

// A recorder killed with SIGKILL leaves every chunk it flushed readable.
TEST(replaylog, WriterKilledMidway) {
  std::string path = temp_path("killed");
  std::vector<Record> flushed;
  for (uint64_t s = 0; s < 2000; s++) flushed.push_back(irq(s, uint32_t(s % 4), s * 17));
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    LogWriter w(path, test_header());
    for (size_t i = 0; i < flushed.size(); i++) {
      w.add(flushed[i]);
      if (i % 300 == 299) w.flush(flushed[i].slice);
    }
    w.flush(flushed.back().slice);
    w.add(input(5000, std::vector<uint8_t>(1000, 'z')));  // buffered only: lost
    raise(SIGKILL);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  LogReader rd(path);
  EXPECT_TRUE(rd.truncated());
  EXPECT_EQ(rd.covered_slice(), 1999u);
  EXPECT_EQ(read_all(rd), flushed);
  std::remove(path.c_str());
}

// Chunks with good checksums around bad records (what a buggy writer, or a
// forger, could produce) are refused, naming the chunk and the record.
TEST(replaylog, MalformedRecordsAreRefused) {
  std::string path = temp_path("malformed");
  { LogWriter w(path, test_header(4)); }  // the file header and the header chunk
  const std::vector<uint8_t> base = slurp(path);
  std::remove(path.c_str());
  auto with_chunks = [&](const std::vector<std::vector<uint8_t>>& payloads) {
    std::vector<uint8_t> b = base;
    for (size_t seq = 1; seq <= payloads.size(); seq++) {
      const std::vector<uint8_t>& payload = payloads[seq - 1];
      size_t off = b.size();
      b.resize(off + 48);
      uint8_t* h = &b[off];
      std::memcpy(h, "CMCK", 4);
      h[4] = 2;  // records, stored (compression 0)
      h[8] = uint8_t(seq);
      for (int i = 0; i < 4; i++) h[16 + i] = h[20 + i] = uint8_t(payload.size() >> (8 * i));
      b.insert(b.end(), payload.begin(), payload.end());
      h = &b[off];
      uint64_t sum = XXH3_64bits_withSeed(h + 48, payload.size(), XXH3_64bits(h, 32));
      for (int i = 0; i < 8; i++) h[32 + i] = uint8_t(sum >> (8 * i));
      sum = XXH3_64bits(h, 40);
      for (int i = 0; i < 8; i++) h[40 + i] = uint8_t(sum >> (8 * i));
    }
    return error_of(b);
  };
  auto with_chunk = [&](const std::vector<uint8_t>& payload) { return with_chunks({payload}); };
  std::string at = "t.log: corrupt chunk 1 at offset " + std::to_string(base.size()) + ": ";
  // A well-formed chunk first: one input record and the end record.
  EXPECT_EQ(with_chunk({1, 5, 0, 2, 'h', 'i', 4, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 6}), "");
  EXPECT_EQ(with_chunk({9}), at + "record 0: unknown record kind 9");
  EXPECT_EQ(with_chunk({1, 5, 0, 5, 'h', 'i'}), at + "record 0: length 5 runs past the end of the chunk");
  EXPECT_EQ(with_chunk({1, 5, 0, 0x80}), at + "record 0: ends inside a field");
  EXPECT_EQ(with_chunk({1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}),
            at + "record 0: varint overflows 64 bits");
  EXPECT_EQ(with_chunk({2, 5, 4, 0, 0, 0}), at + "record 0: hart 4 exceeds 3");
  EXPECT_EQ(with_chunks({{1, 5, 0, 0}, {1, 4, 0, 0}}),
            "t.log: corrupt chunk 2 at offset " + std::to_string(base.size() + 48 + 4) +
                ": record 0: slice goes back from 5");
  EXPECT_EQ(with_chunk({3, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 5}), at + "record 0: digest hart count 5 exceeds 4");
  EXPECT_EQ(with_chunk({3, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 2, 1, 1, 2, 3, 4, 5, 6, 7, 8}),
            at + "record 0: digest hart count 2 exceeds the chunk");
  // Version 3 digests name their harts by gaps: hart 3 then a gap past the
  // last hart (4 harts), and a first gap naming hart 4.
  EXPECT_EQ(with_chunk({3, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 2, 3, 7, 1, 2, 3, 4, 5, 6, 7, 8, 0, 7, 1, 2, 3, 4, 5, 6, 7,
                        8}),
            at + "record 0: digest of a hart that does not exist");
  EXPECT_EQ(with_chunk({3, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 4, 7, 1, 2, 3, 4, 5, 6, 7, 8}),
            at + "record 0: digest of a hart that does not exist");
  EXPECT_EQ(with_chunk({4, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 0, 0}),
            at + "record 0: data after the end record");
}
