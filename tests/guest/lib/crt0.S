/* Start-up code for the COREMU guest test programs.
 *
 * Every hart enters at _start in M-mode with a0 = mhartid and a1 = the
 * device tree address (QEMU's and coremu's reset ROM both do this). Each
 * hart gets its own stack and M/S trap stacks indexed by mhartid; hart 0
 * clears .bss once and records the device tree pointer while the others
 * wait; then every hart checks in (amoadd on guest_harts_arrived) and calls
 * guest_start(hartid) in guest.c, which calls main(hartid).
 */
#include "guest_asm.h"

  .section .text.init, "ax", @progbits
  .globl _start
_start:
  .option push
  .option norelax
  la gp, __global_pointer$
  .option pop
  csrw mie, zero
  la t0, early_trap
  csrw mtvec, t0
  /* PMP entry 0: NAPOT over the whole address space, RWX, so that S and U
     mode may access memory (no PMP entry matching = no access for S/U). */
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0

  csrr t0, mhartid
  li t1, GUEST_MAX_HARTS
  bgeu t0, t1, park               /* no stack for this hart: park it */

  /* sp = top of this hart's stack; mscratch/sscratch = its trap stacks */
  addi t1, t0, 1
  slli t1, t1, GUEST_STACK_SHIFT
  la sp, __stacks_start
  add sp, sp, t1
  addi t1, t0, 1
  slli t1, t1, GUEST_TRAP_STACK_SHIFT
  la t2, __mtrap_stacks_start
  add t2, t2, t1
  csrw mscratch, t2
  la t2, __strap_stacks_start
  add t2, t2, t1
  csrw sscratch, t2

  bnez t0, wait_for_bss
  /* hart 0: clear .bss, publish the device tree pointer, release the others */
  la t1, __bss_start
  la t2, __bss_end
1:
  bgeu t1, t2, 2f
  sd zero, 0(t1)
  addi t1, t1, 8
  j 1b
2:
  la t1, guest_fdt
  sd a1, 0(t1)
  fence rw, rw
  la t1, guest_bss_ready
  li t2, 1
  sw t2, 0(t1)
  j checked_in

wait_for_bss:
  la t1, guest_bss_ready
1:
  lw t2, 0(t1)
  bnez t2, 2f
  PAUSE
  j 1b
2:
  fence r, rw

checked_in:
  la t1, guest_harts_arrived
  li t2, 1
  amoadd.w zero, t2, (t1)
  csrr a0, mhartid
  call guest_start
park:
  csrw mie, zero
1:
  wfi
  j 1b

/* Traps before the C runtime is up, or with no handler installed: report
   through the finisher with code 251. */
  .balign 4
early_trap:
  li t0, 0x100000
  li t1, (251 << 16) | 0x3333
  sw t1, 0(t0)
1:
  j 1b

  .data
  .balign 8
  .globl guest_bss_ready
guest_bss_ready:
  .word 0
  .word 0
