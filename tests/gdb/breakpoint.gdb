# A breakpoint in a function only hart 2 runs names hart 2's thread; the
# other harts are stopped too (all-stop) and continue afterwards.
break writer
continue
# expect: Thread 3 "hart 2" hit Breakpoint 1, writer \(\)
info threads
# expect: \* 3\s+Thread 3 "hart 2"
p $_thread
# expect: \$1 = 3
delete 1
set var done = 1
continue
# expect: exited normally
