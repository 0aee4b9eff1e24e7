// SiFive test finisher ("sifive,test0"): the guest powers off or resets the
// board by writing a command to offset 0.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>

#include "machine/device.h"

namespace machine {

class StateWriter;
class StateReader;

class TestDevice final : public Device {
 public:
  static constexpr uint32_t kFail = 0x3333, kPass = 0x5555, kReset = 0x7777;

  // `shutdown(status)` is called for PASS (0) and FAIL (code), `reboot()` for
  // RESET. They are called with the device's lock held.
  TestDevice(std::function<void(int)> shutdown, std::function<void()> reboot);

  // No state of its own: save/load write and check a marker only.
  void save(StateWriter& w) const;
  void load(StateReader& r);

  bool read(uint64_t offset, unsigned size, uint64_t& value) override;
  bool write(uint64_t offset, unsigned size, uint64_t value) override;

 private:
  std::mutex mu_;
  std::function<void(int)> shutdown_;
  std::function<void()> reboot_;
};

}  // namespace machine
