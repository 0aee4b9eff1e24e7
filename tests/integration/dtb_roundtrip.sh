#!/bin/sh
# dtb_roundtrip.sh COREMU DTC OPENSBI: dumps the generated device tree for 4
# harts, checks dtc reads it (4 cpus, the virt devices, bootargs), then boots
# OpenSBI with that blob through -dtb and checks it sees 4 harts.
set -eu
coremu=$1 dtc=$2 fw=$3
out=dtb-roundtrip
"$coremu" -M virt,dumpdtb=$out.dtb -smp 4 -m 256M -append "console=ttyS0 quiet" -bios "$fw" </dev/null
"$dtc" -I dtb -O dts -o $out.dts $out.dtb 2>/dev/null
for pat in 'cpu@3 {' 'cpu@0 {' 'memory@80000000' 'reg = <0x00 0x80000000 0x00 0x10000000>' \
           'serial@10000000' 'plic@c000000' 'clint@2000000' 'virtio_mmio@10008000' 'test@100000' \
           'bootargs = "console=ttyS0 quiet"' 'timebase-frequency = <0x989680>'; do
  grep -qF "$pat" $out.dts || { echo "dtb_roundtrip: '$pat' missing from the device tree"; cat $out.dts; exit 1; }
done
timeout 60 "$coremu" -M virt -smp 4 -nographic -dtb $out.dtb -bios "$fw" </dev/null >$out.log 2>&1 &
pid=$!
for i in $(seq 1 100); do
  grep -q "Platform HART Count *: 4" $out.log && { kill $pid; echo "dtb_roundtrip: ok"; exit 0; }
  sleep 0.2
done
kill $pid 2>/dev/null || true
cat $out.log
echo "dtb_roundtrip: OpenSBI did not report 4 harts with -dtb"
exit 1
