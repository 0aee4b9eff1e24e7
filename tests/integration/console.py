#!/usr/bin/env python3
"""Drives a guest's serial console for integration tests.

    console.py [--timeout S] [--expect REGEX | --send TEXT]... [--exit-code N] -- COMMAND...

Runs COMMAND with a pipe on stdin/stdout and performs the steps in order:
--expect waits until the output so far (after the previous match) matches
REGEX; --send writes TEXT (with \\n escapes) to the guest. After the last step
the process is killed, unless --exit-code is given, in which case the test
waits for it to exit and checks its status. Exit 0 = pass; otherwise the
output is printed with the reason.
"""
import argparse
import codecs
import os
import re
import select
import signal
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds for the whole run")
    ap.add_argument("--expect", action="append", dest="steps", type=lambda s: ("expect", s))
    ap.add_argument("--send", action="append", dest="steps", type=lambda s: ("send", s))
    ap.add_argument("--exit-code", type=int, default=None)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command and a.command[0] == "--" else a.command
    if not cmd:
        ap.error("no command")
    steps = a.steps or []
    deadline = time.monotonic() + a.timeout
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    out = b""
    pos = 0

    def fail(why):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        sys.stdout.write(out.decode("utf-8", "replace"))
        sys.stdout.write(f"\n*** FAIL: {why}\n")
        sys.exit(1)

    def read_some(wait):
        nonlocal out
        r, _, _ = select.select([p.stdout], [], [], wait)
        if r:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                return False
            out += chunk
        return True

    for kind, arg in steps:
        if kind == "send":
            p.stdin.write(codecs.decode(arg, "unicode_escape").encode())
            p.stdin.flush()
            continue
        rx = re.compile(arg.encode())
        while True:
            m = rx.search(out, pos)
            if m:
                pos = m.end()
                break
            left = deadline - time.monotonic()
            if left <= 0:
                fail(f"timed out waiting for /{arg}/")
            if not read_some(min(left, 0.5)) and p.poll() is not None:
                m = rx.search(out, pos)
                if m:
                    pos = m.end()
                    break
                fail(f"process exited with {p.returncode} before /{arg}/ appeared")

    if a.exit_code is None:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
        sys.stdout.write(out.decode("utf-8", "replace"))
        print("\n*** PASS")
        return
    p.stdin.close()
    while p.poll() is None:
        if time.monotonic() > deadline:
            fail("timed out waiting for the process to exit")
        read_some(0.2)
    out += p.stdout.read()
    if p.returncode != a.exit_code:
        fail(f"exit status {p.returncode}, expected {a.exit_code}")
    sys.stdout.write(out.decode("utf-8", "replace"))
    print(f"\n*** PASS (exit {p.returncode})")


if __name__ == "__main__":
    main()
