#include "rsp.h"

#include <charconv>

namespace gdbstub {

namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
constexpr char kHex[] = "0123456789abcdef";
}  // namespace

void PacketReader::feed(const uint8_t* data, size_t len, std::vector<Event>& out) {
  for (size_t i = 0; i < len; ++i) {
    uint8_t c = data[i];
    switch (state_) {
      case State::kIdle:
        if (c == '$') {
          state_ = State::kData;
          buf_.clear();
          overflow_ = false;
          sum_ = 0;
        } else if (c == '+') {
          out.push_back({Kind::kAck, {}});
        } else if (c == '-') {
          out.push_back({Kind::kNack, {}});
        } else if (c == 0x03) {
          out.push_back({Kind::kInterrupt, {}});
        }
        break;  // anything else between packets is noise
      case State::kData:
        if (c == '#') {
          state_ = State::kCheck1;
        } else if (c == '$') {
          // A new packet start inside a packet: the previous one was cut off.
          out.push_back({Kind::kBadPacket, {}});
          buf_.clear();
          overflow_ = false;
          sum_ = 0;
        } else {
          sum_ = static_cast<uint8_t>(sum_ + c);
          if (buf_.size() < kMaxPacket)
            buf_.push_back(static_cast<char>(c));
          else
            overflow_ = true;
        }
        break;
      case State::kCheck1: {
        int d = hex_digit(static_cast<char>(c));
        if (d < 0) {
          out.push_back({Kind::kBadPacket, {}});
          state_ = State::kIdle;
        } else {
          check_ = static_cast<uint8_t>(d << 4);
          state_ = State::kCheck2;
        }
        break;
      }
      case State::kCheck2: {
        int d = hex_digit(static_cast<char>(c));
        state_ = State::kIdle;
        if (d < 0 || overflow_ || (!no_ack_ && static_cast<uint8_t>(check_ | d) != sum_)) {
          out.push_back({Kind::kBadPacket, {}});
          break;
        }
        auto payload = unescape(buf_);
        if (!payload) {
          out.push_back({Kind::kBadPacket, {}});
          break;
        }
        out.push_back({Kind::kPacket, std::move(*payload)});
        break;
      }
    }
  }
}

std::string escape_binary(std::string_view data) {
  std::string out;
  out.reserve(data.size());
  for (char c : data) {
    if (c == '#' || c == '$' || c == '}' || c == '*') {
      out.push_back('}');
      out.push_back(static_cast<char>(c ^ 0x20));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string frame(std::string_view payload) {
  std::string out = "$";
  uint8_t sum = 0;
  for (char c : payload) sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
  out.append(payload);
  out.push_back('#');
  out.push_back(kHex[sum >> 4]);
  out.push_back(kHex[sum & 15]);
  return out;
}

std::optional<std::string> unescape(std::string_view data) {
  std::string out;
  out.reserve(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    char c = data[i];
    if (c == '}') {
      if (++i >= data.size()) return std::nullopt;
      out.push_back(static_cast<char>(data[i] ^ 0x20));
    } else if (c == '*') {
      // Run-length encoding: the previous character repeated (n - 29) more times.
      if (out.empty() || ++i >= data.size()) return std::nullopt;
      int n = static_cast<unsigned char>(data[i]) - 29;
      if (n < 3 || n > 97) return std::nullopt;
      out.append(static_cast<size_t>(n), out.back());
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string to_hex(const uint8_t* data, size_t len) {
  std::string out;
  out.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 15]);
  }
  return out;
}

std::string to_hex(std::string_view s) { return to_hex(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

std::string reg_hex(uint64_t v, unsigned bytes) {
  uint8_t b[8];
  for (unsigned i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
  return to_hex(b, bytes);
}

std::optional<std::vector<uint8_t>> from_hex(std::string_view s) {
  if (s.size() % 2) return std::nullopt;
  std::vector<uint8_t> out(s.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::optional<uint64_t> parse_hex(std::string_view s) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return v;
}

std::optional<uint64_t> parse_reg_hex(std::string_view s) {
  auto bytes = from_hex(s);
  if (!bytes || bytes->empty() || bytes->size() > 8) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 0; i < bytes->size(); ++i) v |= uint64_t{(*bytes)[i]} << (8 * i);
  return v;
}

std::optional<MemArgs> parse_mem_args(std::string_view s) {
  auto comma = s.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  auto addr = parse_hex(s.substr(0, comma));
  auto len = parse_hex(s.substr(comma + 1));
  if (!addr || !len) return std::nullopt;
  return MemArgs{*addr, *len};
}

std::optional<PointArgs> parse_point(std::string_view s) {
  auto semi = s.find(';');  // conditions/commands: not supported, ignored
  if (semi != std::string_view::npos) s = s.substr(0, semi);
  auto c1 = s.find(',');
  if (c1 == std::string_view::npos) return std::nullopt;
  auto c2 = s.find(',', c1 + 1);
  if (c2 == std::string_view::npos) return std::nullopt;
  auto type = parse_hex(s.substr(0, c1));
  auto addr = parse_hex(s.substr(c1 + 1, c2 - c1 - 1));
  auto kind = parse_hex(s.substr(c2 + 1));
  if (!type || !addr || !kind || *type > 4) return std::nullopt;
  return PointArgs{static_cast<unsigned>(*type), *addr, *kind};
}

std::optional<int64_t> parse_thread_id(std::string_view s) {
  if (!s.empty() && s[0] == 'p') {  // multiprocess pPID.TID
    auto dot = s.find('.');
    if (dot == std::string_view::npos) return -1;  // "pPID": all threads of the process
    s = s.substr(dot + 1);
  }
  if (s == "-1") return -1;
  auto v = parse_hex(s);
  if (!v || *v > 0x7fffffff) return std::nullopt;
  return static_cast<int64_t>(*v);
}

std::optional<std::vector<VContAction>> parse_vcont(std::string_view s) {
  // s is what follows "vCont".
  std::vector<VContAction> out;
  while (!s.empty()) {
    if (s[0] != ';') return std::nullopt;
    s.remove_prefix(1);
    size_t end = s.find(';');
    std::string_view item = s.substr(0, end);
    s = end == std::string_view::npos ? std::string_view{} : s.substr(end);
    if (item.empty()) return std::nullopt;
    char a = item[0];
    std::string_view rest = item.substr(1);
    if (a == 'C' || a == 'S') {  // signal number: two hex digits, ignored
      if (rest.size() < 2 || !parse_hex(rest.substr(0, 2))) return std::nullopt;
      rest.remove_prefix(2);
      a = a == 'C' ? 'c' : 's';
    } else if (a != 'c' && a != 's' && a != 't') {
      return std::nullopt;
    }
    int64_t thread = -1;
    if (!rest.empty()) {
      if (rest[0] != ':') return std::nullopt;
      auto t = parse_thread_id(rest.substr(1));
      if (!t) return std::nullopt;
      thread = *t;
    }
    out.push_back({a, thread});
  }
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace gdbstub
