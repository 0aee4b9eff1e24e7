// Machine configuration: what the command line (or a replay log) asks for.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace machine {

// Thrown for bad outside input (options, files): the message is shown to
// the user as is, and the process exits non-zero.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DriveConfig {
  std::string id;
  std::string file;
  std::string format = "raw";
  bool readonly = false;
  // Writes are kept in memory (VirtioBlk's overlay) and never reach the
  // file, as QEMU's snapshot=on: the drive can be checkpointed and rolled back.
  bool snapshot = false;
  // cache=: writeback (the default; also none, which coremu does not make
  // O_DIRECT: guest flushes reach the disk either way), writethrough and
  // directsync (every write is on the disk before the guest hears of it:
  // O_DSYNC), unsafe (guest flushes are not passed on).
  enum class Cache : uint8_t { kWriteback, kWritethrough, kUnsafe } cache = Cache::kWriteback;
};

struct VirtioBlkConfig {
  std::string drive;  // DriveConfig::id
  int slot = -1;      // virtio-mmio transport index (bus=virtio-mmio-bus.N), -1 = next free
};

struct MachineConfig {
  unsigned smp = 1;
  uint64_t ram_size = 128ull << 20;
  std::string bios = "none";  // "none", "default" (the built-in SBI) or a firmware file (ELF or raw binary)
  std::string kernel;         // ELF or raw image; empty = none
  std::string initrd;
  std::string append;
  std::string dtb;            // use this device tree instead of generating one
  std::string dumpdtb;        // write the generated device tree here and exit
  std::string serial = "stdio";  // "stdio", "file:PATH", "none"
  std::vector<DriveConfig> drives;
  std::vector<VirtioBlkConfig> blk_devices;
  bool no_reboot = false;

  // The executor: how the harts run, not what the machine is (a recording
  // made with one executor replays with the other, bit for bit).
  bool jit = true;                     // -accel tcg,jit=on|off: translate hot blocks to host code (x86-64)
  uint64_t tb_size = 0;                // -accel tcg,tb-size=MiB, in bytes: the translation cache (0: 256 MiB)
  std::vector<std::string> log_items;  // -d ITEM,...: in_asm, out_asm (the translator's log)
  std::string log_file;                // -D FILE: where -d writes (default stderr)
  bool perfmap = false;                // -perfmap: /tmp/perf-PID.map for Linux perf
};

}  // namespace machine
