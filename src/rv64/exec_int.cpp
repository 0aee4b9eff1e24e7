// Handlers for the integer instructions: RV64I, M, A, Zicsr, Zifencei,
// Zba/Zbb/Zbc/Zbs and the privileged instructions. One short definition each.
#include <atomic>
#include <bit>

#include "rv64/exec.h"

namespace rv64 {

#define X(r) h.x[in.r]
#define RD h.x[in.rd]
#define RS1 h.x[in.rs1]
#define RS2 h.x[in.rs2]
#define IMM static_cast<uint64_t>(in.imm)
#define SRS1 static_cast<int64_t>(h.x[in.rs1])
#define SRS2 static_cast<int64_t>(h.x[in.rs2])

#define ALU(id, expr) \
  RV_EXEC(id) {       \
    RD = (expr);      \
    return kNext;     \
  }

// ---- RV64I ----
ALU(lui, IMM)
ALU(auipc, h.pc + IMM)
ALU(addi, RS1 + IMM)
ALU(slti, SRS1 < in.imm ? 1 : 0)
ALU(sltiu, RS1 < IMM ? 1 : 0)
ALU(xori, RS1 ^ IMM)
ALU(ori, RS1 | IMM)
ALU(andi, RS1 & IMM)
ALU(slli, RS1 << in.imm)
ALU(srli, RS1 >> in.imm)
ALU(srai, static_cast<uint64_t>(SRS1 >> in.imm))
ALU(add, RS1 + RS2)
ALU(sub, RS1 - RS2)
ALU(sll, RS1 << (RS2 & 63))
ALU(slt, SRS1 < SRS2 ? 1 : 0)
ALU(sltu, RS1 < RS2 ? 1 : 0)
ALU(xor_, RS1 ^ RS2)
ALU(srl, RS1 >> (RS2 & 63))
ALU(sra, static_cast<uint64_t>(SRS1 >> (RS2 & 63)))
ALU(or_, RS1 | RS2)
ALU(and_, RS1 & RS2)
ALU(addiw, sext32(RS1 + IMM))
ALU(slliw, sext32(static_cast<uint32_t>(RS1) << in.imm))
ALU(srliw, sext32(static_cast<uint32_t>(RS1) >> in.imm))
ALU(sraiw, static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(RS1) >> in.imm)))
ALU(addw, sext32(RS1 + RS2))
ALU(subw, sext32(RS1 - RS2))
ALU(sllw, sext32(static_cast<uint32_t>(RS1) << (RS2 & 31)))
ALU(srlw, sext32(static_cast<uint32_t>(RS1) >> (RS2 & 31)))
ALU(sraw, static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(RS1) >> (RS2 & 31))))

Flow exec_jal(Hart& h, const Insn& in) {
  RD = h.pc + in.len;
  h.pc += IMM;
  return jumped(h, in);
}
RV_EXEC(jalr) {
  uint64_t t = (RS1 + IMM) & ~1ull;
  RD = h.pc + in.len;
  h.pc = t;
  return kJump;
}

#define BRANCH(id, cond)                   \
  Flow exec_##id(Hart& h, const Insn& in) { \
    if (cond) {                            \
      h.pc += IMM;                         \
      return jumped(h, in);                \
    }                                      \
    return chain(h, in, kNext);            \
  }
BRANCH(beq, RS1 == RS2)
BRANCH(bne, RS1 != RS2)
BRANCH(blt, SRS1 < SRS2)
BRANCH(bge, SRS1 >= SRS2)
BRANCH(bltu, RS1 < RS2)
BRANCH(bgeu, RS1 >= RS2)

#define LOAD(id, T, ext)                            \
  RV_EXEC(id) {                                     \
    T v;                                            \
    if (!h.load<T>(RS1 + IMM, v)) return kTrap;     \
    RD = static_cast<uint64_t>(ext(v));             \
    return kNext;                                   \
  }
#define SX(T) static_cast<int64_t>
LOAD(lb, uint8_t, static_cast<int8_t>)
LOAD(lh, uint16_t, static_cast<int16_t>)
LOAD(lw, uint32_t, static_cast<int32_t>)
LOAD(ld, uint64_t, static_cast<uint64_t>)
LOAD(lbu, uint8_t, static_cast<uint64_t>)
LOAD(lhu, uint16_t, static_cast<uint64_t>)
LOAD(lwu, uint32_t, static_cast<uint64_t>)

#define STORE(id, T)                                                   \
  RV_EXEC(id) {                                                        \
    return h.store<T>(RS1 + IMM, static_cast<T>(RS2)) ? kNext : h.store_failed(in); \
  }
STORE(sb, uint8_t)
STORE(sh, uint16_t)
STORE(sw, uint32_t)
STORE(sd, uint64_t)

// RVWMO on an x86-64 (TSO) host: only store->load ordering needs a real
// fence; everything else is already ordered.
RV_EXEC(fence) {
  if (RV_UNLIKELY(h.events_sync())) h.note_sync();
  if ((in.rm & 0x10) && (in.rm & 0x02))  // predecessor W, successor R
    std::atomic_thread_fence(std::memory_order_seq_cst);
  return kNext;
}
RV_EXEC(fence_tso) { return kNext; }
RV_EXEC(pause) { return h.do_pause(in); }
RV_EXEC(fence_i) {
  h.request_code_flush();
  h.pc += in.len;
  return kJump;
}
RV_EXEC(ecall) {
  if (RV_UNLIKELY(h.priv() == kSupervisor && h.sbi() != nullptr)) return h.do_sbi_call(in);
  return h.trap(uint64_t{kEcallU} + h.priv(), 0);
}
RV_EXEC(ebreak) { return h.trap(kBreakpoint, h.pc); }
RV_EXEC(mret) { return h.do_mret(); }
RV_EXEC(sret) { return h.do_sret(); }
RV_EXEC(wfi) { return h.do_wfi(in); }
RV_EXEC(sfence_vma) { return h.do_sfence_vma(in); }
RV_EXEC(illegal) { return h.illegal(in); }

// ---- Zicsr ----
#define CSR(id, op, src)                                                \
  RV_EXEC(id) {                                                         \
    uint64_t old;                                                       \
    if (!h.csr_op(in, static_cast<unsigned>(in.imm), src, op, old))     \
      return h.illegal(in);                                             \
    RD = old;                                                           \
    h.pc += in.len;                                                     \
    return kJump;                                                       \
  }
CSR(csrrw, 0, RS1)
CSR(csrrs, 1, RS1)
CSR(csrrc, 2, RS1)
CSR(csrrwi, 0, uint64_t{in.rs1})
CSR(csrrsi, 1, uint64_t{in.rs1})
CSR(csrrci, 2, uint64_t{in.rs1})

// ---- M ----
ALU(mul, RS1 * RS2)
ALU(mulh, static_cast<uint64_t>((static_cast<__int128>(SRS1) * SRS2) >> 64))
ALU(mulhsu, static_cast<uint64_t>((static_cast<__int128>(SRS1) * static_cast<unsigned __int128>(RS2)) >> 64))
ALU(mulhu, static_cast<uint64_t>((static_cast<unsigned __int128>(RS1) * RS2) >> 64))
ALU(div, RS2 == 0 ? ~0ull
         : (SRS1 == INT64_MIN && SRS2 == -1) ? RS1
                                             : static_cast<uint64_t>(SRS1 / SRS2))
ALU(divu, RS2 == 0 ? ~0ull : RS1 / RS2)
ALU(rem, RS2 == 0 ? RS1 : (SRS1 == INT64_MIN && SRS2 == -1) ? 0 : static_cast<uint64_t>(SRS1 % SRS2))
ALU(remu, RS2 == 0 ? RS1 : RS1 % RS2)
ALU(mulw, sext32(RS1 * RS2))
static inline uint64_t divw(int32_t a, int32_t b) {
  if (b == 0) return ~0ull;
  if (a == INT32_MIN && b == -1) return static_cast<uint64_t>(int64_t{a});
  return static_cast<uint64_t>(int64_t{a / b});
}
static inline uint64_t remw(int32_t a, int32_t b) {
  if (b == 0) return static_cast<uint64_t>(int64_t{a});
  if (a == INT32_MIN && b == -1) return 0;
  return static_cast<uint64_t>(int64_t{a % b});
}
ALU(divw, divw(static_cast<int32_t>(RS1), static_cast<int32_t>(RS2)))
ALU(divuw, static_cast<uint32_t>(RS2) == 0 ? ~0ull
                                           : sext32(static_cast<uint32_t>(RS1) / static_cast<uint32_t>(RS2)))
ALU(remw, remw(static_cast<int32_t>(RS1), static_cast<int32_t>(RS2)))
ALU(remuw, static_cast<uint32_t>(RS2) == 0 ? sext32(RS1)
                                           : sext32(static_cast<uint32_t>(RS1) % static_cast<uint32_t>(RS2)))

// ---- A ----
// AMOs are host atomic read-modify-writes on guest RAM. On x86-64 every
// locked RMW is a full fence, which covers .aq and .rl. LR is a plain load,
// so LR.rl (LR.aqrl) needs a host fence to keep earlier stores before it.
template <class T>
static Flow lr(Hart& h, const Insn& in) {
  uint64_t va = RS1;
  if (va & (sizeof(T) - 1)) return h.trap(kLoadMisaligned, va);
  if (RV_UNLIKELY(h.events_sync())) h.note_sync();
  if (in.rm & 1) std::atomic_thread_fence(std::memory_order_seq_cst);  // .rl: store->load
  T v;
  if (!h.load<T>(va, v)) return kTrap;
  h.resv_addr = va;
  h.resv_value = v;
  h.resv_size = sizeof(T);
  RD = static_cast<uint64_t>(static_cast<int64_t>(static_cast<std::make_signed_t<T>>(v)));
  return kNext;
}
template <class T>
static Flow sc(Hart& h, const Insn& in) {
  uint64_t va = RS1;
  uint8_t* p = h.amo_host<T>(va, true);
  if (!p) return kTrap;
  bool ok = false;
  if (h.resv_addr == va && h.resv_size == sizeof(T)) {
    T expected = static_cast<T>(h.resv_value);
    ok = std::atomic_ref<T>(*reinterpret_cast<T*>(p))
             .compare_exchange_strong(expected, static_cast<T>(RS2), std::memory_order_seq_cst);
  }
  h.resv_addr = ~0ull;
  RD = ok ? 0 : 1;
  if (!ok) {
    // The hart yields right behind the failed SC (an exact point, which
    // the deterministic scheduler relies on), or an event stops it there.
    h.note_contention();
    if (RV_UNLIKELY(h.events_active())) h.note_sc_fail(va);
    h.pc += in.len;
    return kJump;
  }
  return kNext;
}
RV_EXEC(lr_w) { return lr<uint32_t>(h, in); }
RV_EXEC(lr_d) { return lr<uint64_t>(h, in); }
RV_EXEC(sc_w) { return sc<uint32_t>(h, in); }
RV_EXEC(sc_d) { return sc<uint64_t>(h, in); }

template <class T, class F>
static Flow amo(Hart& h, const Insn& in, F f) {
  uint8_t* p = h.amo_host<T>(RS1);
  if (!p) return kTrap;
  std::atomic_ref<T> ref(*reinterpret_cast<T*>(p));
  T src = static_cast<T>(RS2);
  T old = ref.load(std::memory_order_relaxed);
  while (!ref.compare_exchange_weak(old, f(old, src), std::memory_order_seq_cst)) {
  }
  RD = static_cast<uint64_t>(static_cast<int64_t>(static_cast<std::make_signed_t<T>>(old)));
  return kNext;
}
template <class T>
static Flow amo_swap(Hart& h, const Insn& in) {
  uint8_t* p = h.amo_host<T>(RS1);
  if (!p) return kTrap;
  T old = std::atomic_ref<T>(*reinterpret_cast<T*>(p)).exchange(static_cast<T>(RS2), std::memory_order_seq_cst);
  RD = static_cast<uint64_t>(static_cast<int64_t>(static_cast<std::make_signed_t<T>>(old)));
  return kNext;
}
template <class T>
static Flow amo_add(Hart& h, const Insn& in) {
  uint8_t* p = h.amo_host<T>(RS1);
  if (!p) return kTrap;
  T old = std::atomic_ref<T>(*reinterpret_cast<T*>(p)).fetch_add(static_cast<T>(RS2), std::memory_order_seq_cst);
  RD = static_cast<uint64_t>(static_cast<int64_t>(static_cast<std::make_signed_t<T>>(old)));
  return kNext;
}
#define AMO_PAIR(name, expr)                                                                  \
  RV_EXEC(name##_w) {                                                                         \
    return amo<uint32_t>(h, in, [](uint32_t a, uint32_t b) -> uint32_t {                      \
      using S = int32_t; (void)sizeof(S); return (expr); });                                  \
  }                                                                                           \
  RV_EXEC(name##_d) {                                                                         \
    return amo<uint64_t>(h, in, [](uint64_t a, uint64_t b) -> uint64_t {                      \
      using S = int64_t; (void)sizeof(S); return (expr); });                                  \
  }
RV_EXEC(amoswap_w) { return amo_swap<uint32_t>(h, in); }
RV_EXEC(amoswap_d) { return amo_swap<uint64_t>(h, in); }
RV_EXEC(amoadd_w) { return amo_add<uint32_t>(h, in); }
RV_EXEC(amoadd_d) { return amo_add<uint64_t>(h, in); }
AMO_PAIR(amoxor, a ^ b)
AMO_PAIR(amoand, a & b)
AMO_PAIR(amoor, a | b)
AMO_PAIR(amomin, static_cast<S>(a) < static_cast<S>(b) ? a : b)
AMO_PAIR(amomax, static_cast<S>(a) > static_cast<S>(b) ? a : b)
AMO_PAIR(amominu, a < b ? a : b)
AMO_PAIR(amomaxu, a > b ? a : b)

// ---- Zba ----
ALU(sh1add, (RS1 << 1) + RS2)
ALU(sh2add, (RS1 << 2) + RS2)
ALU(sh3add, (RS1 << 3) + RS2)
ALU(add_uw, (RS1 & 0xffffffffull) + RS2)
ALU(sh1add_uw, ((RS1 & 0xffffffffull) << 1) + RS2)
ALU(sh2add_uw, ((RS1 & 0xffffffffull) << 2) + RS2)
ALU(sh3add_uw, ((RS1 & 0xffffffffull) << 3) + RS2)
ALU(slli_uw, (RS1 & 0xffffffffull) << in.imm)

// ---- Zbb ----
ALU(andn, RS1 & ~RS2)
ALU(orn, RS1 | ~RS2)
ALU(xnor, ~(RS1 ^ RS2))
ALU(clz, static_cast<uint64_t>(std::countl_zero(RS1)))
ALU(ctz, static_cast<uint64_t>(std::countr_zero(RS1)))
ALU(cpop, static_cast<uint64_t>(std::popcount(RS1)))
ALU(clzw, static_cast<uint64_t>(std::countl_zero(static_cast<uint32_t>(RS1))))
ALU(ctzw, static_cast<uint64_t>(std::countr_zero(static_cast<uint32_t>(RS1))))
ALU(cpopw, static_cast<uint64_t>(std::popcount(static_cast<uint32_t>(RS1))))
ALU(max, SRS1 > SRS2 ? RS1 : RS2)
ALU(maxu, RS1 > RS2 ? RS1 : RS2)
ALU(min, SRS1 < SRS2 ? RS1 : RS2)
ALU(minu, RS1 < RS2 ? RS1 : RS2)
ALU(sext_b, static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(RS1))))
ALU(sext_h, static_cast<uint64_t>(static_cast<int64_t>(static_cast<int16_t>(RS1))))
ALU(zext_h, RS1 & 0xffff)
ALU(rol, std::rotl(RS1, static_cast<int>(RS2 & 63)))
ALU(ror, std::rotr(RS1, static_cast<int>(RS2 & 63)))
ALU(rori, std::rotr(RS1, static_cast<int>(in.imm)))
ALU(rolw, sext32(std::rotl(static_cast<uint32_t>(RS1), static_cast<int>(RS2 & 31))))
ALU(rorw, sext32(std::rotr(static_cast<uint32_t>(RS1), static_cast<int>(RS2 & 31))))
ALU(roriw, sext32(std::rotr(static_cast<uint32_t>(RS1), static_cast<int>(in.imm & 31))))
static inline uint64_t orc_b(uint64_t v) {
  uint64_t r = 0;
  for (unsigned i = 0; i < 8; ++i)
    if ((v >> (8 * i)) & 0xff) r |= 0xffull << (8 * i);
  return r;
}
ALU(orc_b, orc_b(RS1))
ALU(rev8, __builtin_bswap64(RS1))

// ---- Zbc ----
// The carry-less product of two 64-bit values: all 127 bits. clmul keeps
// bits 63:0, clmulh bits 127:64, clmulr bits 126:63.
static unsigned __int128 clmul128(uint64_t a, uint64_t b) {
  unsigned __int128 p = 0;
  for (unsigned i = 0; i < 64; ++i)
    if ((b >> i) & 1) p ^= static_cast<unsigned __int128>(a) << i;
  return p;
}
ALU(clmul, static_cast<uint64_t>(clmul128(RS1, RS2)))
ALU(clmulh, static_cast<uint64_t>(clmul128(RS1, RS2) >> 64))
ALU(clmulr, static_cast<uint64_t>(clmul128(RS1, RS2) >> 63))

// ---- Zbs ----
ALU(bclr, RS1 & ~(1ull << (RS2 & 63)))
ALU(bclri, RS1 & ~(1ull << in.imm))
ALU(bext, (RS1 >> (RS2 & 63)) & 1)
ALU(bexti, (RS1 >> in.imm) & 1)
ALU(binv, RS1 ^ (1ull << (RS2 & 63)))
ALU(binvi, RS1 ^ (1ull << in.imm))
ALU(bset, RS1 | (1ull << (RS2 & 63)))
ALU(bseti, RS1 | (1ull << in.imm))

}  // namespace rv64
