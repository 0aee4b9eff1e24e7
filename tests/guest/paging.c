/* Sv39 and Sv48 in S-mode, with page tables built here: an identity
 * mapping of devices and RAM through gigapages, 4 KiB pages at a high
 * virtual address (0xffffffffc0000000), load/store/fetch page faults
 * delegated to S (causes 13/15/12, stval = the faulting address), A and D
 * set by the hardware (QEMU 7.2 does, like coremu), SUM, MXR, MPRV,
 * misaligned superpages and reserved W-without-R PTEs, non-canonical
 * addresses, sfence.vma after PTE changes, and satp's WARL MODE field. */
#include "guest.h"

#define PTE_V 0x01
#define PTE_R 0x02
#define PTE_W 0x04
#define PTE_X 0x08
#define PTE_U 0x10
#define PTE_G 0x20
#define PTE_A 0x40
#define PTE_D 0x80
#define SATP_SV39 (8ull << 60)
#define SATP_SV48 (9ull << 60)

#define HI 0xffffffffc0000000ull     /* l1_hi[0] -> l0_hi: 4 KiB pages */
#define PAGE(i) (HI + 4096ull * (i))
#define MEGA(i) (HI + (2ull << 20) * (i)) /* l1_hi[i]: 2 MiB entries */

enum { P_AD, P_RO, P_NOX, P_CODE, P_USER, P_XONLY, P_REMAP, P_INVALID, NPAGES };

static uint64_t root[512] __attribute__((aligned(4096)));
static uint64_t l1_hi[512] __attribute__((aligned(4096)));
static uint64_t l0_hi[512] __attribute__((aligned(4096)));
static uint64_t root48[512] __attribute__((aligned(4096)));
static uint8_t pages[NPAGES + 1][4096] __attribute__((aligned(4096)));

static uint64_t pte(const void *pa, uint64_t flags) {
  return (((uint64_t)(uintptr_t)pa >> 12) << 10) | flags;
}
static uint64_t *word(int page) { return (uint64_t *)(void *)pages[page]; }

static volatile uint64_t s_n, s_cause, s_tval, s_epc;
static volatile uint64_t m_n, m_cause, m_tval;

int handle_s_trap(struct trap_frame *f) {
  if (f->cause & CAUSE_INTR) return 0;
  s_n++;
  s_cause = f->cause;
  s_tval = f->tval;
  s_epc = f->epc;
  if (f->cause == CAUSE_INSN_PAGE)
    f->epc = f->x[1]; /* fetch faults come from calls: back to the caller */
  else
    trap_skip(f);
  return 1;
}

int handle_m_trap(struct trap_frame *f) { /* faults taken in M (MPRV) */
  if (f->cause != CAUSE_LOAD_PAGE && f->cause != CAUSE_STORE_PAGE) return 0;
  m_n++;
  m_cause = f->cause;
  m_tval = f->tval;
  trap_skip(f);
  return 1;
}

static void clear(void) { s_n = s_cause = s_tval = s_epc = m_n = m_cause = m_tval = 0; }

/* ---- S-mode bodies ---- */
static uint64_t s_load(uint64_t va) {
  uint64_t v = 0xdeadull;
  __asm__ volatile("ld %0, 0(%1)" : "+r"(v) : "r"(va) : "memory");
  return v;
}
static volatile uint64_t store_value;
static uint64_t s_store(uint64_t va) {
  __asm__ volatile("sd %0, 0(%1)" ::"r"(store_value), "r"(va) : "memory");
  return 1;
}
static uint64_t s_call(uint64_t va) { return ((uint64_t(*)(void))(uintptr_t)va)(); }
static uint64_t s_sfence_all_load(uint64_t va) {
  __asm__ volatile("sfence.vma" ::: "memory");
  return s_load(va);
}
static uint64_t s_sfence_va_load(uint64_t va) {
  __asm__ volatile("sfence.vma %0, zero" ::"r"(va) : "memory");
  return s_load(va);
}
static uint64_t s_read_satp(uint64_t arg) { return csr_read(satp); }

static uint64_t pte_flags(int i) { return l0_hi[i] & 0xff; }

static void set_satp(uint64_t v) {
  csr_write(satp, v);
  __asm__ volatile("sfence.vma" ::: "memory");
}

int main(unsigned hartid) {
  if (hartid != 0) park();

  /* ---- the tables ---- */
  root[0] = pte((void *)0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);  /* devices */
  root[2] = pte((void *)DRAM_BASE, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | PTE_G);
  root[511] = pte(l1_hi, PTE_V);
  l1_hi[0] = pte(l0_hi, PTE_V);
  /* l1_hi[1]: invalid. [2]: a megapage whose PPN is not 2 MiB aligned.
     [3]: W without R (reserved). */
  l1_hi[2] = pte(pages[P_AD], PTE_V | PTE_R | PTE_A | PTE_D);
  l1_hi[3] = pte(pages[P_AD], PTE_V | PTE_W | PTE_A | PTE_D);
  l0_hi[P_AD] = pte(pages[P_AD], PTE_V | PTE_R | PTE_W);
  l0_hi[P_RO] = pte(pages[P_RO], PTE_V | PTE_R | PTE_A | PTE_D);
  l0_hi[P_NOX] = pte(pages[P_NOX], PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  l0_hi[P_CODE] = pte(pages[P_CODE], PTE_V | PTE_R | PTE_X | PTE_A);
  l0_hi[P_USER] = pte(pages[P_USER], PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D);
  l0_hi[P_XONLY] = pte(pages[P_XONLY], PTE_V | PTE_X | PTE_A);
  l0_hi[P_REMAP] = pte(pages[P_REMAP], PTE_V | PTE_R | PTE_A);
  l0_hi[P_INVALID] = pte(pages[P_INVALID], PTE_R | PTE_W | PTE_A | PTE_D); /* V = 0 */
  for (int i = 0; i < NPAGES + 1; i++) word(i)[0] = 0x1000 + i;
  word(P_AD)[1] = 0xad;
  word(P_USER)[1] = 0x5005; /* word 0 holds code */
  /* code page: li a0, 42; ret */
  ((volatile uint32_t *)(void *)pages[P_CODE])[0] = 0x02a00513;
  ((volatile uint32_t *)(void *)pages[P_CODE])[1] = 0x00008067;
  ((volatile uint32_t *)(void *)pages[P_USER])[0] = 0x02a00513;
  ((volatile uint32_t *)(void *)pages[P_USER])[1] = 0x00008067;
  __asm__ volatile("fence.i" ::: "memory");

  csr_write(stvec, (uint64_t)(uintptr_t)s_trap_vector);
  csr_write(medeleg, (1u << CAUSE_INSN_PAGE) | (1u << CAUSE_LOAD_PAGE) | (1u << CAUSE_STORE_PAGE));
  csr_clear(mstatus, MSTATUS_SUM | MSTATUS_MXR | MSTATUS_MPRV);

  /* ---- satp: unsupported modes are ignored ---- */
  set_satp(0);
  csr_write(satp, (3ull << 60) | 0x1234);
  CHECK_EQ(csr_read(satp), 0);
  set_satp(SATP_SV39 | ((uint64_t)(uintptr_t)root >> 12));
  CHECK_EQ(csr_read(satp), SATP_SV39 | ((uint64_t)(uintptr_t)root >> 12));
  CHECK_EQ(guest_enter_mode(PRIV_S, s_read_satp, 0), csr_read(satp));

  /* ---- identity gigapages work, a high 4 KiB page maps elsewhere ---- */
  clear();
  {
    static volatile uint64_t probe = 0x5151;
    CHECK_EQ(guest_enter_mode(PRIV_S, s_load, (uint64_t)(uintptr_t)&probe), 0x5151);
  }
  CHECK_EQ(guest_enter_mode(PRIV_S, s_load, PAGE(P_RO)), 0x1000 + P_RO);
  CHECK_EQ(guest_enter_mode(PRIV_S, s_load, PAGE(P_AD) + 8), 0xad);
  CHECK_EQ(s_n, 0);

  /* ---- A and D are set by the hardware ---- */
  CHECK_EQ(pte_flags(P_AD) & (PTE_A | PTE_D), PTE_A);
  store_value = 0x600d;
  guest_enter_mode(PRIV_S, s_store, PAGE(P_AD) + 16);
  CHECK_EQ(pte_flags(P_AD) & (PTE_A | PTE_D), PTE_A | PTE_D);
  CHECK_EQ(word(P_AD)[2], 0x600d);
  CHECK_EQ(s_n, 0);

  /* ---- page faults: stval = the virtual address ---- */
  clear();
  CHECK_EQ(guest_enter_mode(PRIV_S, s_load, PAGE(P_INVALID) + 24), 0xdead);
  CHECK_EQ(s_cause, CAUSE_LOAD_PAGE);
  CHECK_EQ(s_tval, PAGE(P_INVALID) + 24);
  clear();
  guest_enter_mode(PRIV_S, s_store, PAGE(P_INVALID));
  CHECK_EQ(s_cause, CAUSE_STORE_PAGE);
  CHECK_EQ(s_tval, PAGE(P_INVALID));
  clear();
  store_value = 1;
  guest_enter_mode(PRIV_S, s_store, PAGE(P_RO) + 8); /* read-only */
  CHECK_EQ(s_cause, CAUSE_STORE_PAGE);
  CHECK_EQ(s_tval, PAGE(P_RO) + 8);
  CHECK_EQ(word(P_RO)[1], 0);
  clear();
  guest_enter_mode(PRIV_S, s_load, MEGA(1)); /* l1 entry invalid */
  CHECK_EQ(s_cause, CAUSE_LOAD_PAGE);
  CHECK_EQ(s_tval, MEGA(1));
  clear();
  guest_enter_mode(PRIV_S, s_load, MEGA(2) + 0x1238); /* misaligned superpage */
  CHECK_EQ(s_cause, CAUSE_LOAD_PAGE);
  CHECK_EQ(s_tval, MEGA(2) + 0x1238);
  clear();
  guest_enter_mode(PRIV_S, s_load, MEGA(3)); /* W without R */
  CHECK_EQ(s_cause, CAUSE_LOAD_PAGE);
  clear();
  guest_enter_mode(PRIV_S, s_load, 0x0000004000000000ull); /* not sign-extended */
  CHECK_EQ(s_cause, CAUSE_LOAD_PAGE);
  CHECK_EQ(s_tval, 0x0000004000000000ull);
  clear();
  guest_enter_mode(PRIV_S, s_load, 0x40000000ull); /* root[1]: invalid */
  CHECK_EQ(s_cause, CAUSE_LOAD_PAGE);
  CHECK_EQ(s_tval, 0x40000000ull);
  /* fetch: executable page runs, non-executable page faults */
  clear();
  CHECK_EQ(guest_enter_mode(PRIV_S, s_call, PAGE(P_CODE)), 42);
  CHECK_EQ(s_n, 0);
  guest_enter_mode(PRIV_S, s_call, PAGE(P_NOX));
  CHECK_EQ(s_cause, CAUSE_INSN_PAGE);
  CHECK_EQ(s_tval, PAGE(P_NOX));
  CHECK_EQ(s_epc, PAGE(P_NOX));
  clear();
  guest_enter_mode(PRIV_S, s_call, MEGA(1) + 0x40);
  CHECK_EQ(s_cause, CAUSE_INSN_PAGE);
  CHECK_EQ(s_tval, MEGA(1) + 0x40);

  /* ---- SUM: S may touch U pages only with SUM, and never execute them ---- */
  clear();
  guest_enter_mode(PRIV_S, s_load, PAGE(P_USER));
  CHECK_EQ(s_cause, CAUSE_LOAD_PAGE);
  CHECK_EQ(s_tval, PAGE(P_USER));
  clear();
  csr_set(mstatus, MSTATUS_SUM);
  CHECK_EQ(guest_enter_mode(PRIV_S, s_load, PAGE(P_USER) + 8), 0x5005);
  CHECK_EQ(s_n, 0);
  guest_enter_mode(PRIV_S, s_call, PAGE(P_USER));
  CHECK_EQ(s_cause, CAUSE_INSN_PAGE);
  CHECK_EQ(s_tval, PAGE(P_USER));
  csr_clear(mstatus, MSTATUS_SUM);

  /* ---- MXR: execute-only pages become readable ---- */
  clear();
  guest_enter_mode(PRIV_S, s_load, PAGE(P_XONLY));
  CHECK_EQ(s_cause, CAUSE_LOAD_PAGE);
  clear();
  csr_set(mstatus, MSTATUS_MXR);
  CHECK_EQ(guest_enter_mode(PRIV_S, s_load, PAGE(P_XONLY)), 0x1000 + P_XONLY);
  CHECK_EQ(s_n, 0);
  csr_clear(mstatus, MSTATUS_MXR);

  /* ---- MPRV: M-mode loads translated as S (or U) ---- */
  clear();
  {
    uint64_t v = 0;
    csr_clear(mstatus, MSTATUS_MPP);
    csr_set(mstatus, MSTATUS_MPP_S);
    __asm__ volatile("csrs mstatus, %1\n\tld %0, 0(%2)\n\tcsrc mstatus, %1"
                     : "=&r"(v) : "r"(MSTATUS_MPRV), "r"(PAGE(P_RO)) : "memory");
    CHECK_EQ(v, 0x1000 + P_RO);
    CHECK_EQ(m_n, 0);
    csr_clear(mstatus, MSTATUS_MPP); /* MPP = U: a non-U page faults, in M */
    v = 0x77;
    __asm__ volatile("csrs mstatus, %1\n\tld %0, 0(%2)\n\tcsrc mstatus, %1"
                     : "+r"(v) : "r"(MSTATUS_MPRV), "r"(PAGE(P_RO)) : "memory");
    CHECK_EQ(m_n, 1);
    CHECK_EQ(m_cause, CAUSE_LOAD_PAGE);
    CHECK_EQ(m_tval, PAGE(P_RO));
    CHECK_EQ(s_n, 0);
    CHECK_EQ(v, 0x77);
    CHECK_EQ(csr_read(mstatus) & MSTATUS_MPRV, 0);
  }

  /* ---- sfence.vma after changing a PTE ---- */
  clear();
  CHECK_EQ(guest_enter_mode(PRIV_S, s_load, PAGE(P_REMAP)), 0x1000 + P_REMAP);
  l0_hi[P_REMAP] = pte(pages[NPAGES], PTE_V | PTE_R | PTE_A);
  CHECK_EQ(guest_enter_mode(PRIV_S, s_sfence_all_load, PAGE(P_REMAP)), 0x1000 + NPAGES);
  l0_hi[P_REMAP] = pte(pages[P_REMAP], PTE_V | PTE_R | PTE_A);
  CHECK_EQ(guest_enter_mode(PRIV_S, s_sfence_va_load, PAGE(P_REMAP)), 0x1000 + P_REMAP);
  l0_hi[P_REMAP] = 0;
  CHECK_EQ(guest_enter_mode(PRIV_S, s_sfence_va_load, PAGE(P_REMAP)), 0xdead);
  CHECK_EQ(s_cause, CAUSE_LOAD_PAGE);
  CHECK_EQ(s_tval, PAGE(P_REMAP));

  /* ---- Sv48: the Sv39 root serves as a level-2 table ---- */
  root48[0] = pte(root, PTE_V);
  root48[0xff] = pte(root, PTE_V);
  set_satp(SATP_SV48 | ((uint64_t)(uintptr_t)root48 >> 12));
  if ((csr_read(satp) >> 60) == 9) {
    clear();
    /* in Sv48, VA 0x7fc0000000 is root48[0] -> root[511] -> l1_hi -> l0_hi */
    CHECK_EQ(guest_enter_mode(PRIV_S, s_load, 0x7fc0000000ull + 4096 * P_RO), 0x1000 + P_RO);
    /* vpn3 = 0xff: the RAM gigapage again, 0x7f8000000000 higher */
    CHECK_EQ(guest_enter_mode(PRIV_S, s_load, 0x7f8000000000ull + (uint64_t)(uintptr_t)word(P_AD)),
             0x1000 + P_AD);
    CHECK_EQ(s_n, 0);
    /* HI is canonical in Sv48 but root48[511] is empty */
    guest_enter_mode(PRIV_S, s_load, PAGE(P_RO));
    CHECK_EQ(s_cause, CAUSE_LOAD_PAGE);
    CHECK_EQ(s_tval, PAGE(P_RO));
    clear();
    guest_enter_mode(PRIV_S, s_load, 0x0000800000000000ull); /* not sign-extended from bit 47 */
    CHECK_EQ(s_cause, CAUSE_LOAD_PAGE);
  } else {
    uart_puts("paging: Sv48 not supported, skipped\n");
  }

  set_satp(0);
  csr_write(medeleg, 0);
  return 0;
}
CHECKS_END();
