#!/usr/bin/env python3
"""Pipes one scripted session into `coremu --repl` and checks its output.

usage: repl_test.py COREMU ELF SMP SCRIPT [--exit N] [--accel tcg,...] [--timeout S]
                    [--chrome-json FILE] [--replay [--chaos SEED] [--quantum N]]

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

With --replay, the machine is first recorded (`COREMU record -o LOG
[--chaos SEED] [--quantum N] -M virt ... -kernel ELF`, which must exit
with status N) and the session runs on its replay (`COREMU replay LOG
--repl`); the recording's guest output must reappear in the replay's.
"""
import json
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile


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
    ap.add_argument("--replay", action="store_true", help="record the run, then run the session on its replay")
    ap.add_argument("--chaos", help="record with --chaos SEED")
    ap.add_argument("--quantum", help="record with --quantum N")
    a = ap.parse_args()
    if not a.replay:
        return session(a, None)
    tmp = tempfile.mkdtemp(prefix="coremu-repl-replay-")
    try:
        return session(a, os.path.join(tmp, "run.log"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def session(a, log):
    script = open(a.script).read()
    expects = re.findall(r"^# expect: (.*)$", script, re.M)
    counts = [(int(n), r) for n, r in re.findall(r"^# expect-count: (\d+) (.*)$", script, re.M)]
    nots = re.findall(r"^# expect-not: (.*)$", script, re.M)

    machine = ["-M", "virt", "-bios", "none", "-nographic", "-smp", a.smp, "-kernel", a.elf] + \
        (["-accel", a.accel] if a.accel else [])
    recorded = ""
    if log:
        rec = [a.coremu, "record", "-o", log] + (["--chaos", a.chaos] if a.chaos else []) + \
            (["--quantum", a.quantum] if a.quantum else []) + machine
        try:
            r = subprocess.run(rec, stdin=subprocess.DEVNULL, capture_output=True, timeout=a.timeout)
        except subprocess.TimeoutExpired:
            print("FAIL: the recording timed out: " + " ".join(rec))
            return 1
        recorded = r.stdout.decode(errors="replace")
        if r.returncode != a.exit:
            print("---- coremu record ----\n" + recorded + r.stderr.decode(errors="replace"))
            print(f"FAIL: coremu record exit status {r.returncode}, expected {a.exit}")
            return 1
        cmd = [a.coremu, "replay", log, "--repl"]
    else:
        cmd = [a.coremu, "--repl"] + machine
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
    for line in recorded.splitlines():
        if line.strip() and line not in out:
            failures.append(f"the recording printed {line!r}, the replay did not")
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
