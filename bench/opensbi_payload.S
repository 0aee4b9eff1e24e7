/* Benchmark payload for the OpenSBI boot workload: a tiny S-mode "kernel"
 * that OpenSBI's fw_jump (or fw_dynamic) starts at 0x80200000 on the boot
 * hart (a0 = hartid, a1 = device tree). It prints one line on the UART, so
 * that bench/run.sh can tell a real boot from an early exit, and asks
 * OpenSBI to power off through the SBI System Reset extension (SRST,
 * EID 0x53525354, FID 0, type 0 = shutdown, reason 0 = none); OpenSBI
 * then writes the virt board's test finisher and the emulator exits 0.
 * If the call returns, the payload fails the run through the finisher
 * itself with code 3. Built with bench/payload.ld (linked at 0x80200000). */
  .section .text.init, "ax", @progbits
  .globl _start
_start:
  la a2, message
  li a3, 0x10000000          /* NS16550A UART */
1:
  lbu a4, 0(a2)
  beqz a4, 3f
2:
  lbu a5, 5(a3)              /* LSR: wait for THR empty */
  andi a5, a5, 0x20
  beqz a5, 2b
  sb a4, 0(a3)
  addi a2, a2, 1
  j 1b
3:
  li a7, 0x53525354          /* SRST */
  li a6, 0                   /* sbi_system_reset */
  li a0, 0                   /* shutdown */
  li a1, 0                   /* no reason */
  ecall
  li a3, 0x100000            /* still here: fail with code 3 */
  li a4, (3 << 16) | 0x3333
  sw a4, 0(a3)
4:
  wfi
  j 4b

  .section .rodata
message:
  .asciz "bench: opensbi payload reached, shutting down through SBI SRST\r\n"
