#!/usr/bin/env python3
"""Record/replay tests (issue 6): run `coremu record` / `coremu replay` on the
racy guest and check determinism, the log's error handling and divergence.

usage: replay_test.py CASE COREMU GUEST_DIR WORKDIR
Each case prints what it checked and exits non-zero on the first failure."""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

CASE, COREMU, GUESTS, WORK = sys.argv[1:5]
RACE = os.path.join(GUESTS, "race.elf")
os.makedirs(WORK, exist_ok=True)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(args, timeout=240, stdin=subprocess.DEVNULL):
    p = subprocess.run([COREMU] + args, stdin=stdin, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def digest(err):
    m = re.search(r"final state digest: ([0-9a-f]{16})", err)
    return m.group(1) if m else None


def counter(out):
    m = re.search(r"race: (\d+) harts x (\d+) increments: counter=(\d+) lost=(\d+)", out)
    if not m:
        return None
    return int(m.group(3)), int(m.group(1)) * int(m.group(2)), int(m.group(4))


RACE_SMALL = os.path.join(GUESTS, "race_small.elf")


def machine(smp=4, elf=None):
    return ["-M", "virt", "-bios", "none", "-smp", str(smp), "-kernel", elf or RACE, "-nographic"]


def record(log, seed=None, extra=(), kernel=None, elf=None):
    args = ["record", "-o", log]
    if seed is not None:
        args += ["--chaos", str(seed)]
    m = machine(elf=elf)
    if kernel:
        m[m.index(RACE)] = kernel
    rc, out, err = run(args + list(extra) + m)
    if rc != 0:
        fail(f"record {log} exited {rc}: {err}")
    d = digest(err)
    if not d:
        fail(f"record printed no final state digest: {err}")
    return out, d


def find_losing_seed():
    # A seed under which the race loses updates, and one under which it does not.
    lose = keep = None
    for seed in range(1, 40):
        rc, out, err = run(["--deterministic", "--chaos", str(seed)] + machine(elf=RACE_SMALL))
        c = counter(out)
        if rc != 0 or not c:
            fail(f"--deterministic --chaos {seed}: status {rc}, output {out!r} {err}")
        if c[2] > 0 and lose is None:
            lose = seed
        if c[2] == 0 and keep is None:
            keep = seed
        if lose is not None and keep is not None:
            break
    return lose, keep


if CASE == "deterministic":
    # Two runs of the same machine give the same output and final state.
    a = run(["--deterministic"] + machine())
    b = run(["--deterministic"] + machine())
    if a[0] != 0 or a[:2] != b[:2] or digest(a[2]) != digest(b[2]) or not digest(a[2]):
        fail(f"two deterministic runs differ: {a} {b}")
    c = run(["--deterministic", "--chaos", "7"] + machine())
    d = run(["--deterministic", "--chaos", "7"] + machine())
    if c[:2] != d[:2] or digest(c[2]) != digest(d[2]):
        fail(f"two runs with --chaos 7 differ: {c} {d}")
    print("deterministic: same output and digest twice;", a[1].strip(), digest(a[2]), "| chaos 7:", c[1].strip())

elif CASE == "race":
    lose, keep = find_losing_seed()
    if lose is None or keep is None:
        fail(f"no chaos seed in 1..39 both loses ({lose}) and keeps ({keep}) updates")
    for seed, want_lost in ((lose, True), (keep, False)):
        log = os.path.join(WORK, f"race{seed}.log")
        out, dig = record(log, seed, elf=RACE_SMALL)
        c = counter(out)
        if not c or (c[2] > 0) != want_lost:
            fail(f"record --chaos {seed}: {out!r}")
        for k in range(3):
            rc, rout, rerr = run(["replay", log])
            if rc != 0 or rout != out or digest(rerr) != dig:
                fail(f"replay {k} of seed {seed}: status {rc}, output {rout!r} vs {out!r}, {rerr}")
        # Recording again with the same seed gives the same run.
        out2, dig2 = record(os.path.join(WORK, f"race{seed}b.log"), seed, elf=RACE_SMALL)
        if out2 != out or dig2 != dig:
            fail(f"two recordings with seed {seed} differ")
        print(f"seed {seed}: {out.strip()} digest {dig}: replayed 3 times identically, recorded twice identically")

elif CASE == "long":
    # A recording long enough to be written in many chunks replays to the same end.
    log = os.path.join(WORK, "long.log")
    m = ["-M", "virt", "-bios", "none", "-smp", "4", "-nographic", "-kernel", os.path.join(GUESTS, "bench_compute.elf"),
         "-append", "total=4000000"]
    rc, out, err = run(["record", "-o", log] + m)
    d = digest(err)
    if rc != 0 or not d or "bench: insns=" not in out:
        fail(f"record: status {rc}, {out!r} {err}")
    rc2, out2, err2 = run(["replay", log])
    if rc2 != 0 or out2 != out or digest(err2) != d:
        fail(f"replay: status {rc2}, digest {digest(err2)} vs {d}, {err2}")
    print("long:", re.search(r"recorded .*", err).group(0), "replayed to digest", d)

elif CASE == "executors":
    # The translator and the interpreter run a recording the same way: a log
    # recorded with one replays bit-exact with the other, in both directions,
    # on racy, self-modifying and compute-heavy guests.
    guests = [("race", RACE, ["--chaos", "3"]), ("smc", os.path.join(GUESTS, "smc.elf"), []),
              ("compute", os.path.join(GUESTS, "bench_compute.elf"), ["-append", "total=2000000"])]
    for name, elf, extra in guests:
        digests = {}
        for rec_jit, rep_jit in (("on", "off"), ("off", "on")):
            log = os.path.join(WORK, f"{name}-{rec_jit}.log")
            m = ["-M", "virt", "-bios", "none", "-smp", "4", "-nographic", "-kernel", elf]
            chaos = extra if extra and extra[0] == "--chaos" else []
            app = extra if extra and extra[0] == "-append" else []
            rc, out, err = run(["record", "-o", log] + chaos + m + app + ["-accel", f"tcg,jit={rec_jit}"])
            d = digest(err)
            if rc != 0 or not d:
                fail(f"{name}: record with jit={rec_jit}: status {rc}, {err}")
            rc2, out2, err2 = run(["replay", log, "-accel", f"tcg,jit={rep_jit}"])
            if rc2 != 0 or out2 != out or digest(err2) != d:
                fail(f"{name}: recorded with jit={rec_jit}, replayed with jit={rep_jit}: status {rc2}, "
                     f"digest {digest(err2)} vs {d}, output {out2!r} vs {out!r}, {err2}")
            digests[rec_jit] = (out, d)
        if digests["on"] != digests["off"]:
            fail(f"{name}: the two executors recorded different runs: {digests}")
        print(f"{name}: recorded with each executor, replayed with the other: digest {digests['on'][1]} all four times")
    rc, out, err = run(["replay", os.path.join(WORK, "race-on.log"), "-accel", "tcg,threads=2"])
    if rc == 0 or "takes only tcg,jit=on|off" not in err:
        fail(f"replay -accel tcg,threads=2 should be refused: {rc} {err}")

elif CASE == "truncated":
    log = os.path.join(WORK, "trunc.log")
    out, dig = record(log, 3)
    size = os.path.getsize(log)
    cut = os.path.join(WORK, "trunc-cut.log")
    with open(log, "rb") as f:
        data = f.read()
    with open(cut, "wb") as f:
        f.write(data[: size - 7])
    rc, rout, rerr = run(["replay", cut])
    if rc != 3 or "truncated" not in rerr or "prefix" not in rerr:
        fail(f"truncated log: status {rc}, {rerr}")
    print("truncated:", rerr.strip().splitlines()[0])

elif CASE == "killed":
    # A recording killed with SIGKILL leaves a log that replays its prefix.
    log = os.path.join(WORK, "killed.log")
    args = [COREMU, "record", "-o", log, "--chaos", "5", "-M", "virt", "-bios", "none", "-smp", "4",
            "-kernel", os.path.join(GUESTS, "demo.elf"), "-nographic"]
    # The demo guest runs briefly: loop it with a long-running guest instead when available.
    longg = os.path.join(GUESTS, "bench_compute.elf")
    if os.path.exists(longg):
        args[args.index(os.path.join(GUESTS, "demo.elf"))] = longg
        args += ["-append", "total=2000000000"]  # minutes of work, translated or not
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.5)
    if p.poll() is not None:
        fail(f"the recording ended before it could be killed: {p.communicate()}")
    p.send_signal(signal.SIGKILL)
    p.wait()
    rc, rout, rerr = run(["replay", log])
    if rc != 3 or "truncated" not in rerr:
        fail(f"replay of a killed recording: status {rc}, {rerr}")
    print("killed:", rerr.strip().splitlines()[0])

elif CASE == "corrupt":
    log = os.path.join(WORK, "corrupt.log")
    record(log, 3)
    with open(log, "rb") as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 0x40
    bad = os.path.join(WORK, "corrupt-bad.log")
    with open(bad, "wb") as f:
        f.write(data)
    rc, rout, rerr = run(["replay", bad])
    if rc != 1 or "corrupt" not in rerr:
        fail(f"corrupt log: status {rc}, {rerr}")
    rc, rout, rerr = run(["replay", os.path.join(WORK, "no-such.log")])
    if rc != 1 or "no-such.log" not in rerr:
        fail(f"missing log: status {rc}, {rerr}")
    with open(bad, "wb") as f:
        f.write(b"not a log at all\n")
    rc, rout, rerr = run(["replay", bad])
    if rc != 1 or "replay log" not in rerr:
        fail(f"not a log: status {rc}, {rerr}")
    print("corrupt:", rerr.strip())

elif CASE == "other-image":
    kern = os.path.join(WORK, "kernel.elf")
    shutil.copy(RACE, kern)
    log = os.path.join(WORK, "image.log")
    record(log, 3, kernel=kern)
    shutil.copy(os.path.join(GUESTS, "smp_amo.elf"), kern)
    rc, rout, rerr = run(["replay", log])
    if rc != 1 or "not the one recorded" not in rerr or rout:
        fail(f"replay against another kernel: status {rc}, {rout!r} {rerr}")
    print("other image refused:", rerr.strip())

elif CASE == "input":
    # UART input read from stdin while recording comes from the log in replay.
    log = os.path.join(WORK, "input.log")
    m = ["-M", "virt", "-bios", "none", "-smp", "2", "-nographic", "-kernel", os.path.join(GUESTS, "repl_uart.elf")]
    p = subprocess.run([COREMU, "record", "-o", log] + m, input="hello 42\n", capture_output=True, text=True,
                       timeout=120)
    if p.returncode != 42 or "got: hello 42" not in p.stdout or not digest(p.stderr):
        fail(f"record with input: status {p.returncode}, {p.stdout!r} {p.stderr}")
    for k in range(2):
        rc, out, err = run(["replay", log])  # stdin is /dev/null: the input must come from the log
        if rc != 42 or out != p.stdout or digest(err) != digest(p.stderr):
            fail(f"replay {k}: status {rc}, {out!r} {err}")
    print("input: 'hello 42' typed while recording; replayed twice without stdin: same output, status 42, digest",
          digest(p.stderr))

elif CASE == "stopped":
    # A recording ended with Ctrl-A x (on a terminal) before the guest shut
    # down replays to exactly where it was stopped, and no further.
    import pty
    log = os.path.join(WORK, "stopped.log")
    args = [COREMU, "record", "-o", log, "--chaos", "2", "-M", "virt", "-bios", "none", "-smp", "4", "-nographic",
            "-kernel", os.path.join(GUESTS, "bench_compute.elf"), "-append", "total=400000000"]
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(COREMU, args)
    time.sleep(1.5)
    os.write(fd, b"\x01x")
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, wstatus = os.waitpid(pid, 0)
    text = out.decode(errors="replace")
    d = digest(text)
    if not d or "recorded" not in text:
        fail(f"record stopped with Ctrl-A x: {text!r}")
    rc, rout, rerr = run(["replay", log])
    if rc != 0 or digest(rerr) != d or "stopped there" not in rerr:
        fail(f"replay of a stopped recording: status {rc}, {rerr}")
    print("stopped:", rerr.strip().splitlines()[0], "digest", d)

elif CASE == "events":
    # The timeline: IPIs and interrupts of smp_ipi, and the shared counter of
    # the race with arrows between harts; the same file from two replays.
    import json
    log = os.path.join(WORK, "ipi.log")
    m = ["-M", "virt", "-bios", "none", "-smp", "4", "-nographic", "-kernel", os.path.join(GUESTS, "smp_ipi.elf")]
    rc, out, err = run(["record", "-o", log] + m)
    if rc != 0:
        fail(f"record smp_ipi: {rc} {err}")
    files = []
    for k in range(2):
        ev = os.path.join(WORK, f"ipi{k}.json")
        rc, rout, rerr = run(["replay", log, "--events", ev])
        if rc != 0 or rout != out:
            fail(f"replay --events: {rc} {rerr}")
        files.append(open(ev).read())
    if files[0] != files[1]:
        fail("two replays wrote different timelines")
    evs = json.loads(files[0])["traceEvents"]
    cats = {e.get("cat") for e in evs}
    ipis = [e for e in evs if e.get("cat") == "ipi"]
    irqs = [e for e in evs if e.get("cat") == "interrupt"]
    tracks = {e["tid"] for e in evs if e.get("ph") == "M" and e["name"] == "thread_name"}
    if not ipis or not irqs or tracks != {0, 1, 2, 3}:
        fail(f"timeline lacks IPIs ({len(ipis)}) or interrupts ({len(irqs)}), or tracks {tracks}: {cats}")
    log2 = os.path.join(WORK, "race.log")
    record(log2, 6, elf=RACE_SMALL)
    ev = os.path.join(WORK, "race.json")
    rc, rout, rerr = run(["replay", log2, "--events", ev, "--watch", "counter"])
    evs = json.loads(open(ev).read())["traceEvents"]
    shared = [e for e in evs if e.get("cat") == "shared"]
    flows = [e for e in evs if e.get("cat") == "flow"]
    cross = [e for e in shared if "from_hart" in e["args"] and e["args"]["from_hart"] != e["tid"]]
    if rc != 0 or not shared or not flows or not cross:
        fail(f"race timeline: status {rc}, {len(shared)} shared, {len(flows)} flow, {len(cross)} cross-hart: {rerr}")
    rc, rout, rerr = run(["replay", log2, "--watch", "counter"])
    if rc != 1 or "--events" not in rerr:
        fail(f"--watch without --events: {rc} {rerr}")
    print(f"events: smp_ipi {len(ipis)} IPIs, {len(irqs)} interrupts on 4 tracks (identical twice); "
          f"race {len(shared)} counter accesses, {len(cross)} read another hart's write")

else:
    fail(f"unknown case {CASE}")
