# scripts/gdb/coremu.py: `coremu harts` tabulates the harts with gdb's
# symbols; `coremu hart N` selects hart N; `coremu icount N`.
python import os; gdb.execute("source " + os.environ["COREMU_GDB_PY"])
break writer
continue
coremu harts
# expect: ^\*\s+2\s+3\s+stopped\s+M\s+0x0*8000[0-9a-f]+\s+\d+\s+writer at gdb_target.c:39
# expect: ^\s+0\s+1\s+(stopped|wfi)\s+M\s+0x
# expect-count: 4 ^[* ]\s+\d+\s+\d+\s+(stopped|wfi)\s+M\s+0x
coremu hart 0
# expect: Switching to thread 1
coremu icount 2
# expect: ^\d+$
python
try:
    gdb.execute("coremu hart x")
except gdb.error as e:
    print("error: %s" % e)
end
# expect: error: usage: coremu hart N
delete
set var done = 1
continue
# expect: exited normally
