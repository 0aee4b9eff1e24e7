# With scheduler-locking on, stepi moves only the selected hart's pc.
break spin
continue
continue
continue
continue
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
