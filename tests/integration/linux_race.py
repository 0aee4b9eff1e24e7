#!/usr/bin/env python3
"""The kernel race demo of docs/tutorial-kernel-race.md, as a test.

    linux_race.py DIRFILE COREMU WORKDIR [--gdb GDB] [--smp N] [--race N]

DIRFILE holds the output directory of scripts/guest/build-linux.sh (the
linux_build test writes it). The steps are the tutorial's:

1. `coremu record -o race.log` of Linux on N harts with `race=COUNT` on the
   command line: every CPU writes COUNT to /proc/coremu_race at once, whose
   kernel handler (tests/guest/linux/coremu_race.c) increments a counter
   without a lock. The race must strike (init reports lost updates and
   exits with status 1).
2. `coremu replay race.log`, twice: the same RACE line, status 1, and the
   recording's final state digest.
3. The REPL on the replay (`--repl --symbols vmlinux`): `break lost-update
   coremu_race_counter` stops hart A in coremu_race_bump just before it
   stores over hart B's newer value; `break shared` stops on an access to
   the counter last written by another hart; `rcontinue` goes back to the
   previous such access, and its stop line agrees with memory there.
4. gdb-multiarch with vmlinux on the replay (`-S -gdb`): `monitor break
   lost-update`, continue (a SIGTRAP in thread "hart A"), a watchpoint and
   reverse-continue land on hart B's store of the value A overwrites.
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fail(msg, out=None):
    if out is not None:
        sys.stderr.write("---- output ----\n" + out[-6000:] + "\n----------------\n")
    sys.exit("linux_race: FAIL: " + msg)


def run(cmd, timeout, stdin=None):
    print("$ " + " ".join(cmd), flush=True)
    p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def digest(out, what):
    m = re.search(r"final state digest: ([0-9a-f]{16})", out)
    if not m:
        fail(f"{what}: no final state digest", out)
    return m.group(1)


def race_line(out, what):
    m = re.search(r"^init: RACE cpus=(\d+) per_cpu=(\d+) counter=(\d+) expected=(\d+) lost=(\d+) .*$", out, re.M)
    if not m:
        fail(f"{what}: no 'init: RACE' line", out)
    return m


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LOST_RE = (r"stop: hart (\d+) lost-update 1 write pc=(0x[0-9a-f]+) <coremu_race_bump\+0x[0-9a-f]+> icount=\d+ "
           r"addr=0x[0-9a-f]+ <coremu_race_counter> old=(0x[0-9a-f]+) new=(0x[0-9a-f]+) overwrites hart (\d+) write "
           r"pc=0x[0-9a-f]+ <coremu_race_bump\+0x[0-9a-f]+> icount=\d+ value=(0x[0-9a-f]+), made after this hart read "
           r"(0x[0-9a-f]+) at pc=0x[0-9a-f]+ <coremu_race_bump\+0x[0-9a-f]+> icount=\d+")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dirfile")
    ap.add_argument("coremu")
    ap.add_argument("workdir")
    ap.add_argument("--gdb", default=shutil.which("gdb-multiarch"))
    ap.add_argument("--smp", type=int, default=4)
    ap.add_argument("--race", type=int, default=5000)
    a = ap.parse_args()
    try:
        with open(a.dirfile) as f:
            linux = f.read().strip().splitlines()[-1]
    except (OSError, IndexError):
        sys.exit(f"linux_race: {a.dirfile} is missing or empty: run scripts/guest/build-linux.sh (the linux_build test)")
    image, vmlinux = os.path.join(linux, "Image"), os.path.join(linux, "vmlinux")
    os.makedirs(a.workdir, exist_ok=True)
    log = os.path.join(a.workdir, "race.log")
    machine = ["-M", "virt", "-smp", str(a.smp), "-m", "512M", "-nographic", "-no-reboot", "-kernel", image,
               "-append", f"console=ttyS0 race={a.race}"]

    # 1. Record.
    rc, out = run([a.coremu, "record", "-o", log] + machine, 300)
    m = race_line(out, "record")
    cpus, per, got, want, lost = (int(x) for x in m.groups())
    if cpus != a.smp or per != a.race or want != a.smp * a.race or got + lost != want:
        fail("record: the RACE line's figures do not add up", out)
    if lost == 0 or "init: the race struck" not in out or rc != 1:
        fail(f"record: the race did not strike (lost={lost}, status {rc}); the demo needs a run that loses updates", out)
    rec_digest = digest(out, "record")
    print(f"recorded: counter={got} expected={want} lost={lost}, status 1, digest {rec_digest}")

    # 2. Replay, twice: the same run.
    for i in (1, 2):
        rc, rout = run([a.coremu, "replay", log], 300)
        if rc != 1 or race_line(rout, "replay").group(0) != m.group(0) or digest(rout, "replay") != rec_digest:
            fail(f"replay {i}: not the recorded run (status {rc})", rout)
    print("replayed twice: the same RACE line, status 1 and final digest")

    # 3. The REPL.
    session = ("break lost-update coremu_race_counter\ncontinue\ninfo harts\nbt\n"
               "delete event\nbreak shared coremu_race_counter\ncontinue\n"
               "rcontinue\nx/1xg coremu_race_counter\ndelete event\ncontinue\n")
    rc, out = run([a.coremu, "replay", log, "--repl", "--symbols", vmlinux], 300, session.encode())
    lm = re.search(LOST_RE, out)
    if not lm:
        fail("repl: no lost-update stop in coremu_race_bump", out)
    a_hart, b_hart = int(lm.group(1)), int(lm.group(5))
    old, new, b_value, read = (int(lm.group(i), 16) for i in (3, 4, 6, 7))
    if a_hart == b_hart or old != b_value or new != read + 1 or b_value <= read:
        fail(f"repl: the lost-update stop does not show two harts racing (hart {a_hart} over hart {b_hart}, "
             f"read {read:#x}, storing {new:#x} over {old:#x})", out)
    if not re.search(rf"^hart {b_hart} +stopped S +pc=0x[0-9a-f]+ +<coremu_race_", out, re.M):
        fail(f"repl: info harts does not show hart {b_hart} in the racy code", out)
    if not re.search(r"^#1 +0x[0-9a-f]+ <coremu_race_write\+0x[0-9a-f]+>", out, re.M):
        fail("repl: bt does not lead back to coremu_race_write", out)
    sm = re.search(r"stop: hart (\d+) shared \d+ (read|write) .* addr=0x[0-9a-f]+ <coremu_race_counter> .* last write by "
                   r"hart (\d+) pc=0x[0-9a-f]+ <coremu_race_bump\+", out)
    if not sm or sm.group(1) == sm.group(3):
        fail("repl: no 'break shared' stop naming another hart's write", out)
    # Backwards: the stop before the forward one, its values those of the
    # memory there (the event shadow restarts at the checkpoint it goes back
    # to, so it does not describe the future).
    stops = re.findall(r"^stop: hart (\d+) shared 2 (read|write) pc=0x[0-9a-f]+ <coremu_race_bump\+0x[0-9a-f]+> .* "
                       r"(?:value|old)=(0x[0-9a-f]+) .*pos=(\d+)$", out, re.M)
    xm = re.search(r"^0x[0-9a-f]+ <coremu_race_counter>:\s+(0x[0-9a-f]+)$", out, re.M)
    if len(stops) != 2 or not xm:
        fail(f"repl: expected a forward and a reverse 'shared' stop and the counter's value, got {stops}", out)
    (_, _, _, fwd_pos), (_, _, back_val, back_pos) = stops
    if int(back_pos) >= int(fwd_pos) or int(back_val, 16) != int(xm.group(1), 16):
        fail(f"repl: rcontinue stopped at pos {back_pos} (forward stop at {fwd_pos}) reporting {back_val}, "
             f"but the counter there is {xm.group(1)}", out)
    if not re.search(r"end of recording \(guest exited with status 1\)", out):
        fail("repl: the replay did not run to the end of the recording", out)
    print(f"repl: hart {a_hart} stores {new:#x} over hart {b_hart}'s {old:#x} (it read {read:#x}); break shared stops")

    # 4. gdb-multiarch.
    if not a.gdb:
        print("linux_race: gdb-multiarch not found; the gdb part is skipped")
        return
    port = free_port()
    srv = subprocess.Popen([a.coremu, "replay", log, "-S", "-gdb", f"tcp:127.0.0.1:{port}", "--symbols", vmlinux],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        seen = b""
        while b"GDB server on" not in seen:
            line = srv.stdout.readline()
            if not line:
                fail("gdb: coremu replay did not start its GDB server", seen.decode("utf-8", "replace"))
            seen += line
        script = os.path.join(ROOT, "tests", "gdb", "linux_race.gdb")
        rc, out = run([a.gdb, "-nx", "-batch", "-ex", "set pagination off", "-ex", f"target remote 127.0.0.1:{port}",
                       "-x", script, vmlinux], 300)
        srv_out, _ = srv.communicate(timeout=60)
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
    gm = re.search(LOST_RE, out)
    if not gm or gm.group(0) != lm.group(0):
        fail("gdb: the lost-update stop differs from the REPL's (a replay is the same run)", out)
    checks = [
        (rf'Thread {a_hart + 1} "hart {a_hart}" received signal SIGTRAP', "the stop is a SIGTRAP of hart A's thread"),
        (r"^\$1 = " + hex(old) + "$", "p/x *$c: the counter holds hart B's value"),
        (r"^\$2 = " + hex(new) + "$", "p/x $a5: hart A is about to store its stale value + 1"),
        (rf'Thread {b_hart + 1} "hart {b_hart}" hit Hardware watchpoint \d+: \*\$c', "reverse-continue: hart B's store"),
        (r"^Old value = " + str(old) + "$", "reverse-continue: memory after hart B's store was hart B's value"),
        (r"^\$4 = " + hex(old) + "$", "after hart B's store: the value hart A overwrites"),
        (r"coremu: end of the recording at pos \d+: the guest exited with status 1", "continue to the end"),
    ]
    for rx, what in checks:
        if not re.search(rx, out, re.M):
            fail(f"gdb: expected {what} (/{rx}/)", out)
    if rc != 0:
        fail(f"gdb exited with status {rc}", out)
    print(f"gdb: SIGTRAP in hart {a_hart}; reverse-continue found hart {b_hart}'s store of {old:#x}")
    print("linux_race: PASS")


if __name__ == "__main__":
    main()
