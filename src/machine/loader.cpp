// ELF64 RISC-V and raw image loading (libelf on an in-memory copy of the file).
#include "machine/loader.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/core.h>

namespace machine {

namespace {

// Beyond this distance from the nearest preceding symbol an address is not
// described as "sym+off" (symbol sizes are not kept).
constexpr uint64_t kDescribeRange = 0x10000;

// Files are read whole: their size is checked first. An ELF image may hold
// symbols and debug information beyond what it loads into RAM.
constexpr uint64_t kMaxElfOverhead = uint64_t{4} << 30;
constexpr uint64_t kMaxSymbolFile = uint64_t{8} << 30;

struct ElfCloser {
  void operator()(Elf* e) const { elf_end(e); }
};

std::string range(uint64_t lo, uint64_t hi) { return fmt::format("[{:#x}, {:#x})", lo, hi); }

// Ranking when several symbols share an address: functions and objects
// beat labels, globals beat locals.
int rank(const GElf_Sym& s) {
  int r = 0;
  unsigned type = GELF_ST_TYPE(s.st_info), bind = GELF_ST_BIND(s.st_info);
  if (type == STT_FUNC || type == STT_OBJECT) r += 2;
  if (bind == STB_GLOBAL || bind == STB_WEAK) r += 1;
  return r;
}

void read_symbols(Elf* elf, SymbolTable& out) {
  std::map<uint64_t, int> best;  // address -> rank of the name kept
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || sh.sh_entsize == 0) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (!data) continue;
    size_t n = sh.sh_size / sh.sh_entsize;
    for (size_t i = 0; i < n; ++i) {
      GElf_Sym s;
      if (!gelf_getsym(data, static_cast<int>(i), &s)) break;
      unsigned type = GELF_ST_TYPE(s.st_info);
      if (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE) continue;
      if (s.st_shndx == SHN_UNDEF || s.st_shndx == SHN_ABS || s.st_name == 0) continue;  // constants are not places
      const char* name = elf_strptr(elf, sh.sh_link, s.st_name);
      if (!name || !*name || name[0] == '$' || std::strncmp(name, ".L", 2) == 0) continue;
      int r = rank(s);
      auto [it, fresh] = out.by_name.try_emplace(name, s.st_value);
      if (!fresh && r > 0 && (GELF_ST_BIND(s.st_info) != STB_LOCAL)) it->second = s.st_value;
      auto b = best.find(s.st_value);
      if (b == best.end() || r > b->second) {
        best[s.st_value] = r;
        out.by_addr[s.st_value] = name;
      }
    }
  }
}

using ElfPtr = std::unique_ptr<Elf, ElfCloser>;

// Opens an in-memory ELF64 little-endian RISC-V executable (the checks
// every caller needs); throws ConfigError naming `what` and `path`.
ElfPtr open_elf(const std::vector<uint8_t>& file, const std::string& path, std::string_view what, GElf_Ehdr& eh) {
  auto bad = [&](const std::string& why) { return ConfigError(fmt::format("{} '{}': {}", what, path, why)); };
  if (elf_version(EV_CURRENT) == EV_NONE) throw bad("libelf is unusable");
  // libelf wants a mutable buffer; it does not modify it in ELF_C_READ mode.
  ElfPtr elf(elf_memory(const_cast<char*>(reinterpret_cast<const char*>(file.data())), file.size()));
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF) throw bad("malformed ELF file");
  if (file.size() <= EI_DATA) throw bad("truncated ELF file");
  if (file[EI_CLASS] != ELFCLASS64)
    throw bad("not a 64-bit ELF file (coremu runs RV64 programs: ELFCLASS64, EM_RISCV)");
  if (file[EI_DATA] != ELFDATA2LSB) throw bad("not a little-endian ELF file");
  if (!gelf_getehdr(elf.get(), &eh)) throw bad(fmt::format("truncated or malformed ELF header ({})", elf_errmsg(-1)));
  if (eh.e_machine != EM_RISCV) throw bad(fmt::format("not a RISC-V ELF file (e_machine {})", eh.e_machine));
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) throw bad("not an executable ELF file");
  return elf;
}

LoadedImage load_elf(const std::vector<uint8_t>& file, const std::string& path, std::string_view what,
                     uint64_t ram_base, uint64_t ram_size) {
  auto bad = [&](const std::string& why) { return ConfigError(fmt::format("{} '{}': {}", what, path, why)); };
  GElf_Ehdr eh;
  ElfPtr elf = open_elf(file, path, what, eh);
  size_t phnum = 0;
  if (elf_getphdrnum(elf.get(), &phnum) != 0) throw bad("malformed program headers");
  if (eh.e_phoff > file.size() || phnum > (file.size() - eh.e_phoff) / sizeof(Elf64_Phdr))
    throw bad("truncated ELF file (program headers past the end)");

  LoadedImage img;
  img.elf = true;
  img.entry = eh.e_entry;
  uint64_t ram_end = ram_base + ram_size;
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr ph;
    if (!gelf_getphdr(elf.get(), static_cast<int>(i), &ph)) throw bad("malformed program header");
    if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
    if (ph.p_filesz > ph.p_memsz) throw bad(fmt::format("segment {} has filesz > memsz", i));
    if (ph.p_offset > file.size() || ph.p_filesz > file.size() - ph.p_offset)
      throw bad(fmt::format("truncated ELF file (segment {} extends past the end of the file)", i));
    uint64_t lo = ph.p_paddr, hi = lo + ph.p_memsz;
    if (hi < lo || hi <= ram_base || lo >= ram_end || hi > ram_end)
      throw bad(fmt::format("segment {} at physical {} is outside RAM {}", i,
                            range(lo, lo + ph.p_memsz), range(ram_base, ram_end)));
    uint64_t skip = 0;  // bytes clipped off the front
    if (lo < ram_base) {
      // As QEMU does, load what falls in RAM and drop the rest: typically
      // the ELF headers of a segment that starts a page below RAM. (A
      // segment running past the end of RAM is an error: it would lose code.)
      fmt::print(stderr, "coremu: warning: {} '{}': segment {} at physical {} is partly outside RAM {}; "
                 "the bytes outside are not loaded\n", what, path, i, range(lo, hi), range(ram_base, ram_end));
      skip = ram_base - lo;
      lo = ram_base;
    }
    Blob b;
    b.addr = lo;
    uint64_t file_lo = std::min<uint64_t>(skip, ph.p_filesz);
    uint64_t file_hi = std::min<uint64_t>(ph.p_filesz, skip + (hi - lo));
    b.data.assign(file.begin() + static_cast<ptrdiff_t>(ph.p_offset + file_lo),
                  file.begin() + static_cast<ptrdiff_t>(ph.p_offset + file_hi));
    b.zeros = (hi - lo) - b.data.size();
    if (img.blobs.empty() || lo < img.low) img.low = lo;
    if (img.blobs.empty() || b.end() > img.high) img.high = b.end();
    for (const Blob& o : img.blobs)
      if (lo < o.end() && o.addr < b.end())
        throw bad(fmt::format("segments overlap at physical {}", range(std::max(lo, o.addr), std::min(b.end(), o.end()))));
    img.blobs.push_back(std::move(b));
  }
  if (img.blobs.empty()) throw bad("no loadable segments");
  read_symbols(elf.get(), img.symbols);
  return img;
}

}  // namespace

std::string SymbolTable::describe(uint64_t addr) const {
  auto it = by_addr.upper_bound(addr);
  if (it == by_addr.begin()) return {};
  --it;
  uint64_t off = addr - it->first;
  if (off >= kDescribeRange) return {};
  return off ? fmt::format("{}+{:#x}", it->second, off) : it->second;
}

std::string file_kind(unsigned mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

int open_regular(const std::string& path, std::string_view what, struct stat& st) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
  // writer forever. It is cleared again for the (regular) file's reads.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw ConfigError(fmt::format("cannot open {} '{}': {}", what, path, std::strerror(errno)));
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw ConfigError(fmt::format("cannot open {} '{}': {}", what, path, std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw ConfigError(fmt::format("{} '{}' is {}: coremu reads images from regular files only", what, path,
                                  file_kind(st.st_mode)));
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

std::vector<uint8_t> read_file(const std::string& path, std::string_view what, uint64_t max_size) {
  struct stat st;
  int fd = open_regular(path, what, st);
  auto size = static_cast<uint64_t>(st.st_size);
  if (size > max_size) {
    ::close(fd);
    throw ConfigError(fmt::format("{} '{}' is {} bytes, more than the {} bytes it can be here", what, path, size,
                                  max_size));
  }
  // Exactly the size fstat gave: a file that grows meanwhile is not read on.
  std::vector<uint8_t> data(static_cast<size_t>(size));
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      throw ConfigError(fmt::format("cannot read {} '{}': {}", what, path, std::strerror(err)));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got != data.size())
    throw ConfigError(fmt::format("{} '{}' shrank while it was read ({} of {} bytes)", what, path, got, data.size()));
  return data;
}

SymbolTable load_symbols(const std::string& path) {
  std::vector<uint8_t> file = read_file(path, "symbol file", kMaxSymbolFile);
  if (file.size() < SELFMAG || std::memcmp(file.data(), ELFMAG, SELFMAG) != 0)
    throw ConfigError(fmt::format("symbol file '{}': not an ELF file (give the ELF with symbols, e.g. vmlinux, "
                                  "not a raw Image)", path));
  GElf_Ehdr eh;
  ElfPtr elf = open_elf(file, path, "symbol file", eh);
  SymbolTable t;
  read_symbols(elf.get(), t);
  if (t.by_name.empty()) throw ConfigError(fmt::format("symbol file '{}': no symbols (stripped?)", path));
  return t;
}

LoadedImage load_image(const std::string& path, std::string_view what, uint64_t raw_addr, uint64_t ram_base,
                       uint64_t ram_size, bool allow_elf) {
  std::vector<uint8_t> file = read_file(path, what, ram_size + kMaxElfOverhead);
  if (allow_elf && file.size() >= 4 && std::memcmp(file.data(), ELFMAG, SELFMAG) == 0)
    return load_elf(file, path, what, ram_base, ram_size);
  uint64_t ram_end = ram_base + ram_size;
  if (raw_addr < ram_base || raw_addr >= ram_end || file.size() > ram_end - raw_addr)
    throw ConfigError(fmt::format("{} '{}' ({} bytes) does not fit in RAM at {:#x} (RAM is {}; try a larger -m)", what,
                                  path, file.size(), raw_addr, range(ram_base, ram_end)));
  LoadedImage img;
  img.entry = raw_addr;
  img.low = raw_addr;
  img.high = raw_addr + file.size();
  Blob b;
  b.addr = raw_addr;
  b.data = std::move(file);
  img.blobs.push_back(std::move(b));
  return img;
}

}  // namespace machine
