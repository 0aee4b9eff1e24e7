# The CI test of issue 6: the replay of a recorded data race
# (tests/guest/race.c on 4 harts under a chaos schedule that loses
# updates), debugged backwards: a watchpoint plus reverse-continue from
# the end of the race lands on the last write to the counter and names
# the hart that made it. Run by gdb_test.py --replay --chaos SEED:
# `coremu record`, then `coremu replay LOG -S -gdb tcp:...`.
#
# To the end of the race: hart 0 reports the counter.
break race_report
continue
# expect: Thread 1 "hart 0" hit Breakpoint 1, race_report \(
p counter
# expect: ^\$1 = \d+$
# Back to the last write that changed the counter.
watch counter
reverse-continue
# expect: ^Thread \d+ "hart [0-3]" hit Hardware watchpoint 2: counter$
# expect: ^Old value = \d+$
# expect: ^New value = \d+$
# It stops on the store, memory as before it (the New value: reverse order).
x/i $pc
# expect: ^=> 0x[0-9a-f]+ <racer\+\d+>:\s+sd\s
bt 1
# expect: ^#0  (0x[0-9a-f]+ in )?racer \(\) at .*race\.c:\d+$
delete
# One instruction back on that hart: the add before the store.
reverse-stepi
x/i $pc
# expect: ^=> 0x[0-9a-f]+ <racer\+\d+>:\s+add
# Forward again over the store: the counter holds its final value, so
# this hart's store was the last write.
stepi
stepi
p counter == $1
# expect: ^\$2 = 1$
monitor info replay
# expect: ^pos=\d+ \(steps of all harts\)$
# expect: ^reverse execution: available$
# To the start of the recording and back to the end.
reverse-continue
# expect: ^coremu: start of the recording \(pos 0\)$
monitor info replay
# expect: ^pos=0 \(steps of all harts\)$
continue
# expect: ^coremu: end of the recording at pos \d+: the guest exited with status 0$
# expect-count: 2 ^No more reverse-execution history\.$
p counter == $1
# expect: ^\$3 = 1$
kill
