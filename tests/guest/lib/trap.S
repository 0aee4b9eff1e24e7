/* Trap entry and exit for M and S mode, a vectored mtvec table, and
 * guest_enter_mode(), which runs a function in S or U mode and comes back.
 *
 * m_trap_vector: swaps sp with mscratch (the hart's M trap stack), saves all
 * registers and mepc/mcause/mtval/mstatus in a struct trap_frame, calls
 * guest_m_trap(frame) in guest.c, then writes back mepc and mstatus from the
 * frame (so a handler may change where and in which mode it returns) and all
 * registers including sp, and returns with mret. s_trap_vector is the same
 * with the S CSRs, sscratch and sret.
 */
#include "guest_asm.h"

.macro SAVE_REGS scratch
  csrrw sp, \scratch, sp
  addi sp, sp, -TF_SIZE
  sd x1, TF_X(1)(sp)
  sd x3, TF_X(3)(sp)
  sd x4, TF_X(4)(sp)
  sd x5, TF_X(5)(sp)
  sd x6, TF_X(6)(sp)
  sd x7, TF_X(7)(sp)
  sd x8, TF_X(8)(sp)
  sd x9, TF_X(9)(sp)
  sd x10, TF_X(10)(sp)
  sd x11, TF_X(11)(sp)
  sd x12, TF_X(12)(sp)
  sd x13, TF_X(13)(sp)
  sd x14, TF_X(14)(sp)
  sd x15, TF_X(15)(sp)
  sd x16, TF_X(16)(sp)
  sd x17, TF_X(17)(sp)
  sd x18, TF_X(18)(sp)
  sd x19, TF_X(19)(sp)
  sd x20, TF_X(20)(sp)
  sd x21, TF_X(21)(sp)
  sd x22, TF_X(22)(sp)
  sd x23, TF_X(23)(sp)
  sd x24, TF_X(24)(sp)
  sd x25, TF_X(25)(sp)
  sd x26, TF_X(26)(sp)
  sd x27, TF_X(27)(sp)
  sd x28, TF_X(28)(sp)
  sd x29, TF_X(29)(sp)
  sd x30, TF_X(30)(sp)
  sd x31, TF_X(31)(sp)
  csrr t0, \scratch
  sd t0, TF_X(2)(sp)
  sd zero, TF_X(0)(sp)
.endm

.macro RESTORE_REGS scratch
  ld t0, TF_X(2)(sp)
  csrw \scratch, t0
  ld x1, TF_X(1)(sp)
  ld x3, TF_X(3)(sp)
  ld x4, TF_X(4)(sp)
  ld x5, TF_X(5)(sp)
  ld x6, TF_X(6)(sp)
  ld x7, TF_X(7)(sp)
  ld x8, TF_X(8)(sp)
  ld x9, TF_X(9)(sp)
  ld x10, TF_X(10)(sp)
  ld x11, TF_X(11)(sp)
  ld x12, TF_X(12)(sp)
  ld x13, TF_X(13)(sp)
  ld x14, TF_X(14)(sp)
  ld x15, TF_X(15)(sp)
  ld x16, TF_X(16)(sp)
  ld x17, TF_X(17)(sp)
  ld x18, TF_X(18)(sp)
  ld x19, TF_X(19)(sp)
  ld x20, TF_X(20)(sp)
  ld x21, TF_X(21)(sp)
  ld x22, TF_X(22)(sp)
  ld x23, TF_X(23)(sp)
  ld x24, TF_X(24)(sp)
  ld x25, TF_X(25)(sp)
  ld x26, TF_X(26)(sp)
  ld x27, TF_X(27)(sp)
  ld x28, TF_X(28)(sp)
  ld x29, TF_X(29)(sp)
  ld x30, TF_X(30)(sp)
  ld x31, TF_X(31)(sp)
  addi sp, sp, TF_SIZE
  csrrw sp, \scratch, sp
.endm

  .text
  .balign 4
  .globl m_trap_vector
m_trap_vector:
  SAVE_REGS mscratch
  csrr t0, mepc
  sd t0, TF_EPC(sp)
  csrr t0, mcause
  sd t0, TF_CAUSE(sp)
  csrr t0, mtval
  sd t0, TF_TVAL(sp)
  csrr t0, mstatus
  sd t0, TF_STATUS(sp)
  mv a0, sp
  call guest_m_trap
  ld t0, TF_EPC(sp)
  csrw mepc, t0
  ld t0, TF_STATUS(sp)
  csrw mstatus, t0
  RESTORE_REGS mscratch
  mret

  .balign 4
  .globl s_trap_vector
s_trap_vector:
  SAVE_REGS sscratch
  csrr t0, sepc
  sd t0, TF_EPC(sp)
  csrr t0, scause
  sd t0, TF_CAUSE(sp)
  csrr t0, stval
  sd t0, TF_TVAL(sp)
  csrr t0, sstatus
  sd t0, TF_STATUS(sp)
  mv a0, sp
  call guest_s_trap
  ld t0, TF_EPC(sp)
  csrw sepc, t0
  ld t0, TF_STATUS(sp)
  csrw sstatus, t0
  RESTORE_REGS sscratch
  sret

/* Vectored mtvec table (mtvec = m_vector_table | 1): slot 0 takes the
   exceptions, slot n interrupt n. Each interrupt slot records n in
   guest_last_vector_slot[hartid] (per hart, kept simple: slots store to the
   hart-indexed array using two temporaries saved on the trap stack) and
   continues at m_trap_vector. */
.macro VSLOT n
m_vslot_\n:
  csrrw sp, mscratch, sp
  sd t0, -8(sp)
  sd t1, -16(sp)
  csrr t0, mhartid
  slli t0, t0, 3
  la t1, guest_last_vector_slot
  add t1, t1, t0
  li t0, \n
  sd t0, 0(t1)
  ld t0, -8(sp)
  ld t1, -16(sp)
  csrrw sp, mscratch, sp
  j m_trap_vector
.endm

  .balign 256
  .globl m_vector_table
  .option push
  .option norvc       /* each slot must be exactly 4 bytes */
m_vector_table:
  j m_vslot_0
  j m_vslot_1
  j m_vslot_2
  j m_vslot_3
  j m_vslot_4
  j m_vslot_5
  j m_vslot_6
  j m_vslot_7
  j m_vslot_8
  j m_vslot_9
  j m_vslot_10
  j m_vslot_11
  j m_vslot_12
  j m_vslot_13
  j m_vslot_14
  j m_vslot_15
  .option pop
  VSLOT 0
  VSLOT 1
  VSLOT 2
  VSLOT 3
  VSLOT 4
  VSLOT 5
  VSLOT 6
  VSLOT 7
  VSLOT 8
  VSLOT 9
  VSLOT 10
  VSLOT 11
  VSLOT 12
  VSLOT 13
  VSLOT 14
  VSLOT 15

/* uint64_t guest_enter_mode(unsigned mode, uint64_t (*fn)(uint64_t), uint64_t arg)
   From M-mode: runs fn(arg) in `mode` (0 = U, 1 = S) with the current stack
   and returns fn's result, back in M-mode. fn returns to guest_mode_return,
   which does an ecall with a7 = GUEST_ECALL_EXIT; guest_m_trap answers that
   by returning to guest_mode_resume in M-mode (see guest.c). Needs mtvec =
   m_trap_vector (or the vectored table). */
  .globl guest_enter_mode
guest_enter_mode:
  addi sp, sp, -112
  sd ra, 0(sp)
  sd s0, 8(sp)
  sd s1, 16(sp)
  sd s2, 24(sp)
  sd s3, 32(sp)
  sd s4, 40(sp)
  sd s5, 48(sp)
  sd s6, 56(sp)
  sd s7, 64(sp)
  sd s8, 72(sp)
  sd s9, 80(sp)
  sd s10, 88(sp)
  sd s11, 96(sp)
  csrr t0, mhartid
  slli t0, t0, 3
  la t1, guest_mode_sp
  add t1, t1, t0
  sd sp, 0(t1)
  li t0, 0x1800
  csrc mstatus, t0
  andi a0, a0, 3
  slli a0, a0, 11
  csrs mstatus, a0
  csrw mepc, a1
  mv a0, a2
  la ra, guest_mode_return
  mret

  .globl guest_mode_return
guest_mode_return:
  li a7, GUEST_ECALL_EXIT
  ecall
1:
  j 1b

  .globl guest_mode_resume
guest_mode_resume:
  csrr t0, mhartid
  /* the trap stacks may have been abandoned: reset both scratch registers */
  addi t1, t0, 1
  slli t1, t1, GUEST_TRAP_STACK_SHIFT
  la t2, __mtrap_stacks_start
  add t2, t2, t1
  csrw mscratch, t2
  la t2, __strap_stacks_start
  add t2, t2, t1
  csrw sscratch, t2
  slli t0, t0, 3
  la t1, guest_mode_sp
  add t1, t1, t0
  ld sp, 0(t1)
  ld ra, 0(sp)
  ld s0, 8(sp)
  ld s1, 16(sp)
  ld s2, 24(sp)
  ld s3, 32(sp)
  ld s4, 40(sp)
  ld s5, 48(sp)
  ld s6, 56(sp)
  ld s7, 64(sp)
  ld s8, 72(sp)
  ld s9, 80(sp)
  ld s10, 88(sp)
  ld s11, 96(sp)
  addi sp, sp, 112
  ret
