/* Litmus tests of the RISC-V memory model (RVWMO), run many times on pairs
 * of harts.
 *
 * Harts 2p and 2p+1 form pair p (role 0 and role 1; with an odd hart count
 * the last hart sits out). Every pair has its own shared locations x and y
 * (each on its own 64-byte line), so with more harts the pairs race
 * concurrently on separate variables. For each test a pair runs ITERS
 * iterations of:
 *
 *   pair_sync        both harts arrive (x = y = 0, reset by role 0 before)
 *   delay            a steered delay plus 0..7 random loop turns per hart
 *   test body        a few instructions of inline asm, one side per role
 *   pair_sync        both done; role 1's registers are in p->res[1]
 *   role 0           classifies the outcome, resets x and y
 *
 * pair_sync is a two-party barrier made of one generation counter per role
 * (fence rw,rw; store my counter; wait for the partner's; fence rw,rw), so
 * every iteration starts with both harts released at about the same moment.
 * "About": the hart that arrives last leaves first, the other only once it
 * sees the store. So role 0 steers the delays: when an outcome shows that
 * one role's body ran entirely before the other's (e.g. SB r0=0,r1=1), that
 * role gets one more delay turn next time (or its partner one less). The
 * pair settles where the two bodies overlap, which is where relaxed
 * outcomes can show.
 *
 * The shapes (x, y start at 0; "r0" etc. are the values the loads return):
 *   MP   role 0: x = 1; y = 1             role 1: ry = y; rx = x
 *        forbidden with ordering on both sides: ry = 1, rx = 0
 *   SB   role 0: x = 1; r0 = y            role 1: y = 1; r1 = x
 *        forbidden with store->load ordering on both sides: r0 = r1 = 0
 *   LB   role 0: r0 = x; y = 1            role 1: r1 = y; x = 1
 *        forbidden with load->store ordering on both sides: r0 = r1 = 1
 *   CoRR role 0: x = 1; x = 2             role 1: a = x; b = x
 *        forbidden always (coherence): b older than a, i.e. a > b
 *   2+2W role 0: x = 1; y = 2             role 1: y = 1; x = 2
 *        forbidden with w,w ordering on both sides: final x = 1 and y = 1
 * The ordering comes from fences (w,w and r,r; fence.tso; rw,rw; w,r;
 * r,w), from .aq/.rl annotations on AMOs and LR/SC, or from a data
 * dependency (tests[] below). Each test says which outcomes RVWMO forbids;
 * seeing one of those fails the program. The variants without ordering
 * are allowed to show the relaxed outcome: their counts are printed, never
 * checked. (SB+lr.aqrl found coremu's LR ignoring .rl: a plain host load
 * that an earlier store could pass in the x86-64 store buffer.)
 *
 * At the end hart 0 prints, per test, the count of every outcome summed
 * over all pairs, then checks the forbidden ones are all zero.
 *
 * How often relaxed outcomes show depends on the host, not only on the
 * emulator: with the two harts of a pair on two otherwise idle host CPUs
 * unordered SB gives r0=r1=0 in a few percent of the runs (coremu and
 * QEMU alike); on a busy host, where the two hart threads rarely run at
 * the same moment, the steering saturates and the counts can drop to 0.
 * The forbidden-outcome checks hold either way.
 */
#include "guest.h"

/* Iterations per test, split between the pairs: LITMUS_ITERS in all with
   up to 4 pairs, LITMUS_ITERS_MANY with more. With more harts than host
   CPUs a pair_sync often waits for a host context switch, so the budget
   shrinks as the pairs grow. At least MIN_ITERS per pair. */
#define LITMUS_ITERS 20000
#define LITMUS_ITERS_MANY 6400
#define MIN_ITERS 200

typedef struct {
  volatile uint64_t v;
  uint8_t pad[56];
} __attribute__((aligned(64))) line_t;

typedef struct {
  volatile uint64_t gen;     /* pair_sync generation reached by this role */
  volatile uint64_t delay1;  /* (role 0's line) role 1's delay, set by role 0 */
  uint8_t pad[48];
} __attribute__((aligned(64))) flag_t;

struct pair {
  flag_t flag[2]; /* pair_sync state, one line per role */
  line_t x, y;    /* the litmus locations (32-bit accesses to .v) */
  line_t res[2];  /* results of each role: first value | second << 16 */
};
static struct pair pairs[GUEST_MAX_HARTS / 2];

enum {
  MP_PLAIN,
  MP_FENCE,
  MP_FENCE_TSO,
  MP_AMO_RL_AQ,
  MP_LRSC_RL_AQ,
  SB_PLAIN,
  SB_FENCE_RWRW,
  SB_FENCE_WR,
  SB_AMO_AQRL,
  SB_LR_AQRL,
  LB_PLAIN,
  LB_FENCE_RW,
  LB_DATA_DEP,
  CORR,
  W22_PLAIN,
  W22_FENCE,
  NTESTS
};

enum shape { S_MP, S_SB, S_LB, S_CORR, S_22W };

struct test {
  const char *name;
  enum shape shape;
  uint16_t forbidden; /* bit k: outcome k is forbidden by RVWMO (0: none) */
};

/* Outcome numbering per shape (see classify()):
 *   MP:   (ry << 1) | rx          forbidden 0b10 = ry 1, rx 0
 *   SB:   (r0 << 1) | r1          forbidden 0b00
 *   LB:   (r0 << 1) | r1          forbidden 0b11
 *   CoRR: 3 * a + b (a, b 0..2)   forbidden a > b: 3 (1,0), 6 (2,0), 7 (2,1)
 *   2+2W: ((x - 1) << 1) | (y - 1) of the final values, forbidden 0 (1,1) */
#define OUT_MP_FORBIDDEN (1u << 2)
#define OUT_SB_FORBIDDEN (1u << 0)
#define OUT_LB_FORBIDDEN (1u << 3)
#define OUT_CORR_FORBIDDEN ((1u << 3) | (1u << 6) | (1u << 7))
#define OUT_22W_FORBIDDEN (1u << 0)

static const struct test tests[NTESTS] = {
    [MP_PLAIN] = {"MP (no ordering)", S_MP, 0},
    [MP_FENCE] = {"MP+fence.w.w+fence.r.r", S_MP, OUT_MP_FORBIDDEN},
    [MP_FENCE_TSO] = {"MP+fence.tso+fence.tso", S_MP, OUT_MP_FORBIDDEN},
    [MP_AMO_RL_AQ] = {"MP+amoswap.rl+amoor.aq", S_MP, OUT_MP_FORBIDDEN},
    [MP_LRSC_RL_AQ] = {"MP+sc.rl+lr.aq", S_MP, OUT_MP_FORBIDDEN},
    [SB_PLAIN] = {"SB (no ordering)", S_SB, 0},
    [SB_FENCE_RWRW] = {"SB+fence.rw.rw", S_SB, OUT_SB_FORBIDDEN},
    [SB_FENCE_WR] = {"SB+fence.w.r", S_SB, OUT_SB_FORBIDDEN},
    [SB_AMO_AQRL] = {"SB+amoswap.aqrl", S_SB, OUT_SB_FORBIDDEN},
    [SB_LR_AQRL] = {"SB+lr.aqrl", S_SB, OUT_SB_FORBIDDEN},
    [LB_PLAIN] = {"LB (no ordering)", S_LB, 0},
    [LB_FENCE_RW] = {"LB+fence.r.w", S_LB, OUT_LB_FORBIDDEN},
    [LB_DATA_DEP] = {"LB+data-dependency", S_LB, OUT_LB_FORBIDDEN},
    [CORR] = {"CoRR", S_CORR, OUT_CORR_FORBIDDEN},
    [W22_PLAIN] = {"2+2W (no ordering)", S_22W, 0},
    [W22_FENCE] = {"2+2W+fence.w.w", S_22W, OUT_22W_FORBIDDEN},
};

static const unsigned n_outcomes[] = {[S_MP] = 4, [S_SB] = 4, [S_LB] = 4, [S_CORR] = 9, [S_22W] = 4};
static const char *const outcome_names[][9] = {
    [S_MP] = {"ry=0,rx=0", "ry=0,rx=1", "ry=1,rx=0", "ry=1,rx=1"},
    [S_SB] = {"r0=0,r1=0", "r0=0,r1=1", "r0=1,r1=0", "r0=1,r1=1"},
    [S_LB] = {"r0=0,r1=0", "r0=0,r1=1", "r0=1,r1=0", "r0=1,r1=1"},
    [S_CORR] = {"a=0,b=0", "a=0,b=1", "a=0,b=2", "a=1,b=0", "a=1,b=1", "a=1,b=2", "a=2,b=0",
                "a=2,b=1", "a=2,b=2"},
    [S_22W] = {"x=1,y=1", "x=1,y=2", "x=2,y=1", "x=2,y=2"},
};

/* Outcome counts summed over the pairs (amoadd.d by each pair's role 0). */
static volatile uint64_t hist[NTESTS][9];
static volatile uint64_t iters_done[NTESTS];
static barrier_t bar;

static inline void fence_rw_rw(void) { __asm__ volatile("fence rw, rw" ::: "memory"); }

/* Two-party barrier: generation `gen` of the pair is reached when both
   roles have published it. Generations only grow, so ">=" is enough; the
   partner can be at most one generation ahead. */
static void pair_sync(struct pair *p, unsigned role, uint64_t gen) {
  fence_rw_rw();
  p->flag[role].gen = gen;
  wait_geq(&p->flag[role ^ 1].gen, gen);
  fence_rw_rw();
}

static uint64_t rng_next(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

static inline void spin_delay(unsigned turns) {
  for (unsigned i = 0; i < turns; i++) __asm__ volatile("" ::: "memory");
}

/* The test bodies. Each returns the values its role observed, packed as
   first | second << 16 (0 if the role only stores). x and y are 32-bit
   words; every access is a single instruction in the asm. */
static uint64_t body(unsigned t, unsigned role, struct pair *p) {
  volatile uint64_t *x = &p->x.v, *y = &p->y.v;
  uint64_t a = 0, b = 0, tmp;
  const uint64_t one = 1, two = 2;
  switch (t) {
    /* ---- MP: role 0 writes x then y; role 1 reads y then x ---- */
    case MP_PLAIN:
      if (role == 0)
        __asm__ volatile("sw %1, 0(%0)\n\tsw %1, 0(%2)" ::"r"(x), "r"(one), "r"(y) : "memory");
      else
        __asm__ volatile("lw %0, 0(%2)\n\tlw %1, 0(%3)" : "=&r"(a), "=&r"(b) : "r"(y), "r"(x) : "memory");
      break;
    case MP_FENCE:
      if (role == 0)
        __asm__ volatile("sw %1, 0(%0)\n\tfence w, w\n\tsw %1, 0(%2)" ::"r"(x), "r"(one), "r"(y)
                         : "memory");
      else
        __asm__ volatile("lw %0, 0(%2)\n\tfence r, r\n\tlw %1, 0(%3)"
                         : "=&r"(a), "=&r"(b)
                         : "r"(y), "r"(x)
                         : "memory");
      break;
    case MP_FENCE_TSO:
      if (role == 0)
        __asm__ volatile("sw %1, 0(%0)\n\tfence.tso\n\tsw %1, 0(%2)" ::"r"(x), "r"(one), "r"(y)
                         : "memory");
      else
        __asm__ volatile("lw %0, 0(%2)\n\tfence.tso\n\tlw %1, 0(%3)"
                         : "=&r"(a), "=&r"(b)
                         : "r"(y), "r"(x)
                         : "memory");
      break;
    case MP_AMO_RL_AQ:
      /* release on the flag store, acquire on the flag load; amoor with
         zero leaves y unchanged and returns it */
      if (role == 0)
        __asm__ volatile("sw %1, 0(%0)\n\tamoswap.w.rl zero, %1, (%2)" ::"r"(x), "r"(one), "r"(y)
                         : "memory");
      else
        __asm__ volatile("amoor.w.aq %0, zero, (%2)\n\tlw %1, 0(%3)"
                         : "=&r"(a), "=&r"(b)
                         : "r"(y), "r"(x)
                         : "memory");
      break;
    case MP_LRSC_RL_AQ:
      /* the flag store is an sc.w.rl (retried until it succeeds), the flag
         load an lr.w.aq */
      if (role == 0)
        __asm__ volatile("sw %2, 0(%1)\n"
                         "1:\tlr.w %0, (%3)\n\t"
                         "sc.w.rl %0, %2, (%3)\n\t"
                         "bnez %0, 1b"
                         : "=&r"(tmp)
                         : "r"(x), "r"(one), "r"(y)
                         : "memory");
      else
        __asm__ volatile("lr.w.aq %0, (%2)\n\tlw %1, 0(%3)"
                         : "=&r"(a), "=&r"(b)
                         : "r"(y), "r"(x)
                         : "memory");
      break;

    /* ---- SB: each role stores its location, then loads the other ---- */
    case SB_PLAIN:
      __asm__ volatile("sw %2, 0(%1)\n\tlw %0, 0(%3)"
                       : "=&r"(a)
                       : "r"(role ? y : x), "r"(one), "r"(role ? x : y)
                       : "memory");
      break;
    case SB_FENCE_RWRW:
      __asm__ volatile("sw %2, 0(%1)\n\tfence rw, rw\n\tlw %0, 0(%3)"
                       : "=&r"(a)
                       : "r"(role ? y : x), "r"(one), "r"(role ? x : y)
                       : "memory");
      break;
    case SB_FENCE_WR:
      __asm__ volatile("sw %2, 0(%1)\n\tfence w, r\n\tlw %0, 0(%3)"
                       : "=&r"(a)
                       : "r"(role ? y : x), "r"(one), "r"(role ? x : y)
                       : "memory");
      break;
    case SB_AMO_AQRL:
      __asm__ volatile("amoswap.w.aqrl zero, %2, (%1)\n\tlw %0, 0(%3)"
                       : "=&r"(a)
                       : "r"(role ? y : x), "r"(one), "r"(role ? x : y)
                       : "memory");
      break;

    case SB_LR_AQRL:
      /* the load is an lr.w.aqrl: its release half orders the store before
         it (what a seq_cst compare-and-swap after a store relies on) */
      __asm__ volatile("sw %2, 0(%1)\n\tlr.w.aqrl %0, (%3)"
                       : "=&r"(a)
                       : "r"(role ? y : x), "r"(one), "r"(role ? x : y)
                       : "memory");
      break;

    /* ---- LB: each role loads the other's location, then stores its own ---- */
    case LB_PLAIN:
      __asm__ volatile("lw %0, 0(%1)\n\tsw %2, 0(%3)"
                       : "=&r"(a)
                       : "r"(role ? y : x), "r"(one), "r"(role ? x : y)
                       : "memory");
      break;
    case LB_FENCE_RW:
      __asm__ volatile("lw %0, 0(%1)\n\tfence r, w\n\tsw %2, 0(%3)"
                       : "=&r"(a)
                       : "r"(role ? y : x), "r"(one), "r"(role ? x : y)
                       : "memory");
      break;
    case LB_DATA_DEP:
      /* the stored value (r ^ r) + 1 = 1 depends on the loaded one */
      __asm__ volatile("lw %0, 0(%2)\n\txor %1, %0, %0\n\taddi %1, %1, 1\n\tsw %1, 0(%3)"
                       : "=&r"(a), "=&r"(tmp)
                       : "r"(role ? y : x), "r"(role ? x : y)
                       : "memory");
      break;

    /* ---- CoRR: role 0 writes x = 1 then x = 2; role 1 reads x twice ---- */
    case CORR:
      if (role == 0)
        __asm__ volatile("sw %1, 0(%0)\n\tsw %2, 0(%0)" ::"r"(x), "r"(one), "r"(two) : "memory");
      else
        __asm__ volatile("lw %0, 0(%2)\n\tlw %1, 0(%2)" : "=&r"(a), "=&r"(b) : "r"(x) : "memory");
      break;

    /* ---- 2+2W: role 0 writes x = 1, y = 2; role 1 writes y = 1, x = 2 ---- */
    case W22_PLAIN:
      __asm__ volatile("sw %1, 0(%0)\n\tsw %3, 0(%2)" ::"r"(role ? y : x), "r"(one),
                       "r"(role ? x : y), "r"(two)
                       : "memory");
      break;
    case W22_FENCE:
      __asm__ volatile("sw %1, 0(%0)\n\tfence w, w\n\tsw %3, 0(%2)" ::"r"(role ? y : x), "r"(one),
                       "r"(role ? x : y), "r"(two)
                       : "memory");
      break;
  }
  return a | b << 16;
}

/* Outcome number of one iteration (role 0, after the second pair_sync). */
static unsigned classify(unsigned t, uint64_t res0, uint64_t res1, uint64_t fx, uint64_t fy) {
  uint64_t a0 = res0 & 0xffff, a1 = res1 & 0xffff, b1 = res1 >> 16;
  switch (tests[t].shape) {
    case S_MP:
      CHECK(a1 <= 1 && b1 <= 1);
      return (unsigned)(a1 << 1 | b1);
    case S_SB:
    case S_LB:
      CHECK(a0 <= 1 && a1 <= 1);
      return (unsigned)(a0 << 1 | a1);
    case S_CORR:
      CHECK(a1 <= 2 && b1 <= 2);
      CHECK_EQ(fx, 2); /* x = 2 is the last write in coherence order */
      return (unsigned)(3 * a1 + b1);
    case S_22W:
      CHECK(fx >= 1 && fx <= 2 && fy >= 1 && fy <= 2);
      return (unsigned)((fx - 1) << 1 | (fy - 1));
  }
  return 0;
}

/* Which role clearly ran its body first, judging by the outcome: +1 role 0,
   -1 role 1, 0 the bodies overlapped (or cannot tell). */
static int leader(unsigned t, unsigned o) {
  switch (tests[t].shape) {
    case S_MP: return o == 3 ? 1 : o == 0 ? -1 : 0;   /* writer first: ry=rx=1 */
    case S_SB:
    case S_LB: return o == 1 ? 1 : o == 2 ? -1 : 0;   /* r0=0,r1=1: role 0 first */
    case S_CORR: return o == 8 ? 1 : o == 0 ? -1 : 0; /* writer first: a=b=2 */
    case S_22W: return o == 2 ? 1 : o == 1 ? -1 : 0;  /* x=2,y=1: role 1 wrote last */
  }
  return 0;
}

#define MAX_SKEW 400 /* delay loop turns */
#define JITTER 8

static void run_pair(unsigned pair_index, unsigned role, unsigned iters) {
  struct pair *p = &pairs[pair_index];
  uint64_t gen = 0;
  uint64_t rng = 0x9e3779b97f4a7c15ull * (2 * pair_index + role + 1);
  /* Role 0 steers the start skew: whenever one role's body clearly ran
     before the other's, that role gets one more delay turn (or the other
     one less), so the pair settles where the bodies overlap. */
  int skew = 0; /* > 0: role 0 waits skew turns; < 0: role 1 waits -skew */
  for (unsigned t = 0; t < NTESTS; t++) {
    uint64_t local[9] = {0};
    for (unsigned i = 0; i < iters; i++) {
      if (role == 0) p->flag[0].delay1 = skew < 0 ? (uint64_t)-skew : 0;
      pair_sync(p, role, ++gen);
      unsigned delay = role == 0 ? (skew > 0 ? (unsigned)skew : 0) : (unsigned)p->flag[0].delay1;
      spin_delay(delay + (unsigned)(rng_next(&rng) % JITTER));
      uint64_t r = body(t, role, p);
      p->res[role].v = r;
      pair_sync(p, role, ++gen);
      if (role == 0) {
        unsigned o = classify(t, p->res[0].v, p->res[1].v, p->x.v, p->y.v);
        local[o]++;
        skew += leader(t, o);
        if (skew > MAX_SKEW) skew = MAX_SKEW;
        if (skew < -MAX_SKEW) skew = -MAX_SKEW;
        p->x.v = 0;
        p->y.v = 0;
      }
    }
    if (role == 0) {
      for (unsigned o = 0; o < 9; o++)
        if (local[o])
          __asm__ volatile("amoadd.d zero, %0, (%1)" ::"r"(local[o]), "r"(&hist[t][o]) : "memory");
      __asm__ volatile("amoadd.d zero, %0, (%1)" ::"r"((uint64_t)iters), "r"(&iters_done[t])
                       : "memory");
    }
  }
}

static void report(unsigned t) {
  const struct test *T = &tests[t];
  uart_puts("litmus ");
  uart_puts(T->name);
  uart_puts(": ");
  uart_putdec(iters_done[t]);
  uart_puts(" runs:");
  for (unsigned o = 0; o < n_outcomes[T->shape]; o++) {
    uart_puts(" ");
    uart_puts(outcome_names[T->shape][o]);
    uart_puts(":");
    uart_putdec(hist[t][o]);
    if ((T->forbidden >> o) & 1) uart_puts("(forbidden)");
  }
  if (!T->forbidden) {
    /* the relaxed outcome RVWMO allows here */
    unsigned relaxed = T->shape == S_MP ? 2 : T->shape == S_SB ? 0 : T->shape == S_LB ? 3 : 0;
    uart_puts(" -> relaxed ");
    uart_puts(outcome_names[T->shape][relaxed]);
    uart_puts(" seen ");
    uart_putdec(hist[t][relaxed]);
    uart_puts(" times (allowed)");
  }
  uart_puts("\n");
}

int main(unsigned hartid) {
  unsigned n = guest_smp_init();
  unsigned npairs = n / 2;
  unsigned budget = npairs <= 4 ? LITMUS_ITERS : LITMUS_ITERS_MANY;
  unsigned iters = npairs ? budget / npairs : 0;
  if (npairs && iters < MIN_ITERS) iters = MIN_ITERS;
  uint64_t start = mtime();
  barrier_wait(&bar, n);
  if (hartid / 2 < npairs) run_pair(hartid / 2, hartid % 2, iters);
  barrier_wait(&bar, n);
  if (hartid != 0) return 0;

  uint64_t ticks = mtime() - start;
  print_lock();
  uart_puts("litmus: ");
  uart_putdec(n);
  uart_puts(" harts, ");
  uart_putdec(npairs);
  uart_puts(" pairs x ");
  uart_putdec(iters);
  uart_puts(" iterations per test, ");
  uart_putdec(ticks / (TIMEBASE_HZ / 1000));
  uart_puts(" ms\n");
  for (unsigned t = 0; t < NTESTS; t++) report(t);
  print_unlock();

  for (unsigned t = 0; t < NTESTS; t++) {
    CHECK_EQ(iters_done[t], (uint64_t)npairs * iters);
    uint64_t bad = 0;
    for (unsigned o = 0; o < 9; o++)
      if ((tests[t].forbidden >> o) & 1) bad += hist[t][o];
    if (bad) {
      print_lock();
      uart_puts("FAIL: forbidden outcome of ");
      uart_puts(tests[t].name);
      uart_puts(" seen ");
      uart_putdec(bad);
      uart_puts(" times\n");
      print_unlock();
    }
    CHECK_EQ(bad, 0);
  }
  return 0;
}
CHECKS_END();
