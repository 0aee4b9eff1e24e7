#!/usr/bin/env python3
"""Pipes one scripted session into `coremu --repl` and checks its output.

usage: repl_test.py COREMU ELF SMP SCRIPT [--exit N] [--accel tcg,...] [--timeout S]
                    [--chrome-json FILE]

Runs `COREMU --repl -M virt -bios none -nographic -smp SMP -kernel ELF`
with SCRIPT on stdin. The REPL ignores '#' comments, so the script's
annotations are fed along with its commands:
    # expect: REGEX        must match, after the previous expect's match
                           (the output comes in command order)
    # expect-count: N REGEX   must match exactly N lines
    # expect-not: REGEX    must not match anywhere
Then coremu must exit with status N (default 0) within the time limit.
With --chrome-json FILE, FILE (written by the session's `trace export
chrome`) must load with json.load and hold one track per hart (SMP
thread_name records, tids 0..SMP-1) and events on at least two of them.
"""
import json
import argparse
import re
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("coremu")
    ap.add_argument("elf")
    ap.add_argument("smp")
    ap.add_argument("script")
    ap.add_argument("--exit", type=int, default=0)
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--accel", help="e.g. tcg,threads=2 (the hart scheduling mode)")
    ap.add_argument("--chrome-json", help="a Chrome trace the session writes (checked after it)")
    a = ap.parse_args()

    script = open(a.script).read()
    expects = re.findall(r"^# expect: (.*)$", script, re.M)
    counts = [(int(n), r) for n, r in re.findall(r"^# expect-count: (\d+) (.*)$", script, re.M)]
    nots = re.findall(r"^# expect-not: (.*)$", script, re.M)

    cmd = [a.coremu, "--repl", "-M", "virt", "-bios", "none", "-nographic", "-smp", a.smp,
           "-kernel", a.elf] + (["-accel", a.accel] if a.accel else [])
    try:
        p = subprocess.run(cmd, input=script.encode(), capture_output=True, timeout=a.timeout)
        out = p.stdout.decode(errors="replace")
        err = p.stderr.decode(errors="replace")
        status = p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        err = "(coremu timed out)"
        status = None

    failures = []
    pos = 0
    for r in expects:
        m = re.compile(r, re.M).search(out, pos)
        if not m:
            where = "at all" if not re.search(r, out, re.M) else "in order (it appears earlier)"
            failures.append(f"expected /{r}/ not found {where}")
        else:
            pos = m.end()
    for n, r in counts:
        got = len(re.findall(r, out, re.M))
        if got != n:
            failures.append(f"expected {n} lines matching /{r}/, got {got}")
    for r in nots:
        if re.search(r, out, re.M):
            failures.append(f"unexpected /{r}/")
    if a.chrome_json:
        try:
            with open(a.chrome_json) as f:
                doc = json.load(f)
            evs = doc["traceEvents"]
            names = sorted(e["tid"] for e in evs if e.get("ph") == "M" and e.get("name") == "thread_name")
            used = {e["tid"] for e in evs if e.get("ph") == "X"}
            if names != list(range(int(a.smp))):
                failures.append(f"chrome trace: thread_name tracks {names}, expected 0..{int(a.smp) - 1}")
            if len(used) < 2 or not used <= set(names):
                failures.append(f"chrome trace: events on tracks {sorted(used)}")
            if any(e.get("pid") != 0 or not isinstance(e.get("ts", 0), (int, float)) for e in evs):
                failures.append("chrome trace: an event without pid 0 or a numeric ts")
        except (OSError, ValueError, KeyError, TypeError) as e:
            failures.append(f"chrome trace {a.chrome_json}: {e}")
    if status != a.exit:
        failures.append(f"coremu exit status {status}, expected {a.exit}")
    if failures:
        print("---- coremu stdout ----\n" + out + "---- coremu stderr ----\n" + err)
        for f in failures:
            print("FAIL: " + f)
        return 1
    print(out)
    print(f"PASS: {len(expects)} expectations, exit status {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
