// The virt board: address decoding, image loading, reset ROM, shutdown.
#include "machine/machine.h"

#include <unistd.h>

#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/core.h>

#include "machine/clint.h"
#include "rv64/jit/translator.h"
#include "machine/htif.h"
#include "machine/loader.h"
#include "machine/plic.h"
#include "machine/state.h"
#include "machine/sbi.h"
#include "machine/testdev.h"
#include "machine/uart.h"
#include "machine/virtio_blk.h"

namespace machine {

namespace {

constexpr uint64_t k2MiB = 2ull << 20, k128MiB = 128ull << 20;
constexpr uint64_t kMaxDtb = 16ull << 20;  // a -dtb blob (QEMU's limit is 2 MiB)

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

std::string range(uint64_t lo, uint64_t hi) { return fmt::format("[{:#x}, {:#x})", lo, hi); }

// The reset ROM at 0x1000 (every hart starts here):
//   auipc t0, 0
//   addi  a2, t0, kFwDynOff      # a2 = &fw_dynamic_info
//   csrr  a0, mhartid            # a0 = hart id
//   ld    a1, kFdtOff(t0)        # a1 = device tree
//   ld    t0, kEntryOff(t0)
//   jr    t0                     # firmware, or the kernel without firmware
// followed by the entry address, the FDT address and OpenSBI's
// struct fw_dynamic_info (magic, version, next_addr, next_mode, options,
// boot_hart).
constexpr unsigned kEntryOff = 24, kFdtOff = 32, kFwDynOff = 40;
constexpr uint32_t kT0 = 5, kA0 = 10, kA1 = 11, kA2 = 12;
constexpr uint32_t i_type(uint32_t imm, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t opc) {
  return (imm << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
}
constexpr uint32_t kResetCode[6] = {
    (kT0 << 7) | 0x17,                  // auipc t0, 0
    i_type(kFwDynOff, kT0, 0, kA2, 0x13),  // addi a2, t0, 40
    i_type(0xf14, 0, 2, kA0, 0x73),     // csrrs a0, mhartid, x0
    i_type(kFdtOff, kT0, 3, kA1, 0x03),   // ld a1, 32(t0)
    i_type(kEntryOff, kT0, 3, kT0, 0x03), // ld t0, 24(t0)
    i_type(0, kT0, 0, 0, 0x67),         // jalr x0, 0(t0)
};
constexpr uint64_t kFwDynMagic = 0x4942534f, kFwDynVersion = 2, kFwDynModeS = 1;

bool overlaps(uint64_t a_lo, uint64_t a_hi, uint64_t b_lo, uint64_t b_hi) { return a_lo < b_hi && b_lo < a_hi; }

}  // namespace

Machine::Machine(const MachineConfig& cfg, HartLines& lines, Clock& clock)
    : cfg_(validated(cfg)),
      lines_(lines),
      clock_(clock),
      ram_(memmap::kDramBase, cfg_.ram_size),
      rom_(memmap::kMromSize, 0) {
  if (cfg_.bios.empty()) cfg_.bios = "none";
  if (cfg_.bios == "default") {
    // coremu's own SBI (sbi.h): no firmware image; S-mode ecalls are
    // handled by the emulator.
    if (cfg_.kernel.empty() && cfg_.dumpdtb.empty())
      throw ConfigError("-bios default (coremu's built-in SBI) needs a kernel to boot: give -kernel FILE");
    Sbi::Env env{
        [this](unsigned i) -> rv64::Hart& { return *harts_[i]; },
        [this](uint64_t pa, void* dst, uint64_t len) { return read_phys(pa, dst, len); },
        [this](uint64_t pa, const void* src, uint64_t len) { return write_phys(pa, src, len); },
        [this](const uint8_t* data, size_t len) { uart_->host_write(data, len); },
        [this](uint8_t* dst, size_t len) { return uart_->host_read(dst, len); },
        [this](int status) { request_shutdown(status); },
        [this] { request_reboot(); },
        [this](uint64_t pa) { return ram_.contains(pa, 2); }};
    sbi_ = std::make_unique<Sbi>(cfg_.smp, lines_, std::move(env));
  }
  create_devices();
  attach_drives();
  load_images();
  install_images(/*fresh_ram=*/true);
  create_translator();
  harts_.reserve(cfg_.smp);
  for (unsigned i = 0; i < cfg_.smp; ++i) {
    harts_.push_back(std::make_unique<rv64::Hart>(i, *this));
    harts_.back()->set_translator(jit_.get());
    harts_.back()->reset(memmap::kMromBase);
    if (sbi_) {
      harts_.back()->set_sbi(sbi_.get());
      sbi_->boot(*harts_.back(), entry_, fdt_addr_);
    }
  }
}

Machine::~Machine() {
  if (jit_ && jit_stats_) {
    rv64::jit::Stats st = jit_->stats();
    std::FILE* out = log_ ? log_.get() : stderr;
    std::fprintf(out,
                 "translator: %llu blocks shared by the harts, %llu translated (%llu guest instructions), %.1f KiB of "
                 "host code, %.1f ms translating%s\n",
                 static_cast<unsigned long long>(st.shared_blocks), static_cast<unsigned long long>(st.translations),
                 static_cast<unsigned long long>(st.guest_insns),
                 st.code_bytes / 1024.0, st.seconds * 1e3,
                 st.full ? "; the cache filled up" : "");
  }
}

void Machine::create_translator() {
  rv64::jit::Options o;
  for (const std::string& item : cfg_.log_items) {
    if (item == "in_asm") o.log_in_asm = true;
    else if (item == "out_asm") o.log_out_asm = true;
    else if (item == "jit") jit_stats_ = true;
    else throw ConfigError(fmt::format("-d: unknown log item '{}' (coremu logs in_asm, out_asm, jit; -d help)", item));
  }
  if (!cfg_.log_file.empty()) {
    log_.reset(std::fopen(cfg_.log_file.c_str(), "w"));
    if (!log_) throw ConfigError(fmt::format("-D {}: {}", cfg_.log_file, std::strerror(errno)));
    o.log = log_.get();
  }
  o.perf_map = cfg_.perfmap;
  if (cfg_.tb_size) o.cache_bytes = cfg_.tb_size;
  if (!cfg_.jit) {
    if (o.log_in_asm || o.log_out_asm || o.perf_map || jit_stats_)
      throw ConfigError("-d in_asm/out_asm/jit and -perfmap describe translated code: they need the translator "
                        "(drop -accel tcg,jit=off)");
    return;
  }
#if defined(COREMU_JIT)
  jit_ = std::make_unique<rv64::jit::Translator>(o);
#else
  if (o.log_in_asm || o.log_out_asm || o.perf_map || jit_stats_)
    throw ConfigError("-d in_asm/out_asm/jit and -perfmap need the translator, which this host does not have");
#endif
}

void Machine::create_devices() {
  plic_ = std::make_unique<Plic>(lines_, cfg_.smp);
  clint_ = std::make_unique<Clint>(lines_, clock_, cfg_.smp);
  uart_ = std::make_unique<Uart>(*plic_, memmap::kUartIrq);
  test_ = std::make_unique<TestDevice>([this](int status) { request_shutdown(status); },
                                       [this] { request_reboot(); });
  VirtioBlk::GuestMemory mem{
      [this](uint64_t pa, void* dst, uint64_t len) { return read_phys(pa, dst, len); },
      [this](uint64_t pa, const void* src, uint64_t len) { return write_phys(pa, src, len); }};
  for (unsigned n = 0; n < memmap::kVirtioCount; ++n)
    virtio_.push_back(std::make_unique<VirtioBlk>(*plic_, memmap::kVirtioIrqBase + n, mem));

  mappings_ = {
      {memmap::kTestBase, memmap::kTestSize, test_.get()},
      {memmap::kClintBase, memmap::kClintSize, clint_.get()},
      {memmap::kPlicBase, Plic::window_size(cfg_.smp), plic_.get()},
      {memmap::kUartBase, memmap::kUartSize, uart_.get()},
  };
  for (unsigned n = 0; n < memmap::kVirtioCount; ++n)
    mappings_.push_back({memmap::kVirtioBase + n * memmap::kVirtioStride, memmap::kVirtioStride, virtio_[n].get()});
  std::sort(mappings_.begin(), mappings_.end(), [](const Mapping& a, const Mapping& b) { return a.base < b.base; });
}

void Machine::attach_drives() {
  // Explicit bus=virtio-mmio-bus.N first; the others, in order, on the
  // highest free transport, as QEMU's virt board does.
  std::vector<int> slot(cfg_.blk_devices.size(), -1);
  bool taken[memmap::kVirtioCount] = {};
  for (size_t i = 0; i < cfg_.blk_devices.size(); ++i)
    if (cfg_.blk_devices[i].slot >= 0) taken[slot[i] = cfg_.blk_devices[i].slot] = true;
  for (size_t i = 0; i < cfg_.blk_devices.size(); ++i) {
    if (slot[i] >= 0) continue;
    for (int s = memmap::kVirtioCount - 1; s >= 0 && slot[i] < 0; --s)
      if (!taken[s]) taken[slot[i] = s] = true;
    if (slot[i] < 0) throw ConfigError("no free virtio-mmio transport for virtio-blk-device");
  }
  for (size_t i = 0; i < cfg_.blk_devices.size(); ++i) {
    const VirtioBlkConfig& b = cfg_.blk_devices[i];
    auto d = std::find_if(cfg_.drives.begin(), cfg_.drives.end(), [&](const DriveConfig& x) { return x.id == b.drive; });
    if (d == cfg_.drives.end()) throw ConfigError(fmt::format("virtio-blk-device: no drive with id '{}'", b.drive));
    try {
      virtio_[slot[i]]->attach(d->file, d->readonly, d->id, d->snapshot, d->cache);
    } catch (const ConfigError& e) {
      throw ConfigError(fmt::format("drive '{}': {}", d->id, e.what()));
    }
  }
}

void Machine::load_images() {
  blobs_.clear();
  symbols_ = {};
  htif_.reset();
  htif_page_ = ~0ull;
  next_addr_ = 0;
  initrd_start_ = initrd_end_ = 0;
  user_dtb_.clear();

  const uint64_t base = ram_.base(), size = ram_.size(), end = base + size;
  struct Placed {
    std::string what;
    uint64_t lo, hi;
  };
  std::vector<Placed> placed;  // ranges in use, for overlap checks
  auto take = [&](LoadedImage& img, const std::string& what) {
    for (Blob& b : img.blobs)
      if (b.end() > b.addr) placed.push_back({what, b.addr, b.end()});
    for (Blob& b : img.blobs) blobs_.push_back(std::move(b));
  };
  auto clash = [&](uint64_t lo, uint64_t hi) -> const Placed* {
    for (const Placed& p : placed)
      if (overlaps(lo, hi, p.lo, p.hi)) return &p;
    return nullptr;
  };

  const bool firmware = cfg_.bios != "none" && !sbi_;
  uint64_t high = base;  // end of the firmware and kernel images
  SymbolTable fw_syms, k_syms;
  if (firmware) {
    LoadedImage fw = load_image(cfg_.bios, "firmware", base, base, size);
    entry_ = fw.entry;
    high = std::max(high, fw.high);
    fw_syms = std::move(fw.symbols);
    take(fw, fmt::format("firmware '{}'", cfg_.bios));
  }
  uint64_t kernel_low = base;
  if (!cfg_.kernel.empty()) {
    // Raw kernels follow the firmware at the next 2 MiB boundary (0x80200000,
    // where fw_jump expects them), or sit at the start of RAM without one.
    // With the built-in SBI, at 0x80200000 too (as QEMU with its OpenSBI).
    uint64_t kaddr = sbi_ ? base + memmap::kKernelOffsetWithFirmware : firmware ? align_up(high, k2MiB) : base;
    LoadedImage k = load_image(cfg_.kernel, "kernel", kaddr, base, size);
    for (const Blob& b : k.blobs)
      if (const Placed* p = b.end() > b.addr ? clash(b.addr, b.end()) : nullptr)
        throw ConfigError(fmt::format("kernel '{}' at {} overlaps {} at {}", cfg_.kernel, range(k.low, k.high), p->what,
                                      range(p->lo, p->hi)));
    next_addr_ = k.entry;
    if (!firmware) entry_ = k.entry;  // -bios none: the harts start there; -bios default: the boot hart
    kernel_low = k.low;
    high = std::max(high, k.high);
    k_syms = std::move(k.symbols);
    take(k, fmt::format("kernel '{}'", cfg_.kernel));
  } else if (!firmware) {
    entry_ = base;  // -bios none and no kernel: jump to the (empty) start of RAM, as QEMU does
  }

  // Symbols: firmware and kernel merged, the kernel's names winning.
  symbols_ = std::move(fw_syms);
  merge_symbols(k_syms);

  // HTIF: the kernel's tohost/fromhost, else the firmware's.
  for (const SymbolTable* t : {&k_syms, &symbols_}) {
    auto to = t->by_name.find("tohost"), from = t->by_name.find("fromhost");
    if (to == t->by_name.end() || from == t->by_name.end()) continue;
    if (!ram_.contains(to->second, 8) || (to->second & 7) || !ram_.contains(from->second, 8)) continue;
    Htif::Env env{
        [this](uint64_t pa, void* dst, uint64_t len) { return read_phys(pa, dst, len); },
        [this](uint64_t pa, const void* src, uint64_t len) { return write_phys(pa, src, len); },
        [this](const uint8_t* data, size_t len) { uart_->host_write(data, len); },
        [this](int status) { request_shutdown(status); }};
    htif_ = std::make_unique<Htif>(to->second, from->second, std::move(env));
    htif_page_ = to->second & ~(rv64::kPageSize - 1);
    break;
  }

  // initrd: where QEMU 7.2 puts it (kernel + min(RAM/2, 128 MiB)), or else
  // right below the device tree.
  std::vector<uint8_t> initrd;
  if (!cfg_.initrd.empty()) {
    initrd = read_file(cfg_.initrd, "initrd", size);
    initrd_start_ = align_up(kernel_low + std::min(size / 2, k128MiB), rv64::kPageSize);
    initrd_end_ = initrd_start_ + initrd.size();
    if (initrd.empty()) initrd_start_ = initrd_end_ = 0;
  }

  if (!cfg_.dtb.empty()) user_dtb_ = read_file(cfg_.dtb, "device tree", kMaxDtb);
  build_fdt();
  fdt_addr_ = fdt_load_addr(base, size, fdt_.size());
  if (initrd_end_ > initrd_start_ &&
      (initrd_end_ > end || initrd_end_ > fdt_addr_ || clash(initrd_start_, initrd_end_))) {
    uint64_t limit = fdt_addr_ > base ? fdt_addr_ : end;
    if (initrd.size() > limit - high)
      throw ConfigError(fmt::format("initrd '{}' ({} bytes) does not fit in RAM next to the other images; try a larger -m",
                                    cfg_.initrd, initrd.size()));
    initrd_start_ = (limit - initrd.size()) & ~(rv64::kPageSize - 1);
    initrd_end_ = initrd_start_ + initrd.size();
    if (initrd_start_ < high)
      throw ConfigError(fmt::format("initrd '{}' ({} bytes) does not fit in RAM next to the other images; try a larger -m",
                                    cfg_.initrd, initrd.size()));
    build_fdt();  // same size: only the initrd addresses changed
    fdt_addr_ = fdt_load_addr(base, size, fdt_.size());
  }
  if (initrd_end_ > initrd_start_) {
    placed.push_back({fmt::format("initrd '{}'", cfg_.initrd), initrd_start_, initrd_end_});
    Blob b;
    b.addr = initrd_start_;
    b.data = std::move(initrd);
    blobs_.push_back(std::move(b));
  }

  // The device tree: QEMU's place, else as high as possible, page aligned.
  if (clash(fdt_addr_, fdt_addr_ + fdt_.size()) || fdt_addr_ + fdt_.size() > end) {
    uint64_t top = std::min<uint64_t>(end, base < (3ull << 30) ? (3ull << 30) : end);
    uint64_t alt = top >= base + fdt_.size() ? (top - fdt_.size()) & ~(rv64::kPageSize - 1) : base;
    if (alt < base || clash(alt, alt + fdt_.size()) || alt + fdt_.size() > end)
      throw ConfigError(fmt::format("RAM ({} bytes) is too small for the loaded images and the device tree; "
                                    "try a larger -m", size));
    fdt_addr_ = alt;
  }
}

void Machine::merge_symbols(const SymbolTable& t) {
  for (const auto& [addr, name] : t.by_addr) symbols_.by_addr[addr] = name;
  for (const auto& [name, addr] : t.by_name) symbols_.by_name[name] = addr;
}

void Machine::add_symbols(const std::string& path) { merge_symbols(load_symbols(path)); }

void Machine::install_images(bool fresh_ram) {
  static constexpr uint8_t kZeros[4096] = {};
  for (const Blob& b : blobs_) {
    write_phys(b.addr, b.data.data(), b.data.size());
    // Fresh RAM is zero already, unless an image installed before this one
    // put data where this one's zeros go (the later image wins, as before).
    uint64_t z0 = b.addr + b.data.size(), z1 = z0 + b.zeros;
    bool need = !fresh_ram;
    for (const Blob& o : blobs_) {
      if (&o == &b) break;
      if (o.addr < z1 && z0 < o.addr + o.data.size()) need = true;
    }
    for (uint64_t done = 0; done < b.zeros && need;) {
      uint64_t n = std::min<uint64_t>(b.zeros - done, sizeof kZeros);
      write_phys(b.addr + b.data.size() + done, kZeros, n);
      done += n;
    }
  }
  write_phys(fdt_addr_, fdt_.data(), fdt_.size());
  write_rom();
}

void Machine::write_rom() {
  std::fill(rom_.begin(), rom_.end(), 0);
  std::memcpy(rom_.data(), kResetCode, sizeof kResetCode);
  auto put64 = [this](unsigned off, uint64_t v) { std::memcpy(rom_.data() + off, &v, 8); };
  put64(kEntryOff, entry_);
  put64(kFdtOff, fdt_addr_);
  put64(kFwDynOff + 0, kFwDynMagic);
  put64(kFwDynOff + 8, kFwDynVersion);
  put64(kFwDynOff + 16, next_addr_);
  put64(kFwDynOff + 24, kFwDynModeS);
  put64(kFwDynOff + 32, 0);      // options
  put64(kFwDynOff + 40, ~0ull);  // boot_hart: any (lottery)
  if (sbi_) sbi_->write_rom(rom_.data(), memmap::kMromBase);
}

void Machine::reset() {
  uart_->reset();
  for (auto& v : virtio_) v->reset();
  plic_->reset();
  clint_->reset();
  install_images();
  for (auto& h : harts_) {
    h->reset(memmap::kMromBase);
    if (sbi_) sbi_->boot(*h, entry_, fdt_addr_);
  }
}

void Machine::set_serial_backend(CharBackend* backend) { uart_->set_backend(backend); }

size_t Machine::serial_input(const uint8_t* data, size_t len) { return uart_->receive(data, len); }

std::optional<int> Machine::shutdown_status() const {
  if (!status_valid_.load(std::memory_order_acquire)) return std::nullopt;
  return status_.load(std::memory_order_relaxed);
}

void Machine::request_shutdown(int status) {
  if (shutdown_.exchange(true)) return;  // the first request wins
  status_.store(status, std::memory_order_relaxed);
  status_valid_.store(true, std::memory_order_release);
  if (on_shutdown) on_shutdown();
}

void Machine::request_reboot() {
  if (cfg_.no_reboot) {
    request_shutdown(0);
    return;
  }
  reboot_.store(true);
  if (on_shutdown) on_shutdown();  // stop the harts; the runner then calls reset()
}

uint64_t Machine::mtimecmp(unsigned hart) const { return clint_->mtimecmp(hart); }

uint64_t Machine::mtime() { return clock_.now(); }

// ---- physical address space -------------------------------------------------

Device* Machine::find_device(uint64_t pa, uint64_t& offset) {
  auto it = std::upper_bound(mappings_.begin(), mappings_.end(), pa,
                             [](uint64_t a, const Mapping& m) { return a < m.base; });
  if (it == mappings_.begin()) return nullptr;
  --it;
  if (pa - it->base >= it->size) return nullptr;
  offset = pa - it->base;
  return it->dev;
}

namespace {
bool in_rom(uint64_t pa, uint64_t len) {
  return pa >= memmap::kMromBase && pa - memmap::kMromBase < memmap::kMromSize &&
         len <= memmap::kMromSize - (pa - memmap::kMromBase);
}
}  // namespace

uint8_t* Machine::direct_page(uint64_t pa, bool write) {
  uint64_t page = pa & ~(rv64::kPageSize - 1);
  // The HTIF page is direct for reads and fetches (the device answers by
  // writing RAM); only stores must reach the device.
  if (ram_.contains(page)) return write && page == htif_page_ ? nullptr : ram_.ptr(page);
  if (!write && in_rom(page, rv64::kPageSize)) return rom_.data() + (page - memmap::kMromBase);
  return nullptr;
}

bool Machine::load(uint64_t pa, unsigned size, uint64_t& value) {
  if (ram_.contains(pa, size)) {
    const uint8_t* p = ram_.ptr(pa);
    switch (size) {
      case 1: value = rv64::host_load<uint8_t>(p); break;
      case 2: value = rv64::host_load<uint16_t>(p); break;
      case 4: value = rv64::host_load<uint32_t>(p); break;
      default: value = rv64::host_load<uint64_t>(p); break;
    }
    return true;
  }
  if (in_rom(pa, size)) {
    value = 0;
    std::memcpy(&value, rom_.data() + (pa - memmap::kMromBase), size);
    return true;
  }
  uint64_t off;
  Device* d = find_device(pa, off);
  return d && d->read(off, size, value);
}

bool Machine::store(uint64_t pa, unsigned size, uint64_t value) {
  if (ram_.contains(pa, size)) {
    uint8_t* p = ram_.ptr(pa);
    switch (size) {
      case 1: rv64::host_store<uint8_t>(p, static_cast<uint8_t>(value)); break;
      case 2: rv64::host_store<uint16_t>(p, static_cast<uint16_t>(value)); break;
      case 4: rv64::host_store<uint32_t>(p, static_cast<uint32_t>(value)); break;
      default: rv64::host_store<uint64_t>(p, value); break;
    }
    ram_.note_write(pa, size);
    if (htif_ && (pa & ~(rv64::kPageSize - 1)) == htif_page_) htif_->on_store(pa, size);
    return true;
  }
  if (in_rom(pa, size)) return true;  // writes to ROM are ignored, as on QEMU
  uint64_t off;
  Device* d = find_device(pa, off);
  return d && d->write(off, size, value);
}

bool Machine::read_phys(uint64_t pa, void* dst, uint64_t len) {
  if (len == 0) return true;
  if (ram_.contains(pa, len)) {
    std::memcpy(dst, ram_.ptr(pa), len);
    return true;
  }
  if (in_rom(pa, len)) {
    std::memcpy(dst, rom_.data() + (pa - memmap::kMromBase), len);
    return true;
  }
  return false;
}

bool Machine::write_phys(uint64_t pa, const void* src, uint64_t len) {
  if (len == 0) return true;
  if (ram_.contains(pa, len)) {
    std::memcpy(ram_.ptr(pa), src, len);
    ram_.note_write(pa, len);
    return true;
  }
  if (in_rom(pa, len)) {
    std::memcpy(rom_.data() + (pa - memmap::kMromBase), src, len);
    return true;
  }
  return false;
}

// ---- machine state -------------------------------------------------------------

namespace {
constexpr uint32_t kMachineTag = 0x4843414d;  // "MACH"
constexpr uint32_t kStateVersion = 1;
constexpr uint32_t kDevicesTag = 0x53564544;  // "DEVS"
}  // namespace

void Machine::save_devices(StateWriter& w) const {
  w.u32(kDevicesTag);
  uart_->save(w);
  plic_->save(w);
  clint_->save(w);
  test_->save(w);
  w.boolean(htif_ != nullptr);
  if (htif_) htif_->save(w);
  w.u64(htif_page_);
  w.u32(static_cast<uint32_t>(virtio_.size()));
  for (const auto& v : virtio_) v->save(w);
  w.boolean(sbi_ != nullptr);
  if (sbi_) sbi_->save(w);
  w.boolean(shutdown_.load());
  w.boolean(status_valid_.load());
  w.u32(static_cast<uint32_t>(status_.load()));
  w.boolean(reboot_.load());
  // The reset ROM (a debugger may have written it): without its zero tail.
  size_t n = rom_.size();
  while (n > 0 && rom_[n - 1] == 0) --n;
  w.blob(rom_.data(), n);
}

void Machine::load_devices(StateReader& r) {
  r.expect_u32(kDevicesTag, "device state");
  uart_->load(r);
  plic_->load(r);
  clint_->load(r);
  test_->load(r);
  if (r.boolean() != (htif_ != nullptr)) StateReader::fail("HTIF state for a machine without HTIF (or the reverse)");
  if (htif_) htif_->load(r);
  if (r.u64() != htif_page_) StateReader::fail("state for another HTIF page");
  if (r.u32() != virtio_.size()) StateReader::fail("state for another number of virtio transports");
  for (auto& v : virtio_) v->load(r);
  if (r.boolean() != (sbi_ != nullptr)) StateReader::fail("SBI state for a machine without the built-in SBI (or the reverse)");
  if (sbi_) sbi_->load(r);
  bool shutdown = r.boolean(), valid = r.boolean();
  int status = static_cast<int>(r.u32());
  bool reboot = r.boolean();
  std::vector<uint8_t> rom = r.blob(rom_.size());
  shutdown_.store(shutdown);
  status_.store(status, std::memory_order_relaxed);
  status_valid_.store(valid, std::memory_order_release);
  reboot_.store(reboot);
  std::fill(std::copy(rom.begin(), rom.end(), rom_.begin()), rom_.end(), 0);
}

void Machine::save_state(StateWriter& w) const {
  w.u32(kMachineTag);
  w.u32(kStateVersion);
  w.u64(ram_.base());
  w.u64(ram_.size());
  w.u32(num_harts());
  std::vector<uint8_t> buf;
  for (const auto& h : harts_) {
    buf.clear();
    h->save_state(buf);
    w.blob(buf.data(), buf.size());
  }
  save_devices(w);
}

void Machine::load_state(StateReader& r) {
  // Restoring is all or nothing: on a bad state, put back what was there.
  StateWriter backup;
  save_state(backup);
  try {
    r.expect_u32(kMachineTag, "a machine state");
    if (r.u32() != kStateVersion) StateReader::fail("state from another version of coremu");
    if (r.u64() != ram_.base() || r.u64() != ram_.size()) StateReader::fail("state for another RAM size");
    if (r.u32() != num_harts()) StateReader::fail("state for another number of harts");
    for (auto& h : harts_) {
      uint64_t n = r.u64();
      if (n > r.remaining()) StateReader::fail("truncated");
      const uint8_t* p = r.cursor();
      const uint8_t* end = p + n;
      h->load_state(p, end);
      if (p != end) StateReader::fail("hart state of an unexpected size");
      r.cursor() = end;
    }
    load_devices(r);
    if (!r.at_end()) StateReader::fail("trailing bytes");
  } catch (...) {
    StateReader b(backup.data());
    b.expect_u32(kMachineTag, "a machine state");
    b.u32();
    b.u64();
    b.u64();
    b.u32();
    for (auto& h : harts_) {
      uint64_t n = b.u64();
      const uint8_t* p = b.cursor();
      h->load_state(p, p + n);
      b.cursor() = p;
    }
    load_devices(b);
    throw;
  }
}

uint64_t Machine::state_digest() const {
  StateWriter w;
  w.for_digest = true;
  for (const auto& h : harts_) w.u64(h->state_hash());
  save_devices(w);
  XXH3_state_t* st = XXH3_createState();
  if (!st) throw std::bad_alloc();
  XXH3_64bits_reset(st);
  XXH3_64bits_update(st, w.data().data(), w.size());
  XXH3_64bits_update(st, ram_.host(), ram_.size());
  uint64_t d = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  return d;
}

bool Machine::checkpointable(std::string* why) const {
  for (const VirtioBlkConfig& b : cfg_.blk_devices) {
    auto d = std::find_if(cfg_.drives.begin(), cfg_.drives.end(), [&](const DriveConfig& x) { return x.id == b.drive; });
    if (d == cfg_.drives.end() || d->readonly || d->snapshot) continue;
    if (why)
      *why = fmt::format("drive '{}' writes through to '{}', which cannot be rolled back (use snapshot=on or readonly=on)",
                         d->id, d->file);
    return false;
  }
  return true;
}

}  // namespace machine
