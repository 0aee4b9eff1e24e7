/* Small functions written with explicit compressed (RVC) instructions, one
 * or a few C forms each, called from rv64c.c. Arguments in a0..a2, result
 * in a0; every function returns with c.jr ra. */
  .option rvc
  .text

  .globl c_addi_li
c_addi_li:            /* a0 = a0 + 31 - 32: c.addi, c.li */
  c.addi a0, 31
  c.li a1, -32
  c.add a0, a1
  c.jr ra

  .globl c_addiw
c_addiw:              /* a0 = sext32(a0 + 1) */
  c.addiw a0, 1
  c.jr ra

  .globl c_sextw
c_sextw:              /* c.addiw with 0 is sext.w */
  c.addiw a0, 0
  c.jr ra

  .globl c_lui_pos
c_lui_pos:
  c.lui a0, 0x1f      /* 0x1f000 */
  c.jr ra

  .globl c_lui_neg
c_lui_neg:
  c.lui a0, 0xfffe0   /* sign-extended: -32 << 12 */
  c.jr ra

  .globl c_shifts
c_shifts:             /* returns (a0 << 63) | ((a1 >>u 60)) ; a2 >>s 63 into a2 ignored */
  c.slli a0, 63
  c.srli a1, 60
  c.or a0, a1
  c.jr ra

  .globl c_srai
c_srai:
  c.srai a0, 4
  c.jr ra

  .globl c_andi
c_andi:
  c.andi a0, -16
  c.jr ra

  .globl c_alu
c_alu:                /* ((a0 - a1) ^ a1) & a0 | a1, all in x8..x15 */
  c.mv a3, a0
  c.sub a3, a1
  c.xor a3, a1
  c.and a3, a0
  c.or a3, a1
  c.mv a0, a3
  c.jr ra

  .globl c_addw_subw
c_addw_subw:          /* returns sext32(a0 + a1) and stores sext32(a0 - a1) at (a2) */
  c.mv a3, a0
  c.subw a3, a1
  c.sd a3, 0(a2)
  c.addw a0, a1
  c.jr ra

  .globl c_loads
c_loads:              /* a0 = pointer to 16 bytes: returns ld(8) + lw(4) (sign-extended) */
  c.ld a1, 8(a0)
  c.lw a2, 4(a0)
  c.add a1, a2
  c.mv a0, a1
  c.jr ra

  .globl c_stores
c_stores:             /* a0 = pointer: *(u64*)(a0+16) = a1, *(u32*)(a0+4) = a2 */
  c.sd a1, 16(a0)
  c.sw a2, 4(a0)
  c.jr ra

  .globl c_stack
c_stack:              /* spill a0/a1 through the stack with the SP forms */
  c.addi16sp sp, -64
  c.sdsp a0, 8(sp)
  c.swsp a1, 20(sp)
  c.ldsp a2, 8(sp)
  c.lwsp a3, 20(sp)
  c.addi4spn a4, sp, 16   /* a4 = sp + 16 */
  c.lw a5, 4(a4)          /* = the word at sp + 20 */
  c.add a2, a3
  c.add a2, a5
  c.addi16sp sp, 64
  c.mv a0, a2
  c.jr ra

  .globl c_fp
c_fp:                 /* a0 = pointer to two doubles: returns bits of p[0] + p[1], stores it at p[2] */
  c.fld fa0, 0(a0)
  c.fld fa1, 8(a0)
  fadd.d fa0, fa0, fa1
  c.fsd fa0, 16(a0)
  c.addi16sp sp, -32
  c.fsdsp fa0, 8(sp)
  c.fldsp fa2, 8(sp)
  c.addi16sp sp, 32
  fmv.x.d a0, fa2
  c.jr ra

  .globl c_branches
c_branches:           /* returns bit 0: a0 == 0 (c.beqz), bit 1: a1 != 0 (c.bnez), bit 2 via c.j */
  c.li a2, 0
  c.bnez a0, 1f
  c.addi a2, 1
1:
  c.beqz a1, 2f
  c.addi a2, 2
2:
  c.j 3f
  c.li a2, 0            /* skipped */
3:
  c.addi a2, 4
  c.mv a0, a2
  c.jr ra

  .globl c_jalr_link
c_jalr_link:          /* returns 0 if c.jalr links to its own address + 2 */
  c.mv a5, ra
  la a1, 1f
  c.jalr a1
2:
  c.j 2b                /* never reached */
1:
  la a0, 2b
  sub a0, ra, a0
  c.mv ra, a5
  c.jr ra

  .globl c_nop_mv
c_nop_mv:
  c.nop
  c.mv a1, a0
  c.add a0, a1
  c.jr ra
