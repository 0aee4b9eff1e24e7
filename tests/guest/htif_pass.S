/* HTIF exit in the riscv-tests style: the program defines `tohost` and
 * `fromhost` in a .tohost section and ends by writing (code << 1) | 1 to
 * tohost (1 = pass). Built twice: htif_pass (code 0, one 64-bit sd, so the
 * emulator exits 0) and htif_fail3 (-DHTIF_EXIT_CODE=3, written like
 * riscv-tests' RVTEST_FAIL as two 32-bit stores, low word then high word,
 * so the emulator exits 3). QEMU's virt board has no HTIF: coremu only.
 * Harts other than 0 park. */
#ifndef HTIF_EXIT_CODE
#define HTIF_EXIT_CODE 0
#endif

  .section .text.init, "ax", @progbits
  .globl _start
_start:
  csrr a0, mhartid
  bnez a0, park
  la t0, tohost
  li t1, (HTIF_EXIT_CODE << 1) | 1
#if HTIF_EXIT_CODE == 0
  sd t1, 0(t0)
#else
  sw t1, 0(t0)
  sw zero, 4(t0)
#endif
1:
  j 1b
park:
  wfi
  j park

  .section .tohost, "aw", @progbits
  .balign 64
  .globl tohost
tohost:
  .dword 0
  .balign 64
  .globl fromhost
fromhost:
  .dword 0
