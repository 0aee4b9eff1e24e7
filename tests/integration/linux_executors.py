#!/usr/bin/env python3
"""Linux recorded with one executor replays bit-exact with the other.

    linux_executors.py DIRFILE COREMU WORKDIR [--smp N]

DIRFILE holds the output directory of scripts/guest/build-linux.sh. The
test records a boot of the test kernel through its threaded workload with
the translator (the default) and with `-accel tcg,jit=off`, and replays
each log with the other executor: all four runs must print the same init
result line and end in the same final state digest.
"""
import argparse
import os
import re
import subprocess
import sys


def fail(msg):
    sys.exit("linux_executors: FAIL: " + msg)


ap = argparse.ArgumentParser()
ap.add_argument("dirfile")
ap.add_argument("coremu")
ap.add_argument("work")
ap.add_argument("--smp", type=int, default=4)
a = ap.parse_args()
kdir = open(a.dirfile).read().strip()
os.makedirs(a.work, exist_ok=True)
vm = ["-M", "virt", "-m", "512M", "-nographic", "-no-reboot", "-smp", str(a.smp), "-kernel",
      os.path.join(kdir, "Image"), "-append", f"console=ttyS0 cpus={a.smp}"]


def run(args):
    p = subprocess.run([a.coremu] + args, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=400)
    line = re.search(r"init: (PASS|FAIL) cpus=\d+[^\r\n]*", p.stdout)
    dig = re.search(r"final state digest: ([0-9a-f]{16})", p.stderr)
    if p.returncode != 0 or not line or not dig:
        fail(f"coremu {' '.join(args[:4])}...: status {p.returncode}, no result line or digest\n{p.stdout[-2000:]}\n{p.stderr}")
    return re.sub(r" ms=\d+", "", line.group(0)), dig.group(1)


results = []
for rec, rep in (("on", "off"), ("off", "on")):
    log = os.path.join(a.work, f"linux-{rec}.log")
    r = run(["record", "-o", log] + vm + ["-accel", f"tcg,jit={rec}"])
    p = run(["replay", log, "-accel", f"tcg,jit={rep}"])
    if p != r:
        fail(f"recorded with jit={rec} {r}, replayed with jit={rep} {p}")
    results.append(r)
if results[0] != results[1]:
    fail(f"the two executors recorded different runs: {results}")
print(f"linux_executors: {a.smp} harts, recorded and replayed with both executors: {results[0][0]} digest {results[0][1]}")
