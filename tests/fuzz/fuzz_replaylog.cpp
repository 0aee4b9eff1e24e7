// Fuzzes the record/replay log reader (src/replay/log.cpp): the input is a
// log file's bytes. It is read twice: as it is, and with every checksum
// recomputed, so that mutations reach the header and record decoders
// instead of stopping at a checksum mismatch. Any input must be refused with
// a LogError or read to its end without a crash, a hang, a leak or a huge
// allocation.
#include <xxhash.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "replay/log.h"

namespace {

void put_u64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = uint8_t(v >> (8 * i));
}

// Makes the file header's and every chunk's checksums match their bytes
// (docs/replay-log-format.md).
void fix_checksums(std::vector<uint8_t>& b) {
  if (b.size() < 64) return;
  put_u64(&b[56], XXH3_64bits(b.data(), 56));
  for (size_t off = 64; b.size() - off >= 48;) {
    uint8_t* h = &b[off];
    size_t stored = h[20] | h[21] << 8 | h[22] << 16 | size_t(h[23]) << 24;
    size_t avail = b.size() - off - 48;
    put_u64(h + 32, XXH3_64bits_withSeed(h + 48, std::min(stored, avail), XXH3_64bits(h, 32)));
    put_u64(h + 40, XXH3_64bits(h, 40));
    if (stored > avail) break;
    off += 48 + stored;
  }
}

void read_log(std::vector<uint8_t> bytes) {
  try {
    replay::LogReader rd(std::move(bytes), "fuzz.log");
    size_t harts = rd.header().harts;
    uint64_t last = 0;
    while (auto r = rd.next()) {
      // What the reader promises the replayer about every record it yields.
      if (r->slice < last || (r->kind == replay::Record::kInterrupt && r->hart >= harts) ||
          r->harts.size() > harts || r->bytes.size() > replay::kMaxInputBytes)
        __builtin_trap();
      last = r->slice;
    }
    if (rd.truncated() == rd.truncation_note().empty()) __builtin_trap();
  } catch (const replay::LogError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> b(data, data + size);
  read_log(b);
  fix_checksums(b);
  read_log(std::move(b));
  return 0;
}
