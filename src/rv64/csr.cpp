// The CSR file: access rules (privilege, read-only, counter enables, TVM,
// FS) and the WARL behaviour of every implemented CSR.
#include "rv64/hart.h"
#include "rv64/regnames.h"

namespace rv64 {

namespace {
constexpr uint64_t kMisa = (2ull << 62) | (1u << 0) /*A*/ | (1u << 2) /*C*/ | (1u << 3) /*D*/ |
                           (1u << 5) /*F*/ | (1u << 8) /*I*/ | (1u << 12) /*M*/ | (1u << 18) /*S*/ |
                           (1u << 20) /*U*/;
constexpr uint64_t kSstatusMask = mstatus::SIE | mstatus::SPIE | mstatus::UBE | mstatus::SPP |
                                  mstatus::FS | mstatus::XS | mstatus::SUM | mstatus::MXR |
                                  mstatus::UXL | mstatus::SD;
constexpr uint64_t kMstatusWritable = mstatus::SIE | mstatus::MIE | mstatus::SPIE | mstatus::MPIE |
                                      mstatus::SPP | mstatus::MPP | mstatus::FS | mstatus::MPRV |
                                      mstatus::SUM | mstatus::MXR | mstatus::TVM | mstatus::TW |
                                      mstatus::TSR;
constexpr uint64_t kSipMask = 1ull << kSSI;
constexpr uint64_t kSieMask = (1ull << kSSI) | (1ull << kSTI) | (1ull << kSEI);
constexpr uint64_t kMieMask = kSieMask | (1ull << kMSI) | (1ull << kMTI) | (1ull << kMEI);
constexpr uint64_t kMidelegMask = kSieMask;
constexpr uint64_t kMedelegMask = 0xb3ff;  // causes 0-9, 12, 13, 15 (not ecall from M)
constexpr uint64_t kStce = 1ull << 63;

uint64_t with_sd(uint64_t s) {
  return ((s & mstatus::FS) == mstatus::FS) ? (s | mstatus::SD) : (s & ~mstatus::SD);
}
uint64_t legal_tvec(uint64_t v) { return (v & 3) >= 2 ? (v & ~3ull) : (v & ~2ull); }
}  // namespace

bool Hart::csr_read(unsigned num, uint64_t& value) { return read_csr(num, value, false, nullptr); }
bool Hart::csr_write(unsigned num, uint64_t value) { return write_csr(num, value, false); }

bool Hart::csr_op(const Insn& in, unsigned csr, uint64_t wval, int op, uint64_t& old) {
  bool write = op == 0 || in.rs1 != 0;
  if (priv_ < ((csr >> 8) & 3)) return false;
  if (write && (csr >> 10) == 3) return false;
  if (!read_csr(csr, old, true, &in)) return false;
  if (!write) return true;
  uint64_t nv = op == 0 ? wval : op == 1 ? (old | wval) : (old & ~wval);
  return write_csr(csr, nv, true, &in);
}

bool Hart::read_csr(unsigned num, uint64_t& v, bool checked, const Insn* in) {
  uint64_t ic = in ? icount_at(*in) : icount_;
  // Unprivileged counters and their enables.
  if (num >= 0xc00 && num <= 0xc1f) {
    unsigned bit = num - 0xc00;
    if (checked && ((priv_ < kMachine && !((mcounteren_ >> bit) & 1)) ||
                    (priv_ == kUser && !((scounteren_ >> bit) & 1))))
      return false;
    v = bit == 0 ? ic + cycle_offset_ : bit == 1 ? bus_.mtime() : bit == 2 ? ic + instret_offset_ : 0;
    return true;
  }
  if ((num >= 0xb03 && num <= 0xb1f) || (num >= 0x323 && num <= 0x33f)) {  // mhpmcounter/event
    v = 0;
    return true;
  }
  if (num >= 0x3b0 && num <= 0x3bf) {
    v = pmp_.read_addr(num - 0x3b0);
    return true;
  }
  switch (num) {
    case 0x001: case 0x002: case 0x003:
      if (checked && !fp_enabled()) return false;
      v = num == 0x001 ? fflags : num == 0x002 ? frm : (uint64_t{frm} << 5) | fflags;
      return true;
    case 0x100: v = with_sd(mstatus_) & kSstatusMask; return true;
    case 0x104: v = mie_ & mideleg_; return true;
    case 0x105: v = stvec_; return true;
    case 0x106: v = scounteren_; return true;
    case 0x10a: v = senvcfg_; return true;
    case 0x140: v = sscratch_; return true;
    case 0x141: v = sepc_; return true;
    case 0x142: v = scause_; return true;
    case 0x143: v = stval_; return true;
    case 0x144: v = mip() & mideleg_; return true;
    case 0x14d:
      if (checked && priv_ < kMachine && (!(menvcfg_ & kStce) || !(mcounteren_ & 2))) return false;
      v = stimecmp_;
      return true;
    case 0x180:
      if (checked && priv_ == kSupervisor && (mstatus_ & mstatus::TVM)) return false;
      v = satp_;
      return true;
    case 0xf11: case 0xf12: case 0xf13: case 0xf15: v = 0; return true;
    case 0xf14: v = hartid_; return true;
    case 0x300: v = with_sd(mstatus_); return true;
    case 0x301: v = kMisa; return true;
    case 0x302: v = medeleg_; return true;
    case 0x303: v = mideleg_; return true;
    case 0x304: v = mie_; return true;
    case 0x305: v = mtvec_; return true;
    case 0x306: v = mcounteren_; return true;
    case 0x30a: v = menvcfg_; return true;
    case 0x320: v = mcountinhibit_; return true;
    case 0x340: v = mscratch_; return true;
    case 0x341: v = mepc_; return true;
    case 0x342: v = mcause_; return true;
    case 0x343: v = mtval_; return true;
    case 0x344: v = mip(); return true;
    case 0x3a0: v = pmp_.read_cfg(0); return true;
    case 0x3a2: v = pmp_.read_cfg(1); return true;
    case 0xb00: v = ic + cycle_offset_; return true;
    case 0xb02: v = ic + instret_offset_; return true;
    case 0x7a0: v = tselect_; return true;
    case 0x7a1: case 0x7a2: v = 0; return true;  // no triggers: tdata1.type = 0
    default: return false;
  }
}

bool Hart::write_csr(unsigned num, uint64_t v, bool checked, const Insn* in) {
  constexpr uint32_t kIrq = 1;
  auto irq_changed = [this] { attention_.fetch_or(kIrq, std::memory_order_relaxed); };
  if (num >= 0xc00 && num <= 0xc1f) return !checked;  // read-only (debugger may "write": ignored)
  if ((num >= 0xb03 && num <= 0xb1f) || (num >= 0x323 && num <= 0x33f)) return true;
  // PMP (pmp.h): a change flushes every TLB context, which holds PMP
  // decisions for its pages (mmu.cpp, tlb_fill).
  if (num >= 0x3b0 && num <= 0x3bf) {
    if (pmp_.write_addr(num - 0x3b0, v)) flush_tlb();
    return true;
  }
  switch (num) {
    case 0x001: case 0x002: case 0x003:
      if (checked && !fp_enabled()) return false;
      if (num == 0x001) fflags = v & 0x1f;
      else if (num == 0x002) frm = v & 7;
      else { fflags = v & 0x1f; frm = (v >> 5) & 7; }
      fp_dirty();
      return true;
    case 0x100: {
      uint64_t m = kSstatusMask & ~(mstatus::SD | mstatus::UXL | mstatus::XS | mstatus::UBE);
      uint64_t old = mstatus_;
      mstatus_ = (mstatus_ & ~m) | (v & m);
      if ((old ^ mstatus_) & (mstatus::SUM | mstatus::MXR)) flush_tlb();
      irq_changed();
      return true;
    }
    case 0x104: mie_ = (mie_ & ~mideleg_) | (v & mideleg_ & kSieMask); irq_changed(); return true;
    case 0x105: stvec_ = legal_tvec(v); return true;
    case 0x106: scounteren_ = v & 0xffffffff; return true;
    case 0x10a: senvcfg_ = v & 1; return true;
    case 0x140: sscratch_ = v; return true;
    case 0x141: sepc_ = v & ~1ull; return true;
    case 0x142: scause_ = v & (kInterruptBit | 0x3f); return true;
    case 0x143: stval_ = v; return true;
    case 0x144: mip_sw_ = (mip_sw_ & ~(kSipMask & mideleg_)) | (v & kSipMask & mideleg_); irq_changed(); return true;
    case 0x14d:
      if (checked && priv_ < kMachine && (!(menvcfg_ & kStce) || !(mcounteren_ & 2))) return false;
      stimecmp_ = v;
      update_sstc(bus_.mtime());
      irq_changed();
      return true;
    case 0x180: {
      if (checked && priv_ == kSupervisor && (mstatus_ & mstatus::TVM)) return false;
      uint64_t mode = v >> 60;
      if (mode != 0 && mode != 8 && mode != 9) return true;  // WARL: unsupported mode ignored
      satp_ = v & ((0xfull << 60) | (0xffffull << 44) | ((1ull << 44) - 1));
      flush_tlb();
      return true;
    }
    case 0xf11: case 0xf12: case 0xf13: case 0xf14: case 0xf15: return !checked;
    case 0x300: {
      uint64_t old = mstatus_;
      uint64_t nv = (mstatus_ & ~kMstatusWritable) | (v & kMstatusWritable);
      if (((nv >> 11) & 3) == 2) nv = (nv & ~mstatus::MPP) | (old & mstatus::MPP);  // WARL
      mstatus_ = nv;
      if ((old ^ nv) & (mstatus::SUM | mstatus::MXR)) flush_tlb();
      update_contexts();
      irq_changed();
      return true;
    }
    case 0x301: return true;  // misa: fixed
    case 0x302: medeleg_ = v & kMedelegMask; return true;
    case 0x303: mideleg_ = v & kMidelegMask; irq_changed(); return true;
    case 0x304: mie_ = v & kMieMask; irq_changed(); return true;
    case 0x305: mtvec_ = legal_tvec(v); return true;
    case 0x306: mcounteren_ = v & 0xffffffff; return true;
    case 0x30a:
      menvcfg_ = v & (kStce | 1);
      update_sstc(bus_.mtime());
      irq_changed();
      return true;
    case 0x320: mcountinhibit_ = v & 0xfffffffd; return true;
    case 0x340: mscratch_ = v; return true;
    case 0x341: mepc_ = v & ~1ull; return true;
    case 0x342: mcause_ = v & (kInterruptBit | 0x3f); return true;
    case 0x343: mtval_ = v; return true;
    case 0x344: {
      uint64_t m = (1ull << kSSI) | (1ull << kSEI) | ((menvcfg_ & kStce) ? 0 : (1ull << kSTI));
      mip_sw_ = (mip_sw_ & ~m) | (v & m);
      irq_changed();
      return true;
    }
    case 0x3a0: case 0x3a2:
      if (pmp_.write_cfg(num == 0x3a0 ? 0 : 1, v)) flush_tlb();
      return true;
    case 0xb00: case 0xb02: {
      // The write replaces the writing instruction's own increment: the
      // next instruction reads exactly v (Zicsr). Without an instruction
      // (debugger) nothing retires before the next read.
      uint64_t retired = in ? icount_at(*in) + 1 : icount_;
      (num == 0xb00 ? cycle_offset_ : instret_offset_) = static_cast<int64_t>(v - retired);
      return true;
    }
    case 0x7a0: tselect_ = 0; return true;
    case 0x7a1: case 0x7a2: return true;
    default: return false;
  }
}

}  // namespace rv64
