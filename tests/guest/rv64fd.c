/* RV64 F and D: bit-exact results of basic arithmetic and fused
 * multiply-add, the accrued flags (fflags) of each, static and dynamic
 * rounding modes (frm) on conversions and addition, conversion saturation,
 * NaN boxing of single-precision values, fclass, fmin/fmax with NaN and
 * signed zeros, comparisons, sign injection, and the illegal cases
 * (FS = Off, dynamic rounding with an invalid frm). */
#include "guest.h"

#define NV 0x10
#define DZ 0x08
#define OF 0x04
#define UF 0x02
#define NX 0x01

/* Double-precision ops on bit patterns. */
#define D1(op, a)                                                                        \
  ({                                                                                     \
    uint64_t _r;                                                                         \
    __asm__ volatile("fmv.d.x ft0, %1\n\t" op " ft2, ft0\n\tfmv.x.d %0, ft2"             \
                     : "=r"(_r) : "r"((uint64_t)(a)) : "ft0", "ft2");                    \
    _r;                                                                                  \
  })
#define D2(op, a, b)                                                                     \
  ({                                                                                     \
    uint64_t _r;                                                                         \
    __asm__ volatile("fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\t" op " ft2, ft0, ft1\n\t"    \
                     "fmv.x.d %0, ft2"                                                   \
                     : "=r"(_r) : "r"((uint64_t)(a)), "r"((uint64_t)(b)) : "ft0", "ft1", "ft2"); \
    _r;                                                                                  \
  })
#define D2RM(op, a, b, rm)                                                               \
  ({                                                                                     \
    uint64_t _r;                                                                         \
    __asm__ volatile("fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\t" op " ft2, ft0, ft1, " rm "\n\t" \
                     "fmv.x.d %0, ft2"                                                   \
                     : "=r"(_r) : "r"((uint64_t)(a)), "r"((uint64_t)(b)) : "ft0", "ft1", "ft2"); \
    _r;                                                                                  \
  })
#define D3(op, a, b, c)                                                                  \
  ({                                                                                     \
    uint64_t _r;                                                                         \
    __asm__ volatile("fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\tfmv.d.x ft3, %3\n\t"         \
                     op " ft2, ft0, ft1, ft3\n\tfmv.x.d %0, ft2"                          \
                     : "=r"(_r)                                                          \
                     : "r"((uint64_t)(a)), "r"((uint64_t)(b)), "r"((uint64_t)(c))         \
                     : "ft0", "ft1", "ft2", "ft3");                                      \
    _r;                                                                                  \
  })
/* Result in an integer register (compare, classify, convert to integer). */
#define DX1(op, a)                                                                       \
  ({                                                                                     \
    uint64_t _r;                                                                         \
    __asm__ volatile("fmv.d.x ft0, %1\n\t" op " %0, ft0" : "=r"(_r) : "r"((uint64_t)(a)) : "ft0"); \
    _r;                                                                                  \
  })
#define DX1RM(op, a, rm)                                                                 \
  ({                                                                                     \
    uint64_t _r;                                                                         \
    __asm__ volatile("fmv.d.x ft0, %1\n\t" op " %0, ft0, " rm                            \
                     : "=r"(_r) : "r"((uint64_t)(a)) : "ft0");                           \
    _r;                                                                                  \
  })
#define DX2(op, a, b)                                                                    \
  ({                                                                                     \
    uint64_t _r;                                                                         \
    __asm__ volatile("fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\t" op " %0, ft0, ft1"         \
                     : "=r"(_r) : "r"((uint64_t)(a)), "r"((uint64_t)(b)) : "ft0", "ft1"); \
    _r;                                                                                  \
  })
/* Integer source, FP result (convert from integer). */
#define XD(op, a)                                                                        \
  ({                                                                                     \
    uint64_t _r;                                                                         \
    __asm__ volatile(op " ft2, %1\n\tfmv.x.d %0, ft2" : "=r"(_r) : "r"((uint64_t)(a)) : "ft2"); \
    _r;                                                                                  \
  })
/* Single precision: operands boxed with fmv.w.x, result read with fmv.x.w
   (sign-extended 32 bits). */
#define S1(op, a)                                                                        \
  ({                                                                                     \
    uint64_t _r;                                                                         \
    __asm__ volatile("fmv.w.x ft0, %1\n\t" op " ft2, ft0\n\tfmv.x.w %0, ft2"             \
                     : "=r"(_r) : "r"((uint64_t)(a)) : "ft0", "ft2");                    \
    _r;                                                                                  \
  })
#define SX1(op, a)                                                                       \
  ({                                                                                     \
    uint64_t _r;                                                                         \
    __asm__ volatile("fmv.w.x ft0, %1\n\t" op " %0, ft0" : "=r"(_r) : "r"((uint64_t)(a)) : "ft0"); \
    _r;                                                                                  \
  })
#define S2(op, a, b)                                                                     \
  ({                                                                                     \
    uint64_t _r;                                                                         \
    __asm__ volatile("fmv.w.x ft0, %1\n\tfmv.w.x ft1, %2\n\t" op " ft2, ft0, ft1\n\t"    \
                     "fmv.x.w %0, ft2"                                                   \
                     : "=r"(_r) : "r"((uint64_t)(a)), "r"((uint64_t)(b)) : "ft0", "ft1", "ft2"); \
    _r;                                                                                  \
  })

static uint64_t flags(void) { return csr_swap(fflags, 0); }

static volatile uint64_t illegal_traps, last_tval;
int handle_m_trap(struct trap_frame *f) {
  if (f->cause != CAUSE_ILLEGAL) return 0;
  illegal_traps++;
  last_tval = f->tval;
  trap_skip(f);
  return 1;
}

static volatile uint64_t mem[4] __attribute__((aligned(32)));

int main(unsigned hartid) {
  if (hartid != 0) park();
  const uint64_t ONE = 0x3ff0000000000000ull, TWO = 0x4000000000000000ull,
                 THREE = 0x4008000000000000ull, HALF = 0x3fe0000000000000ull,
                 MONE = 0xbff0000000000000ull, PZERO = 0, NZERO = 1ull << 63,
                 PINF = 0x7ff0000000000000ull, NINF = 0xfff0000000000000ull,
                 QNAN = 0x7ff8000000000000ull, SNAN = 0x7ff0000000000001ull,
                 DMAX = 0x7fefffffffffffffull, DMIN_NORM = 0x0010000000000000ull,
                 DMIN_SUB = 1, TWO_P53 = 0x4340000000000000ull;
  const uint64_t D2_5 = 0x4004000000000000ull, DM2_5 = 0xc004000000000000ull;

  /* FS = Off: FP instructions are illegal */
  csr_clear(mstatus, MSTATUS_FS);
  __asm__ volatile("fadd.d ft0, ft0, ft0");
  CHECK_EQ(illegal_traps, 1);
  CHECK_EQ(last_tval, 0x02007053); /* fadd.d ft0, ft0, ft0, dyn */
  csr_set(mstatus, MSTATUS_FS_INITIAL);
  CHECK_EQ(csr_read(mstatus) & MSTATUS_FS, MSTATUS_FS_INITIAL);
  csr_write(fcsr, 0);
  __asm__ volatile("fmv.d.x ft0, zero");
  CHECK_EQ(csr_read(mstatus) & MSTATUS_FS, MSTATUS_FS); /* dirty */
  CHECK(csr_read(mstatus) & MSTATUS_SD);

  /* fcsr = frm << 5 | fflags */
  csr_write(fcsr, 0xff);
  CHECK_EQ(csr_read(frm), 7);
  CHECK_EQ(csr_read(fflags), 0x1f);
  csr_write(frm, 2);
  CHECK_EQ(csr_read(fcsr), 0x5f);
  csr_write(fcsr, 0);

  /* basic arithmetic, bit exact, with flags */
  CHECK_EQ(D2("fadd.d", ONE, TWO), THREE);
  CHECK_EQ(flags(), 0);
  CHECK_EQ(D2("fdiv.d", ONE, THREE), 0x3fd5555555555555ull);
  CHECK_EQ(flags(), NX);
  CHECK_EQ(D1("fsqrt.d", TWO), 0x3ff6a09e667f3bcdull);
  CHECK_EQ(flags(), NX);
  CHECK_EQ(D2("fsub.d", ONE, ONE), PZERO);
  CHECK_EQ(D2("fsub.d", ONE, ONE), PZERO);
  CHECK_EQ(D2RM("fsub.d", ONE, ONE, "rdn"), NZERO); /* x - x = -0 rounding down */
  CHECK_EQ(D2("fmul.d", THREE, MONE), 0xc008000000000000ull);
  CHECK_EQ(flags(), 0);
  CHECK_EQ(D2("fdiv.d", ONE, PZERO), PINF);
  CHECK_EQ(flags(), DZ);
  CHECK_EQ(D2("fdiv.d", MONE, PZERO), NINF);
  CHECK_EQ(flags(), DZ);
  CHECK_EQ(D2("fdiv.d", PZERO, PZERO), QNAN);
  CHECK_EQ(flags(), NV);
  CHECK_EQ(D2("fsub.d", PINF, PINF), QNAN);
  CHECK_EQ(flags(), NV);
  CHECK_EQ(D1("fsqrt.d", MONE), QNAN);
  CHECK_EQ(flags(), NV);
  CHECK_EQ(D2("fadd.d", SNAN, ONE), QNAN); /* NaN results are canonical */
  CHECK_EQ(flags(), NV);
  CHECK_EQ(D2("fadd.d", 0x7ff8000000001234ull, ONE), QNAN);
  CHECK_EQ(flags(), 0);
  CHECK_EQ(D2("fmul.d", DMAX, TWO), PINF);
  CHECK_EQ(flags(), OF | NX);
  CHECK_EQ(D2RM("fmul.d", DMAX, TWO, "rtz"), DMAX);
  CHECK_EQ(flags(), OF | NX);
  CHECK_EQ(D2("fmul.d", DMIN_NORM, HALF), 0x0008000000000000ull); /* exact subnormal */
  CHECK_EQ(flags(), 0);
  CHECK_EQ(D2("fmul.d", DMIN_SUB, HALF), PZERO); /* tie to even: 0 */
  CHECK_EQ(flags(), UF | NX);
  CHECK_EQ(D2RM("fmul.d", DMIN_SUB, HALF, "rup"), DMIN_SUB);
  CHECK_EQ(flags(), UF | NX);

  /* rounding modes on addition: 1 + 2^-60 */
  {
    const uint64_t TINY = 0x3c30000000000000ull; /* 2^-60 */
    CHECK_EQ(D2RM("fadd.d", ONE, TINY, "rne"), ONE);
    CHECK_EQ(D2RM("fadd.d", ONE, TINY, "rup"), 0x3ff0000000000001ull);
    CHECK_EQ(D2RM("fadd.d", ONE, TINY, "rdn"), ONE);
    CHECK_EQ(D2RM("fadd.d", MONE, TINY | NZERO, "rdn"), 0xbff0000000000001ull);
    CHECK_EQ(D2RM("fadd.d", MONE, TINY | NZERO, "rtz"), MONE);
    CHECK_EQ(D2RM("fadd.d", MONE, TINY | NZERO, "rmm"), MONE);
    CHECK_EQ(flags(), NX);
    csr_write(frm, 3); /* RUP through the dynamic mode */
    CHECK_EQ(D2("fadd.d", ONE, TINY), 0x3ff0000000000001ull);
    csr_write(frm, 0);
    CHECK_EQ(D2("fadd.d", ONE, TINY), ONE);
    flags();
  }

  /* fused multiply-add: one rounding */
  {
    const uint64_t A = 0x3ff0000000000001ull, B = 0x3feffffffffffffeull; /* 1+e, 1-e */
    CHECK_EQ(D3("fmadd.d", A, B, MONE), 0xb970000000000000ull); /* -2^-104 exactly */
    CHECK_EQ(flags(), 0);
    CHECK_EQ(D2("fmul.d", A, B), ONE); /* rounded separately it is 1 */
    CHECK_EQ(flags(), NX);
    const uint64_t FIVE = 0x4014000000000000ull, SEVEN = 0x401c000000000000ull;
    CHECK_EQ(D3("fmadd.d", TWO, THREE, ONE), SEVEN);
    CHECK_EQ(D3("fmsub.d", TWO, THREE, ONE), FIVE);
    CHECK_EQ(D3("fnmadd.d", TWO, THREE, ONE), SEVEN | NZERO);
    CHECK_EQ(D3("fnmsub.d", TWO, THREE, ONE), FIVE | NZERO);
    CHECK_EQ(D3("fmadd.d", PINF, PZERO, ONE), QNAN); /* inf * 0 */
    CHECK_EQ(flags(), NV);
  }

  /* single precision */
  CHECK_EQ(S2("fadd.s", 0x3dcccccd, 0x3e4ccccd), 0x3e99999a); /* 0.1f + 0.2f */
  CHECK_EQ(flags(), NX);
  CHECK_EQ(S2("fdiv.s", 0x3f800000, 0x40400000), 0x3eaaaaab);
  CHECK_EQ(S1("fsqrt.s", 0x40000000), 0x3fb504f3);
  CHECK_EQ(flags(), NX);
  CHECK_EQ(S2("fmul.s", 0xc0000000, 0x3f000000), 0xffffffffbf800000ull); /* fmv.x.w sign-extends */
  CHECK_EQ(S2("fdiv.s", 0, 0), 0x7fc00000);
  CHECK_EQ(flags(), NV);
  CHECK_EQ(S2("fmul.s", 0x7f7fffff, 0x40000000), 0x7f800000);
  CHECK_EQ(flags(), OF | NX);

  /* NaN boxing */
  {
    uint64_t r;
    mem[0] = 0x000000003f800000ull; /* a single 1.0f NOT boxed */
    mem[1] = 0xffffffff3f800000ull; /* boxed 1.0f */
    __asm__ volatile("fld ft0, 0(%1)\n\tfadd.s ft1, ft0, ft0\n\tfmv.x.d %0, ft1"
                     : "=r"(r) : "r"(mem) : "ft0", "ft1", "memory");
    CHECK_EQ(r, 0xffffffff7fc00000ull); /* unboxed input reads as the canonical NaN */
    CHECK_EQ(flags(), 0);
    __asm__ volatile("fld ft0, 8(%1)\n\tfadd.s ft1, ft0, ft0\n\tfmv.x.d %0, ft1"
                     : "=r"(r) : "r"(mem) : "ft0", "ft1", "memory");
    CHECK_EQ(r, 0xffffffff40000000ull);
    __asm__ volatile("flw ft0, 0(%1)\n\tfmv.x.d %0, ft0" : "=r"(r) : "r"(mem) : "ft0", "memory");
    CHECK_EQ(r, 0xffffffff3f800000ull); /* flw boxes */
    __asm__ volatile("fmv.w.x ft0, %1\n\tfmv.x.d %0, ft0" : "=r"(r) : "r"(0x12345678ull) : "ft0");
    CHECK_EQ(r, 0xffffffff12345678ull); /* fmv.w.x boxes */
    __asm__ volatile("fmv.d.x ft0, %1\n\tfmv.x.w %0, ft0" : "=r"(r) : "r"(0x00000000bf800000ull) : "ft0");
    CHECK_EQ(r, 0xffffffffbf800000ull); /* fmv.x.w copies bits 31:0, no box check */
    __asm__ volatile("fmv.d.x ft0, %1\n\tfclass.s %0, ft0" : "=r"(r) : "r"(0x000000003f800000ull) : "ft0");
    CHECK_EQ(r, 1u << 9); /* unboxed classifies as quiet NaN */
    __asm__ volatile("fmv.d.x ft0, %1\n\tfcvt.d.s ft1, ft0\n\tfmv.x.d %0, ft1"
                     : "=r"(r) : "r"(0x000000003f800000ull) : "ft0", "ft1");
    CHECK_EQ(r, QNAN);
    /* fsw stores the low 32 bits, fsd all 64 */
    mem[2] = 0x5555555555555555ull;
    __asm__ volatile("fmv.w.x ft0, %0\n\tfsw ft0, 4(%1)" ::"r"(0xaabbccddull), "r"(&mem[2]) : "ft0", "memory");
    CHECK_EQ(mem[2], 0xaabbccdd55555555ull);
    __asm__ volatile("fmv.d.x ft0, %1\n\tfsd ft0, 0(%2)\n\tfld ft1, 0(%2)\n\tfmv.x.d %0, ft1"
                     : "=r"(r) : "r"(0x7ff0123456789abcull), "r"(&mem[3]) : "ft0", "ft1", "memory");
    CHECK_EQ(r, 0x7ff0123456789abcull); /* a signalling NaN survives fsd/fld unchanged */
    CHECK_EQ(mem[3], 0x7ff0123456789abcull);
    flags();
  }

  /* conversions to integer: every rounding mode on +-2.5 */
  CHECK_EQ(DX1RM("fcvt.w.d", D2_5, "rne"), 2);
  CHECK_EQ(DX1RM("fcvt.w.d", D2_5, "rtz"), 2);
  CHECK_EQ(DX1RM("fcvt.w.d", D2_5, "rdn"), 2);
  CHECK_EQ(DX1RM("fcvt.w.d", D2_5, "rup"), 3);
  CHECK_EQ(DX1RM("fcvt.w.d", D2_5, "rmm"), 3);
  CHECK_EQ(DX1RM("fcvt.w.d", DM2_5, "rne"), (uint64_t)-2);
  CHECK_EQ(DX1RM("fcvt.w.d", DM2_5, "rtz"), (uint64_t)-2);
  CHECK_EQ(DX1RM("fcvt.w.d", DM2_5, "rdn"), (uint64_t)-3);
  CHECK_EQ(DX1RM("fcvt.w.d", DM2_5, "rup"), (uint64_t)-2);
  CHECK_EQ(DX1RM("fcvt.w.d", DM2_5, "rmm"), (uint64_t)-3);
  CHECK_EQ(flags(), NX);
  {
    /* -2.5 under RNE, RTZ, RDN, RUP, RMM */
    static const int64_t want[5] = {-2, -2, -3, -2, -3};
    for (unsigned rm = 0; rm < 5; rm++) {
      csr_write(frm, rm);
      CHECK_EQ(DX1RM("fcvt.l.d", DM2_5, "dyn"), (uint64_t)want[rm]);
      CHECK_EQ(csr_read(frm), rm);
    }
    csr_write(frm, 0);
    CHECK_EQ(flags(), NX);
  }
  /* out of range and NaN saturate with NV */
  CHECK_EQ(DX1RM("fcvt.w.d", QNAN, "rtz"), 0x7fffffff);
  CHECK_EQ(flags(), NV);
  CHECK_EQ(DX1RM("fcvt.w.d", PINF, "rtz"), 0x7fffffff);
  CHECK_EQ(DX1RM("fcvt.w.d", NINF, "rtz"), 0xffffffff80000000ull);
  CHECK_EQ(DX1RM("fcvt.w.d", 0x41e65a0bc0000000ull, "rtz"), 0x7fffffff); /* 3e9 */
  CHECK_EQ(flags(), NV);
  CHECK_EQ(DX1RM("fcvt.wu.d", MONE, "rtz"), 0);
  CHECK_EQ(flags(), NV);
  CHECK_EQ(DX1RM("fcvt.wu.d", 0x41efffffffe00000ull, "rtz"), ~0ull); /* 2^32-1, sign-extended */
  CHECK_EQ(flags(), 0);
  CHECK_EQ(DX1RM("fcvt.wu.d", 0xbfe0000000000000ull, "rtz"), 0); /* -0.5 -> 0 is in range */
  CHECK_EQ(flags(), NX);
  CHECK_EQ(DX1RM("fcvt.l.d", QNAN, "rtz"), 0x7fffffffffffffffull);
  CHECK_EQ(DX1RM("fcvt.l.d", NINF, "rtz"), 0x8000000000000000ull);
  CHECK_EQ(DX1RM("fcvt.lu.d", NINF, "rtz"), 0);
  CHECK_EQ(DX1RM("fcvt.lu.d", PINF, "rtz"), ~0ull);
  CHECK_EQ(flags(), NV);
  CHECK_EQ(DX1RM("fcvt.l.d", 0xc3e0000000000000ull, "rtz"), 0x8000000000000000ull); /* -2^63 */
  CHECK_EQ(flags(), 0);

  /* conversions from integer */
  CHECK_EQ(XD("fcvt.d.l", (1ull << 53) + 1), TWO_P53);
  CHECK_EQ(flags(), NX);
  CHECK_EQ(XD("fcvt.d.lu", ~0ull), 0x43f0000000000000ull);
  CHECK_EQ(XD("fcvt.d.w", 0x00000000ffffffffull), MONE); /* low 32 bits, signed */
  CHECK_EQ(XD("fcvt.d.wu", 0xffffffffffffffffull), 0x41efffffffe00000ull);
  CHECK_EQ(XD("fcvt.d.l", (uint64_t)-3), 0xc008000000000000ull);
  flags();
  {
    uint64_t r;
    __asm__ volatile("fcvt.s.w ft0, %1\n\tfmv.x.w %0, ft0" : "=r"(r) : "r"((uint64_t)-1) : "ft0");
    CHECK_EQ(r, 0xffffffffbf800000ull);
    __asm__ volatile("fcvt.s.lu ft0, %1\n\tfmv.x.w %0, ft0" : "=r"(r) : "r"(0xffffffffffffffffull) : "ft0");
    CHECK_EQ(r, 0x5f800000); /* 2^64 */
    CHECK_EQ(flags(), NX);
  }
  /* between formats */
  CHECK_EQ(DX1("fmv.x.d", 0), 0);
  {
    uint64_t r;
    __asm__ volatile("fmv.d.x ft0, %1\n\tfcvt.s.d ft1, ft0\n\tfmv.x.w %0, ft1"
                     : "=r"(r) : "r"(0x3fd5555555555555ull) : "ft0", "ft1");
    CHECK_EQ(r, 0x3eaaaaab);
    CHECK_EQ(flags(), NX);
    __asm__ volatile("fmv.w.x ft0, %1\n\tfcvt.d.s ft1, ft0\n\tfmv.x.d %0, ft1"
                     : "=r"(r) : "r"(0x3eaaaaabull) : "ft0", "ft1");
    CHECK_EQ(r, 0x3fd5555560000000ull);
    CHECK_EQ(flags(), 0);
    __asm__ volatile("fmv.d.x ft0, %1\n\tfcvt.s.d ft1, ft0\n\tfmv.x.w %0, ft1"
                     : "=r"(r) : "r"(0x7e37e43c8800759cull) : "ft0", "ft1"); /* 1e300 */
    CHECK_EQ(r, 0x7f800000);
    CHECK_EQ(flags(), OF | NX);
    __asm__ volatile("fmv.w.x ft0, %1\n\tfcvt.d.s ft1, ft0\n\tfmv.x.d %0, ft1"
                     : "=r"(r) : "r"(0x7f800001ull) : "ft0", "ft1"); /* signalling NaN */
    CHECK_EQ(r, QNAN);
    CHECK_EQ(flags(), NV);
  }

  /* fclass.d: one bit per class */
  CHECK_EQ(DX1("fclass.d", NINF), 1u << 0);
  CHECK_EQ(DX1("fclass.d", MONE), 1u << 1);
  CHECK_EQ(DX1("fclass.d", NZERO | 1), 1u << 2);
  CHECK_EQ(DX1("fclass.d", NZERO), 1u << 3);
  CHECK_EQ(DX1("fclass.d", PZERO), 1u << 4);
  CHECK_EQ(DX1("fclass.d", 0x000fffffffffffffull), 1u << 5);
  CHECK_EQ(DX1("fclass.d", ONE), 1u << 6);
  CHECK_EQ(DX1("fclass.d", PINF), 1u << 7);
  CHECK_EQ(DX1("fclass.d", SNAN), 1u << 8);
  CHECK_EQ(DX1("fclass.d", QNAN | NZERO), 1u << 9);
  CHECK_EQ(SX1("fclass.s", 0xff800000), 1u << 0);
  CHECK_EQ(SX1("fclass.s", 0x00000001), 1u << 5);
  CHECK_EQ(SX1("fclass.s", 0x7f800001), 1u << 8);
  CHECK_EQ(flags(), 0);

  /* fmin/fmax: -0 < +0, a quiet NaN operand is ignored, two NaNs give the
     canonical NaN, a signalling NaN raises NV */
  CHECK_EQ(D2("fmin.d", NZERO, PZERO), NZERO);
  CHECK_EQ(D2("fmin.d", PZERO, NZERO), NZERO);
  CHECK_EQ(D2("fmax.d", NZERO, PZERO), PZERO);
  CHECK_EQ(D2("fmax.d", PZERO, NZERO), PZERO);
  CHECK_EQ(D2("fmin.d", QNAN, ONE), ONE);
  CHECK_EQ(D2("fmax.d", MONE, QNAN), MONE);
  CHECK_EQ(flags(), 0);
  CHECK_EQ(D2("fmin.d", SNAN, ONE), ONE);
  CHECK_EQ(flags(), NV);
  CHECK_EQ(D2("fmax.d", 0x7ff8000000000123ull, QNAN | NZERO), QNAN);
  CHECK_EQ(D2("fmin.d", MONE, ONE), MONE);
  CHECK_EQ(D2("fmax.d", MONE, ONE), ONE);
  CHECK_EQ(S2("fmin.s", 0, 0x80000000), 0xffffffff80000000ull);
  CHECK_EQ(S2("fmax.s", 0x7fc00000, 0x3f800000), 0x3f800000);
  CHECK_EQ(flags(), 0);

  /* comparisons: feq is quiet, flt/fle signal on any NaN */
  CHECK_EQ(DX2("feq.d", QNAN, QNAN), 0);
  CHECK_EQ(flags(), 0);
  CHECK_EQ(DX2("feq.d", SNAN, ONE), 0);
  CHECK_EQ(flags(), NV);
  CHECK_EQ(DX2("flt.d", QNAN, ONE), 0);
  CHECK_EQ(flags(), NV);
  CHECK_EQ(DX2("fle.d", ONE, QNAN), 0);
  CHECK_EQ(flags(), NV);
  CHECK_EQ(DX2("feq.d", NZERO, PZERO), 1);
  CHECK_EQ(DX2("flt.d", NZERO, PZERO), 0);
  CHECK_EQ(DX2("fle.d", NZERO, PZERO), 1);
  CHECK_EQ(DX2("flt.d", MONE, ONE), 1);
  CHECK_EQ(DX2("fle.d", ONE, MONE), 0);
  CHECK_EQ(flags(), 0);

  /* sign injection (never raises flags, even on NaN) */
  CHECK_EQ(D2("fsgnj.d", ONE, MONE), MONE);
  CHECK_EQ(D2("fsgnjn.d", ONE, ONE), MONE);
  CHECK_EQ(D2("fsgnjx.d", MONE, MONE), ONE);
  CHECK_EQ(D2("fsgnjx.d", MONE, ONE), MONE);
  CHECK_EQ(D2("fsgnjn.d", SNAN, SNAN), SNAN | NZERO);
  CHECK_EQ(S2("fsgnjn.s", 0x3f800000, 0x3f800000), 0xffffffffbf800000ull);
  CHECK_EQ(flags(), 0);

  /* dynamic rounding with a reserved frm (5, 6, 7) is illegal */
  illegal_traps = 0;
  csr_write(frm, 7);
  __asm__ volatile("fadd.d ft0, ft0, ft0, dyn");
  csr_write(frm, 5);
  __asm__ volatile("fcvt.w.d a0, ft0, dyn" ::: "a0");
  csr_write(frm, 0);
  CHECK_EQ(illegal_traps, 2);
  /* ...but a static rounding mode still works with a reserved frm */
  csr_write(frm, 6);
  CHECK_EQ(D2RM("fadd.d", ONE, ONE, "rne"), TWO);
  CHECK_EQ(illegal_traps, 2);
  csr_write(frm, 0);
  return 0;
}
CHECKS_END();
