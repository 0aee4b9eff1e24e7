#!/usr/bin/env python3
"""A periodic-tick Linux (build-linux.sh --variant hz250: HZ_PERIODIC,
HZ=250) recorded and replayed at a bounded hart count (issue 14): the
recording reaches init's PASS, and the replay prints the same output and
the same final digest. Skips (status 77) when the variant is not built:
it is a second kernel build, which CI may not pay for.

usage: linux_tick_test.py BUILD_LINUX_SH COREMU WORKDIR HARTS"""
import os
import re
import subprocess
import sys

BUILD, COREMU, WORK, HARTS = sys.argv[1:5]
os.makedirs(WORK, exist_ok=True)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


p = subprocess.run([BUILD, "--variant", "hz250", "--if-built"], capture_output=True, text=True)
if p.returncode != 0 or not p.stdout.strip():
    print("SKIP: the hz250 kernel is not built (scripts/guest/build-linux.sh --variant hz250):", p.stderr.strip())
    sys.exit(77)
linux = p.stdout.strip().splitlines()[-1]
n = HARTS
machine = ["-M", "virt", "-m", "512M", "-nographic", "-no-reboot", "-smp", n, "-kernel", os.path.join(linux, "Image"),
           "-append", f"console=ttyS0 cpus={n}"]
log = os.path.join(WORK, "tick.log")


def run(args):
    p = subprocess.run([COREMU] + args, stdin=subprocess.DEVNULL, capture_output=True, timeout=600)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def digest(err):
    m = re.search(r"final state digest: ([0-9a-f]{16})", err)
    return m.group(1) if m else None


rc, out, err = run(["record", "-o", log] + machine)
if rc != 0 or f"init: PASS cpus={n} " not in out or not digest(err):
    fail(f"record: status {rc}, no PASS or digest: {out[-500:]} {err[-500:]}")
m = re.search(r"recorded .*", err)
rc2, out2, err2 = run(["replay", log])
if rc2 != 0 or out2 != out or digest(err2) != digest(err):
    fail(f"replay: status {rc2}, digest {digest(err2)} vs {digest(err)}, same output: {out2 == out}: {err2[-500:]}")
print(f"hz250 kernel on {n} harts: {m.group(0) if m else 'recorded'}; replayed to the same output and digest "
      f"{digest(err)}")
