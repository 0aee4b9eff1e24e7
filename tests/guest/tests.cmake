# The guest test runs: add_guest_test(<elf> <harts> [EXIT <code>] [COREMU_ONLY])
# (defined in tests/guest/CMakeLists.txt). Every run is
#   <emulator> -M virt -bios none -nographic -smp <harts> -kernel <elf>.elf
# and must exit with <code> (default 0 = the finisher's pass).
# All runs without COREMU_ONLY are validated on qemu-system-riscv64 7.2 by
# scripts/run-guests-on-qemu.sh.

# Single-hart programs (they park any extra harts).
foreach(p rv64i rv64m rv64a rv64fd rv64c bitmanip traps interrupts uart paging)
  add_guest_test(${p} 1)
endforeach()
add_guest_test(rv64i 4)

# SMP programs: the hart count comes from the device tree, so one ELF runs
# with any -smp. 64 is the large count QEMU still runs quickly here; coremu
# also runs them with 255 harts.
foreach(p smp_amo smp_lrsc smp_ipi demo)
  add_guest_test(${p} 1)
  add_guest_test(${p} 4)
  add_guest_test(${p} 64)
  add_guest_test(${p} 255 COREMU_ONLY)
endforeach()
add_guest_test(demo 2)
add_guest_test(demo 8)

# HTIF (riscv-tests convention): QEMU's virt board has no HTIF, so these only
# run on coremu. htif_pass writes tohost = 1 -> exit 0; htif_fail3 writes
# tohost = (3 << 1) | 1 -> exit 3.
add_guest_test(htif_pass 1 COREMU_ONLY)
add_guest_test(htif_fail3 1 EXIT 3 COREMU_ONLY)
