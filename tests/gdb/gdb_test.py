#!/usr/bin/env python3
"""Runs one gdb-multiarch batch session against coremu and checks it.

usage: gdb_test.py COREMU ELF SMP SCRIPT [--gdb GDB] [--exit N] [--accel tcg,...]
                   [--replay [--chaos SEED] [--quantum N]]

Starts `COREMU -M virt -bios none -nographic -smp SMP -kernel ELF -S
-gdb tcp:127.0.0.1:PORT` (a free port), runs `GDB -batch -x SCRIPT ELF`
with `target remote` prepended, and checks gdb's output against the
script's annotations:
    # expect: REGEX       must match somewhere in the output
    # expect-count: N REGEX   must match exactly N lines
    # expect-not: REGEX   must not match
Then coremu must exit with status N (default 0) within the time limit.

With --replay, the machine is first recorded (`COREMU record -o LOG
[--chaos SEED] [--quantum N] -M virt ... -kernel ELF`, which must exit
with status N) and the session debugs its replay (`COREMU replay LOG -S
-gdb tcp:127.0.0.1:PORT`), which must also print "GDB server on".
"""
import argparse
import os
import re
import socket
import shutil
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(proc):
    """Reads coremu's output until it says its GDB server listens."""
    seen = b""
    while True:
        line = proc.stdout.readline()
        if not line:
            return False, seen
        seen += line
        if b"GDB server on" in line:
            return True, seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("coremu")
    ap.add_argument("elf")
    ap.add_argument("smp")
    ap.add_argument("script")
    ap.add_argument("--gdb", default="gdb-multiarch")
    ap.add_argument("--exit", type=int, default=0)
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--accel", help="e.g. tcg,threads=2 (the hart scheduling mode)")
    ap.add_argument("--replay", action="store_true", help="record the run, then debug its replay")
    ap.add_argument("--chaos", help="record with --chaos SEED")
    ap.add_argument("--quantum", help="record with --quantum N")
    a = ap.parse_args()

    port = free_port()
    machine = ["-M", "virt", "-bios", "none", "-nographic", "-smp", a.smp, "-kernel", a.elf] + \
        (["-accel", a.accel] if a.accel else [])
    gdb_server = ["-S", "-gdb", f"tcp:127.0.0.1:{port}"]
    tmp = None
    if a.replay:
        tmp = tempfile.mkdtemp(prefix="coremu-gdb-replay-")
        log = os.path.join(tmp, "run.log")
        rec = [a.coremu, "record", "-o", log] + (["--chaos", a.chaos] if a.chaos else []) + \
            (["--quantum", a.quantum] if a.quantum else []) + machine
        try:
            r = subprocess.run(rec, stdin=subprocess.DEVNULL, capture_output=True, timeout=a.timeout)
        except subprocess.TimeoutExpired:
            shutil.rmtree(tmp, ignore_errors=True)
            print("FAIL: the recording timed out: " + " ".join(rec))
            return 1
        print("---- coremu record ----\n" + (r.stdout + r.stderr).decode(errors="replace"))
        if r.returncode != a.exit:
            shutil.rmtree(tmp, ignore_errors=True)
            print(f"FAIL: coremu record exit status {r.returncode}, expected {a.exit}")
            return 1
        emu_cmd = [a.coremu, "replay", log] + gdb_server
    else:
        emu_cmd = [a.coremu] + machine + gdb_server
    try:
        return session(a, emu_cmd, port)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def session(a, emu_cmd, port):
    script = open(a.script).read()
    expects = re.findall(r"^# expect: (.*)$", script, re.M)
    counts = [(int(n), r) for n, r in re.findall(r"^# expect-count: (\d+) (.*)$", script, re.M)]
    nots = re.findall(r"^# expect-not: (.*)$", script, re.M)
    emu = subprocess.Popen(emu_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ok, early = wait_listening(emu)
    if not ok:
        emu.kill()
        print("FAIL: coremu did not start its GDB server:\n" + early.decode(errors="replace"))
        return 1
    cmd = [a.gdb, "-nx", "-q", "-batch", "-ex", "set pagination off", "-ex", "set confirm off",
           "-ex", f"target remote 127.0.0.1:{port}", "-x", a.script, a.elf]
    try:
        g = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=a.timeout)
        out = g.stdout.decode(errors="replace") + g.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") + "\n(gdb timed out)"
    try:
        emu_out = (early + emu.communicate(timeout=30)[0]).decode(errors="replace")
        status = emu.returncode
    except subprocess.TimeoutExpired:
        emu.kill()
        emu_out = (early + emu.communicate()[0]).decode(errors="replace")
        status = None
    print("---- gdb ----\n" + out + "---- coremu ----\n" + emu_out)

    failed = False
    for r in expects:
        if not re.search(r, out, re.M):
            print(f"FAIL: expected /{r}/")
            failed = True
    for n, r in counts:
        got = len(re.findall(r, out, re.M))
        if got != n:
            print(f"FAIL: expected {n} lines matching /{r}/, got {got}")
            failed = True
    for r in nots:
        if re.search(r, out, re.M):
            print(f"FAIL: unexpected /{r}/")
            failed = True
    if status != a.exit:
        print(f"FAIL: coremu exit status {status}, expected {a.exit}")
        failed = True
    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
