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
monitor bogus
# expect: unknown command 'bogus'
delete
set var done = 1
continue
# expect: exited normally
