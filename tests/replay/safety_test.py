#!/usr/bin/env python3
"""Replay logs, disks, special files and the debug port used as an attacker
or a careless user would (issue 15).

usage: safety_test.py CASE COREMU LOGEDIT GUEST_DIR WORKDIR
LOGEDIT (tests/replay/logedit.cpp) rewrites a log's options, images and end
record and recomputes every checksum. Each case prints what it checked and
exits non-zero on the first failure."""
import os
import re
import resource
import shutil
import socket
import stat
import subprocess
import sys
import time

CASE, COREMU, LOGEDIT, GUESTS, WORK = sys.argv[1:6]
RACE = os.path.join(GUESTS, "race_small.elf")
DISK_WRITE = os.path.join(GUESTS, "disk_write.elf")
LONG = os.path.join(GUESTS, "bench_compute.elf")
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
os.chdir(WORK)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(args, timeout=120, stdin=subprocess.DEVNULL):
    try:
        p = subprocess.run([COREMU] + args, stdin=stdin, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        fail(f"coremu {' '.join(args)}: still running after {timeout} s (a hang)")
    return p.returncode, p.stdout, p.stderr


def edit(src, dst, *edits):
    p = subprocess.run([LOGEDIT, src, dst] + list(edits), capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        fail(f"logedit {edits}: {p.stderr}")
    return dst


def digest(err):
    m = re.search(r"final state digest: ([0-9a-f]{16})", err)
    return m.group(1) if m else None


def machine(elf=RACE, smp=2):
    return ["-M", "virt", "-bios", "none", "-smp", str(smp), "-kernel", elf, "-nographic"]


def record(log, extra=(), elf=RACE, smp=2, status=0):
    rc, out, err = run(["record", "-o", log] + list(extra) + machine(elf, smp))
    if rc != status or not digest(err):
        fail(f"record {log}: status {rc}, {err}")
    return out, digest(err)


def refused(log, want, what, extra=(), status=1):
    rc, out, err = run(["replay", log] + list(extra), timeout=30)
    if rc != status or not re.search(want, err):
        fail(f"{what}: status {rc} (want {status}), stderr {err!r} lacks {want!r}")
    print(f"ok   {what}: {err.strip().splitlines()[-1]}")
    return err


def listening(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if CASE == "edited":
    log = os.path.join(WORK, "race.log")
    out, dig = record(log, ["-serial", "stdio"])
    # The log holds only the machine's shape: -nographic and -serial are not stored.
    p = subprocess.run([LOGEDIT, log, "/dev/null", "--print"], capture_output=True, text=True)
    if "-nographic" in p.stdout or "-serial" in p.stdout or "-kernel" not in p.stdout:
        fail(f"record stored host-side options: {p.stdout}")
    rc, rout, rerr = run(["replay", log])
    if rc != 0 or rout != out or digest(rerr) != dig or "coremu: replaying" not in rerr or "kernel '" not in rerr:
        fail(f"plain replay: {rc} {rerr}")
    print("ok   record stores the shape only; replay prints the machine:", rerr.splitlines()[0])
    # Host-side choices from replay's own command line.
    rc, rout, rerr = run(["replay", log, "-serial", "file:console.txt"])
    if rc != 0 or rout or open("console.txt").read() != out:
        fail(f"replay -serial file: {rc} {rout!r} {rerr}")
    print("ok   replay -serial file:PATH (its own command line) writes the console there")
    victim = os.path.join(WORK, "victim.txt")
    with open(victim, "w") as f:
        f.write("precious\n")
    refused(edit(log, "serial.log", "--add-args", "-serial", f"file:{victim}", "--"), r"-serial file:.*not part of the machine",
            "a log asking for -serial file:PATH")
    if open(victim).read() != "precious\n":
        fail("the edited log's -serial file overwrote the victim file")
    port = free_port()
    refused(edit(log, "gdb.log", "--add-args", "-gdb", f"tcp:0.0.0.0:{port}", "--"), r"-gdb tcp:0\.0\.0\.0",
            "a log asking for -gdb tcp:0.0.0.0:PORT")
    refused(edit(log, "s.log", "--add-args", "-s", "-S", "--"), r"'-s'", "a log asking for -s -S")
    refused(edit(log, "repl.log", "--add-args", "--repl", "--"), r"--repl", "a log asking for --repl")
    refused(edit(log, "sym.log", "--add-args", "--symbols", RACE, "--"), r"--symbols", "a log asking for --symbols")
    refused(edit(log, "dump.log", "--add-args", "-M", "virt,dumpdtb=" + os.path.join(WORK, "x.dtb"), "--"),
            r"dumpdtb", "a log asking for -machine dumpdtb=FILE")
    if os.path.exists(os.path.join(WORK, "x.dtb")):
        fail("dumpdtb wrote a file")
    other = os.path.join(WORK, "other.img")
    with open(other, "wb") as f:
        f.write(b"\0" * 65536)
    before = open(other, "rb").read()
    refused(edit(log, "drive.log", "--add-args", "-drive", f"file={other},if=virtio,format=raw", "--"),
            r"drive virtio0 image .* image list does not have", "a log with a -drive its image list lacks")
    refused(edit(log, "noimg.log", "--clear-images"), r"kernel image .* image list does not have",
            "a log with an empty image list")
    refused(edit(log, "path.log", "--image-path", "kernel", os.path.join(GUESTS, "demo.elf")),
            r"image list does not have", "a log whose image path differs from its options")
    refused(edit(log, "q0.log", "--quantum", "0"), r"quantum of 0", "a log with quantum 0")
    refused(edit(log, "qbig.log", "--quantum", str(1 << 63)), r"quantum of", "a log with a huge quantum")
    refused(edit(log, "di.log", "--digest-interval", "0"), r"digest interval", "a log with digest interval 0")
    refused(edit(log, "bogus.log", "--add-args", "-frobnicate", "--"), r"frobnicate", "a log with an unknown option")
    # Text from a log never reaches the terminal raw: no escape sequences.
    p = subprocess.run([LOGEDIT, log, "/dev/null", "--print"], capture_output=True, text=True)
    args = [a[4:] for a in p.stdout.splitlines() if a.startswith("arg ")]
    bad_kernel = RACE + "\x1b]0;owned\x07\x1b[2J"
    esc = edit(log, "esc.log", "--args", *[bad_kernel if a == RACE else a for a in args], "--",
               "--image-path", "kernel", bad_kernel)
    rc, rout, rerr = run(["replay", esc])
    if rc != 1 or "\x1b" in rerr or "\\x1b[2J" not in rerr:
        fail(f"control characters from a log: status {rc}, {rerr!r}")
    rc, rout, rerr = run(["replay", edit(log, "esc2.log", "--add-args", "-append", "\x1b[2J", "--")])
    if "\x1b" in rerr or "command line: \\x1b[2J" not in rerr:
        fail(f"control characters in -append from a log: status {rc}, {rerr!r}")
    print("ok   control characters from a log are printed escaped")
    print("edited: every host-side or unknown option, missing image and bad header value refused, naming it")

elif CASE == "special":
    fifo = os.path.join(WORK, "fifo")
    os.mkfifo(fifo)
    for opt, path, want in (("-kernel", fifo, "is a FIFO"), ("-kernel", "/dev/zero", "is a character device"),
                            ("-initrd", "/dev/zero", "is a character device"),
                            ("-dtb", "/dev/zero", "is a character device"), ("-bios", fifo, "is a FIFO"),
                            ("-kernel", WORK, "directory")):
        args = ["-M", "virt", "-bios", "none", "-nographic", "-kernel", RACE]
        if opt == "-kernel":
            args[args.index(RACE)] = path
        elif opt == "-bios":
            args[args.index("none")] = path
        else:
            args += [opt, path]
        t = time.time()
        rc, out, err = run(args, timeout=20)
        if rc != 1 or want not in err:
            fail(f"{opt} {path}: status {rc}, {err!r}")
        print(f"ok   {opt} {path}: {err.strip()} ({time.time() - t:.1f} s)")
    # record with a FIFO or /dev/zero image: the same.
    rc, out, err = run(["record", "-o", "x.log", "-M", "virt", "-bios", "none", "-kernel", RACE, "-initrd",
                        "/dev/zero", "-nographic"], timeout=20)
    if rc != 1 or "character device" not in err:
        fail(f"record -initrd /dev/zero: {rc} {err}")
    # A replay whose kernel became a symlink to /dev/zero, or a FIFO.
    kern = os.path.join(WORK, "kernel.elf")
    shutil.copy(RACE, kern)
    log = os.path.join(WORK, "k.log")
    record(log, elf=kern)
    os.remove(kern)
    os.symlink("/dev/zero", kern)
    refused(log, r"kernel image .* is a character device", "replay: the kernel is now a symlink to /dev/zero")
    os.remove(kern)
    os.mkfifo(kern)
    refused(log, r"kernel image .* is a FIFO", "replay: the kernel is now a FIFO")
    # An edited log that names /dev/zero as kernel, initrd or dtb (with the recorded hash kept).
    p = subprocess.run([LOGEDIT, log, "/dev/null", "--print"], capture_output=True, text=True)
    size, h = re.search(r"image kernel \S+ (\d+) ([0-9a-f]+)", p.stdout).groups()
    args = [a[4:] for a in p.stdout.splitlines() if a.startswith("arg ")]
    for role, opt in (("kernel", None), ("initrd", "-initrd"), ("dtb", "-dtb")):
        new = [("/dev/zero" if a == kern and role == "kernel" else a) for a in args]
        edits = ["--args"] + new + ([opt, "/dev/zero"] if opt else []) + ["--"]
        if role == "kernel":
            edits += ["--image-path", "kernel", "/dev/zero"]
        else:
            os.remove(kern)
            shutil.copy(RACE, kern)
            edits += ["--add-image", role, "/dev/zero", size, h]
        refused(edit(log, f"zero-{role}.log", *edits), r"/dev/zero' is a character device",
                f"a log naming /dev/zero as the {role}")
    # The log itself: a FIFO, a directory, /dev/zero.
    logfifo = os.path.join(WORK, "log.fifo")
    os.mkfifo(logfifo)
    for bad in (logfifo, WORK, "/dev/zero"):
        refused(bad, r"not a regular file", f"replay of {bad}")
    print("special: FIFOs, devices and directories refused at once, as images and as logs")

elif CASE == "sparse-log":
    # A 3 GB sparse file: refused after reading its header, in little time and memory.
    log = os.path.join(WORK, "race.log")
    record(log)
    head = open(log, "rb").read()
    for name, data in (("zeros.log", b""), ("header.log", head[:64 + 48 + 200])):
        big = os.path.join(WORK, name)
        with open(big, "wb") as f:
            f.write(data)
            f.truncate(3 << 30)
        t = time.time()
        p = subprocess.run(["/usr/bin/time", "-f", "maxrss %M", COREMU, "replay", big], capture_output=True,
                           text=True, timeout=60)
        rss = int(re.search(r"maxrss (\d+)", p.stderr).group(1))
        took = time.time() - t
        if p.returncode != 1 or rss > 200 * 1024 or took > 10:
            fail(f"{name}: status {p.returncode}, {rss} KiB resident, {took:.1f} s: {p.stderr}")
        print(f"ok   3 GB sparse {name}: {p.stderr.strip().splitlines()[0]} ({rss // 1024} MiB resident, {took:.1f} s)")
        os.remove(big)
    # A 64 GiB sparse disk image hashes without reading its holes.
    img = os.path.join(WORK, "sparse.img")
    with open(img, "wb") as f:
        f.write(b"\1" * 4096)
        f.truncate(64 << 30)
    t = time.time()
    rc, out, err = run(["record", "-o", "disk.log", "-drive", f"file={img},if=virtio,format=raw,readonly=on"] +
                       machine(), timeout=120)
    took = time.time() - t
    if rc != 0 or took > 30 or "hashing drive" not in err:
        fail(f"record with a 64 GiB sparse disk: status {rc}, {took:.1f} s, {err}")
    rc, out, err = run(["replay", "disk.log"], timeout=120)
    if rc != 0:
        fail(f"replay with a 64 GiB sparse disk: {rc} {err}")
    print(f"ok   a 64 GiB sparse disk: recorded in {took:.1f} s and replayed")
    print("sparse-log: bounded time and memory")

elif CASE == "disk-lock":
    img = os.path.join(WORK, "disk.img")
    with open(img, "wb") as f:
        f.write(b"\0" * (1 << 20))
    long_run = ["-M", "virt", "-bios", "none", "-smp", "1", "-nographic", "-kernel", LONG, "-append",
                "total=4000000000"]

    def start(drive_opts):
        p = subprocess.Popen([COREMU] + long_run + ["-drive", f"file={img},if=virtio,format=raw{drive_opts}"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        if p.poll() is not None:
            fail(f"the first machine ended: {p.communicate()}")
        return p

    a = start("")
    for opts, what in (("", "a second writer"), (",readonly=on", "a reader beside a writer"),
                       (",snapshot=on", "a snapshot reader beside a writer")):
        rc, out, err = run(long_run + ["-drive", f"file={img},if=virtio,format=raw{opts}"], timeout=30)
        if rc != 1 or "is in use" not in err:
            fail(f"{what}: status {rc}, {err}")
        print(f"ok   {what} refused: {err.strip()}")
    rc, out, err = run(["record", "-o", "r.log", "-drive", f"file={img},if=virtio,format=raw"] + machine(), timeout=30)
    if rc != 1 or "is in use" not in err:
        fail(f"record beside a run: status {rc}, {err}")
    print("ok   a record beside a run refused")
    a.kill()
    a.wait()
    a = start(",readonly=on")
    rc, out, err = run(["-drive", f"file={img},if=virtio,format=raw,readonly=on"] + machine(), timeout=60)
    if rc != 0:
        fail(f"two readers: status {rc}, {err}")
    rc, out, err = run(["-drive", f"file={img},if=virtio,format=raw"] + machine(), timeout=30)
    if rc != 1 or "is in use" not in err:
        fail(f"a writer beside a reader: status {rc}, {err}")
    a.kill()
    a.wait()
    print("ok   two readers share the image; a writer beside a reader is refused")
    # Cache modes: every one accepted, writethrough actually runs.
    for mode in ("writeback", "writethrough", "none", "directsync", "unsafe"):
        rc, out, err = run(["-drive", f"file={img},if=virtio,format=raw,cache={mode}"] + machine(DISK_WRITE), timeout=60)
        if rc != 0 or "disk_write: wrote sector" not in out:
            fail(f"cache={mode}: {rc} {out} {err}")
    print("disk-lock: OFD locks, shared for readers; cache modes run")

elif CASE == "disk-replay":
    img = os.path.join(WORK, "disk.img")
    with open(img, "wb") as f:
        f.write(bytes([3]) + b"\0" * ((1 << 20) - 1))  # the guest writes sector 3
    rc, out, err = run(["record", "-o", "w.log", "-drive", f"file={img},if=virtio,format=raw,snapshot=on"] +
                       machine(DISK_WRITE))
    if rc != 0 or "wrote sector 3" not in out:
        fail(f"record: {rc} {out} {err}")
    before = open(img, "rb").read()
    for k, extra in enumerate(([], [], ["--to", "1000"])):
        rc, rout, rerr = run(["replay", "w.log"] + extra)
        if rc != 0 or open(img, "rb").read() != before:
            fail(f"replay {k} {extra} of a snapshot=on recording: status {rc}, image changed: "
                 f"{open(img, 'rb').read() != before}, {rerr}")
    # A recording with a writable drive changes the image (record warns);
    # against a copy of the image as it was, replays never change it.
    shutil.copy(img, "copy.img")
    rc, out, err = run(["record", "-o", "rw.log", "-drive", f"file={img},if=virtio,format=raw"] + machine(DISK_WRITE))
    if rc != 0 or "wrote sector 3" not in out:
        fail(f"record with a writable drive: {rc} {err}")
    changed = open(img, "rb").read()
    shutil.copy("copy.img", img)
    for k, extra in enumerate(([], [], ["--to", "1000"])):
        rc, rout, rerr = run(["replay", "rw.log"] + extra)
        if rc != 0 or open(img, "rb").read() != before:
            fail(f"replay {k} {extra} of a recording that wrote its disk: status {rc}, image changed: "
                 f"{open(img, 'rb').read() != before}, {rerr}")
    print("ok   replays (and one with --to) leave the image byte-identical; the next replay accepts it")
    if "is writable" not in err:
        fail(f"record with a writable drive gave no warning: {err}")
    with open(img, "wb") as f:
        f.write(changed)
    refused("rw.log", r"not the one recorded", "replay against the image the recording wrote to")
    print("disk-replay: replays run their drives in snapshot mode")

elif CASE == "end-record":
    log = os.path.join(WORK, "race.log")
    out, dig = record(log)
    refused(edit(log, "noend.log", "--drop-end"), r"truncated.*no end record", "a log whose end record was dropped",
            status=3)
    refused(edit(log, "status.log", "--end-status", "7"), r"divergence: the guest exited with status 0, in the recording with 7",
            "an end record with another exit status", status=2)
    refused(edit(log, "steps.log", "--end-steps", "5"), r"divergence", "an end record with another position",
            status=2)
    refused(edit(log, "dig.log", "--end-digest", "1234"), r"divergence: the final state digest differs",
            "an end record with another digest", status=2)
    print("end-record: position, status and digest checked")

elif CASE == "gdb-write" or CASE == "gdb-port":
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gdb"))
    from rsp_robustness import Client

    def hexs(s):
        return s.encode().hex()

    def unhex_console(text):
        return "".join(bytes.fromhex(p[1:]).decode(errors="replace") for p in re.findall(r"O[0-9a-f]+", text))

    if CASE == "gdb-write":
        log = os.path.join(WORK, "race.log")
        out, dig = record(log)
        sock = os.path.join(WORK, "gdb.sock")
        emu = subprocess.Popen([COREMU, "replay", log, "-S", "-gdb", f"unix:{sock}"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        head = ""
        while "GDB server on" not in head:  # printed once the server listens
            line = emu.stderr.readline()
            if not line:
                fail(f"replay -gdb: {head}")
            head += line
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        c = Client(s)
        c.cmd("qSupported")
        victim = os.path.join(WORK, "trace.json")
        for mon in (f"trace export chrome {victim}", f"trace shared 0x80000000 8 {victim}"):
            c.send(b"$qRcmd," + hexs(mon).encode() + b"#" + ("%02x" % (sum(b"qRcmd," + hexs(mon).encode()) & 0xff)).encode())
            text = ""
            while True:
                r = c.reply()
                if r is None or r == "OK":
                    break
                text += bytes.fromhex(r[1:]).decode()
            if "writes no host files" not in text or os.path.exists(victim):
                fail(f"monitor {mon}: {text!r}")
            print(f"ok   monitor {mon.split()[0]} {mon.split()[1]} ... PATH refused over gdb")
        # A memory write, then run to the end of the recording.
        if c.cmd("M80000000,4:13000000") != "OK":
            fail("M packet")
        c.send(b"$qRcmd," + hexs("info replay").encode() + b"#" +
               ("%02x" % (sum(b"qRcmd," + hexs("info replay").encode()) & 0xff)).encode())
        text = ""
        while True:
            r = c.reply()
            if r is None or r == "OK":
                break
            text += bytes.fromhex(r[1:]).decode()
        if "diverged: the debugger changed the machine (memory write at 0x80000000" not in text:
            fail(f"info replay after a write: {text!r}")
        print("ok   info replay says the replay diverged:", text.strip().splitlines()[-1][:100])
        r = c.cmd("vCont;c", timeout=120)
        console = ""
        while r is not None and r.startswith("O"):
            console += bytes.fromhex(r[1:]).decode()
            r = c.reply(timeout=120)
        if "this replay has diverged" not in console:
            fail(f"no divergence note on gdb's console at the stop: {console!r} {r!r}")
        print("ok   gdb's console at the next stop:", console.strip().splitlines()[0][:100])
        c.ack = False
        c.send(b"$D#44")
        c.reply()
        s.close()
        try:
            eout, eerr = emu.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            emu.kill()
            fail("replay did not end after detach")
        if emu.returncode != 2 or "diverged: the debugger changed the machine" not in eerr:
            fail(f"the end of a replay written to: status {emu.returncode}, {eerr}")
        print("ok   the end:", [l for l in eerr.splitlines() if "diverged" in l][-1][:160])
        print("gdb-write: host paths refused over gdb; writes mark the replay diverged")
    else:
        # -gdb on every interface warns.
        port = free_port()
        p = subprocess.Popen([COREMU, "-gdb", f"tcp:0.0.0.0:{port}"] + machine(), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        err = p.communicate(timeout=60)[1]
        if "warning" not in err or "every network interface" not in err:
            fail(f"-gdb tcp:0.0.0.0: no warning: {err}")
        print("ok   -gdb tcp:0.0.0.0:P:", [l for l in err.splitlines() if "warning" in l][0][:120])
        rc, out, err = run(["-gdb", f"tcp:127.0.0.1:{port}"] + machine())
        if "warning" in err:
            fail(f"-gdb on localhost warns: {err}")
        # A live unix socket is not taken over.
        sock = os.path.join(WORK, "a.sock")
        a = subprocess.Popen([COREMU, "-S", "-gdb", f"unix:{sock}"] + machine(), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = a.stderr.readline()  # printed once the server listens
        if "GDB server on" not in line:
            fail(f"first coremu: {line!r}")
        rc, out, err = run(["-S", "-gdb", f"unix:{sock}"] + machine(), timeout=20)
        if rc != 1 or "listening" not in err:
            fail(f"second coremu on a live socket: {rc} {err}")
        print("ok   a live unix socket refused:", err.strip())
        # Clients beyond the first are refused with a message, at once.
        first = socket.socket(socket.AF_UNIX)
        first.connect(sock)
        c1 = Client(first)
        if not c1.cmd("qSupported"):
            fail("first client")
        for k in range(3):
            extra = socket.socket(socket.AF_UNIX)
            extra.settimeout(5)
            t = time.time()
            extra.connect(sock)
            data = b""
            try:
                while True:
                    d = extra.recv(4096)
                    if not d:
                        break
                    data += d
            except socket.timeout:
                fail(f"extra client {k}: no answer within 5 s")
            msg = unhex_console(data.decode(errors="replace"))
            if "already connected" not in msg:
                fail(f"extra client {k}: {data!r}")
            extra.close()
        print(f"ok   three extra clients told '{msg.strip()}' and closed")
        if c1.cmd("qC") != "QC1":
            fail("the first client lost its session")
        c1.send(b"$k#6b")
        first.close()
        try:
            a.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            a.kill()
        # A stale socket (nobody listening) is replaced.
        stale = os.path.join(WORK, "stale.sock")
        s = socket.socket(socket.AF_UNIX)
        s.bind(stale)
        s.close()
        rc, out, err = run(["-gdb", f"unix:{stale}"] + machine())
        if rc != 0:
            fail(f"a stale socket: {rc} {err}")
        print("gdb-port: bind warning, live sockets kept, extra clients refused")

else:
    fail(f"unknown case {CASE}")
