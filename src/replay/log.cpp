// The record/replay log file; docs/replay-log-format.md is the byte format
// this implements, and says why it is built this way.
#include "replay/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <limits>

namespace replay {
namespace {

constexpr uint8_t kFileMagic[8] = {0x89, 'C', 'M', 'R', 'L', 'O', 'G', '\n'};
constexpr uint8_t kChunkMagic[4] = {'C', 'M', 'C', 'K'};
constexpr size_t kFileHeaderSize = 64;   // magic, version, reserved, coremu version, checksum
constexpr size_t kChunkHeaderSize = 48;  // see docs/replay-log-format.md, "Chunks"
constexpr uint8_t kChunkHeaderKind = 1, kChunkRecords = 2;  // chunk kinds
constexpr uint8_t kStored = 0, kZstd = 1;                    // payload compression
constexpr int kZstdLevel = 3;

// ---- little-endian fields and LEB128 varints ----

void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = uint8_t(v >> (8 * i));
}
void put_u64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = uint8_t(v >> (8 * i));
}
uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
  return v;
}
uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

void put_varint(std::vector<uint8_t>& b, uint64_t v) {
  for (; v >= 0x80; v >>= 7) b.push_back(uint8_t(v | 0x80));
  b.push_back(uint8_t(v));
}
void put_fixed(std::vector<uint8_t>& b, uint64_t v) {
  uint8_t t[8];
  put_u64(t, v);
  b.insert(b.end(), t, t + 8);
}
void put_string(std::vector<uint8_t>& b, const std::string& s) {
  put_varint(b, s.size());
  b.insert(b.end(), s.begin(), s.end());
}

// Malformed bytes inside a chunk payload; the caller adds which chunk.
struct Malformed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads a payload; every read is bounded by what is left.
struct Cursor {
  const uint8_t* p;
  const uint8_t* end;
  size_t left() const { return size_t(end - p); }
  bool done() const { return p == end; }
  uint8_t u8() {
    if (done()) throw Malformed("ends inside a field");
    return *p++;
  }
  uint64_t fixed() {
    if (left() < 8) throw Malformed("ends inside a field");
    uint64_t v = get_u64(p);
    p += 8;
    return v;
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      uint8_t b = u8();
      if (shift == 63 && b > 1) throw Malformed("varint overflows 64 bits");
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  }
  uint64_t varint_max(uint64_t max, const char* what) {
    uint64_t v = varint();
    if (v > max) throw Malformed(std::string(what) + " " + std::to_string(v) + " exceeds " + std::to_string(max));
    return v;
  }
  // `n` bytes; the caller has bounded n by a limit of its own.
  const uint8_t* take(uint64_t n) {
    if (n > left()) throw Malformed("length " + std::to_string(n) + " runs past the end of the chunk");
    const uint8_t* at = p;
    p += n;
    return at;
  }
  // A count of items taking at least `min_size` bytes each, at most `max`.
  size_t count(size_t min_size, uint64_t max, const char* what) {
    uint64_t n = varint_max(max, what);
    if (n > left() / min_size) throw Malformed(std::string(what) + " " + std::to_string(n) + " exceeds the chunk");
    return size_t(n);
  }
  std::string string() {
    size_t n = varint_max(kMaxString, "string length");
    return std::string(reinterpret_cast<const char*>(take(n)), n);
  }
};

uint64_t zigzag(int64_t v) { return (uint64_t(v) << 1) ^ uint64_t(v >> 63); }
int64_t unzigzag(uint64_t v) { return int64_t(v >> 1) ^ -int64_t(v & 1); }

// ---- records ----

// Appends `r` (its kind's fields only), the slice as a delta from `prev`.
void encode_record(std::vector<uint8_t>& b, const Record& r, uint64_t prev) {
  b.push_back(r.kind);
  put_varint(b, r.slice - prev);
  switch (r.kind) {
    case Record::kInput:
      put_varint(b, r.hart);
      put_varint(b, r.bytes.size());
      b.insert(b.end(), r.bytes.begin(), r.bytes.end());
      break;
    case Record::kInterrupt:
      // Steps as the traps taken (steps - icount, small), the cause rotated
      // left by one so the interrupt bit (63) costs one bit, not 10 bytes.
      put_varint(b, r.hart);
      put_varint(b, r.icount);
      put_varint(b, r.steps - r.icount);
      put_varint(b, (r.cause << 1) | (r.cause >> 63));
      break;
    case Record::kDigest: {
      put_varint(b, r.global_steps);
      put_fixed(b, r.digest);
      put_varint(b, r.harts.size());
      uint64_t next = 0;  // each entry's hart as the gap after the previous one's
      for (size_t i = 0; i < r.harts.size(); ++i) {
        uint64_t h = r.digest_harts.empty() ? i : r.digest_harts[i];
        put_varint(b, h - next);
        next = h + 1;
        put_varint(b, r.harts[i].first);
        put_fixed(b, r.harts[i].second);
      }
      break;
    }
    case Record::kEnd:
      put_varint(b, r.global_steps);
      put_fixed(b, r.digest);
      put_varint(b, zigzag(r.exit_status));
      break;
  }
}

// Reads one record; `prev` is the previous record's slice in this chunk (0
// for the first) and becomes this one's. Throws Malformed.
Record decode_record(Cursor& c, uint64_t& prev, uint32_t harts) {
  Record r;
  uint8_t kind = c.u8();
  if (kind < Record::kInput || kind > Record::kEnd) throw Malformed("unknown record kind " + std::to_string(kind));
  r.kind = Record::Kind(kind);
  uint64_t delta = c.varint();
  if (delta > std::numeric_limits<uint64_t>::max() - prev) throw Malformed("slice number overflows");
  r.slice = prev += delta;
  switch (r.kind) {
    case Record::kInput: {
      r.hart = uint32_t(c.varint_max(std::numeric_limits<uint32_t>::max(), "device number"));
      size_t n = c.varint_max(kMaxInputBytes, "input length");
      const uint8_t* b = c.take(n);
      r.bytes.assign(b, b + n);
      break;
    }
    case Record::kInterrupt: {
      r.hart = uint32_t(c.varint_max(harts - 1, "hart"));
      r.icount = c.varint();
      r.steps = r.icount + c.varint();
      uint64_t rc = c.varint();
      r.cause = (rc >> 1) | (rc << 63);
      break;
    }
    case Record::kDigest: {
      r.global_steps = c.varint();
      r.digest = c.fixed();
      size_t n = c.count(10, harts, "digest hart count");
      r.harts.resize(n);
      r.digest_harts.resize(n);
      uint64_t next = 0;
      bool identity = true;
      for (size_t i = 0; i < n; ++i) {
        uint64_t gap = c.varint();
        if (next >= harts || gap > harts - 1 - next) throw Malformed("digest of a hart that does not exist");
        uint64_t h = next + gap;
        r.digest_harts[i] = uint32_t(h);
        identity = identity && h == i;
        next = h + 1;
        r.harts[i].first = c.varint();
        r.harts[i].second = c.fixed();
      }
      if (identity) r.digest_harts.clear();
      break;
    }
    case Record::kEnd: {
      r.global_steps = c.varint();
      r.digest = c.fixed();
      int64_t status = unzigzag(c.varint());
      if (status < std::numeric_limits<int32_t>::min() || status > std::numeric_limits<int32_t>::max())
        throw Malformed("exit status out of range");
      r.exit_status = int32_t(status);
      break;
    }
  }
  return r;
}

void check_record(const Record& r, uint32_t harts) {
  auto bad = [](const std::string& m) { throw std::invalid_argument("replay::LogWriter: " + m); };
  if (r.kind == Record::kInput && r.bytes.size() > kMaxInputBytes) bad("input record of more than 16 MiB");
  if (r.kind == Record::kInterrupt && r.hart >= harts)
    bad("interrupt on hart " + std::to_string(r.hart) + " of " + std::to_string(harts));
  if (r.kind == Record::kDigest && r.harts.size() > harts)
    bad("digest of " + std::to_string(r.harts.size()) + " harts, the machine has " + std::to_string(harts));
  if (r.kind == Record::kDigest && !r.digest_harts.empty()) {
    if (r.digest_harts.size() != r.harts.size()) bad("digest_harts and harts differ in length");
    for (size_t i = 0; i < r.digest_harts.size(); ++i)
      if (r.digest_harts[i] >= harts || (i > 0 && r.digest_harts[i] <= r.digest_harts[i - 1]))
        bad("digest_harts must be increasing hart numbers below the hart count");
  }
  if (r.kind < Record::kInput || r.kind > Record::kEnd) bad("unknown record kind " + std::to_string(r.kind));
}

// ---- the header chunk's payload ----

std::vector<uint8_t> encode_header(const Header& h) {
  std::vector<uint8_t> b;
  auto check = [](const std::string& s) {
    if (s.size() > kMaxString) throw std::invalid_argument("replay::LogWriter: header string of more than 1 MiB");
  };
  put_varint(b, h.args.size());
  for (const auto& a : h.args) check(a), put_string(b, a);
  put_varint(b, h.images.size());
  for (const auto& im : h.images) {
    check(im.role), check(im.path);
    put_string(b, im.role);
    put_string(b, im.path);
    put_varint(b, im.size);
    put_fixed(b, im.hash);
  }
  put_varint(b, h.harts);
  put_varint(b, h.quantum);
  b.push_back(h.chaos ? 1 : 0);
  put_fixed(b, h.chaos_seed);
  put_varint(b, h.digest_interval);
  if (b.size() > kMaxChunkRaw) throw std::invalid_argument("replay::LogWriter: header of more than 64 MiB");
  return b;
}

void decode_header(Cursor& c, Header& h) {
  size_t n = c.count(1, kMaxChunkRaw, "argument count");
  for (size_t i = 0; i < n; i++) h.args.push_back(c.string());
  n = c.count(11, kMaxChunkRaw, "image count");
  for (size_t i = 0; i < n; i++) {
    ImageInfo im;
    im.role = c.string();
    im.path = c.string();
    im.size = c.varint();
    im.hash = c.fixed();
    h.images.push_back(std::move(im));
  }
  h.harts = uint32_t(c.varint_max(kMaxHarts, "hart count"));
  if (h.harts == 0) throw Malformed("hart count 0");
  h.quantum = c.varint();
  uint8_t chaos = c.u8();
  if (chaos > 1) throw Malformed("chaos flag " + std::to_string(chaos));
  h.chaos = chaos;
  h.chaos_seed = c.fixed();
  h.digest_interval = c.varint();
  if (!c.done()) throw Malformed(std::to_string(c.left()) + " stray bytes after the header");
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

// ================================ writer ================================

struct LogWriter::State {
  std::string path;
  int fd = -1;
  bool finished = false;
  uint32_t harts = 0;
  uint64_t offset = 0, seq = 0;
  uint64_t covered = 0;     // the covered slice of the last chunk written
  uint64_t last_slice = 0;  // of the last record added
  uint64_t chunk_prev = 0;  // slice deltas in the current chunk start here
  std::vector<uint8_t> buf, out;
  ZSTD_CCtx* zctx = nullptr;

  ~State() {
    if (fd >= 0 && !finished && !buf.empty()) {
      try {
        write_chunk(kChunkRecords, std::max(covered, last_slice ? last_slice - 1 : 0), buf);
      } catch (...) {  // nothing to tell anyone from a destructor
      }
    }
    if (fd >= 0) ::close(fd);
    ZSTD_freeCCtx(zctx);
  }

  void write_all(const uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) throw LogError("cannot write replay log '" + path + "': " + errno_text());
      p += w, n -= size_t(w), offset += uint64_t(w);
    }
  }

  // Compresses `payload` into one chunk and writes it with one write(2).
  void write_chunk(uint8_t kind, uint64_t covered_slice, const std::vector<uint8_t>& payload) {
    out.resize(kChunkHeaderSize + ZSTD_compressBound(payload.size()));
    size_t stored = ZSTD_compressCCtx(zctx, out.data() + kChunkHeaderSize, out.size() - kChunkHeaderSize,
                                      payload.data(), payload.size(), kZstdLevel);
    if (ZSTD_isError(stored))
      throw LogError("replay log '" + path + "': zstd: " + ZSTD_getErrorName(stored));
    uint8_t compression = kZstd;
    if (stored >= payload.size()) {  // incompressible (or tiny): store it as it is
      compression = kStored;
      stored = payload.size();
      std::copy(payload.begin(), payload.end(), out.begin() + kChunkHeaderSize);
    }
    uint8_t* h = out.data();
    std::memset(h, 0, kChunkHeaderSize);
    std::memcpy(h, kChunkMagic, 4);
    h[4] = kind;
    h[5] = compression;
    put_u64(h + 8, seq);
    put_u32(h + 16, uint32_t(payload.size()));
    put_u32(h + 20, uint32_t(stored));
    put_u64(h + 24, covered_slice);
    put_u64(h + 32, XXH3_64bits_withSeed(h + kChunkHeaderSize, stored, XXH3_64bits(h, 32)));
    put_u64(h + 40, XXH3_64bits(h, 40));
    write_all(h, kChunkHeaderSize + stored);
    seq++;
    covered = covered_slice;
    chunk_prev = 0;
    if (&payload == &buf) buf.clear();
  }

  void check_open() const {
    if (finished) throw std::logic_error("replay::LogWriter: used after finish()");
  }

  void append(const Record& r) {
    check_record(r, harts);
    if (r.slice < last_slice)
      throw std::invalid_argument("replay::LogWriter: record for slice " + std::to_string(r.slice) +
                                  " after one for slice " + std::to_string(last_slice));
    encode_record(buf, r, chunk_prev);
    chunk_prev = last_slice = r.slice;
  }
};

LogWriter::LogWriter(const std::string& path, const Header& h) : s_(std::make_unique<State>()) {
  if (h.coremu_version.size() > kMaxVersionLength || h.coremu_version.find('\0') != std::string::npos)
    throw std::invalid_argument("replay::LogWriter: coremu version '" + h.coremu_version + "' is not storable");
  if (h.harts == 0 || h.harts > kMaxHarts)
    throw std::invalid_argument("replay::LogWriter: hart count " + std::to_string(h.harts));
  std::vector<uint8_t> payload = encode_header(h);
  s_->path = path;
  s_->harts = h.harts;
  s_->zctx = ZSTD_createCCtx();
  if (!s_->zctx) throw std::bad_alloc();
  s_->fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (s_->fd < 0) throw LogError("cannot create replay log '" + path + "': " + errno_text());
  uint8_t fh[kFileHeaderSize] = {};
  std::memcpy(fh, kFileMagic, 8);
  put_u32(fh + 8, kFormatVersion);
  std::memcpy(fh + 16, h.coremu_version.data(), h.coremu_version.size());
  put_u64(fh + 56, XXH3_64bits(fh, 56));
  s_->write_all(fh, sizeof fh);
  s_->write_chunk(kChunkHeaderKind, 0, payload);
}

LogWriter::~LogWriter() = default;
LogWriter::LogWriter(LogWriter&&) noexcept = default;
LogWriter& LogWriter::operator=(LogWriter&&) noexcept = default;

void LogWriter::add(const Record& r) {
  s_->check_open();
  if (r.kind == Record::kEnd) throw std::invalid_argument("replay::LogWriter: add() of a kEnd record; use finish()");
  s_->append(r);
  if (s_->buf.size() > kChunkTarget)
    s_->write_chunk(kChunkRecords, std::max(s_->covered, r.slice ? r.slice - 1 : 0), s_->buf);
}

void LogWriter::flush(uint64_t covered_slice) {
  s_->check_open();
  covered_slice = std::max(covered_slice, s_->covered);
  if (!s_->buf.empty() || covered_slice != s_->covered) s_->write_chunk(kChunkRecords, covered_slice, s_->buf);
}

void LogWriter::finish(const Record& end) {
  s_->check_open();
  Record r = end;
  r.kind = Record::kEnd;
  s_->append(r);
  s_->write_chunk(kChunkRecords, std::max(s_->covered, r.slice), s_->buf);
  s_->finished = true;
  int fd = s_->fd;
  s_->fd = -1;
  if (::close(fd) != 0) throw LogError("cannot write replay log '" + s_->path + "': " + errno_text());
}

uint64_t LogWriter::bytes_written() const { return s_->offset; }

// ================================ reader ================================

struct LogReader::State {
  std::string name;
  // The log's bytes come from `fd` (read in pieces: a file is never held
  // whole) or, for a log in memory, from `mem`.
  int fd = -1;
  std::vector<uint8_t> mem;
  uint64_t size = 0;
  Header header;
  uint64_t first_chunk = 0;  // offset of chunk 1
  size_t n_chunks = 0;       // complete data chunks
  bool truncated = false;
  uint64_t covered = 0;
  std::string note;
  ZSTD_DCtx* zctx = nullptr;
  std::vector<uint8_t> stored_buf;  // one chunk's stored payload
  uint64_t max_raw = kMaxLogRaw, total_raw = 0;
  // next()
  uint64_t next_off = 0, next_seq = 1, cur_off = 0, cur_seq = 0;
  std::vector<uint8_t> cur;
  size_t cur_pos = 0;
  uint64_t cur_prev = 0;

  ~State() {
    ZSTD_freeDCtx(zctx);
    if (fd >= 0) ::close(fd);
  }

  // Exactly n bytes at off (the caller has checked off + n <= size).
  void read_at(uint64_t off, uint8_t* out, size_t n) {
    if (fd < 0) {
      std::memcpy(out, mem.data() + off, n);
      return;
    }
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd, out + got, n - got, static_cast<off_t>(off + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw LogError("cannot read replay log '" + name + "': " + errno_text());
      if (r == 0) throw LogError(name + ": the file shrank while it was read");
      got += size_t(r);
    }
  }

  [[noreturn]] void corrupt(uint64_t seq, uint64_t off, const std::string& what) const {
    throw LogError(name + ": corrupt " + (seq == 0 ? std::string("header chunk") : "chunk " + std::to_string(seq)) +
                   " at offset " + std::to_string(off) + ": " + what);
  }

  void check_file_header() {
    uint64_t n = size;
    if (n == 0) throw LogError(name + " is empty, not a coremu replay log");
    uint8_t data[kFileHeaderSize];
    read_at(0, data, size_t(std::min<uint64_t>(n, kFileHeaderSize)));
    if (std::memcmp(data, kFileMagic, size_t(std::min<uint64_t>(n, 8))) != 0)
      throw LogError(name + " is not a coremu replay log (bad magic)");
    if (n < 12) throw LogError(name + ": the log ends inside its file header (was the recording killed?)");
    uint32_t version = get_u32(&data[8]);
    bool sum_ok = n >= kFileHeaderSize && get_u64(&data[56]) == XXH3_64bits(data, 56);
    std::string writer;
    if (sum_ok) writer = std::string(reinterpret_cast<const char*>(&data[16]), strnlen((const char*)&data[16], 40));
    std::string writer_shown;  // control characters escaped: the text goes to a terminal
    for (unsigned char c : writer) {
      if (c < 0x20 || c == 0x7f) {
        const char* hex = "0123456789abcdef";
        writer_shown += std::string("\\x") + hex[c >> 4] + hex[c & 15];
      } else {
        writer_shown += char(c);
      }
    }
    if (version != kFormatVersion)
      throw LogError(name + ": replay log format version " + std::to_string(version) +
                     (writer.empty() ? "" : " (written by coremu " + writer_shown + ")") +
                     ", but this coremu reads version " + std::to_string(kFormatVersion));
    if (n < kFileHeaderSize)
      throw LogError(name + ": the log ends inside its file header (was the recording killed?)");
    if (!sum_ok) throw LogError(name + ": corrupt file header: checksum mismatch");
    if (get_u32(&data[12]) != 0) throw LogError(name + ": corrupt file header: reserved field is not zero");
    for (size_t i = 16 + writer.size(); i < 56; i++)
      if (data[i] != 0) throw LogError(name + ": corrupt file header: bad coremu version field");
    header.coremu_version = writer;
  }

  // Checks the chunk at `off`, which must be number `seq`. Returns false if
  // the file ends inside it; on success decompresses its payload into `out`
  // and sets `next` to the offset after it. The header is checked before
  // its lengths are used, and the lengths before the payload is read.
  bool read_chunk(uint64_t off, uint64_t seq, std::vector<uint8_t>& out, uint64_t& covered_slice, uint64_t& next) {
    if (size - off < kChunkHeaderSize) return false;
    uint8_t h[kChunkHeaderSize];
    read_at(off, h, kChunkHeaderSize);
    if (get_u64(h + 40) != XXH3_64bits(h, 40)) corrupt(seq, off, "chunk header checksum mismatch");
    if (std::memcmp(h, kChunkMagic, 4) != 0) corrupt(seq, off, "bad chunk magic");
    if (h[5] != kStored && h[5] != kZstd) corrupt(seq, off, "unknown compression " + std::to_string(h[5]));
    if (h[6] || h[7]) corrupt(seq, off, "reserved bytes are not zero");
    if (get_u64(h + 8) != seq)
      corrupt(seq, off, "sequence number " + std::to_string(get_u64(h + 8)) + ", expected " + std::to_string(seq));
    uint8_t want_kind = seq == 0 ? kChunkHeaderKind : kChunkRecords;
    if (h[4] != want_kind)
      corrupt(seq, off, "chunk kind " + std::to_string(h[4]) + ", expected " + std::to_string(want_kind));
    size_t raw = get_u32(h + 16), stored = get_u32(h + 20);
    if (raw > kMaxChunkRaw) corrupt(seq, off, "payload of " + std::to_string(raw) + " bytes exceeds 64 MiB");
    if (stored > ZSTD_compressBound(kMaxChunkRaw)) corrupt(seq, off, "compressed payload too large");
    if (h[5] == kStored && stored != raw)
      corrupt(seq, off, "stored payload of " + std::to_string(stored) + " bytes, not " + std::to_string(raw));
    covered_slice = get_u64(h + 24);
    if (size - off - kChunkHeaderSize < stored) return false;
    stored_buf.resize(stored + 1);  // never empty, so data() is a valid pointer
    read_at(off + kChunkHeaderSize, stored_buf.data(), stored);
    const uint8_t* p = stored_buf.data();
    if (get_u64(h + 32) != XXH3_64bits_withSeed(p, stored, XXH3_64bits(h, 32))) corrupt(seq, off, "checksum mismatch");
    next = off + kChunkHeaderSize + stored;
    if (h[5] == kStored) {
      out.assign(p, p + raw);
      return true;
    }
    if (ZSTD_getFrameContentSize(p, stored) != raw) corrupt(seq, off, "zstd frame does not hold the declared size");
    out.resize(raw + 1);
    size_t got = ZSTD_decompressDCtx(zctx, out.data(), raw, p, stored);
    if (ZSTD_isError(got)) corrupt(seq, off, std::string("zstd: ") + ZSTD_getErrorName(got));
    if (got != raw) corrupt(seq, off, "decompresses to " + std::to_string(got) + " bytes, not " + std::to_string(raw));
    out.resize(raw);
    return true;
  }

  void load() {
    zctx = ZSTD_createDCtx();
    if (!zctx) throw std::bad_alloc();
    check_file_header();
    uint64_t off = kFileHeaderSize, next = 0;
    std::vector<uint8_t> payload;
    uint64_t covered_slice = 0;
    if (!read_chunk(off, 0, payload, covered_slice, next))
      throw LogError(name + ": the log ends inside its header chunk at offset " + std::to_string(off) +
                     " (was the recording killed?): nothing to replay");
    if (covered_slice != 0) corrupt(0, off, "covered slice is not 0");
    try {
      Cursor c{payload.data(), payload.data() + payload.size()};
      decode_header(c, header);
    } catch (const Malformed& e) {
      corrupt(0, off, e.what());
    }
    off = first_chunk = next;
    uint64_t last_slice = 0;
    bool ended = false;
    for (uint64_t seq = 1; off < size; seq++) {
      if (ended) corrupt(seq, off, "data after the end record");
      if (!read_chunk(off, seq, payload, covered_slice, next)) {
        truncated = true;
        note = "the log ends inside chunk " + std::to_string(seq) + " at offset " + std::to_string(off) +
               " (was the recording killed?)";
        break;
      }
      total_raw += payload.size();
      if (total_raw > max_raw)
        throw LogError(name + ": its chunks hold more than " + std::to_string(max_raw >> 20) +
                       " MiB of records uncompressed (at chunk " + std::to_string(seq) +
                       "): refused, no recording is that large");
      if (covered_slice < covered)
        corrupt(seq, off, "covered slice " + std::to_string(covered_slice) + " is below the previous chunk's " +
                              std::to_string(covered));
      Cursor c{payload.data(), payload.data() + payload.size()};
      uint64_t prev = 0;
      for (size_t i = 0; !c.done(); i++) {
        try {
          Record r = decode_record(c, prev, header.harts);
          if (r.slice < last_slice) throw Malformed("slice goes back from " + std::to_string(last_slice));
          if (r.kind == Record::kEnd && !c.done()) throw Malformed("data after the end record");
          last_slice = r.slice;
          ended |= r.kind == Record::kEnd;
        } catch (const Malformed& e) {
          corrupt(seq, off, "record " + std::to_string(i) + ": " + e.what());
        }
      }
      n_chunks++;
      covered = covered_slice;
      off = next;
    }
    if (!truncated && !ended) {
      truncated = true;
      note = "the log has no end record: it stops after chunk " + std::to_string(n_chunks) + " at offset " +
             std::to_string(off) + " (was the recording killed?)";
    }
    if (truncated && n_chunks) note += "; complete up to slice " + std::to_string(covered);
    next_off = first_chunk;
    std::vector<uint8_t>().swap(stored_buf);
  }
};

LogReader::LogReader(const std::string& path, uint64_t max_raw) : s_(std::make_unique<State>()) {
  s_->max_raw = max_raw;
  s_->name = path;
  // O_NONBLOCK: a FIFO would block open() until a writer comes.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw LogError("cannot open replay log '" + path + "': " + errno_text());
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw LogError("replay log '" + path + "' is not a regular file");
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  s_->fd = fd;
  s_->size = uint64_t(st.st_size);
  s_->load();
}

LogReader::LogReader(std::vector<uint8_t> bytes, std::string name, uint64_t max_raw)
    : s_(std::make_unique<State>()) {
  s_->max_raw = max_raw;
  s_->name = std::move(name);
  s_->mem = std::move(bytes);
  s_->size = s_->mem.size();
  s_->load();
}

LogReader::~LogReader() = default;
LogReader::LogReader(LogReader&&) noexcept = default;
LogReader& LogReader::operator=(LogReader&&) noexcept = default;

const Header& LogReader::header() const { return s_->header; }
bool LogReader::truncated() const { return s_->truncated; }
uint64_t LogReader::covered_slice() const { return s_->covered; }
std::string LogReader::truncation_note() const { return s_->note; }
size_t LogReader::data_chunks() const { return s_->n_chunks; }

std::optional<Record> LogReader::next() {
  State& s = *s_;
  while (s.cur_pos == s.cur.size()) {
    if (s.next_seq > s.n_chunks) return std::nullopt;
    uint64_t covered, next;
    // Checked by load(); a file changed since is caught by the checksums.
    if (!s.read_chunk(s.next_off, s.next_seq, s.cur, covered, next))
      throw LogError(s.name + ": the file changed while it was replayed");
    s.cur_off = s.next_off;
    s.cur_seq = s.next_seq++;
    s.next_off = next;
    s.cur_pos = 0;
    s.cur_prev = 0;
  }
  Cursor c{s.cur.data() + s.cur_pos, s.cur.data() + s.cur.size()};
  try {
    Record r = decode_record(c, s.cur_prev, s.header.harts);
    s.cur_pos = size_t(c.p - s.cur.data());
    return r;
  } catch (const Malformed& e) {
    s.corrupt(s.cur_seq, s.cur_off, e.what());
  }
}

}  // namespace replay
