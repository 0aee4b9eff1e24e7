// Board-level checks of a MachineConfig (parsing is the CLI's job).
#include <set>

#include <fmt/core.h>

#include "machine/machine.h"

namespace machine {

namespace {
constexpr uint64_t kMinRam = 1ull << 20, kMaxRam = 64ull << 30;
}

const MachineConfig& Machine::validated(const MachineConfig& cfg) {
  if (cfg.smp < 1 || cfg.smp > memmap::kMaxHarts)
    throw ConfigError(fmt::format("invalid -smp {}: the virt board has 1 to {} harts", cfg.smp, memmap::kMaxHarts));
  if (cfg.ram_size < kMinRam || cfg.ram_size > kMaxRam)
    throw ConfigError(fmt::format("invalid -m: {} bytes of RAM (the board takes 1 MiB to {} GiB)", cfg.ram_size,
                                  kMaxRam >> 30));
  if (cfg.ram_size % rv64::kPageSize != 0)
    throw ConfigError(fmt::format("invalid -m: {} bytes of RAM is not a multiple of 4 KiB", cfg.ram_size));

  std::set<std::string> ids;
  for (const DriveConfig& d : cfg.drives) {
    if (d.id.empty()) throw ConfigError("-drive needs an id=NAME to be used by -device virtio-blk-device,drive=NAME");
    if (!ids.insert(d.id).second) throw ConfigError(fmt::format("duplicate drive id '{}'", d.id));
    if (d.file.empty()) throw ConfigError(fmt::format("drive '{}' has no file=PATH", d.id));
    if (d.format != "raw")
      throw ConfigError(fmt::format("drive '{}': format '{}' is not supported (only format=raw)", d.id, d.format));
  }
  if (cfg.blk_devices.size() > memmap::kVirtioCount)
    throw ConfigError(fmt::format("too many virtio-blk devices ({}): the virt board has {} virtio-mmio transports",
                                  cfg.blk_devices.size(), memmap::kVirtioCount));
  std::set<std::string> used;
  std::set<int> slots;
  for (const VirtioBlkConfig& b : cfg.blk_devices) {
    if (!ids.count(b.drive))
      throw ConfigError(b.drive.empty() ? std::string("virtio-blk-device needs drive=ID")
                                        : fmt::format("virtio-blk-device: no drive with id '{}' (add -drive "
                                                      "if=none,id={},file=...)",
                                                      b.drive, b.drive));
    if (!used.insert(b.drive).second)
      throw ConfigError(fmt::format("drive '{}' is used by more than one virtio-blk device", b.drive));
    if (b.slot < -1 || b.slot >= static_cast<int>(memmap::kVirtioCount))
      throw ConfigError(fmt::format("virtio-blk-device: bus virtio-mmio-bus.{} does not exist (0 to {})", b.slot,
                                    memmap::kVirtioCount - 1));
    if (b.slot >= 0 && !slots.insert(b.slot).second)
      throw ConfigError(fmt::format("virtio-mmio-bus.{} is used by two devices", b.slot));
  }
  return cfg;
}

}  // namespace machine
