# GPR, FPR, CSR and priv values read back right; a register write reaches
# the guest (it stores s3 to reg_echo after regs_ready).
# (a hardware breakpoint: Z1, reported as hwbreak)
hbreak regs_ready
continue
# expect: Hardware assisted breakpoint 1 at
# expect: Thread 1 "hart 0" hit Breakpoint 1
p/x $s2
# expect: = 0x1122334455667788
p $fs0.double
# expect: = 2.5
p/x $mscratch
# expect: = 0xfeedface
p $priv
# expect: = 3
p/x $misa
# expect: = 0x800000000014112d
set $s3 = 0x55
stepi
stepi
p/x reg_echo
# expect: = 0x55
x/2i $pc
monitor info harts
# expect: hart 0 +stopped M +pc=0x[0-9a-f]+ +<regs_ready
monitor icount 0
# (after the two stepi: at regs_ready+6, s3 stored to reg_echo)
monitor regs
# expect: hart 0 +pc=0x0*[0-9a-f]+ <regs_ready\+0x6> +priv=M
# expect: s2 +0x1122334455667788
monitor csr mscratch
# expect: hart 0 mscratch = 0x00000000feedface
monitor x/2i $pc
# expect: => 0x[0-9a-f]+ <regs_ready\+0x6>:
monitor x/1dg reg_echo
# expect: <reg_echo>: +85
monitor xp/1xw _start
# expect: <_start>: +0x[0-9a-f]{8}
monitor disas regs_ready 2
monitor bt
# expect: #0 +0x0*[0-9a-f]+ <regs_ready\+0x6>
# expect: #1 +0x0*[0-9a-f]+ <main\+0x[0-9a-f]+> +\(ra\)
# (gdb removes its breakpoints while the target is stopped)
monitor info break
# expect: no breakpoints or watchpoints
monitor x/1xg no_such_symbol
# expect: x: no symbol 'no_such_symbol'
monitor bogus
# expect: unknown command 'bogus'
delete
set var done = 1
continue
# expect: exited normally
