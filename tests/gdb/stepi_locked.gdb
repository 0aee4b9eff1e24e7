# Every hart enters spin() once, at nearly the same time: four continues
# report four hits, one per hart (a hit that happens while another is being
# reported is kept and reported on the next continue, none is lost).
# Then, with scheduler-locking on, stepi moves only the selected hart's pc.
break spin
continue
continue
continue
continue
# expect-count: 4 hit Breakpoint 1, spin
# expect: Thread 1 "hart 0" hit Breakpoint 1, spin
# expect: Thread 2 "hart 1" hit Breakpoint 1, spin
# expect: Thread 3 "hart 2" hit Breakpoint 1, spin
# expect: Thread 4 "hart 3" hit Breakpoint 1, spin
delete
set scheduler-locking on
thread 1
set $p1 = $pc
thread 2
set $p2 = $pc
thread 3
set $p3 = $pc
thread 4
set $p4 = $pc
thread 2
stepi
stepi
stepi
printf "moved1=%d\n", $pc != $p2
thread 1
printf "same1=%d\n", $pc == $p1
thread 3
printf "same3=%d\n", $pc == $p3
thread 4
printf "same4=%d\n", $pc == $p4
# expect: moved1=1
# expect: same1=1
# expect: same3=1
# expect: same4=1
set scheduler-locking off
set var done = 1
continue
# expect: exited normally
