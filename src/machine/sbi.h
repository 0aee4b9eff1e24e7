// The built-in SBI (`-bios default`): the Supervisor Binary Interface that
// an S-mode kernel calls with ecall, implemented in the emulator instead of
// by M-mode firmware. No M-mode code runs for an SBI call: the hart's ecall
// handler calls Sbi::on_ecall (rv64::SbiHandler) on the calling hart's
// thread.
//
// Implemented (SBI specification 2.0): Base; TIME (set_timer, on the hart's
// Sstc stimecmp); IPI (send_ipi); RFENCE (remote fence.i, sfence.vma,
// sfence.vma.asid); HSM (hart_start, hart_stop, hart_get_status;
// hart_suspend returns SBI_ERR_NOT_SUPPORTED); SRST (system_reset); DBCN
// (console_write, console_read, console_write_byte); legacy set_timer,
// console_putchar, console_getchar, shutdown. Everything else returns
// SBI_ERR_NOT_SUPPORTED.
//
// Threads. A call runs on the calling hart's thread and reads only that
// hart's registers. Effects on other harts are requests posted to them
// (rv64::Hart::post_request: SSIP for an IPI, a TLB or code-cache flush for
// a remote fence, kReqSbi for hart_start) that the target applies itself at
// its next block boundary; a sleeping target is woken through
// HartLines::kick. The HSM states are atomics.
//
// Boot protocol (as OpenSBI's fw_jump leaves Linux): the boot hart (hart 0)
// starts in S-mode at the kernel's entry with a0 = hart id and a1 = the
// device tree; the other harts wait in the HSM STOPPED state in a WFI loop
// in the reset ROM (M-mode, every interrupt disabled) until hart_start.
// M-mode state: medeleg delegates every exception but ecall from S-mode,
// mideleg the supervisor interrupts, mcounteren enables every counter (and
// scounteren CY, TM, IR for U-mode, as OpenSBI does),
// menvcfg.STCE enables Sstc, PMP entry 0 covers everything, mtvec points
// at a ROM stub that reports an unexpected M-mode trap and fails the run.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "machine/device.h"
#include "rv64/hart.h"

namespace machine {

class StateWriter;
class StateReader;

class Sbi final : public rv64::SbiHandler {
 public:
  // What the SBI reaches outside the harts.
  struct Env {
    std::function<rv64::Hart&(unsigned)> hart;
    std::function<bool(uint64_t pa, void* dst, uint64_t len)> read_phys;
    std::function<bool(uint64_t pa, const void* src, uint64_t len)> write_phys;
    std::function<void(const uint8_t* data, size_t len)> console_write;
    std::function<size_t(uint8_t* dst, size_t len)> console_read;
    std::function<void(int status)> shutdown;
    std::function<void()> reboot;
    std::function<bool(uint64_t pa)> executable;  // hart_start's start_addr check
  };
  // SBI error codes.
  enum : int64_t {
    kSuccess = 0, kErrFailed = -1, kErrNotSupported = -2, kErrInvalidParam = -3, kErrDenied = -4,
    kErrInvalidAddress = -5, kErrAlreadyAvailable = -6, kErrAlreadyStarted = -7, kErrAlreadyStopped = -8,
  };
  // HSM states.
  enum HartState : int { kStarted = 0, kStopped = 1, kStartPending = 2, kStopPending = 3 };
  // Extension ids.
  static constexpr uint64_t kExtBase = 0x10, kExtTime = 0x54494d45, kExtIpi = 0x735049, kExtRfence = 0x52464e43,
                            kExtHsm = 0x48534d, kExtSrst = 0x53525354, kExtDbcn = 0x4442434e;
  static constexpr uint64_t kSpecVersion = 2ull << 24;  // 2.0
  static constexpr uint64_t kImplId = 0xc0e3;           // not in the SBI registry: "COREMU"
  // The ROM stubs (write_rom puts them at these offsets of the reset ROM).
  static constexpr uint64_t kRomParkOff = 0x800, kRomTrapOff = 0x840;

  Sbi(unsigned num_harts, HartLines& lines, Env env);

  // Writes the park loop and the M-mode trap stub into the reset ROM
  // (`rom` is its host copy, mapped at `rom_base`).
  void write_rom(uint8_t* rom, uint64_t rom_base);
  // After a hart's reset: the boot hart enters the kernel at `entry` in
  // S-mode with a1 = `fdt`; the others park (HSM STOPPED).
  void boot(rv64::Hart& h, uint64_t entry, uint64_t fdt);
  HartState state(unsigned hart) const { return static_cast<HartState>(state_[hart].load()); }
  // The HSM states and pending hart_start arguments, for checkpoints and
  // digests (while no hart runs).
  void save(StateWriter& w) const;
  void load(StateReader& r);

  // rv64::SbiHandler
  bool on_ecall(rv64::Hart& h) override;
  void on_request(rv64::Hart& h) override;

 private:
  struct Result {
    int64_t error;
    uint64_t value = 0;
  };
  Result base(rv64::Hart& h, uint64_t fid, uint64_t a0);
  Result send_ipi(uint64_t mask, uint64_t base);
  Result rfence(uint64_t fid, uint64_t mask, uint64_t base);
  Result hsm(rv64::Hart& h, uint64_t fid, bool& moved);
  Result srst(rv64::Hart& h, uint64_t type, uint64_t reason, bool& moved);
  Result dbcn(uint64_t fid, uint64_t a0, uint64_t a1, uint64_t a2);
  // Calls f(hartid) for every hart of (mask, base); kErrInvalidParam if one
  // does not exist (nothing is done then).
  template <class F>
  int64_t for_harts(uint64_t mask, uint64_t base, F f);
  void set_timer(rv64::Hart& h, uint64_t when);
  // M-mode state as firmware leaves it, then S-mode at pc with a0, a1.
  void enter_supervisor(rv64::Hart& h, uint64_t pc, uint64_t a1);
  // M-mode in the ROM park loop, every interrupt off.
  void park(rv64::Hart& h);

  const unsigned num_harts_;
  HartLines& lines_;
  Env env_;
  uint64_t rom_base_ = 0;
  std::unique_ptr<std::atomic<int>[]> state_;
  // hart_start arguments: written by the starter before it posts kReqSbi,
  // read by the target after (the request's release/acquire orders them).
  std::unique_ptr<uint64_t[]> start_addr_, start_opaque_;
};

}  // namespace machine
