// The virt board's physical address map: ONE description, used both to place
// the devices and to generate the device tree. Compatible with QEMU's
// `-M virt` (hw/riscv/virt.c's documented memory map).
#pragma once

#include <cstdint>

namespace machine::memmap {

inline constexpr uint64_t kMromBase = 0x1000, kMromSize = 0xf000;
inline constexpr uint64_t kTestBase = 0x100000, kTestSize = 0x1000;
inline constexpr uint64_t kClintBase = 0x2000000, kClintSize = 0x10000;
inline constexpr uint64_t kPlicBase = 0xc000000, kPlicSize = 0x600000;
inline constexpr uint64_t kUartBase = 0x10000000, kUartSize = 0x100;
inline constexpr unsigned kUartIrq = 10;
inline constexpr uint64_t kVirtioBase = 0x10001000, kVirtioStride = 0x1000;
inline constexpr unsigned kVirtioCount = 8, kVirtioIrqBase = 1;  // transport n: irq 1+n
inline constexpr uint64_t kDramBase = 0x80000000;
inline constexpr uint64_t kKernelOffsetWithFirmware = 0x200000;  // fw_jump's FW_JUMP_ADDR
inline constexpr uint64_t kTimebaseHz = 10'000'000;
inline constexpr unsigned kPlicSources = 96;  // sources 1..95
inline constexpr unsigned kMaxHarts = 1024;

}  // namespace machine::memmap
