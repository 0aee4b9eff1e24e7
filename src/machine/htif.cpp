#include "machine/htif.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "machine/state.h"

namespace machine {

namespace {
constexpr int64_t kEfault = 14, kEbadf = 9, kEnosys = 38;
}

Htif::Htif(uint64_t tohost, uint64_t fromhost, Env env) : tohost_(tohost), fromhost_(fromhost), env_(std::move(env)) {}

void Htif::on_store(uint64_t pa, unsigned size) {
  uint64_t end = pa + size;
  if (end <= tohost_ || pa >= tohost_ + 8) return;
  if (end != tohost_ + 8) return;  // e.g. the low half of a two-part write
  std::lock_guard<std::mutex> lk(mu_);
  uint64_t cmd = 0;
  if (!env_.read_mem(tohost_, &cmd, 8) || cmd == 0) return;
  uint64_t zero = 0;
  env_.write_mem(tohost_, &zero, 8);  // taken
  execute(cmd);
}

namespace {
constexpr uint32_t kHtifTag = 0x46495448;  // "HTIF"
}

void Htif::save(StateWriter& w) const {
  std::lock_guard<std::mutex> lk(mu_);
  w.u32(kHtifTag);
  w.u64(tohost_);
  w.u64(fromhost_);
}

void Htif::load(StateReader& r) {
  r.expect_u32(kHtifTag, "HTIF state");
  uint64_t to = r.u64(), from = r.u64();
  std::lock_guard<std::mutex> lk(mu_);
  if (to != tohost_ || from != fromhost_) StateReader::fail("HTIF state for other tohost/fromhost addresses");
}

void Htif::respond(uint64_t value) { env_.write_mem(fromhost_, &value, 8); }

void Htif::execute(uint64_t cmd) {
  unsigned device = static_cast<unsigned>(cmd >> 56), command = static_cast<unsigned>((cmd >> 48) & 0xff);
  uint64_t payload = cmd & ((1ull << 48) - 1);
  if (device == 0 && command == 0) {
    if (payload & 1) {
      env_.exit(static_cast<int>(payload >> 1));
    } else {
      syscall(payload);
    }
  } else if (device == 1 && command == 1) {
    uint8_t c = static_cast<uint8_t>(payload);
    env_.console(&c, 1);
    respond((uint64_t{1} << 56) | (uint64_t{1} << 48));
  }
  // Anything else (console input, block devices) is not supported: the
  // command is dropped without an answer.
}

void Htif::syscall(uint64_t block) {
  uint64_t args[8];
  if (!env_.read_mem(block, args, sizeof args)) return;  // no answer: the guest's pointer is bad
  int64_t ret = -kEnosys;
  switch (args[0]) {
    case kSysWrite: {
      uint64_t fd = args[1], buf = args[2], len = args[3];
      if (fd != 1 && fd != 2) {
        ret = -kEbadf;
        break;
      }
      std::vector<uint8_t> tmp(static_cast<size_t>(std::min<uint64_t>(len, 1 << 16)));
      uint64_t done = 0;
      while (done < len) {
        uint64_t n = std::min<uint64_t>(len - done, tmp.size());
        if (!env_.read_mem(buf + done, tmp.data(), n)) break;
        env_.console(tmp.data(), static_cast<size_t>(n));
        done += n;
      }
      ret = done == len ? static_cast<int64_t>(len) : -kEfault;
      break;
    }
    case kSysExit:
      env_.exit(static_cast<int>(args[1]));
      return;
    default:
      break;
  }
  uint64_t r = static_cast<uint64_t>(ret);
  env_.write_mem(block, &r, 8);
  respond(1);
}

}  // namespace machine
