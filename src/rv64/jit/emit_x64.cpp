// The x86-64 back end: one decoded block in, host code out (emitter.h).
//
// Instructions fall in three kinds, chosen by op() below:
//   native    integer ALU, loads and stores (the TLB fast path inline, the
//             interpreter's slow path as a helper call), branches and jumps;
//   fallback  everything else: a call to the instruction's interpreter
//             handler, which is the one definition of its semantics;
// and a block whose code calls a fallback never goes on into the next
// block by itself (whatever the handler changed, the run loop looks at
// first).
#include <xbyak/xbyak.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <type_traits>

#include "rv64/exec.h"
#include "rv64/hart.h"
#include "rv64/jit/emitter.h"
#include "rv64/jit/translator.h"

#pragma GCC diagnostic ignored "-Winvalid-offsetof"  // Hart is not standard-layout; GCC lays it out plainly

namespace rv64::jit {

// Everything generated code and its helpers touch inside a Hart.
struct Helpers {
  using Block = Hart::Block;
  using TlbEntry = Hart::TlbEntry;
  using Tlb = Hart::Tlb;
  static constexpr int kX = offsetof(Hart, x);
  static constexpr int kPc = offsetof(Hart, pc);
  static constexpr int kIcount = offsetof(Hart, icount_);
  static constexpr int kAttention = offsetof(Hart, attention_);
  static constexpr int kDtlb = offsetof(Hart, dtlb_);
  static constexpr int kCurInsns = offsetof(Hart, cur_insns_);
  static constexpr int kJumpsCur = offsetof(Hart, jumps_cur_);
  static constexpr int kJumpEpoch = offsetof(Hart, jump_epoch_);
  static constexpr unsigned kJumpBits = Hart::kJumpBits;
  static_assert(sizeof(Hart::JumpEntry) == 32 && offsetof(Hart::JumpEntry, va) == 0 &&
                    offsetof(Hart::JumpEntry, code) == 8 && offsetof(Hart::JumpEntry, epoch) == 16,
                "the inline jump-cache lookup below assumes this entry layout");
  static constexpr unsigned kTlbBits = Hart::kTlbBits;
  static constexpr int kTlbKind = static_cast<int>(sizeof(TlbEntry) << Hart::kTlbBits);  // bytes per Access
  static_assert(sizeof(TlbEntry) == 24 && offsetof(TlbEntry, tag) == 0 && offsetof(TlbEntry, host_addend) == 8,
                "the inline TLB lookup below assumes this entry layout");
  static_assert(sizeof(uint32_t) == sizeof(std::atomic<uint32_t>), "the attention word is read as a plain dword");

  // Helper results (returned in eax):
  //   0  the instruction retired and the block goes on;
  //   1  it did not retire (a trap was taken, or a debugger stop): leave;
  //   2  it retired and h.pc is set: leave (a jump, or a device access
  //      after which the block must end so its effects are exact).
  static int handler(Hart* h, const Insn* in) {
    h->chain_end_ = in + 1;  // the handler's chain stops after this one instruction
    h->block_end_requested_ = false;
    Flow f = in->fn(*h, *in);
    if (f == kTrap) return 1;
    if (f == kJump) return 2;
    return h->block_end_requested_ ? 2 : 0;
  }
  template <class T, bool Signed>
  static int load(Hart* h, uint64_t va, const Insn* in) {
    h->block_end_requested_ = false;
    T v;
    if (!h->load_slow<T>(va, v)) return 1;
    using S = std::make_signed_t<T>;
    h->x[in->rd] = Signed ? static_cast<uint64_t>(static_cast<int64_t>(static_cast<S>(v))) : uint64_t{v};
    if (!h->block_end_requested_) return 0;
    h->pc += in->len;
    return 2;
  }
  template <class T>
  static int store(Hart* h, uint64_t va, const Insn* in) {
    h->block_end_requested_ = false;
    if (!h->store_slow<T>(va, static_cast<T>(h->x[in->rs2]))) {
      if (!h->stop_after_) return 1;
      h->stop_after_ = false;  // an event stops behind a store that retired (Hart::store_failed)
      h->pc += in->len;
      return 2;
    }
    if (!h->block_end_requested_) return 0;
    h->pc += in->len;
    return 2;
  }
};

namespace {

using namespace Xbyak;
using namespace Xbyak::util;

enum class Kind { kNative, kFallback };

// Which instructions the back end emits itself. Everything else calls its
// handler (the decode table's one semantics).
Kind kind_of(Op op) {
  switch (op) {
    case Op::lui: case Op::auipc: case Op::jal: case Op::jalr:
    case Op::beq: case Op::bne: case Op::blt: case Op::bge: case Op::bltu: case Op::bgeu:
    case Op::lb: case Op::lh: case Op::lw: case Op::ld: case Op::lbu: case Op::lhu: case Op::lwu:
    case Op::sb: case Op::sh: case Op::sw: case Op::sd:
    case Op::addi: case Op::slti: case Op::sltiu: case Op::xori: case Op::ori: case Op::andi:
    case Op::slli: case Op::srli: case Op::srai:
    case Op::add: case Op::sub: case Op::sll: case Op::slt: case Op::sltu: case Op::xor_:
    case Op::srl: case Op::sra: case Op::or_: case Op::and_:
    case Op::addiw: case Op::slliw: case Op::srliw: case Op::sraiw:
    case Op::addw: case Op::subw: case Op::sllw: case Op::srlw: case Op::sraw:
    case Op::mul: case Op::mulw:
    case Op::sh1add: case Op::sh2add: case Op::sh3add:
    case Op::andn: case Op::orn: case Op::xnor:
      return Kind::kNative;
    default:
      return Kind::kFallback;
  }
}

class BlockGen : public CodeGenerator {
 public:
  BlockGen(size_t cap, uint8_t* rw, const uint8_t* rx) : CodeGenerator(cap, rw), rw_(rw), rx_(rx) {}

  // A pointer into the executable view (of this buffer), as a jump target
  // in the writable view the generator writes to.
  const void* rw_target(const uint8_t* rx_addr) const {
    return reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(rx_addr) - reinterpret_cast<uintptr_t>(rx_) +
                                         reinterpret_cast<uintptr_t>(rw_));
  }
  const uint8_t* curr_rx() const { return rx_ + (getCurr() - rw_); }

  Address X(unsigned r) { return qword[rbx + Helpers::kX + 8 * static_cast<int>(r)]; }
  Address X32(unsigned r) { return dword[rbx + Helpers::kX + 8 * static_cast<int>(r)]; }
  void call_helper(const void* fn) {
    mov(rax, reinterpret_cast<uint64_t>(fn));
    call(rax);
  }

 private:
  uint8_t* rw_;
  const uint8_t* rx_;
};

class BlockEmitter {
 public:
  BlockEmitter(Translator& tr, const Helpers::Block& b, BlockGen& g, const uint8_t* exit_rx)
      : tr_(tr), b_(b), g_(g), exit_(g.rw_target(exit_rx)) {}

  bool emit() {
    // Offsets of each instruction from the block's first pc.
    offs_.resize(b_.n + 1);
    uint64_t page_off = b_.pa & (kPageSize - 1);
    uint32_t off = 0;
    for (unsigned i = 0; i < b_.n; ++i) {
      const Insn& in = b_.insns[i];
      if (page_off + off + in.len > kPageSize) return false;  // straddles pages: its fetch depends on the mapping
      offs_[i] = off;
      off += in.len;
      if (kind_of(in.op) == Kind::kFallback) chains_ = false;
    }
    offs_[b_.n] = off;

    Label leave_untouched;
    g_.L(entry_);
    // Entry: the page's code must be what was translated, nothing may be
    // waiting for the hart, and the whole block must fit the budget.
    if (b_.genp) {
      g_.mov(rax, reinterpret_cast<uint64_t>(b_.genp));
      g_.cmp(dword[rax], b_.gen);
      g_.jne(leave_untouched, CodeGenerator::T_NEAR);
    }
    g_.cmp(dword[rbx + Helpers::kAttention], 0);
    g_.jne(leave_untouched, CodeGenerator::T_NEAR);
    g_.cmp(r13, b_.n);
    g_.jb(leave_untouched, CodeGenerator::T_NEAR);

    bool ended = false;
    for (unsigned i = 0; i < b_.n && !ended; ++i) ended = insn(i);
    if (!ended) jump_to(offs_[b_.n]);  // the block was cut (length, page end): fall through

    g_.L(leave_untouched);
    g_.mov(qword[rbx + Helpers::kPc], r12);
    g_.jmp(exit_, CodeGenerator::T_NEAR);
    for (auto& s : stubs_) s();
    return true;
  }

 private:
  static bool is_mem(Op op) {
    switch (op) {
      case Op::lb: case Op::lh: case Op::lw: case Op::ld: case Op::lbu: case Op::lhu: case Op::lwu:
      case Op::sb: case Op::sh: case Op::sw: case Op::sd:
        return true;
      default:
        return false;
    }
  }

  // Before a helper call for instruction i: h.pc = its pc, and the block
  // the helpers find the running instruction in (Hart::current_insn).
  void set_pc(unsigned i) {
    g_.lea(rax, ptr[r12 + static_cast<int>(offs_[i])]);
    g_.mov(qword[rbx + Helpers::kPc], rax);
    g_.mov(rax, reinterpret_cast<uint64_t>(&b_.insns[0]));
    g_.mov(qword[rbx + Helpers::kCurInsns], rax);
  }

  // After a helper returned eax != 0 for instruction i: leave, counting i
  // (not retired) or i + 1 (retired) instructions.
  Label& status_exit(unsigned i) {
    auto* l = new Label;  // owned by stubs_ (lives until emit() returns)
    labels_.emplace_back(l);
    stubs_.push_back([this, i, l] {
      Label retired;
      g_.L(*l);
      g_.cmp(eax, 1);
      g_.jne(retired);
      if (i) g_.add(qword[rbx + Helpers::kIcount], static_cast<int>(i));
      g_.jmp(exit_, CodeGenerator::T_NEAR);
      g_.L(retired);
      g_.add(qword[rbx + Helpers::kIcount], static_cast<int>(i + 1));
      g_.jmp(exit_, CodeGenerator::T_NEAR);
    });
    return *l;
  }

  // The block ends here: every instruction retired, next pc = entry + d.
  // A jump back to the block's own start (a loop) goes straight to its
  // entry, which checks generation, attention and budget again; anything
  // else goes through the jump cache (leave_to).
  void jump_to(int64_t d) {
    g_.add(qword[rbx + Helpers::kIcount], static_cast<int>(b_.n));
    g_.sub(r13, static_cast<int>(b_.n));
    if (chains_ && d == 0) {
      g_.jmp(entry_, CodeGenerator::T_NEAR);
      return;
    }
    g_.lea(rax, ptr[r12 + static_cast<int>(d)]);
    leave_to(rax);
  }

  // The block ends (everything counted) with the next pc in `target`: on
  // through the hart's jump cache if the block may chain and the entry is
  // current, else back to the run loop.
  void leave_to(const Reg64& target) {
    if (!chains_) {
      g_.mov(qword[rbx + Helpers::kPc], target);
      g_.jmp(exit_, CodeGenerator::T_NEAR);
      return;
    }
    Label& miss = new_label();
    g_.mov(rcx, target);
    g_.shr(rcx, 1);
    g_.and_(ecx, (1u << Helpers::kJumpBits) - 1);
    g_.shl(rcx, 5);
    g_.add(rcx, qword[rbx + Helpers::kJumpsCur]);
    g_.cmp(target, qword[rcx]);
    g_.jne(miss, CodeGenerator::T_NEAR);
    g_.mov(rdx, qword[rbx + Helpers::kJumpEpoch]);
    g_.cmp(rdx, qword[rcx + 16]);
    g_.jne(miss, CodeGenerator::T_NEAR);
    g_.mov(r12, target);
    g_.jmp(qword[rcx + 8]);
    g_.L(miss);
    g_.mov(qword[rbx + Helpers::kPc], target);
    g_.jmp(exit_, CodeGenerator::T_NEAR);
  }

  void fallback(unsigned i) {
    const Insn& in = b_.insns[i];
    set_pc(i);
    g_.mov(rdi, rbx);
    g_.mov(rsi, reinterpret_cast<uint64_t>(&in));
    g_.call_helper(reinterpret_cast<const void*>(&Helpers::handler));
    g_.test(eax, eax);
    g_.jnz(status_exit(i), CodeGenerator::T_NEAR);
  }

  // rsi = the effective address; rdx = the TLB entry for `acc`; jumps to
  // `slow` unless the entry maps the page with no flag for an aligned access.
  void tlb_lookup(const Insn& in, unsigned size, Access acc, Label& slow) {
    if (static_cast<int>(in.rs1) == held_) g_.mov(rsi, rax);
    else g_.mov(rsi, g_.X(in.rs1));
    if (in.imm) g_.add(rsi, static_cast<int>(in.imm));
    g_.mov(rax, rsi);
    g_.shr(rax, kPageShift);
    g_.and_(eax, (1u << Helpers::kTlbBits) - 1);
    g_.lea(rax, ptr[rax + rax * 2]);
    g_.mov(rdx, qword[rbx + Helpers::kDtlb]);
    g_.lea(rdx, ptr[rdx + rax * 8 + static_cast<int>(acc) * Helpers::kTlbKind]);
    g_.mov(rcx, rsi);
    g_.and_(rcx, static_cast<int>(~static_cast<uint32_t>(kPageSize - 1) | (size - 1)));
    g_.cmp(rcx, qword[rdx]);
    g_.jne(slow, CodeGenerator::T_NEAR);
    g_.mov(rdx, qword[rdx + 8]);
  }

  void mem_slow(unsigned i, Label& slow, Label& resume, const void* helper) {
    const Insn* in = &b_.insns[i];
    Label& st = status_exit(i);
    stubs_.push_back([this, i, in, &slow, &resume, &st, helper] {
      g_.L(slow);
      set_pc(i);
      g_.mov(rdi, rbx);  // rsi: the address
      g_.mov(rdx, reinterpret_cast<uint64_t>(in));
      g_.call_helper(helper);
      g_.test(eax, eax);
      g_.jnz(st, CodeGenerator::T_NEAR);
      g_.jmp(resume, CodeGenerator::T_NEAR);
    });
  }

  Label& new_label() {
    labels_.emplace_back(new Label);
    return *labels_.back();
  }

  template <class T, bool Signed>
  void load(unsigned i) {
    const Insn& in = b_.insns[i];
    Label& slow = new_label();
    Label& resume = new_label();
    tlb_lookup(in, sizeof(T), Access::kRead, slow);
    Address m = sizeof(T) == 1 ? byte[rsi + rdx] : sizeof(T) == 2 ? word[rsi + rdx]
                : sizeof(T) == 4 ? dword[rsi + rdx] : qword[rsi + rdx];
    if (sizeof(T) == 8) g_.mov(rax, m);
    else if (sizeof(T) == 4) Signed ? g_.movsxd(rax, m) : g_.mov(eax, m);
    else Signed ? g_.movsx(rax, m) : g_.movzx(eax, m);
    g_.mov(g_.X(in.rd), rax);
    g_.L(resume);
    mem_slow(i, slow, resume, reinterpret_cast<const void*>(&Helpers::load<T, Signed>));
  }

  template <class T>
  void store(unsigned i) {
    const Insn& in = b_.insns[i];
    Label& slow = new_label();
    Label& resume = new_label();
    bool value_held = static_cast<int>(in.rs2) == held_;
    if (value_held) g_.mov(r8, rax);
    tlb_lookup(in, sizeof(T), Access::kWrite, slow);
    if (!value_held) g_.mov(r8, g_.X(in.rs2));
    if (sizeof(T) == 1) g_.mov(byte[rsi + rdx], r8b);
    else if (sizeof(T) == 2) g_.mov(word[rsi + rdx], r8w);
    else if (sizeof(T) == 4) g_.mov(dword[rsi + rdx], r8d);
    else g_.mov(qword[rsi + rdx], r8);
    g_.L(resume);
    mem_slow(i, slow, resume, reinterpret_cast<const void*>(&Helpers::store<T>));
  }

  // rd = rax. Registers are written through to the hart at once; rax
  // then holds rd's value, which the next instruction may use instead of
  // loading it again (held_, valid only until anything else uses rax).
  void put(const Insn& in) {
    g_.mov(g_.X(in.rd), rax);
    next_held_ = in.rd;
  }
  void put32(const Insn& in) {
    g_.movsxd(rax, eax);
    put(in);
  }
  // rax = rs1 (or already).
  void rs1_to_rax(const Insn& in) {
    if (static_cast<int>(in.rs1) != held_) g_.mov(rax, g_.X(in.rs1));
  }
  // rax = rs1 OP rs2 for a commutative OP: whichever operand rax holds.
  template <class Op>
  void commutative(const Insn& in, Op op) {
    if (static_cast<int>(in.rs2) == held_ && static_cast<int>(in.rs1) != held_) {
      op(g_.X(in.rs1));
    } else {
      rs1_to_rax(in);
      op(g_.X(in.rs2));
    }
    put(in);
  }
  // eax = rs1 (32 bits).
  void rs1_to_eax(const Insn& in) {
    if (static_cast<int>(in.rs1) != held_) g_.mov(eax, g_.X32(in.rs1));
  }

  // Emits instruction i; true if it ended the block (emitted its exits).
  bool insn(unsigned i) {
    next_held_ = -1;
    bool ended = insn_body(i);
    held_ = next_held_;
    return ended;
  }

  bool insn_body(unsigned i) {
    const Insn& in = b_.insns[i];
    const int imm = static_cast<int>(in.imm);  // 12-bit, 20-bit upper or 21-bit offsets: all fit
    switch (in.op) {
      case Op::lui: g_.mov(g_.X(in.rd), imm); return false;
      case Op::auipc:
        g_.lea(rax, ptr[r12 + static_cast<int>(offs_[i])]);
        g_.add(rax, imm);
        put(in);
        return false;
      case Op::addi: rs1_to_rax(in); if (imm) g_.add(rax, imm); put(in); return false;
      case Op::xori: rs1_to_rax(in); g_.xor_(rax, imm); put(in); return false;
      case Op::ori: rs1_to_rax(in); g_.or_(rax, imm); put(in); return false;
      case Op::andi: rs1_to_rax(in); g_.and_(rax, imm); put(in); return false;
      case Op::slti: case Op::sltiu:
        g_.xor_(eax, eax);
        g_.cmp(g_.X(in.rs1), imm);
        in.op == Op::slti ? g_.setl(al) : g_.setb(al);
        put(in);
        return false;
      case Op::slli: rs1_to_rax(in); g_.shl(rax, imm); put(in); return false;
      case Op::srli: rs1_to_rax(in); g_.shr(rax, imm); put(in); return false;
      case Op::srai: rs1_to_rax(in); g_.sar(rax, imm); put(in); return false;
      case Op::addiw: rs1_to_eax(in); if (imm) g_.add(eax, imm); put32(in); return false;
      case Op::slliw: rs1_to_eax(in); g_.shl(eax, imm); put32(in); return false;
      case Op::srliw: rs1_to_eax(in); g_.shr(eax, imm); put32(in); return false;
      case Op::sraiw: rs1_to_eax(in); g_.sar(eax, imm); put32(in); return false;

      case Op::add: commutative(in, [&](const Address& m) { g_.add(rax, m); }); return false;
      case Op::sub: rs1_to_rax(in); g_.sub(rax, g_.X(in.rs2)); put(in); return false;
      case Op::xor_: commutative(in, [&](const Address& m) { g_.xor_(rax, m); }); return false;
      case Op::or_: commutative(in, [&](const Address& m) { g_.or_(rax, m); }); return false;
      case Op::and_: commutative(in, [&](const Address& m) { g_.and_(rax, m); }); return false;
      case Op::slt: case Op::sltu:
        g_.xor_(eax, eax);
        g_.mov(rcx, g_.X(in.rs1));
        g_.cmp(rcx, g_.X(in.rs2));
        in.op == Op::slt ? g_.setl(al) : g_.setb(al);
        put(in);
        return false;
      // x86 masks a 64-bit shift count to 6 bits and a 32-bit one to 5, as RISC-V does.
      case Op::sll: g_.mov(rcx, g_.X(in.rs2)); rs1_to_rax(in); g_.shl(rax, cl); put(in); return false;
      case Op::srl: g_.mov(rcx, g_.X(in.rs2)); rs1_to_rax(in); g_.shr(rax, cl); put(in); return false;
      case Op::sra: g_.mov(rcx, g_.X(in.rs2)); rs1_to_rax(in); g_.sar(rax, cl); put(in); return false;
      case Op::addw: rs1_to_eax(in); g_.add(eax, g_.X32(in.rs2)); put32(in); return false;
      case Op::subw: rs1_to_eax(in); g_.sub(eax, g_.X32(in.rs2)); put32(in); return false;
      case Op::sllw: g_.mov(rcx, g_.X(in.rs2)); rs1_to_eax(in); g_.shl(eax, cl); put32(in); return false;
      case Op::srlw: g_.mov(rcx, g_.X(in.rs2)); rs1_to_eax(in); g_.shr(eax, cl); put32(in); return false;
      case Op::sraw: g_.mov(rcx, g_.X(in.rs2)); rs1_to_eax(in); g_.sar(eax, cl); put32(in); return false;
      case Op::mul: commutative(in, [&](const Address& m) { g_.imul(rax, m); }); return false;
      case Op::mulw: rs1_to_eax(in); g_.imul(eax, g_.X32(in.rs2)); put32(in); return false;
      case Op::sh1add: case Op::sh2add: case Op::sh3add: {
        int s = in.op == Op::sh1add ? 1 : in.op == Op::sh2add ? 2 : 3;
        rs1_to_rax(in);
        g_.shl(rax, s);
        g_.add(rax, g_.X(in.rs2));
        put(in);
        return false;
      }
      case Op::andn: case Op::orn:
        g_.mov(rax, g_.X(in.rs2));
        g_.not_(rax);
        in.op == Op::andn ? g_.and_(rax, g_.X(in.rs1)) : g_.or_(rax, g_.X(in.rs1));
        put(in);
        return false;
      case Op::xnor: rs1_to_rax(in); g_.xor_(rax, g_.X(in.rs2)); g_.not_(rax); put(in); return false;

      case Op::lb: load<uint8_t, true>(i); return false;
      case Op::lh: load<uint16_t, true>(i); return false;
      case Op::lw: load<uint32_t, true>(i); return false;
      case Op::ld: load<uint64_t, false>(i); return false;
      case Op::lbu: load<uint8_t, false>(i); return false;
      case Op::lhu: load<uint16_t, false>(i); return false;
      case Op::lwu: load<uint32_t, false>(i); return false;
      case Op::sb: store<uint8_t>(i); return false;
      case Op::sh: store<uint16_t>(i); return false;
      case Op::sw: store<uint32_t>(i); return false;
      case Op::sd: store<uint64_t>(i); return false;

      case Op::beq: case Op::bne: case Op::blt: case Op::bge: case Op::bltu: case Op::bgeu: {
        Label& taken = new_label();
        rs1_to_rax(in);
        g_.cmp(rax, g_.X(in.rs2));
        switch (in.op) {
          case Op::beq: g_.je(taken, CodeGenerator::T_NEAR); break;
          case Op::bne: g_.jne(taken, CodeGenerator::T_NEAR); break;
          case Op::blt: g_.jl(taken, CodeGenerator::T_NEAR); break;
          case Op::bge: g_.jge(taken, CodeGenerator::T_NEAR); break;
          case Op::bltu: g_.jb(taken, CodeGenerator::T_NEAR); break;
          default: g_.jae(taken, CodeGenerator::T_NEAR); break;
        }
        jump_to(offs_[i] + in.len);
        g_.L(taken);
        jump_to(static_cast<int64_t>(offs_[i]) + in.imm);
        return true;
      }
      case Op::jal:
        g_.lea(rax, ptr[r12 + static_cast<int>(offs_[i] + in.len)]);
        put(in);
        jump_to(static_cast<int64_t>(offs_[i]) + in.imm);
        return true;
      case Op::jalr:
        rs1_to_rax(in);  // the target first: rd may be rs1
        if (imm) g_.add(rax, imm);
        g_.and_(rax, -2);
        g_.lea(rcx, ptr[r12 + static_cast<int>(offs_[i] + in.len)]);
        g_.mov(g_.X(in.rd), rcx);
        g_.add(qword[rbx + Helpers::kIcount], static_cast<int>(b_.n));
        g_.sub(r13, static_cast<int>(b_.n));
        leave_to(rax);
        return true;
      default:
        fallback(i);
        return false;  // a block-ending handler left through its status; else on to the next
    }
  }

  Translator& tr_;
  const Helpers::Block& b_;
  BlockGen& g_;
  const void* exit_;
  std::vector<uint32_t> offs_;
  Label entry_;             // the block's first byte (its own loops jump here)
  bool chains_ = true;      // no fallback: the block may go on into the next without run()
  int held_ = -1;           // the guest register whose value rax holds at this instruction (-1: none)
  int next_held_ = -1;
  std::vector<std::function<void()>> stubs_;  // out-of-line code, emitted after the block
  std::vector<std::unique_ptr<Label>> labels_;
};

}  // namespace

EmitResult Emitter::block(Translator& tr, const void* block, uint8_t* rw, const uint8_t* rx, size_t cap,
                          const uint8_t* exit_rx) {
  EmitResult r;
  try {
    BlockGen g(cap, rw, rx);
    BlockEmitter e(tr, *static_cast<const Helpers::Block*>(block), g, exit_rx);
    if (!e.emit()) return r;
    r.ok = true;
    r.size = g.getSize();
  } catch (const Xbyak::Error&) {  // out of room (the cache is nearly full)
    r.ok = false;
  }
  return r;
}

EmitResult Emitter::trampolines(uint8_t* rw, const uint8_t* rx, size_t cap, size_t& exit_offset) {
  BlockGen g(cap, rw, rx);
  // enter(rdi = Hart*, rsi = budget, rdx = code): keeps the callee-saved
  // registers the generated code uses, with the stack 16-byte aligned for
  // helper calls.
  g.push(rbx);
  g.push(rbp);
  g.push(r12);
  g.push(r13);
  g.push(r14);
  g.push(r15);
  g.sub(rsp, 8);
  g.mov(rbx, rdi);
  g.mov(r13, rsi);
  g.mov(r12, qword[rbx + Helpers::kPc]);
  g.jmp(rdx);
  while (g.getSize() % 16) g.int3();
  exit_offset = g.getSize();
  g.add(rsp, 8);
  g.pop(r15);
  g.pop(r14);
  g.pop(r13);
  g.pop(r12);
  g.pop(rbp);
  g.pop(rbx);
  g.ret();
  EmitResult r;
  r.ok = true;
  r.size = g.getSize();
  return r;
}

}  // namespace rv64::jit
