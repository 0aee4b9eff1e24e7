# Every one of 255 harts is a thread.
python print("threads=%d" % len(gdb.selected_inferior().threads()))
# expect: threads=255
info threads
# expect: Thread 255 "hart 254"
set var done = 1
continue
# expect: exited normally
