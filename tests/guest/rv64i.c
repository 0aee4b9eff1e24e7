/* RV64I: ALU, shifts (shift amounts masked to 6/5 bits), 32-bit W forms and
 * their sign extension, lui/auipc, jal/jalr, branches, aligned loads and
 * stores of every width, x0, fences and a few base CSRs. Every operation is
 * executed by inline assembly on register operands, so nothing is folded by
 * the compiler. */
#include "guest.h"

#define RR(op, a, b)                                                                        \
  ({                                                                                        \
    uint64_t _r;                                                                            \
    __asm__ volatile(op " %0, %1, %2" : "=r"(_r) : "r"((uint64_t)(a)), "r"((uint64_t)(b))); \
    _r;                                                                                     \
  })
#define RI(op, a, imm)                                                                    \
  ({                                                                                      \
    uint64_t _r;                                                                          \
    __asm__ volatile(op " %0, %1, %2" : "=r"(_r) : "r"((uint64_t)(a)), "i"(imm));         \
    _r;                                                                                   \
  })
/* 1 if the branch is taken. */
#define BR(op, a, b)                                                               \
  ({                                                                               \
    uint64_t _t;                                                                   \
    __asm__ volatile("li %0, 1\n\t" op " %1, %2, 1f\n\tli %0, 0\n1:"               \
                     : "=&r"(_t)                                                   \
                     : "r"((uint64_t)(a)), "r"((uint64_t)(b)));                    \
    _t;                                                                            \
  })
#define LOAD(op, base, off)                                                        \
  ({                                                                               \
    uint64_t _r;                                                                   \
    __asm__ volatile(op " %0, %2(%1)" : "=r"(_r) : "r"(base), "i"(off) : "memory"); \
    _r;                                                                            \
  })
#define STORE(op, v, base, off) \
  __asm__ volatile(op " %0, %2(%1)" ::"r"((uint64_t)(v)), "r"(base), "i"(off) : "memory")

static volatile uint64_t mem[4] __attribute__((aligned(64)));

static uint64_t jal_target_called;
static __attribute__((noinline)) void jal_target(void) { jal_target_called++; }

int main(unsigned hartid) {
  if (hartid != 0) park();
  const uint64_t M1 = ~0ull, MIN = 1ull << 63, MAX = MIN - 1;

  /* add/sub/addi and wrap-around */
  CHECK_EQ(RR("add", MAX, 1), MIN);
  CHECK_EQ(RR("add", M1, 1), 0);
  CHECK_EQ(RR("sub", 0, 1), M1);
  CHECK_EQ(RR("sub", MIN, 1), MAX);
  CHECK_EQ(RI("addi", 5, -6), M1);
  CHECK_EQ(RI("addi", 0, 2047), 2047);
  CHECK_EQ(RI("addi", 0, -2048), (uint64_t)-2048);

  /* W forms: 32-bit result, sign-extended; upper input bits ignored */
  CHECK_EQ(RR("addw", 0x7fffffff, 1), 0xffffffff80000000ull);
  CHECK_EQ(RR("addw", 0x123456789ull, 0x100000000ull), 0x23456789);
  CHECK_EQ(RR("subw", 0x100000000ull, 1), M1);
  CHECK_EQ(RR("subw", 0x80000000ull, 1), 0x7fffffff);
  CHECK_EQ(RI("addiw", 0x80000000ull, 0), 0xffffffff80000000ull);
  CHECK_EQ(RI("addiw", 0xffffffff00000001ull, -2), M1);
  CHECK_EQ(RI("addiw", 0x7fffffff, 1), 0xffffffff80000000ull);

  /* logic, immediates sign-extended */
  CHECK_EQ(RR("and", 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull), 0x0f000f000f000f00ull);
  CHECK_EQ(RR("or", 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull), 0xfff0fff0fff0fff0ull);
  CHECK_EQ(RR("xor", 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull), 0xf0f0f0f0f0f0f0f0ull);
  CHECK_EQ(RI("andi", M1, -16), 0xfffffffffffffff0ull);
  CHECK_EQ(RI("andi", M1, 0x7ff), 0x7ff);
  CHECK_EQ(RI("ori", 0, -2048), 0xfffffffffffff800ull);
  CHECK_EQ(RI("xori", 0x1234, -1), ~0x1234ull);

  /* comparisons */
  CHECK_EQ(RR("slt", M1, 1), 1);
  CHECK_EQ(RR("slt", 1, M1), 0);
  CHECK_EQ(RR("sltu", M1, 1), 0);
  CHECK_EQ(RR("sltu", 1, M1), 1);
  CHECK_EQ(RR("slt", MIN, MAX), 1);
  CHECK_EQ(RR("slt", 5, 5), 0);
  CHECK_EQ(RI("slti", (uint64_t)-5, -4), 1);
  CHECK_EQ(RI("slti", 0, -1), 0);
  CHECK_EQ(RI("sltiu", 0, -1), 1); /* immediate sign-extended, then unsigned */
  CHECK_EQ(RI("sltiu", M1, -1), 0);
  CHECK_EQ(RI("sltiu", 0, 1), 1); /* seqz */

  /* 64-bit shifts: amount is rs2[5:0] */
  CHECK_EQ(RR("sll", 1, 63), MIN);
  CHECK_EQ(RR("sll", 1, 64 + 3), 8);
  CHECK_EQ(RR("sll", 3, 0xffffffffffffffc1ull), 6);
  CHECK_EQ(RR("srl", MIN, 63), 1);
  CHECK_EQ(RR("srl", M1, 64 + 60), 0xf);
  CHECK_EQ(RR("sra", MIN, 63), M1);
  CHECK_EQ(RR("sra", MIN, 64 + 3), 0xf000000000000000ull);
  CHECK_EQ(RR("sra", 0x4000000000000000ull, 62), 1);
  CHECK_EQ(RI("slli", 0xff, 56), 0xff00000000000000ull);
  CHECK_EQ(RI("srli", M1, 63), 1);
  CHECK_EQ(RI("srai", 0x8000000000000010ull, 4), 0xf800000000000001ull);
  CHECK_EQ(RI("srai", 0x7000000000000010ull, 4), 0x0700000000000001ull);

  /* 32-bit shifts: amount is rs2[4:0], result sign-extended from bit 31 */
  CHECK_EQ(RR("sllw", 1, 31), 0xffffffff80000000ull);
  CHECK_EQ(RR("sllw", 1, 32 + 1), 2);
  CHECK_EQ(RR("sllw", 0xffffffff00000003ull, 30), 0xffffffffc0000000ull);
  CHECK_EQ(RR("srlw", 0xffffffff80000000ull, 31), 1);
  CHECK_EQ(RR("srlw", 0x80000000ull, 0), 0xffffffff80000000ull);
  CHECK_EQ(RR("srlw", 0x1234567880000000ull, 32 + 4), 0x08000000);
  CHECK_EQ(RR("sraw", 0x80000000ull, 4), 0xfffffffff8000000ull);
  CHECK_EQ(RR("sraw", 0x123456787fffffffull, 32 + 4), 0x07ffffff);
  CHECK_EQ(RI("slliw", 1, 31), 0xffffffff80000000ull);
  CHECK_EQ(RI("slliw", 0xffffffffull, 4), 0xfffffffffffffff0ull);
  CHECK_EQ(RI("srliw", 0xffffffffull, 4), 0x0fffffff);
  CHECK_EQ(RI("srliw", 0xffffffff80000000ull, 0), 0xffffffff80000000ull);
  CHECK_EQ(RI("sraiw", 0xf0000000ull, 28), M1);
  CHECK_EQ(RI("sraiw", 0xffffffff70000000ull, 28), 7);

  /* lui: 20-bit immediate, sign-extended on RV64 */
  {
    uint64_t a, b, c;
    __asm__ volatile("lui %0, 0x80000" : "=r"(a));
    __asm__ volatile("lui %0, 0x7ffff" : "=r"(b));
    __asm__ volatile("lui %0, 0xfffff" : "=r"(c));
    CHECK_EQ(a, 0xffffffff80000000ull);
    CHECK_EQ(b, 0x7ffff000);
    CHECK_EQ(c, 0xfffffffffffff000ull);
  }
  /* auipc against the link address of jal (computed without auipc) */
  {
    uint64_t pc0, link, pc1;
    __asm__ volatile(".option push\n\t.option norvc\n\t"
                     "auipc %0, 0\n\t"
                     "auipc %2, 1\n\t"
                     "jal %1, 1f\n"
                     "1:\n\t.option pop"
                     : "=&r"(pc0), "=&r"(link), "=&r"(pc1));
    CHECK_EQ(link, pc0 + 12);
    CHECK_EQ(pc1, pc0 + 4 + 4096);
    uint64_t neg;
    __asm__ volatile(".option push\n\t.option norvc\n\t"
                     "auipc %0, 0xfffff\n\t"
                     "jal %1, 1f\n"
                     "1:\n\t.option pop"
                     : "=&r"(neg), "=&r"(link));
    CHECK_EQ(neg, link - 8 - 4096);
  }
  /* jalr: target = (rs1 + imm) & ~1, link = pc + 4, rd == rs1 works */
  {
    uint64_t link, target, tmp;
    __asm__ volatile(".option push\n\t.option norvc\n\t"
                     "lla %2, 2f\n\t"
                     "addi %2, %2, -3\n\t" /* (2f - 3) + 4 = 2f + 1 -> bit 0 cleared */
                     "jalr %0, 4(%2)\n\t"
                     "1: j 3f\n"
                     "2: lla %1, 1b\n\t"
                     "3:\n\t.option pop"
                     : "=&r"(link), "=&r"(target), "=&r"(tmp));
    CHECK_EQ(link, target);
    __asm__ volatile(".option push\n\t.option norvc\n\t"
                     "lla %0, 1f\n\t"
                     "jalr %0, 0(%0)\n"
                     "2: j 3f\n"
                     "1: lla %1, 2b\n\t"
                     "3:\n\t.option pop"
                     : "=&r"(link), "=&r"(target));
    CHECK_EQ(link, target);
  }
  jal_target();
  jal_target();
  CHECK_EQ(jal_target_called, 2);

  /* branches */
  CHECK_EQ(BR("beq", 5, 5), 1);
  CHECK_EQ(BR("beq", 5, 6), 0);
  CHECK_EQ(BR("bne", 5, 6), 1);
  CHECK_EQ(BR("bne", M1, M1), 0);
  CHECK_EQ(BR("blt", M1, 0), 1);
  CHECK_EQ(BR("blt", 0, M1), 0);
  CHECK_EQ(BR("blt", 3, 3), 0);
  CHECK_EQ(BR("bge", 3, 3), 1);
  CHECK_EQ(BR("bge", M1, 0), 0);
  CHECK_EQ(BR("bge", MAX, MIN), 1);
  CHECK_EQ(BR("bltu", 0, M1), 1);
  CHECK_EQ(BR("bltu", M1, 0), 0);
  CHECK_EQ(BR("bgeu", M1, 0), 1);
  CHECK_EQ(BR("bgeu", 0, M1), 0);
  CHECK_EQ(BR("bgeu", 7, 7), 1);

  /* loads and stores of every width, aligned */
  volatile uint64_t *m = mem;
  m[0] = 0x8899aabbccddeeffull;
  m[1] = 0x0011223344556677ull;
  m[2] = 0;
  m[3] = 0;
  CHECK_EQ(LOAD("ld", m, 0), 0x8899aabbccddeeffull);
  CHECK_EQ(LOAD("lw", m, 4), 0xffffffff8899aabbull);
  CHECK_EQ(LOAD("lwu", m, 4), 0x8899aabbull);
  CHECK_EQ(LOAD("lw", m, 8), 0x44556677);
  CHECK_EQ(LOAD("lh", m, 6), 0xffffffffffff8899ull);
  CHECK_EQ(LOAD("lhu", m, 6), 0x8899);
  CHECK_EQ(LOAD("lh", m, 8), 0x6677);
  CHECK_EQ(LOAD("lb", m, 7), 0xffffffffffffff88ull);
  CHECK_EQ(LOAD("lbu", m, 7), 0x88);
  CHECK_EQ(LOAD("lb", m, 15), 0x00);
  CHECK_EQ(LOAD("lb", m, 14), 0x11);
  CHECK_EQ(LOAD("ld", m + 2, -8), 0x0011223344556677ull); /* negative offset */
  CHECK_EQ(LOAD("lbu", m + 1, -1), 0x88);
  STORE("sb", 0x1234, m + 2, 0);
  STORE("sb", 0xfe, m + 2, 7);
  CHECK_EQ(m[2], 0xfe00000000000034ull);
  STORE("sh", 0xabcdef, m + 2, 2);
  CHECK_EQ(m[2], 0xfe000000cdef0034ull);
  STORE("sw", 0x1122334455667788ull, m + 3, 4);
  CHECK_EQ(m[3], 0x5566778800000000ull);
  STORE("sd", 0x0102030405060708ull, m + 3, -8);
  CHECK_EQ(m[2], 0x0102030405060708ull);
  CHECK_EQ(m[1], 0x0011223344556677ull); /* neighbours untouched */
  CHECK_EQ(m[3], 0x5566778800000000ull);

  /* x0 ignores writes */
  {
    uint64_t z;
    __asm__ volatile("addi x0, x0, 5\n\tlui x0, 0x12345\n\tmv %0, x0" : "=r"(z));
    CHECK_EQ(z, 0);
    __asm__ volatile("ld x0, 0(%1)\n\tmv %0, x0" : "=r"(z) : "r"(m) : "memory");
    CHECK_EQ(z, 0);
  }

  /* fences and fence.i execute */
  __asm__ volatile("fence\n\tfence rw, rw\n\tfence.i\n\tfence r, r" ::: "memory");

  /* base CSRs: mscratch read/write/set/clear, immediate forms, counters */
  {
    uint64_t old = csr_swap(mscratch, 0x1234);
    (void)old;
    CHECK_EQ(csr_read(mscratch), 0x1234);
    uint64_t prev;
    __asm__ volatile("csrrs %0, mscratch, %1" : "=r"(prev) : "r"(0xf0000ull));
    CHECK_EQ(prev, 0x1234);
    __asm__ volatile("csrrc %0, mscratch, %1" : "=r"(prev) : "r"(0x34ull));
    CHECK_EQ(prev, 0xf1234);
    CHECK_EQ(csr_read(mscratch), 0xf1200);
    __asm__ volatile("csrrwi %0, mscratch, 31" : "=r"(prev));
    CHECK_EQ(prev, 0xf1200);
    __asm__ volatile("csrrsi %0, mscratch, 0x40 >> 2" : "=r"(prev));
    __asm__ volatile("csrrci %0, mscratch, 1" : "=r"(prev));
    CHECK_EQ(prev, 31);
    CHECK_EQ(csr_read(mscratch), 30);
    /* csrrs with x0 does not write (read-only CSRs can be read this way) */
    uint64_t id;
    __asm__ volatile("csrrs %0, mhartid, x0" : "=r"(id));
    CHECK_EQ(id, 0);
    uint64_t c0 = csr_read(mcycle), i0 = csr_read(minstret);
    for (volatile int i = 0; i < 100; i++) {
    }
    uint64_t c1 = csr_read(mcycle), i1 = csr_read(minstret);
    CHECK(i1 - i0 >= 100);
    CHECK(c1 > c0);
    /* the mscratch register is the M trap stack pointer: put it back */
    csr_write(mscratch, old);
  }
  return 0;
}
CHECKS_END();
