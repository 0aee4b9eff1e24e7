# Without a replay coremu cannot run backwards: qSupported leaves out
# ReverseStep and ReverseContinue, so gdb refuses reverse execution
# itself, and the replay monitor commands say what is needed.
python
for c in ("reverse-stepi", "reverse-continue"):
    try:
        gdb.execute(c)
    except gdb.error as e:
        print("error: %s: %s" % (c, e))
end
# expect: ^error: reverse-stepi: Target remote does not support this command\.$
# expect: ^error: reverse-continue: Target remote does not support this command\.$
monitor info replay
# expect: ^not deterministic: no positions, no reverse execution
monitor goto 100
# expect: ^goto: reverse execution needs a replay \(coremu replay FILE\)$
stepi
# expect-not: pos=
set var done = 1
continue
# expect: exited normally
