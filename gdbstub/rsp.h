// The GDB remote serial protocol: framing and argument parsing, with no
// sockets and no machine, so that it can be fuzzed on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gdbstub {

// Splits a byte stream into protocol events: packets ($data#cs), acks (+),
// nacks (-) and interrupts (0x03). Bytes outside packets are ignored.
class PacketReader {
 public:
  static constexpr size_t kMaxPacket = 64 * 1024;  // larger packets are dropped

  enum class Kind { kPacket, kBadPacket, kAck, kNack, kInterrupt };
  struct Event {
    Kind kind;
    std::string data;  // kPacket: the payload, with '}' escapes and run-length encoding undone
  };

  // Feeds bytes; completed events are appended to `out`.
  void feed(const uint8_t* data, size_t len, std::vector<Event>& out);
  // In no-ack mode checksums are not verified (the protocol allows it).
  void set_no_ack(bool v) { no_ack_ = v; }

 private:
  enum class State { kIdle, kData, kCheck1, kCheck2 };
  State state_ = State::kIdle;
  std::string buf_;
  bool overflow_ = false;
  uint8_t sum_ = 0;
  uint8_t check_ = 0;
  bool no_ack_ = false;
};

// Wraps a payload as $payload#cs, escaping the bytes the protocol reserves.
std::string frame(std::string_view payload);
// Escapes '#', '$', '}' and '*' in binary data (qXfer replies, X packets).
std::string escape_binary(std::string_view data);
// Undoes '}' escapes and '*' run-length encoding; nullopt if malformed.
std::optional<std::string> unescape(std::string_view data);

std::string to_hex(const uint8_t* data, size_t len);
std::string to_hex(std::string_view s);
// Little-endian register value of `bytes` bytes as hex.
std::string reg_hex(uint64_t v, unsigned bytes = 8);
std::optional<std::vector<uint8_t>> from_hex(std::string_view s);
std::optional<uint64_t> parse_hex(std::string_view s);
// Little-endian register value from hex (up to 8 bytes).
std::optional<uint64_t> parse_reg_hex(std::string_view s);

// "ADDR,LEN" (m, and the head of M and X).
struct MemArgs {
  uint64_t addr;
  uint64_t len;
};
std::optional<MemArgs> parse_mem_args(std::string_view s);

// Z/z packets: "TYPE,ADDR,KIND[;cond...]".
struct PointArgs {
  unsigned type;  // 0 sw break, 1 hw break, 2 write watch, 3 read watch, 4 access watch
  uint64_t addr;
  uint64_t kind;  // breakpoints: instruction length; watchpoints: bytes
};
std::optional<PointArgs> parse_point(std::string_view s);

// Thread ids as gdb sends them: "-1" (all), "0" (any), or a positive hex id.
// Multiprocess form "pP.T" is accepted and P ignored.
std::optional<int64_t> parse_thread_id(std::string_view s);

// vCont;action[:thread];... -> list of (action char, thread id or -1 for
// "every thread without its own action"). Signals of C/S are ignored.
struct VContAction {
  char action;  // 'c', 's' or 't' ('C' and 'S' map to 'c' and 's')
  int64_t thread;  // -1: default action
};
std::optional<std::vector<VContAction>> parse_vcont(std::string_view s);

}  // namespace gdbstub
