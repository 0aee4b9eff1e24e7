#include "machine/testdev.h"

#include <utility>

#include "machine/state.h"

namespace machine {

TestDevice::TestDevice(std::function<void(int)> shutdown, std::function<void()> reboot)
    : shutdown_(std::move(shutdown)), reboot_(std::move(reboot)) {}

namespace {
constexpr uint32_t kTestTag = 0x54534554;  // "TEST"
}

void TestDevice::save(StateWriter& w) const { w.u32(kTestTag); }

void TestDevice::load(StateReader& r) { r.expect_u32(kTestTag, "test finisher state"); }

bool TestDevice::read(uint64_t offset, unsigned size, uint64_t& value) {
  value = 0;
  return true;
}

bool TestDevice::write(uint64_t offset, unsigned size, uint64_t value) {
  if (offset != 0 || size < 2) return true;  // other registers: ignored
  std::lock_guard<std::mutex> lk(mu_);
  uint32_t v = static_cast<uint32_t>(size == 2 ? value & 0xffff : value);
  switch (v & 0xffff) {
    case kPass: shutdown_(0); break;
    case kFail: shutdown_(static_cast<int>(v >> 16)); break;
    case kReset: reboot_(); break;
    default: break;  // unknown commands are ignored, as on QEMU
  }
  return true;
}

}  // namespace machine
