/* RV64C: the compiler emits compressed instructions throughout this
 * program (-march=rv64gc); rv64c_ops.S exercises each C form explicitly,
 * including those the compiler rarely picks (c.addi4spn, c.addi16sp, c.lui
 * with a negative immediate, c.fldsp/c.fsdsp, c.jalr's link = pc + 2). */
#include "guest.h"

uint64_t c_addi_li(uint64_t);
uint64_t c_addiw(uint64_t);
uint64_t c_sextw(uint64_t);
uint64_t c_lui_pos(void);
uint64_t c_lui_neg(void);
uint64_t c_shifts(uint64_t, uint64_t);
uint64_t c_srai(uint64_t);
uint64_t c_andi(uint64_t);
uint64_t c_alu(uint64_t, uint64_t);
uint64_t c_addw_subw(uint64_t, uint64_t, uint64_t *);
uint64_t c_loads(const void *);
void c_stores(void *, uint64_t, uint64_t);
uint64_t c_stack(uint64_t, uint64_t);
uint64_t c_fp(double *);
uint64_t c_branches(uint64_t, uint64_t);
uint64_t c_jalr_link(void);
uint64_t c_nop_mv(uint64_t);

static uint64_t buf[4] __attribute__((aligned(16)));
static double dbl[3];

/* Plain C that the compiler turns into compressed code; the result is
   checked against a hand-computed value. */
static __attribute__((noinline)) uint64_t mix(uint64_t *p, unsigned n) {
  uint64_t h = 0x9e3779b97f4a7c15ull;
  for (unsigned i = 0; i < n; i++) {
    h ^= p[i] + i;
    h = (h << 5) | (h >> 59);
  }
  return h;
}

int main(unsigned hartid) {
  if (hartid != 0) park();
  csr_set(mstatus, MSTATUS_FS_INITIAL);

  CHECK_EQ(c_addi_li(100), 99);
  CHECK_EQ(c_addiw(0x7fffffff), 0xffffffff80000000ull);
  CHECK_EQ(c_addiw(0xffffffff00000000ull), 1);
  CHECK_EQ(c_sextw(0x00000000deadbeefull), 0xffffffffdeadbeefull);
  CHECK_EQ(c_lui_pos(), 0x1f000);
  CHECK_EQ(c_lui_neg(), 0xfffffffffffe0000ull);
  CHECK_EQ(c_shifts(3, 0xf000000000000000ull), 0x800000000000000full);
  CHECK_EQ(c_srai(0x8000000000000000ull), 0xf800000000000000ull);
  CHECK_EQ(c_andi(0x12345678ffull), 0x12345678f0ull);
  {
    uint64_t a = 0xf0f0f0f0f0f0f0f0ull, b = 0x0123456789abcdefull;
    CHECK_EQ(c_alu(a, b), ((((a - b) ^ b) & a) | b));
  }
  {
    uint64_t diff = 0;
    CHECK_EQ(c_addw_subw(0x7fffffff, 1, &diff), 0xffffffff80000000ull);
    CHECK_EQ(diff, 0x7ffffffe);
    CHECK_EQ(c_addw_subw(0, 1, &diff), 1);
    CHECK_EQ(diff, ~0ull);
  }
  buf[0] = 0x80000000deadbeefull; /* word at +4 = 0x80000000 */
  buf[1] = 0x100;
  CHECK_EQ(c_loads(buf), 0x100 + 0xffffffff80000000ull);
  c_stores(buf, 0x1122334455667788ull, 0xaabbccdd);
  CHECK_EQ(buf[2], 0x1122334455667788ull);
  CHECK_EQ(buf[0], 0xaabbccdddeadbeefull);
  CHECK_EQ(c_stack(1000, 0x80000001), 1000 + 2 * 0xffffffff80000001ull);
  dbl[0] = 1.5;
  dbl[1] = 2.25;
  {
    uint64_t want;
    double sum = 3.75;
    __builtin_memcpy(&want, &sum, 8);
    CHECK_EQ(c_fp(dbl), want);
    CHECK(dbl[2] == 3.75);
  }
  CHECK_EQ(c_branches(0, 1), 7);
  CHECK_EQ(c_branches(5, 0), 4);
  CHECK_EQ(c_jalr_link(), 0);
  CHECK_EQ(c_nop_mv(21), 42);

  buf[0] = 1;
  buf[1] = 2;
  buf[2] = 3;
  buf[3] = 4;
  CHECK_EQ(mix(buf, 4), 0x9b97f4a7c1487797ull);
  return 0;
}
CHECKS_END();
