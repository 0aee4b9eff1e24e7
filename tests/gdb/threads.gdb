# info threads lists every hart as a named thread; the guest then runs to
# completion once `done` is set through a memory write.
info threads
# expect-count: 4 ^[ *]+\d+\s+Thread \d+ "hart \d+"
# expect: Thread 1 "hart 0" \(stopped, M-mode
# expect: Thread 4 "hart 3"
set var done = 1
continue
# expect: \[Inferior 1 \(Remote target\) exited normally\]
