/* Self-modifying and cross-modifying code, with fence.i.
 *
 * 1. Self-modifying code (every hart at once, each in its own 256-byte code
 *    area in .bss, 16 harts to a page): the hart copies smc_tmpl (below) into its area. Each
 *    round it rewrites the instruction at the template's `site`, which it
 *    executed in the previous round, to `addi a0, a0, OLD`, executes
 *    fence.i and calls the copy. The copy runs `site` in a loop n1 times,
 *    then itself stores `addi a0, a0, NEW` over `site` (which it has just
 *    been executing), executes fence.i and runs the loop n2 more times:
 *    the result must be n1 * OLD + n2 * NEW.
 * 2. Cross-modifying code, hart pairs (2p writer, 2p+1 executor; an odd
 *    last hart sits out), two placements of the code:
 *    a. a slot at the start of a .bss page of the pair's own, which holds
 *       no other code (with XMC_SHARED_DATA_PAGE: 64-byte slots, 64
 *       pairs to a page; see below);
 *    b. a 16-byte slot per pair on the .text page xmc_page, which both
 *       harts execute every round (the writer calls xmc_touch, the
 *       executor xmc_enter, both on that page), so decoded blocks of the
 *       page are live in both harts when the slot is rewritten.
 *    Round r: the writer waits until the executor has finished round r-1,
 *    writes a new function "return K(r)" into the slot, fence rw,rw, and
 *    publishes r in a flag. The executor waits for the flag, fence rw,rw,
 *    fence.i, calls the slot and checks it got K(r), then acknowledges.
 *    The function changes form with the round (r mod 3), so the length of
 *    the code at the slot changes too:
 *      0: c.li a0, K; c.jr ra                    (4 bytes, K in -30..30)
 *      1: addi a0, zero, K; jalr zero, 0(ra)     (8 bytes, K in 100..1999)
 *      2: lui a0, hi; addiw a0, a0, lo; jalr zero, 0(ra)
 *                                                (12 bytes, K >= 0x10000)
 *    The value ranges are disjoint, and K changes every round, so code left
 *    over from an earlier round gives a wrong K.
 *
 * The instruction words are computed in C by the enc_* functions below
 * (field layouts in their comments); at start the program checks them
 * against the same instructions assembled by binutils (enc_ref).
 *
 * Why one data page per pair: QEMU 7.2 loses cross-modifying code when
 * several pairs share the data page. Now and then an executor runs the
 * code of the previous round after fence.i, and from then on every round
 * of that pair is stale (seen on 4 and 8 harts every few dozen runs on a
 * loaded host, and within a few runs with `taskset -c 0`; never with a
 * page per pair, nor on the text page, which both harts keep executing).
 * It looks like a store racing with another vCPU's translation on the
 * same page leaves the storing vCPU's TLB entry without QEMU's write
 * protection for code. The smc_shared build (XMC_SHARED_DATA_PAGE) keeps
 * the shared layout and runs on coremu only.
 */
#include "guest.h"

/* Self-modifying rounds: SMC_ROUNDS split between the harts, at most
   SMC_MAX_ROUNDS and at least SMC_MIN_ROUNDS per hart. (QEMU slows down a
   lot when many harts rewrite code on shared pages.) */
#define SMC_ROUNDS 8000
#define SMC_MAX_ROUNDS 4000
#define SMC_MIN_ROUNDS 100
/* Cross-modifying rounds per placement, split between the pairs:
   XMC_ROUNDS in all with up to 4 pairs, XMC_ROUNDS_MANY with more (every
   round is two hand-overs between the harts of a pair, each of which may
   wait for a host context switch, and QEMU's code invalidation grows with
   the hart count), at least XMC_MIN_ROUNDS per pair. */
#define XMC_ROUNDS 4000
#define XMC_ROUNDS_MANY 1600
#define XMC_MIN_ROUNDS 50
#define SMC_AREA_WORDS 64   /* 256 bytes of code per hart */
#ifdef XMC_SHARED_DATA_PAGE
#define XMC_DATA_WORDS 16   /* placement a: 64 bytes per pair, pairs share pages */
#else
#define XMC_DATA_WORDS 1024 /* placement a: a 4 KiB page per pair */
#endif
#define XMC_TEXT_WORDS 4    /* 16 bytes per pair (placement b) */

/* ---- encodings (RV64I base formats, C extension CI/CR formats) ---- */
enum { REG_ZERO = 0, REG_RA = 1, REG_A0 = 10 };

/* I-type: imm[11:0] << 20 | rs1 << 15 | funct3 << 12 | rd << 7 | opcode */
static uint32_t enc_i(uint32_t opcode, unsigned rd, unsigned funct3, unsigned rs1, int32_t imm) {
  return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | funct3 << 12 | rd << 7 | opcode;
}
/* addi rd, rs1, imm: OP-IMM (0x13), funct3 0 */
static uint32_t enc_addi(unsigned rd, unsigned rs1, int32_t imm) { return enc_i(0x13, rd, 0, rs1, imm); }
/* addiw rd, rs1, imm: OP-IMM-32 (0x1b), funct3 0 */
static uint32_t enc_addiw(unsigned rd, unsigned rs1, int32_t imm) { return enc_i(0x1b, rd, 0, rs1, imm); }
/* jalr rd, imm(rs1): JALR (0x67), funct3 0; ret = jalr zero, 0(ra) = 0x00008067 */
static uint32_t enc_jalr(unsigned rd, unsigned rs1, int32_t imm) { return enc_i(0x67, rd, 0, rs1, imm); }
/* U-type lui rd, imm20: imm20 << 12 | rd << 7 | LUI (0x37) */
static uint32_t enc_lui(unsigned rd, uint32_t imm20) { return (imm20 & 0xfffff) << 12 | rd << 7 | 0x37; }
/* CI c.li rd, imm6: funct3 010 << 13 | imm[5] << 12 | rd << 7 | imm[4:0] << 2 | op 01 */
static uint16_t enc_c_li(unsigned rd, int32_t imm) {
  uint32_t u = (uint32_t)imm & 0x3f;
  return (uint16_t)(2u << 13 | (u >> 5) << 12 | rd << 7 | (u & 0x1f) << 2 | 1);
}
/* CR c.jr rs1: funct4 1000 << 12 | rs1 << 7 | rs2 (0) << 2 | op 10; c.jr ra = 0x8082 */
static uint16_t enc_c_jr(unsigned rs1) { return (uint16_t)(8u << 12 | rs1 << 7 | 2); }

/* Writes "return k" in the given form (see the top) to the slot; returns
   the number of 32-bit words written. lui+addiw: hi = (k + 0x800) >> 12
   rounds so that the sign-extended low 12 bits lo = k - (hi << 12) make it
   up again. */
static unsigned gen_return_const(volatile uint32_t *slot, unsigned form, int32_t k) {
  switch (form) {
    case 0:
      slot[0] = (uint32_t)enc_c_li(REG_A0, k) | (uint32_t)enc_c_jr(REG_RA) << 16;
      return 1;
    case 1:
      slot[0] = enc_addi(REG_A0, REG_ZERO, k);
      slot[1] = enc_jalr(REG_ZERO, REG_RA, 0);
      return 2;
    default: {
      int64_t hi = ((int64_t)k + 0x800) >> 12;
      int32_t lo = (int32_t)((int64_t)k - (hi << 12));
      slot[0] = enc_lui(REG_A0, (uint32_t)hi);
      slot[1] = enc_addiw(REG_A0, REG_A0, lo);
      slot[2] = enc_jalr(REG_ZERO, REG_RA, 0);
      return 3;
    }
  }
}

/* The value round r of pair p must return; see the ranges at the top. */
static unsigned round_form(unsigned r) { return r % 3; }
static int32_t round_value(unsigned p, unsigned r) {
  switch (round_form(r)) {
    case 0: return (int32_t)((r + p) % 61) - 30;
    case 1: return 100 + (int32_t)((r * 7 + p) % 1900);
    default: return 0x10000 + (int32_t)(r * 4099u + p * 977u) % 0x7fef0000;
  }
}

/* ---- code the program runs and copies ---- */
extern const uint32_t enc_ref[];
extern uint32_t smc_tmpl[], smc_tmpl_site[], smc_tmpl_end[];
extern uint32_t xmc_page[], xmc_slots[], xmc_page_end[];
uint64_t xmc_touch(uint64_t v);
uint64_t xmc_enter(volatile uint32_t *slot);

__asm__(
    /* Reference encodings from the assembler, never executed. */
    "  .section .rodata.enc_ref, \"a\", @progbits\n"
    "  .balign 4\n"
    "  .option push\n"
    "  .option norvc\n"
    "enc_ref:\n"
    "  addi a0, zero, -3\n"
    "  addi a0, zero, 1999\n"
    "  addiw a0, a0, -2048\n"
    "  lui a0, 0x8000f\n"
    "  ret\n"
    "  .option rvc\n"
    "  c.li a0, -30\n"
    "  c.li a0, 17\n"
    "  c.jr ra\n"
    "  c.jr ra\n"
    "  .option pop\n"

    /* uint64_t smc_tmpl(uint64_t acc, uint32_t insn, uint64_t n1, uint64_t n2)
       Runs the instruction at smc_tmpl_site (addi a0, a0, imm) n1 times,
       stores insn over it, fence.i, runs it n2 more times; returns a0.
       Position independent (only pc-relative references), no compressed
       instructions, no linker relaxation: it is copied and run elsewhere. */
    "  .section .text.smc_tmpl, \"ax\", @progbits\n"
    "  .balign 4\n"
    "  .option push\n"
    "  .option norvc\n"
    "  .option norelax\n"
    "  .globl smc_tmpl, smc_tmpl_site, smc_tmpl_end\n"
    "smc_tmpl:\n"
    "  li t2, 0\n"
    "1:\n"
    "smc_tmpl_site:\n"
    "  addi a0, a0, 0\n"
    "  addi a2, a2, -1\n"
    "  bnez a2, 1b\n"
    "  bnez t2, 2f\n"
    "  li t2, 1\n"
    "  mv a2, a3\n"
    "  lla t1, smc_tmpl_site\n"
    "  sw a1, 0(t1)\n"
    "  fence.i\n"
    "  j 1b\n"
    "2:\n"
    "  ret\n"
    "smc_tmpl_end:\n"
    "  .option pop\n"

    /* One page of code that both harts of every pair execute, with the
       placement-b slots on it. */
    "  .section .text.xmc_page, \"ax\", @progbits\n"
    "  .balign 4096\n"
    "  .globl xmc_page, xmc_touch, xmc_enter, xmc_slots, xmc_page_end\n"
    "xmc_page:\n"
    /* uint64_t xmc_touch(uint64_t v): v + 1 (the writer runs it every round) */
    "xmc_touch:\n"
    "  addi a0, a0, 1\n"
    "  ret\n"
    /* uint64_t xmc_enter(slot): fence.i, then tail-calls the slot */
    "xmc_enter:\n"
    "  fence.i\n"
    "  jr a0\n"
    "  .balign 64\n"
    "xmc_slots:\n"
    "  .rept " CSR_STR(GUEST_MAX_HARTS) " / 2\n"
    "  .option push\n"
    "  .option norvc\n"
    "  li a0, 0\n"
    "  ret\n"
    "  nop\n"
    "  nop\n"
    "  .option pop\n"
    "  .endr\n"
    "xmc_page_end:\n"
    "  .text\n");

static uint32_t smc_area[GUEST_MAX_HARTS][SMC_AREA_WORDS] __attribute__((aligned(256)));
static uint32_t xmc_data[GUEST_MAX_HARTS / 2][XMC_DATA_WORDS] __attribute__((aligned(4096)));

typedef struct {
  volatile uint64_t v;
  uint8_t pad[56];
} __attribute__((aligned(64))) line_t;
static line_t xmc_flag[GUEST_MAX_HARTS / 2], xmc_ack[GUEST_MAX_HARTS / 2];
static barrier_t bar;
static volatile uint64_t smc_calls, xmc_rounds_done[2];

static inline void fence_rw_rw(void) { __asm__ volatile("fence rw, rw" ::: "memory"); }
static inline void fence_i(void) { __asm__ volatile("fence.i" ::: "memory"); }

static void check_encoders(void) {
  CHECK_EQ(enc_ref[0], enc_addi(REG_A0, REG_ZERO, -3));
  CHECK_EQ(enc_ref[1], enc_addi(REG_A0, REG_ZERO, 1999));
  CHECK_EQ(enc_ref[2], enc_addiw(REG_A0, REG_A0, -2048));
  CHECK_EQ(enc_ref[3], enc_lui(REG_A0, 0x8000f));
  CHECK_EQ(enc_ref[4], enc_jalr(REG_ZERO, REG_RA, 0));
  CHECK_EQ(enc_ref[4], 0x00008067);
  CHECK_EQ(enc_ref[5], (uint32_t)enc_c_li(REG_A0, -30) | (uint32_t)enc_c_li(REG_A0, 17) << 16);
  CHECK_EQ(enc_ref[6], (uint32_t)enc_c_jr(REG_RA) | (uint32_t)enc_c_jr(REG_RA) << 16);
  CHECK_EQ(enc_c_jr(REG_RA), 0x8082);
  /* the template's site holds the addi the C side writes */
  CHECK_EQ(*smc_tmpl_site, enc_addi(REG_A0, REG_A0, 0));
  /* the placement-b slots and the code that runs them share one page */
  CHECK((uintptr_t)xmc_page % 4096 == 0);
  CHECK((uintptr_t)xmc_page_end - (uintptr_t)xmc_page <= 4096);
  CHECK((uintptr_t)xmc_slots - (uintptr_t)xmc_page < 4096);
  CHECK_EQ((uintptr_t)xmc_page_end - (uintptr_t)xmc_slots, 16 * (GUEST_MAX_HARTS / 2));
}

/* ---- 1. self-modifying code ---- */
static void run_smc(unsigned hartid, unsigned rounds) {
  unsigned words = (unsigned)(smc_tmpl_end - smc_tmpl);
  CHECK(words <= SMC_AREA_WORDS);
  uint32_t *area = smc_area[hartid];
  for (unsigned i = 0; i < words; i++) ((volatile uint32_t *)area)[i] = smc_tmpl[i];
  volatile uint32_t *site = area + (smc_tmpl_site - smc_tmpl);
  uint64_t (*fn)(uint64_t, uint64_t, uint64_t, uint64_t) =
      (uint64_t(*)(uint64_t, uint64_t, uint64_t, uint64_t))(uintptr_t)area;
  for (unsigned r = 1; r <= rounds; r++) {
    /* old and new differ, and both differ from the previous round's new */
    int32_t old_imm = (int32_t)((r * 5 + hartid) % 1000) - 500;
    int32_t new_imm = old_imm + 1 + (int32_t)(r % 7);
    uint64_t n1 = 1 + r % 5, n2 = 1 + (r / 5) % 5;
    *site = enc_addi(REG_A0, REG_A0, old_imm);
    fence_i();
    uint64_t got = fn(0, enc_addi(REG_A0, REG_A0, new_imm), n1, n2);
    CHECK_EQ(got, (uint64_t)((int64_t)n1 * old_imm + (int64_t)n2 * new_imm));
    /* the copy left NEW at the site */
    CHECK_EQ(*site, enc_addi(REG_A0, REG_A0, new_imm));
  }
  __asm__ volatile("amoadd.d zero, %0, (%1)" ::"r"((uint64_t)rounds), "r"(&smc_calls) : "memory");
}

/* ---- 2. cross-modifying code ---- */
/* Placement 0 (a): data page; 1 (b): the shared .text page. `seq` numbers
   the rounds of the pair across both placements. */
static void run_xmc(unsigned pair, unsigned role, unsigned placement, unsigned rounds, uint64_t *seq) {
  volatile uint32_t *slot = placement == 0 ? xmc_data[pair] : xmc_slots + XMC_TEXT_WORDS * pair;
  for (unsigned r = 1; r <= rounds; r++) {
    uint64_t s = ++*seq;
    int32_t k = round_value(pair, r);
    if (role == 0) {
      wait_geq(&xmc_ack[pair].v, s - 1); /* the executor is done with the slot */
      if (placement == 1) CHECK_EQ(xmc_touch(s), s + 1);
      gen_return_const(slot, round_form(r), k);
      fence_rw_rw();
      xmc_flag[pair].v = s;
    } else {
      wait_geq(&xmc_flag[pair].v, s);
      fence_rw_rw();
      uint64_t got;
      if (placement == 0) {
        fence_i();
        got = ((uint64_t(*)(void))(uintptr_t)slot)();
      } else {
        got = xmc_enter(slot); /* fence.i on the page, then the slot */
      }
      if (got != (uint64_t)(int64_t)k) {
        print_lock();
        uart_puts("smc: pair ");
        uart_putdec(pair);
        uart_puts(placement == 0 ? " data page" : " text page");
        uart_puts(" round ");
        uart_putdec(r);
        uart_puts(": stale code?\n");
        print_unlock();
      }
      CHECK_EQ(got, (uint64_t)(int64_t)k);
      fence_rw_rw();
      xmc_ack[pair].v = s;
    }
  }
  if (role == 1)
    __asm__ volatile("amoadd.d zero, %0, (%1)" ::"r"((uint64_t)rounds), "r"(&xmc_rounds_done[placement])
                     : "memory");
}

int main(unsigned hartid) {
  unsigned n = guest_smp_init();
  unsigned npairs = n / 2;
  unsigned rounds = npairs ? (npairs <= 4 ? XMC_ROUNDS : XMC_ROUNDS_MANY) / npairs : 0;
  if (npairs && rounds < XMC_MIN_ROUNDS) rounds = XMC_MIN_ROUNDS;
  unsigned smc_rounds = SMC_ROUNDS / n;
  if (smc_rounds > SMC_MAX_ROUNDS) smc_rounds = SMC_MAX_ROUNDS;
  if (smc_rounds < SMC_MIN_ROUNDS) smc_rounds = SMC_MIN_ROUNDS;
  if (hartid == 0) check_encoders();
  barrier_wait(&bar, n);

  uint64_t t0 = mtime();
  run_smc(hartid, smc_rounds);
  barrier_wait(&bar, n);
  uint64_t t1 = mtime();
  uint64_t seq = 0;
  if (hartid / 2 < npairs) run_xmc(hartid / 2, hartid % 2, 0, rounds, &seq);
  barrier_wait(&bar, n);
  uint64_t t2 = mtime();
  if (hartid / 2 < npairs) run_xmc(hartid / 2, hartid % 2, 1, rounds, &seq);
  barrier_wait(&bar, n);
  uint64_t t3 = mtime();
  if (hartid != 0) return 0;

  CHECK_EQ(smc_calls, (uint64_t)n * smc_rounds);
  CHECK_EQ(xmc_rounds_done[0], (uint64_t)npairs * rounds);
  CHECK_EQ(xmc_rounds_done[1], (uint64_t)npairs * rounds);
  print_lock();
  uart_puts("smc: ");
  uart_putdec(n);
  uart_puts(" harts x ");
  uart_putdec(smc_rounds);
  uart_puts(" self-modifying rounds (2 patches + fence.i each): ok, ");
  uart_putdec((t1 - t0) / (TIMEBASE_HZ / 1000));
  uart_puts(" ms\nsmc: ");
  uart_putdec(npairs);
  uart_puts(" pairs x ");
  uart_putdec(rounds);
#ifdef XMC_SHARED_DATA_PAGE
  uart_puts(" cross-modifying rounds: on a data page shared by the pairs ok, ");
#else
  uart_puts(" cross-modifying rounds: on a data page per pair ok, ");
#endif
  uart_putdec((t2 - t1) / (TIMEBASE_HZ / 1000));
  uart_puts(" ms; on an executed text page ok, ");
  uart_putdec((t3 - t2) / (TIMEBASE_HZ / 1000));
  uart_puts(" ms\n");
  print_unlock();
  return 0;
}
CHECKS_END();
