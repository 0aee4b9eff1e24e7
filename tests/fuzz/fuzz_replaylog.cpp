// Fuzzes the record/replay log reader (src/replay/log.cpp): the input is a
// log file's bytes. It is read twice: as it is, and with every checksum
// recomputed, so that mutations reach the header and record decoders
// instead of stopping at a checksum mismatch. Any input must be refused with
// a LogError or read to its end without a crash, a hang, a leak or a huge
// allocation. The header of every log the reader accepts then goes through
// what `coremu replay` does with it before loading anything: its options
// (cli::parse_recorded: only what shapes the machine), its header values
// and its image list against the images those options load
// (replay::check_image_list, which reads no file). Each must accept or
// refuse with a ConfigError or LogError, and an accepted log must load
// only images its list holds, and never ask for a host-side choice.
#include <xxhash.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cli/options.h"
#include "replay/journal.h"
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

// What replay does with a header before it hashes or loads anything.
void accept_header(const replay::Header& h) {
  try {
    cli::Options o = cli::parse_recorded(h.args);
    replay::check_header_values(h);
    replay::check_image_list(h, o.machine);
    // Accepted: nothing host-side may have come from the log.
    if (o.repl || !o.gdb.empty() || o.gdb_wait || !o.symbols.empty() || !o.machine.dumpdtb.empty() ||
        o.machine.serial != "stdio")
      __builtin_trap();
    auto listed = [&](const std::string& role, const std::string& path) {
      for (const auto& im : h.images)
        if (im.role == role && im.path == path) return true;
      return false;
    };
    if (!o.machine.kernel.empty() && !listed("kernel", o.machine.kernel)) __builtin_trap();
    for (const auto& d : o.machine.drives)
      if (!listed("drive " + d.id, d.file)) __builtin_trap();
  } catch (const machine::ConfigError&) {
  } catch (const replay::LogError&) {
  }
}

void read_log(std::vector<uint8_t> bytes) {
  try {
    replay::LogReader rd(std::move(bytes), "fuzz.log");
    accept_header(rd.header());
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
