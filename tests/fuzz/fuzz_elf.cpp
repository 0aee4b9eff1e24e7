// Fuzzes the ELF/raw image loader (libelf underneath) with arbitrary files.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "machine/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static int fd = memfd_create("fuzz_elf", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) return 0;
  try {
    (void)machine::load_image(path, "kernel", 0x80000000, 0x80000000, 64ull << 20);
  } catch (const machine::ConfigError&) {
  }
  return 0;
}
