# Reverse stepping on a replay of tests/guest/race.c (4 harts): per-hart
# reverse-stepi, the start of the recording, monitor goto, and the end.
# Run by gdb_test.py --replay: `coremu record`, then `coremu replay LOG
# -S -gdb tcp:...`, which starts at position 0 with every hart before its
# first instruction.
reverse-stepi
# expect: ^coremu: start of the recording \(pos 0\)$
stepi
stepi
stepi
p $pc
# expect: ^\$1 = \(void \(\*\)\(\)\) 0x100c$
reverse-stepi
p $pc
# expect: ^\$2 = \(void \(\*\)\(\)\) 0x1008$
# Another hart steps back on its own (gdb selects the thread; Hc0 + bs).
# (Replaying, the other harts follow the recorded schedule meanwhile.)
thread 3
stepi
stepi
reverse-stepi
p $pc
# expect: ^\$3 = \(void \(\*\)\(\)\) 0x1004$
# Into the race, then back by reverse-continue to a breakpoint hit.
break racer
continue
# expect: hit Breakpoint 1, racer \(\)
continue
# expect: hit Breakpoint 1, racer \(\)
reverse-continue
# expect-count: 3 hit Breakpoint 1, racer \(\)
delete
monitor goto 1000
# expect: ^stop: hart \d step pc=0x[0-9a-f]+.* pos=1000$
maintenance flush register-cache
monitor info replay
# expect: ^pos=1000 \(steps of all harts\)$
continue
# expect: ^coremu: end of the recording at pos \d+: the guest exited with status 0$
reverse-stepi
kill
# expect-count: 2 ^No more reverse-execution history\.$
