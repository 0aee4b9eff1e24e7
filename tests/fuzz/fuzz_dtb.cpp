// Fuzzes the -dtb path: validation and /chosen patching of a user blob.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "machine/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  machine::FdtParams p;
  p.num_harts = 2;
  p.ram_base = 0x80000000;
  p.ram_size = 128ull << 20;
  p.bootargs = "console=ttyS0";
  p.initrd_start = 0x88000000;
  p.initrd_end = 0x88100000;
  try {
    (void)machine::patch_fdt(std::vector<uint8_t>(data, data + size), "fuzz.dtb", p);
  } catch (const machine::ConfigError&) {
  }
  return 0;
}
