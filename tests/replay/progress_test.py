#!/usr/bin/env python3
"""The progress line of deterministic runs, record and replay (issue 14),
checked on a pseudo-terminal.

usage: progress_test.py COREMU GUEST_DIR WORKDIR

- record on a pty: stderr gets "\\r\\033[K" + "coremu: pos ... | ... insns/s |
  harts N running, M asleep | log ...B" lines, and the guest's own output
  is not mixed into a progress line;
- replay on a pty: the same, with "| replay X %";
- with -q, or with stderr not a terminal (a pipe), no progress line at all;
- the recording and the replays end with the same digest either way."""
import os
import pty
import re
import select
import subprocess
import sys
import time

COREMU, GUESTS, WORK = sys.argv[1:4]
os.makedirs(WORK, exist_ok=True)
ELF = os.path.join(GUESTS, "bench_compute.elf")
# A second or more of deterministic run (4 harts, translated): long enough for a few drawings.
MACHINE = ["-M", "virt", "-bios", "none", "-nographic", "-m", "256M", "-smp", "4", "-kernel", ELF,
           "-append", "total=96000000"]
PROGRESS = re.compile(rb"\r\x1b\[Kcoremu: pos [0-9.]+[kMGT]? \| [0-9.]+[kMGT]? insns/s \| harts \d+ running, \d+ asleep")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def on_pty(args, timeout=120):
    """Runs COREMU args with stdin, stdout and stderr on a new pty; returns (status, bytes seen)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([COREMU] + args, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    out = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the pty
                break
            if not chunk:
                break
            out += chunk
        elif p.poll() is not None:
            break
    try:
        p.wait(timeout=max(1, deadline - time.time()))
    except subprocess.TimeoutExpired:
        p.kill()
        fail(f"coremu {' '.join(args)} did not finish in {timeout} s")
    os.close(master)
    return p.returncode, out


def digest(text):
    m = re.search(rb"final state digest: ([0-9a-f]{16})", text)
    return m.group(1).decode() if m else None


log = os.path.join(WORK, "progress.log")
rc, out = on_pty(["record", "-o", log] + MACHINE)
if rc != 0:
    fail(f"record on a pty exited {rc}: {out[-400:]!r}")
lines = PROGRESS.findall(out)
if not lines:
    fail(f"record on a pty drew no progress line: {out[-600:]!r}")
if not re.search(rb"\| log [0-9.]+[kMGT]?B", out):
    fail(f"record's progress line does not show the log size: {out[-600:]!r}")
if not re.search(rb"bench: insns=\d+", out):
    fail(f"the guest's output is missing: {out[-600:]!r}")
# Guest output is never appended to a progress line: each drawing is erased
# ("\r\033[K") before guest bytes go out.
for m in re.finditer(rb"coremu: pos [^\r\n]*", out):
    if b"bench:" in m.group(0):
        fail(f"guest output inside a progress line: {m.group(0)!r}")
rec_digest = digest(out)

rc, out = on_pty(["replay", log])
if rc != 0 or digest(out) != rec_digest:
    fail(f"replay on a pty: status {rc}, digest {digest(out)} vs {rec_digest}: {out[-400:]!r}")
if not PROGRESS.search(out) or not re.search(rb"\| replay [0-9.]+ %", out):
    fail(f"replay on a pty drew no progress line with the replay fraction: {out[-600:]!r}")

for args in (["record", "-q", "-o", log + ".q"] + MACHINE, ["replay", log, "-q"], ["--deterministic", "-q"] + MACHINE):
    rc, out = on_pty(args)
    if rc != 0 or b"coremu: pos" in out or digest(out) != rec_digest:
        fail(f"coremu {' '.join(args[:3])} ... on a pty: status {rc}, digest {digest(out)}, progress shown: "
             f"{b'coremu: pos' in out}")

# stderr not a terminal: no progress line.
p = subprocess.run([COREMU, "replay", log], stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
if p.returncode != 0 or b"coremu: pos" in p.stderr or b"\x1b[K" in p.stderr:
    fail(f"replay with stderr on a pipe: status {p.returncode}, stderr {p.stderr[-300:]!r}")

print(f"progress: {len(lines)} progress drawings while recording; replay shows its fraction; none with -q or "
      f"without a terminal; digest {rec_digest} throughout")
