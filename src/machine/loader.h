// Boot images: the ELF/raw loader (libelf) and the device tree (libfdt).
// Internal to src/machine; Machine uses these to prepare RAM and ROM.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "machine/machine.h"

namespace machine {

// Bytes to place in guest RAM at reset: `data` at `addr`, then `zeros` zero
// bytes (an ELF segment's memsz beyond its filesz).
struct Blob {
  uint64_t addr = 0;
  std::vector<uint8_t> data;
  uint64_t zeros = 0;
  uint64_t end() const { return addr + data.size() + zeros; }
};

struct LoadedImage {
  bool elf = false;
  uint64_t entry = 0;
  uint64_t low = 0, high = 0;  // physical range covered by the blobs
  std::vector<Blob> blobs;
  SymbolTable symbols;         // ELF only
};

// Loads `path` for the role `what` ("firmware", "kernel", "initrd"): an
// ELF64 RISC-V executable goes where its PT_LOAD segments say (p_paddr,
// entry e_entry); anything else is a raw image placed at `raw_addr` (entry
// raw_addr). With `allow_elf` false the file is always raw. Every byte must
// land in RAM [ram_base, ram_base + ram_size). Throws ConfigError with a
// message naming the file on any problem.
LoadedImage load_image(const std::string& path, std::string_view what, uint64_t raw_addr, uint64_t ram_base,
                       uint64_t ram_size, bool allow_elf = true);

// The symbols of an ELF64 RISC-V file, without loading it (--symbols
// vmlinux). Throws ConfigError naming the file if it is not such an ELF or
// holds no symbols.
SymbolTable load_symbols(const std::string& path);

// Reads a whole regular file of at most `max_size` bytes; throws
// ConfigError naming <what> and the path otherwise ("cannot open <what>
// '<path>': <reason>", "... is a FIFO: ...", "... is N bytes, more than
// ..."). Never blocks on a FIFO and never reads more than fstat's size.
std::vector<uint8_t> read_file(const std::string& path, std::string_view what, uint64_t max_size);
// "a FIFO", "a character device", ... for a non-regular file's st_mode.
std::string file_kind(unsigned mode);

// What the generated device tree describes.
struct FdtParams {
  unsigned num_harts = 1;
  uint64_t ram_base = 0, ram_size = 0;
  uint64_t plic_size = 0;
  std::string bootargs;                 // /chosen/bootargs, omitted if empty
  std::optional<uint64_t> initrd_start;  // /chosen/linux,initrd-start/-end
  uint64_t initrd_end = 0;
};

// A QEMU-virt-compatible flattened device tree (packed).
std::vector<uint8_t> make_fdt(const FdtParams& p);

// Validates a user-supplied blob (-dtb) and, if asked, sets /chosen bootargs
// and the initrd range in it. Throws ConfigError if it is not a valid FDT.
std::vector<uint8_t> patch_fdt(std::vector<uint8_t> blob, std::string_view path, const FdtParams& p);

// Where QEMU 7.2 puts the device tree: aligned down to 2 MiB below the end
// of RAM, or below 3 GiB if RAM reaches further (for 32-bit kernels).
uint64_t fdt_load_addr(uint64_t ram_base, uint64_t ram_size, uint64_t fdt_size);

}  // namespace machine
