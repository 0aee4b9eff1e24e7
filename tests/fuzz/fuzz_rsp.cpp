// Fuzzes the GDB remote protocol parser: the input is a byte stream from a
// client, fed in pieces whose sizes come from the input itself; every
// packet it yields goes through each argument parser the server uses.
// Any input must be handled without a crash, a hang or a leak.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "rsp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  gdbstub::PacketReader reader;
  reader.set_no_ack(data[0] & 1);  // also exercise the no-checksum path
  std::vector<gdbstub::PacketReader::Event> events;
  size_t chunk = 1 + (data[0] >> 1);
  for (size_t off = 1; off < size; off += chunk) reader.feed(data + off, std::min(chunk, size - off), events);
  for (const auto& ev : events) {
    std::string_view p = ev.data;
    if (p.empty()) continue;
    std::string_view rest = p.substr(1);
    (void)gdbstub::parse_mem_args(rest);
    (void)gdbstub::parse_point(rest);
    (void)gdbstub::parse_thread_id(rest);
    (void)gdbstub::parse_hex(rest);
    (void)gdbstub::parse_reg_hex(rest);
    (void)gdbstub::from_hex(rest);
    (void)gdbstub::unescape(p);
    if (p.size() >= 5) (void)gdbstub::parse_vcont(p.substr(5));
    std::string framed = gdbstub::frame(gdbstub::escape_binary(p));
    // What we frame must parse back to what we framed.
    gdbstub::PacketReader back;
    std::vector<gdbstub::PacketReader::Event> again;
    back.feed(reinterpret_cast<const uint8_t*>(framed.data()), framed.size(), again);
    if (p.size() <= gdbstub::PacketReader::kMaxPacket &&
        (again.size() != 1 || again[0].kind != gdbstub::PacketReader::Kind::kPacket || again[0].data != p))
      __builtin_trap();
  }
  return 0;
}
