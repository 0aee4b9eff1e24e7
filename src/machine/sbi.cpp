// The built-in SBI: see sbi.h.
#include "machine/sbi.h"

#include "machine/state.h"

#include <cstring>
#include <string_view>

namespace machine {

namespace {

// CSR numbers.
constexpr unsigned kSstatus = 0x100, kStvec = 0x105, kScounteren = 0x106, kSscratch = 0x140, kStimecmp = 0x14d,
                   kSatp = 0x180, kMstatus = 0x300, kMedelegCsr = 0x302, kMidelegCsr = 0x303, kMie = 0x304,
                   kMtvec = 0x305, kMcounteren = 0x306, kMenvcfg = 0x30a, kMip = 0x344, kPmpcfg0 = 0x3a0,
                   kPmpaddr0 = 0x3b0;
constexpr unsigned kA0 = 10, kA1 = 11, kA2 = 12, kA6 = 16, kA7 = 17;

// Every exception but ecall from S-mode (9) goes to S-mode; ecall from
// U-mode included (8), ecall from M (11) cannot be delegated.
constexpr uint64_t kMedeleg = (1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) |
                              (1u << 6) | (1u << 7) | (1u << 8) | (1u << 12) | (1u << 13) | (1u << 15);
constexpr uint64_t kMideleg = (1u << rv64::kSSI) | (1u << rv64::kSTI) | (1u << rv64::kSEI);
constexpr uint64_t kStce = 1ull << 63;
constexpr uint64_t kFsInitial = 1ull << 13;

// Instruction encodings for the ROM stubs.
constexpr uint32_t kT0 = 5, kT1 = 6, kT2 = 7, kT3 = 28;
constexpr uint32_t i_type(int32_t imm, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t opc) {
  return (static_cast<uint32_t>(imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
}
constexpr uint32_t s_type(int32_t imm, uint32_t rs2, uint32_t rs1, uint32_t f3) {
  uint32_t u = static_cast<uint32_t>(imm & 0xfff);
  return ((u >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((u & 0x1f) << 7) | 0x23;
}
constexpr uint32_t b_type(int32_t imm, uint32_t rs2, uint32_t rs1, uint32_t f3) {
  uint32_t u = static_cast<uint32_t>(imm);
  return (((u >> 12) & 1) << 31) | (((u >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
         (((u >> 1) & 0xf) << 8) | (((u >> 11) & 1) << 7) | 0x63;
}
constexpr uint32_t j_type(int32_t imm, uint32_t rd) {
  uint32_t u = static_cast<uint32_t>(imm);
  return (((u >> 20) & 1) << 31) | (((u >> 1) & 0x3ff) << 21) | (((u >> 11) & 1) << 20) | (((u >> 12) & 0xff) << 12) |
         (rd << 7) | 0x6f;
}
constexpr uint32_t u_type(uint32_t imm20, uint32_t rd, uint32_t opc) { return (imm20 << 12) | (rd << 7) | opc; }
constexpr uint32_t csrw_zero(unsigned csr) { return i_type(static_cast<int32_t>(csr), 0, 1, 0, 0x73); }  // csrrw x0, csr, x0
constexpr uint32_t kWfi = 0x10500073;

// The park loop of a stopped hart: nothing but a request (hart_start) ends
// its WFI; pending software bits (an IPI that raced with hart_stop) are
// dropped so that WFI does sleep.
constexpr uint32_t kParkCode[] = {
    csrw_zero(kMie),   //     csrw mie, zero
    csrw_zero(kMip),   // 1:  csrw mip, zero
    kWfi,              //     wfi
    j_type(-8, 0),     //     j 1b
};

// A trap that reached M-mode (nothing is expected to: every exception but
// an S-mode ecall is delegated, and no M-mode interrupt is enabled): print
// a message on the UART and exit through the test finisher with status 1.
constexpr uint32_t kUart = 0x10000000, kTest = 0x100000;
constexpr int32_t kTrapMsgOff = 64, kTrapFailWordOff = 60;
constexpr uint32_t kTrapCode[] = {
    u_type(0, kT0, 0x17),                     //  0: auipc t0, 0
    i_type(kTrapMsgOff, kT0, 0, kT1, 0x13),   //  4: addi  t1, t0, msg
    u_type(kUart >> 12, kT2, 0x37),           //  8: lui   t2, UART
    i_type(0, kT1, 4, kT3, 0x03),             // 12: lbu   t3, 0(t1)
    b_type(16, 0, kT3, 0),                    // 16: beq   t3, zero, 32
    s_type(0, kT3, kT2, 0),                   // 20: sb    t3, 0(t2)
    i_type(1, kT1, 0, kT1, 0x13),             // 24: addi  t1, t1, 1
    j_type(-16, 0),                           // 28: j     12
    i_type(kTrapFailWordOff, kT0, 2, kT3, 0x03),  // 32: lw t3, fail(t0)
    u_type(kTest >> 12, kT2, 0x37),           // 36: lui   t2, TEST
    s_type(0, kT3, kT2, 2),                   // 40: sw    t3, 0(t2)
    kWfi,                                     // 44: wfi
    j_type(-4, 0),                            // 48: j     44
};
constexpr uint32_t kTrapFailWord = 0x3333 | (1u << 16);
constexpr std::string_view kTrapMsg =
    "\r\ncoremu: a trap reached M-mode, which the built-in SBI (-bios default) does not handle "
    "(mcause/mepc in the REPL or gdb); exiting with status 1\r\n";

}  // namespace

Sbi::Sbi(unsigned num_harts, HartLines& lines, Env env)
    : num_harts_(num_harts),
      lines_(lines),
      env_(std::move(env)),
      state_(new std::atomic<int>[num_harts]),
      start_addr_(new uint64_t[num_harts]()),
      start_opaque_(new uint64_t[num_harts]()) {
  for (unsigned i = 0; i < num_harts_; ++i) state_[i].store(kStopped);
}

void Sbi::write_rom(uint8_t* rom, uint64_t rom_base) {
  rom_base_ = rom_base;
  std::memcpy(rom + kRomParkOff, kParkCode, sizeof kParkCode);
  static_assert(sizeof kTrapCode <= kTrapFailWordOff);
  static_assert(kRomTrapOff + kTrapMsgOff + kTrapMsg.size() + 1 <= 0x1000);
  std::memcpy(rom + kRomTrapOff, kTrapCode, sizeof kTrapCode);
  std::memcpy(rom + kRomTrapOff + kTrapFailWordOff, &kTrapFailWord, 4);
  std::memcpy(rom + kRomTrapOff + kTrapMsgOff, kTrapMsg.data(), kTrapMsg.size());
  rom[kRomTrapOff + kTrapMsgOff + kTrapMsg.size()] = 0;
}

void Sbi::boot(rv64::Hart& h, uint64_t entry, uint64_t fdt) {
  unsigned id = h.hartid();
  start_addr_[id] = start_opaque_[id] = 0;
  if (id == 0) {
    state_[id].store(kStarted);
    enter_supervisor(h, entry, fdt);
  } else {
    state_[id].store(kStopped);
    park(h);
  }
}

void Sbi::enter_supervisor(rv64::Hart& h, uint64_t pc, uint64_t a1) {
  h.set_priv(rv64::kMachine);
  h.csr_write(kMstatus, kFsInitial);  // MIE, SIE, MPRV, SUM... off; FP usable
  h.csr_write(kMedelegCsr, kMedeleg);
  h.csr_write(kMidelegCsr, kMideleg);
  h.csr_write(kMie, 0);
  h.csr_write(kMip, 0);
  h.csr_write(kMtvec, rom_base_ + kRomTrapOff);
  h.csr_write(kMcounteren, 0xffffffff);
  h.csr_write(kMenvcfg, kStce);
  h.csr_write(kStimecmp, ~0ull);
  h.csr_write(kPmpaddr0, ~0ull);
  h.csr_write(kPmpcfg0, 0x1f);  // NAPOT, RWX: everything
  // Supervisor state as a reset leaves it (a restarted hart starts clean).
  h.csr_write(kSatp, 0);
  h.csr_write(kStvec, 0);
  h.csr_write(kSscratch, 0);
  h.csr_write(kScounteren, 7);  // CY, TM, IR for U-mode (rdtime in the vDSO), as OpenSBI
  h.csr_write(kSstatus, 0);
  h.x[kA0] = h.hartid();
  h.x[kA1] = a1;
  h.pc = pc;
  h.set_priv(rv64::kSupervisor);
}

void Sbi::park(rv64::Hart& h) {
  h.set_priv(rv64::kMachine);
  h.csr_write(kMstatus, 0);
  h.csr_write(kMie, 0);
  h.csr_write(kMip, 0);
  h.csr_write(kMtvec, rom_base_ + kRomTrapOff);
  h.csr_write(kMenvcfg, kStce);
  h.csr_write(kStimecmp, ~0ull);  // no STIP while stopped
  h.csr_write(kSatp, 0);
  h.pc = rom_base_ + kRomParkOff;
}

void Sbi::set_timer(rv64::Hart& h, uint64_t when) {
  // Sstc: stimecmp drives STIP; a later deadline clears it at once.
  h.csr_write(kStimecmp, when);
}

template <class F>
int64_t Sbi::for_harts(uint64_t mask, uint64_t base, F f) {
  if (base == ~0ull) {  // every hart
    for (unsigned i = 0; i < num_harts_; ++i) f(i);
    return kSuccess;
  }
  for (unsigned b = 0; b < 64; ++b)
    if (((mask >> b) & 1) && (base + b < base || base + b >= num_harts_)) return kErrInvalidParam;
  for (unsigned b = 0; b < 64; ++b)
    if ((mask >> b) & 1) f(static_cast<unsigned>(base + b));
  return kSuccess;
}

bool Sbi::on_ecall(rv64::Hart& h) {
  const uint64_t eid = h.x[kA7], fid = h.x[kA6];
  const uint64_t a0 = h.x[kA0], a1 = h.x[kA1], a2 = h.x[kA2];
  bool moved = false;
  Result r{kErrNotSupported};
  switch (eid) {
    // Legacy extensions (v0.1): the result in a0 only.
    case 0x00:
      set_timer(h, a0);
      h.x[kA0] = 0;
      return false;
    case 0x01: {
      uint8_t c = static_cast<uint8_t>(a0);
      env_.console_write(&c, 1);
      h.x[kA0] = 0;
      return false;
    }
    case 0x02: {
      uint8_t c;
      h.x[kA0] = env_.console_read(&c, 1) ? c : ~0ull;
      return false;
    }
    case 0x08:
      r = srst(h, 0, 0, moved);
      if (!moved) h.x[kA0] = static_cast<uint64_t>(r.error);
      return moved;
    case kExtBase: r = base(h, fid, a0); break;
    case kExtTime:
      if (fid == 0) {
        set_timer(h, a0);
        r = {kSuccess};
      }
      break;
    case kExtIpi:
      if (fid == 0) r = send_ipi(a0, a1);
      break;
    case kExtRfence: r = rfence(fid, a0, a1); break;
    case kExtHsm: r = hsm(h, fid, moved); break;
    case kExtSrst:
      if (fid == 0) r = srst(h, a0, a1, moved);
      break;
    case kExtDbcn: r = dbcn(fid, a0, a1, a2); break;
    default: break;
  }
  if (!moved) {
    h.x[kA0] = static_cast<uint64_t>(r.error);
    h.x[kA1] = r.value;
  }
  return moved;
}

Sbi::Result Sbi::base(rv64::Hart& h, uint64_t fid, uint64_t a0) {
  switch (fid) {
    case 0: return {kSuccess, kSpecVersion};
    case 1: return {kSuccess, kImplId};
    case 2: return {kSuccess, 1};  // implementation version
    case 3:
      switch (a0) {
        case kExtBase: case kExtTime: case kExtIpi: case kExtRfence: case kExtHsm: case kExtSrst: case kExtDbcn:
        case 0x00: case 0x01: case 0x02: case 0x08:
          return {kSuccess, 1};
        default:
          return {kSuccess, 0};
      }
    case 4: case 5: case 6: {  // mvendorid, marchid, mimpid
      uint64_t v = 0;
      h.csr_read(0xf11 + static_cast<unsigned>(fid - 4), v);
      return {kSuccess, v};
    }
    default: return {kErrNotSupported};
  }
}

Sbi::Result Sbi::send_ipi(uint64_t mask, uint64_t base) {
  return {for_harts(mask, base, [this](unsigned t) {
    rv64::Hart& target = env_.hart(t);
    target.post_request(rv64::Hart::kReqSsip);
    lines_.kick(t);
  })};
}

Sbi::Result Sbi::rfence(uint64_t fid, uint64_t mask, uint64_t base) {
  uint32_t req;
  switch (fid) {
    case 0: req = rv64::Hart::kReqFenceI; break;
    case 1: case 2: req = rv64::Hart::kReqSfenceVma; break;  // the whole TLB, any range or ASID
    default: return {kErrNotSupported};  // the hypervisor fences
  }
  // A sleeping target applies the flush before it runs again: no wake-up.
  return {for_harts(mask, base, [this, req](unsigned t) { env_.hart(t).post_request(req); })};
}

Sbi::Result Sbi::hsm(rv64::Hart& h, uint64_t fid, bool& moved) {
  const uint64_t a0 = h.x[kA0], a1 = h.x[kA1], a2 = h.x[kA2];
  switch (fid) {
    case 0: {  // hart_start(hartid, start_addr, opaque)
      if (a0 >= num_harts_) return {kErrInvalidParam};
      unsigned t = static_cast<unsigned>(a0);
      if (!env_.executable(a1)) return {kErrInvalidAddress};
      int expect = kStopped;
      if (!state_[t].compare_exchange_strong(expect, kStartPending)) return {kErrAlreadyAvailable};
      start_addr_[t] = a1;
      start_opaque_[t] = a2;
      env_.hart(t).post_request(rv64::Hart::kReqSbi);
      lines_.kick(t);
      return {kSuccess};
    }
    case 1: {  // hart_stop()
      int expect = kStarted;
      if (!state_[h.hartid()].compare_exchange_strong(expect, kStopped)) return {kErrFailed};
      park(h);
      moved = true;
      return {kSuccess};
    }
    case 2:  // hart_get_status(hartid)
      if (a0 >= num_harts_) return {kErrInvalidParam};
      return {kSuccess, static_cast<uint64_t>(state_[a0].load())};
    default:  // hart_suspend and anything newer
      return {kErrNotSupported};
  }
}

void Sbi::on_request(rv64::Hart& h) {
  unsigned id = h.hartid();
  if (state_[id].load() != kStartPending) return;
  enter_supervisor(h, start_addr_[id], start_opaque_[id]);
  state_[id].store(kStarted);
}

Sbi::Result Sbi::srst(rv64::Hart& h, uint64_t type, uint64_t reason, bool& moved) {
  if (type > 2 && type < 0xf0000000) return {kErrInvalidParam};
  if (type >= 0xf0000000 || reason > 1) return {kErrNotSupported};  // vendor types, reasons
  if (reason == 1)
    env_.shutdown(1);  // system failure
  else if (type == 0)
    env_.shutdown(0);
  else
    env_.reboot();
  // The call does not return: the hart waits, parked, for the machine to stop.
  state_[h.hartid()].store(kStopped);
  park(h);
  moved = true;
  return {kSuccess};
}

Sbi::Result Sbi::dbcn(uint64_t fid, uint64_t a0, uint64_t a1, uint64_t a2) {
  constexpr uint64_t kChunk = 4096;
  switch (fid) {
    case 0: case 1: {  // console_write / console_read(num_bytes, base_lo, base_hi)
      if (a2 != 0) return {kErrInvalidParam};  // RV64: the address fits in base_lo
      uint64_t n = a0 < kChunk ? a0 : kChunk;
      uint8_t buf[kChunk];
      if (fid == 0) {
        if (!env_.read_phys(a1, buf, n)) return {kErrInvalidParam};
        env_.console_write(buf, n);
        return {kSuccess, n};
      }
      uint8_t probe;
      if (n && !env_.read_phys(a1, &probe, 1)) return {kErrInvalidParam};
      n = env_.console_read(buf, n);
      if (!env_.write_phys(a1, buf, n)) return {kErrInvalidParam};
      return {kSuccess, n};
    }
    case 2: {  // console_write_byte
      uint8_t c = static_cast<uint8_t>(a0);
      env_.console_write(&c, 1);
      return {kSuccess};
    }
    default: return {kErrNotSupported};
  }
}

void Sbi::save(StateWriter& w) const {
  w.u32(num_harts_);
  for (unsigned i = 0; i < num_harts_; ++i) {
    w.u32(static_cast<uint32_t>(state_[i].load()));
    w.u64(start_addr_[i]);
    w.u64(start_opaque_[i]);
  }
}

void Sbi::load(StateReader& r) {
  if (r.u32() != num_harts_) StateReader::fail("SBI state for another number of harts");
  for (unsigned i = 0; i < num_harts_; ++i) {
    state_[i].store(static_cast<int>(r.u32()));
    start_addr_[i] = r.u64();
    start_opaque_[i] = r.u64();
  }
}

}  // namespace machine
