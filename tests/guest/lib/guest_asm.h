/* Constants shared by the assembly runtime and the C support code. */
#ifndef GUEST_ASM_H
#define GUEST_ASM_H

#define GUEST_MAX_HARTS 256
#define GUEST_STACK_SHIFT 14       /* 16 KiB main stack per hart (link.ld) */
#define GUEST_TRAP_STACK_SHIFT 12  /* 4 KiB M and S trap stacks per hart (link.ld) */

/* Trap frame layout (struct trap_frame in guest.h): x0..x31, then CSRs. */
#define TF_X(n) ((n) * 8)
#define TF_EPC (32 * 8)
#define TF_CAUSE (33 * 8)
#define TF_TVAL (34 * 8)
#define TF_STATUS (35 * 8)
#define TF_SIZE (36 * 8)

/* a7 value of the ecall that guest_mode_return makes to get back to M-mode */
#define GUEST_ECALL_EXIT 0x45584954

/* Zihintpause "pause" (a fence hint: a no-op where not implemented). */
#define PAUSE .4byte 0x0100000f

#endif
