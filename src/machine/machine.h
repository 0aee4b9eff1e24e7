// The virt board: RAM, ROM, devices, harts, device tree and loaded images.
//
// A Machine owns everything of one emulated computer (no global state: two
// machines can live in one process). It implements rv64::Bus for its harts.
// It does not run them: the parallel layer (src/coremu) does.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "machine/config.h"
#include "machine/device.h"
#include "machine/memmap.h"
#include "rv64/bus.h"
#include "rv64/hart.h"

namespace machine {

class Uart;
class Plic;
class Clint;
class TestDevice;
class Htif;
class VirtioBlk;
class StateWriter;
class StateReader;
class Sbi;
struct Blob;

// Symbols of a loaded ELF, for the REPL, backtraces and HTIF.
struct SymbolTable {
  std::map<uint64_t, std::string> by_addr;     // function/object start -> name
  std::map<std::string, uint64_t> by_name;
  // "name+0x12" for an address inside a known symbol, or empty.
  std::string describe(uint64_t addr) const;
};

// Where guest serial output goes and guest serial input comes from.
class CharBackend {
 public:
  virtual ~CharBackend() = default;
  virtual void write(const uint8_t* data, size_t len) = 0;
};

class Machine final : public rv64::Bus {
 public:
  // Builds the board, loads firmware/kernel/initrd and the device tree.
  // Throws ConfigError with a user-facing message on bad configuration or
  // unreadable/malformed files.
  Machine(const MachineConfig& cfg, HartLines& lines, Clock& clock);
  ~Machine() override;

  const MachineConfig& config() const { return cfg_; }
  unsigned num_harts() const { return static_cast<unsigned>(harts_.size()); }
  rv64::Hart& hart(unsigned i) { return *harts_[i]; }

  // Resets every hart to the reset vector and devices to their reset state,
  // and reloads the images (sifive_test 0x7777 reboot).
  void reset();

  // The serial port's host side.
  void set_serial_backend(CharBackend* backend);
  // Offers input bytes to the UART's receive FIFO (thread-safe); returns how
  // many it accepted (fewer than len when the FIFO is full).
  size_t serial_input(const uint8_t* data, size_t len);

  // Shutdown requested by the guest (test finisher, HTIF): the exit status of
  // the process. on_shutdown is called (from the guest hart's thread) once.
  std::optional<int> shutdown_status() const;
  bool reboot_requested() const { return reboot_.load(); }
  void clear_reboot() { reboot_.store(false); }
  void request_shutdown(int status);
  void request_reboot();
  std::function<void()> on_shutdown;

  // mtimecmp of a hart (for the timer in the parallel layer).
  uint64_t mtimecmp(unsigned hart) const;

  const SymbolTable& symbols() const { return symbols_; }
  // Adds the symbols of an ELF (--symbols FILE), its names winning over
  // those of the loaded images. Call before the harts run.
  void add_symbols(const std::string& path);
  const std::vector<uint8_t>& fdt() const { return fdt_; }
  uint64_t fdt_addr() const { return fdt_addr_; }
  uint64_t entry() const { return entry_; }
  // The built-in SBI of `-bios default` (nullptr with -bios none or FILE).
  Sbi* sbi() const { return sbi_.get(); }

  // rv64::Bus
  rv64::Ram& ram() override { return ram_; }
  uint8_t* direct_page(uint64_t pa, bool write) override;
  bool load(uint64_t pa, unsigned size, uint64_t& value) override;
  bool store(uint64_t pa, unsigned size, uint64_t value) override;
  uint64_t mtime() override;

  // Physical memory access for debuggers and loaders (any length, RAM and
  // ROM only). Return false if any byte is outside them.
  bool read_phys(uint64_t pa, void* dst, uint64_t len);
  bool write_phys(uint64_t pa, const void* src, uint64_t len);

  // ---- machine state (machine/state.h, machine/checkpoint.h) ----
  // Only while no hart is inside run() (the harts' state is not locked).
  // Everything but RAM contents: every hart's state, every device's, the
  // shutdown/reboot flags and status, the HTIF page, the reset ROM. Not
  // the clock (the parallel layer's), not debugger state, not the
  // configuration (load_state checks it matches: harts, RAM, drives).
  void save_state(StateWriter& w) const;
  // Restores what save_state wrote. Throws std::runtime_error for a state
  // that is truncated or from another configuration, leaving the machine
  // as it was. Does not drive interrupt lines or call on_shutdown: the
  // harts' lines and the devices' outputs are restored together; a
  // scheduler must re-read WFI (Hart::in_wfi) and timer deadlines.
  void load_state(StateReader& r);
  uint64_t hart_digest(unsigned i) const { return harts_[i]->state_hash(); }
  // XXH3-64 over every hart's state_hash, the devices' and machine flags'
  // state bytes and all of RAM (one streaming pass; untouched RAM reads as
  // zero). Equal digests: equal machines, as far as the guest can tell.
  uint64_t state_digest() const;
  // False (and *why, if given, set) if the machine's state cannot be rolled
  // back: a drive that writes through to its file.
  bool checkpointable(std::string* why) const;

 private:
  struct Mapping {
    uint64_t base, size;
    Device* dev;
  };
  Device* find_device(uint64_t pa, uint64_t& offset);
  void load_images();
  void build_fdt();
  // Throws ConfigError for an unusable configuration (config.cpp); returns cfg.
  static const MachineConfig& validated(const MachineConfig& cfg);
  void create_devices();
  void attach_drives();
  // Copies the loaded images, the device tree and the reset ROM into memory.
  // fresh_ram: RAM was just mapped and is still all zero, so the images'
  // zero-filled tails (.bss) need no writing; writing them would only make
  // the host commit and clear those pages before the guest needs them.
  void install_images(bool fresh_ram = false);
  void write_rom();
  // The non-hart part of save_state (devices, flags, ROM).
  void save_devices(StateWriter& w) const;
  void load_devices(StateReader& r);

  MachineConfig cfg_;
  HartLines& lines_;
  Clock& clock_;
  rv64::Ram ram_;
  std::vector<uint8_t> rom_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> log_{nullptr, &std::fclose};  // -D FILE
  std::unique_ptr<rv64::jit::Translator> jit_;  // shared by the harts; outlives them
  std::vector<std::unique_ptr<rv64::Hart>> harts_;

  std::unique_ptr<Uart> uart_;
  std::unique_ptr<Plic> plic_;
  std::unique_ptr<Clint> clint_;
  std::unique_ptr<TestDevice> test_;
  std::unique_ptr<Htif> htif_;
  std::vector<std::unique_ptr<VirtioBlk>> virtio_;
  std::unique_ptr<Sbi> sbi_;
  std::vector<Mapping> mappings_;  // sorted by base
  void create_translator();  // from cfg_'s executor options
  bool jit_stats_ = false;   // -d jit: the translator's statistics at the end
  uint64_t htif_page_ = ~0ull;     // RAM page overlaid by HTIF, if any

  std::vector<uint8_t> fdt_;
  uint64_t fdt_addr_ = 0;
  uint64_t entry_ = 0;
  SymbolTable symbols_;
  void merge_symbols(const SymbolTable& t);  // t's names win
  std::vector<Blob> blobs_;       // image bytes (re)written into RAM at reset
  uint64_t next_addr_ = 0;        // fw_dynamic_info.next_addr: the kernel's entry or 0
  uint64_t initrd_start_ = 0, initrd_end_ = 0;  // end == start: no initrd
  std::vector<uint8_t> user_dtb_; // -dtb FILE contents

  std::atomic<int> status_{-1};
  std::atomic<bool> status_valid_{false};  // status_ holds the final status
  std::atomic<bool> shutdown_{false};
  std::atomic<bool> reboot_{false};
};

}  // namespace machine
