# The guest test runs: add_guest_test(<elf> <harts> [EXIT <code>] [COREMU_ONLY | SLOW])
# (defined in tests/guest/CMakeLists.txt). Every run is
#   <emulator> -M virt -bios none -nographic -smp <harts> -kernel <elf>.elf
# and must exit with <code> (default 0 = the finisher's pass).
# All runs without COREMU_ONLY pass on qemu-system-riscv64 7.2
# (scripts/run-guests-on-qemu.sh; SLOW=1 adds the SLOW ones).

# Single-hart programs (they park any extra harts).
foreach(p rv64i rv64m rv64a rv64fd rv64c bitmanip traps interrupts uart paging pmp)
  add_guest_test(${p} 1)
endforeach()
add_guest_test(rv64i 4)
add_guest_test(pmp_subpage 1 COREMU_ONLY)

# SMP programs: the hart count comes from the device tree, so one ELF runs
# with any -smp. On 2 host cores QEMU takes 0.3-1 s with 64 harts and 2-4 s
# with 255 (SLOW).
foreach(p smp_amo smp_lrsc smp_ipi demo)
  add_guest_test(${p} 1)
  add_guest_test(${p} 4)
  add_guest_test(${p} 64)
  add_guest_test(${p} 255 SLOW)
endforeach()
add_guest_test(demo 2)
add_guest_test(demo 8)

# Memory-model litmus tests (litmus.c) and self-/cross-modifying code with
# fence.i (smc.c): harts 2p and 2p+1 form a pair, and the pairs run at
# once on separate variables, so more harts race more pairs. On 2 host
# cores each run takes well under a second on coremu and QEMU, except
# smc on 64 harts on QEMU (about 10 s: SLOW). smc on 1 hart runs only the
# self-modifying part. smc_shared puts all pairs' cross-modifying code on
# one data page, which QEMU 7.2 gets wrong now and then (see smc.c), so it
# runs on coremu only.
foreach(h 2 4 8)
  add_guest_test(litmus ${h})
  add_guest_test(smc ${h})
endforeach()
add_guest_test(litmus 64)
add_guest_test(smc 1)
add_guest_test(smc 64 SLOW)
add_guest_test(smc_shared 4 COREMU_ONLY)
add_guest_test(smc_shared 8 COREMU_ONLY)

# A data race on a plain counter (race.c): passes whatever it loses; the
# record/replay tests (tests/CMakeLists.txt) debug it.
add_guest_test(race 1)
add_guest_test(race 4)

# HTIF (riscv-tests convention): QEMU's virt board has no HTIF, so these only
# run on coremu. htif_pass writes tohost = 1 -> exit 0; htif_fail3 writes
# tohost = (3 << 1) | 1 -> exit 3.
add_guest_test(htif_pass 1 COREMU_ONLY)
add_guest_test(htif_fail3 1 EXIT 3 COREMU_ONLY)

# The benchmark guests check their own results (every lock-protected and
# every atomic increment counted exactly): at 4, 64 and 255 harts, with their
# default work sizes (well under a second each on coremu).
foreach(p bench_spinlock bench_atomic)
  add_guest_test(${p} 4)
  add_guest_test(${p} 64)
  add_guest_test(${p} 255)
endforeach()
