// NS16550A UART (QEMU virt's serial@10000000, register width 1, regshift 0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>

#include "machine/device.h"

namespace machine {

class CharBackend;
class StateWriter;
class StateReader;

class Uart final : public Device {
 public:
  static constexpr unsigned kFifoSize = 16;

  // `irq` is the PLIC (or any IrqSource), `source` the UART's line on it.
  Uart(IrqSource& irq, unsigned source);

  // Where transmitted bytes go (nullptr: discarded). Thread-safe.
  void set_backend(CharBackend* backend);
  // Host -> guest: appends up to the free space of the receive FIFO (1 byte
  // with the FIFO disabled) and returns how many bytes were taken.
  size_t receive(const uint8_t* data, size_t len);
  // Sends host-originated bytes (e.g. HTIF console output) to the backend,
  // serialised with the guest's own transmissions.
  void host_write(const uint8_t* data, size_t len);
  // Takes up to len received bytes out of the receive FIFO for the host
  // side (the built-in SBI's console read); returns how many.
  size_t host_read(uint8_t* dst, size_t len);
  // Power-on register state; lowers the interrupt line.
  void reset();
  // Machine state (machine/state.h): the registers and internal state,
  // under the device's lock. load() does not drive interrupt lines: the
  // receivers' state (PLIC levels, hart lines) is restored with them.
  void save(StateWriter& w) const;
  void load(StateReader& r);

  bool read(uint64_t offset, unsigned size, uint64_t& value) override;
  bool write(uint64_t offset, unsigned size, uint64_t value) override;

 private:
  // Interrupt identification (IIR bits 3:0) of the highest-priority pending
  // enabled interrupt, or 1 (none). Caller holds mu_.
  uint8_t pending_iid() const;
  void update_irq();  // caller holds mu_
  void push_rx(uint8_t byte);
  void transmit(uint8_t byte);
  size_t rx_capacity() const { return (fcr_ & 1) ? kFifoSize : 1; }

  mutable std::mutex mu_;
  IrqSource& irq_;
  unsigned source_;
  CharBackend* backend_ = nullptr;

  std::deque<uint8_t> rx_;
  uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0, fcr_ = 0;
  uint8_t dll_ = 0, dlm_ = 0;
  bool overrun_ = false;      // LSR.OE, cleared by reading LSR
  bool thre_pending_ = false; // THR-empty interrupt latched
  bool irq_level_ = false;    // what we last drove on the PLIC
};

}  // namespace machine
