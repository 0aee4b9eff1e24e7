# A watchpoint on a shared variable reports the hart that wrote it, with
# the old and new values.
watch shared_var
continue
# expect: Thread 3 "hart 2" hit Hardware watchpoint 1: shared_var
# expect: Old value = 0
# expect: New value = 42
bt 1
# expect: writer \(\)
delete
set var done = 1
continue
# expect: exited normally
