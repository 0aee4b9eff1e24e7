// NS16550A UART. Transmission is instantaneous (the transmitter is always
// empty), so the THR-empty interrupt is latched again after every write to
// THR, which is what interrupt-driven drivers (Linux 8250) wait for.
#include "machine/uart.h"

#include <algorithm>

#include "machine/machine.h"
#include "machine/state.h"

namespace machine {

namespace {
// Register offsets.
constexpr unsigned kRbrThr = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7;
// IER bits.
constexpr uint8_t kIerRda = 0x01, kIerThre = 0x02, kIerRls = 0x04;
// IIR interrupt identifications.
constexpr uint8_t kIidNone = 0x01, kIidRls = 0x06, kIidRda = 0x04, kIidTimeout = 0x0c, kIidThre = 0x02;
// LSR bits.
constexpr uint8_t kLsrDr = 0x01, kLsrOe = 0x02, kLsrThre = 0x20, kLsrTemt = 0x40;
// MCR bits.
constexpr uint8_t kMcrLoop = 0x10;
// LCR bits.
constexpr uint8_t kLcrDlab = 0x80;
}  // namespace

Uart::Uart(IrqSource& irq, unsigned source) : irq_(irq), source_(source) {}

void Uart::set_backend(CharBackend* backend) {
  std::lock_guard<std::mutex> lk(mu_);
  backend_ = backend;
}

void Uart::reset() {
  std::lock_guard<std::mutex> lk(mu_);
  rx_.clear();
  ier_ = lcr_ = mcr_ = scr_ = fcr_ = 0;
  dll_ = dlm_ = 0;
  overrun_ = thre_pending_ = false;
  irq_level_ = false;
  irq_.set_irq(source_, false);
}

size_t Uart::receive(const uint8_t* data, size_t len) {
  std::lock_guard<std::mutex> lk(mu_);
  if (mcr_ & kMcrLoop) return 0;  // the line is disconnected in loopback: try later
  size_t cap = rx_capacity();
  size_t n = rx_.size() >= cap ? 0 : std::min(len, cap - rx_.size());
  rx_.insert(rx_.end(), data, data + n);
  if (n) update_irq();
  return n;
}

void Uart::host_write(const uint8_t* data, size_t len) {
  std::lock_guard<std::mutex> lk(mu_);
  if (backend_) backend_->write(data, len);
}

size_t Uart::host_read(uint8_t* dst, size_t len) {
  std::lock_guard<std::mutex> lk(mu_);
  size_t n = std::min(len, rx_.size());
  std::copy(rx_.begin(), rx_.begin() + static_cast<std::ptrdiff_t>(n), dst);
  rx_.erase(rx_.begin(), rx_.begin() + static_cast<std::ptrdiff_t>(n));
  if (n) update_irq();
  return n;
}

void Uart::push_rx(uint8_t byte) {
  if (rx_.size() >= rx_capacity()) {
    overrun_ = true;  // the new byte is lost
    return;
  }
  rx_.push_back(byte);
}

void Uart::transmit(uint8_t byte) {
  if (mcr_ & kMcrLoop) {
    push_rx(byte);
  } else if (backend_) {
    backend_->write(&byte, 1);
  }
}

uint8_t Uart::pending_iid() const {
  if ((ier_ & kIerRls) && overrun_) return kIidRls;
  if ((ier_ & kIerRda) && !rx_.empty()) {
    if (fcr_ & 1) {
      static constexpr size_t kTrigger[4] = {1, 4, 8, 14};
      // Below the trigger level real hardware reports a character timeout
      // after four character times; we report it at once.
      if (rx_.size() < kTrigger[fcr_ >> 6]) return kIidTimeout;
    }
    return kIidRda;
  }
  if ((ier_ & kIerThre) && thre_pending_) return kIidThre;
  return kIidNone;
}

void Uart::update_irq() {
  bool level = pending_iid() != kIidNone;
  if (level != irq_level_) {
    irq_level_ = level;
    irq_.set_irq(source_, level);
  }
}

namespace {
constexpr uint32_t kUartTag = 0x54524155;  // "UART"
}

void Uart::save(StateWriter& w) const {
  std::lock_guard<std::mutex> lk(mu_);
  w.u32(kUartTag);
  w.u32(static_cast<uint32_t>(rx_.size()));
  for (uint8_t b : rx_) w.u8(b);
  for (uint8_t v : {ier_, lcr_, mcr_, scr_, fcr_, dll_, dlm_}) w.u8(v);
  w.boolean(overrun_);
  w.boolean(thre_pending_);
  w.boolean(irq_level_);
}

void Uart::load(StateReader& r) {
  r.expect_u32(kUartTag, "UART state");
  uint32_t n = r.u32();
  if (n > kFifoSize) StateReader::fail("UART receive FIFO too long");
  std::deque<uint8_t> rx;
  for (uint32_t i = 0; i < n; ++i) rx.push_back(r.u8());
  uint8_t regs[7];
  r.bytes(regs, sizeof regs);
  bool overrun = r.boolean(), thre = r.boolean(), level = r.boolean();
  std::lock_guard<std::mutex> lk(mu_);
  rx_ = std::move(rx);
  ier_ = regs[0], lcr_ = regs[1], mcr_ = regs[2], scr_ = regs[3], fcr_ = regs[4], dll_ = regs[5], dlm_ = regs[6];
  overrun_ = overrun;
  thre_pending_ = thre;
  irq_level_ = level;
}

bool Uart::read(uint64_t offset, unsigned size, uint64_t& value) {
  std::lock_guard<std::mutex> lk(mu_);
  value = 0;
  switch (offset) {
    case kRbrThr:
      if (lcr_ & kLcrDlab) {
        value = dll_;
      } else if (!rx_.empty()) {
        value = rx_.front();
        rx_.pop_front();
        update_irq();
      }
      break;
    case kIer:
      value = (lcr_ & kLcrDlab) ? dlm_ : ier_;
      break;
    case kIirFcr: {
      uint8_t iid = pending_iid();
      value = iid | ((fcr_ & 1) ? 0xc0 : 0);
      if (iid == kIidThre) {  // reading IIR acknowledges THR empty
        thre_pending_ = false;
        update_irq();
      }
      break;
    }
    case kLcr: value = lcr_; break;
    case kMcr: value = mcr_; break;
    case kLsr:
      value = kLsrThre | kLsrTemt | (rx_.empty() ? 0 : kLsrDr) | (overrun_ ? kLsrOe : 0);
      if (overrun_) {
        overrun_ = false;
        update_irq();
      }
      break;
    case kMsr:
      if (mcr_ & kMcrLoop) {
        // Loopback: CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2.
        value = ((mcr_ & 0x02) ? 0x10 : 0) | ((mcr_ & 0x01) ? 0x20 : 0) | ((mcr_ & 0x04) ? 0x40 : 0) |
                ((mcr_ & 0x08) ? 0x80 : 0);
      } else {
        value = 0xb0;  // DCD, DSR, CTS: a terminal is always connected
      }
      break;
    case kScr: value = scr_; break;
    default: break;  // the rest of the 0x100 window reads as zero
  }
  return true;
}

bool Uart::write(uint64_t offset, unsigned size, uint64_t value) {
  std::lock_guard<std::mutex> lk(mu_);
  uint8_t v = static_cast<uint8_t>(value);
  switch (offset) {
    case kRbrThr:
      if (lcr_ & kLcrDlab) {
        dll_ = v;
      } else {
        transmit(v);
        thre_pending_ = true;  // sent at once: THR is empty again
        update_irq();
      }
      break;
    case kIer:
      if (lcr_ & kLcrDlab) {
        dlm_ = v;
      } else {
        uint8_t old = ier_;
        ier_ = v & 0x0f;
        // Enabling the THR-empty interrupt while THR is empty raises it
        // (Linux's 8250 driver tests exactly this at startup).
        if ((ier_ & kIerThre) && !(old & kIerThre)) thre_pending_ = true;
        if (!(ier_ & kIerThre)) thre_pending_ = false;
        update_irq();
      }
      break;
    case kIirFcr: {
      bool was_enabled = fcr_ & 1;
      fcr_ = v & 0xc9;
      if ((v & 0x02) || was_enabled != bool(fcr_ & 1)) rx_.clear();
      if (!(fcr_ & 1) && rx_.size() > 1) rx_.resize(1);
      update_irq();
      break;
    }
    case kLcr: lcr_ = v; break;
    case kMcr:
      mcr_ = v & 0x1f;
      update_irq();
      break;
    case kScr: scr_ = v; break;
    default: break;  // LSR/MSR writes and the rest of the window are ignored
  }
  return true;
}

}  // namespace machine
