# The gdb part of docs/tutorial-kernel-race.md, run by
# tests/integration/linux_race.py on `coremu replay race.log -S -gdb ...
# --symbols vmlinux` (gdb-multiarch vmlinux, after `target remote`).
# vmlinux has symbols but no debug info: variables need a type cast.
#
# Stop just before a CPU stores over a newer value of the counter.
monitor break lost-update coremu_race_counter
continue
info threads
x/i $pc
set $c = (unsigned long *)&coremu_race_counter
p/x *$c
p/x $a5
monitor delete event
# Back in time to the other CPU's store of the value about to be lost.
watch *$c
reverse-continue
x/i $pc
p/x *$c
stepi
p/x *$c
delete
# To the end of the recording.
continue
