#!/usr/bin/env python3
"""Raw-socket tests of coremu's GDB server: malformed input never crashes or
hangs it, and the machine keeps its state.

usage: rsp_robustness.py COREMU ELF   (ELF: build/guest/gdb_target.elf)

Talks the protocol by hand over TCP and over a Unix socket: garbage bytes,
bad checksums, unknown packets, oversized and truncated packets, a client
that vanishes mid-packet, bad arguments to every command family, then a
well-behaved session (registers, memory, breakpoint, Ctrl-C, detach and
reconnect) that must still work, and finally the guest runs to its end.
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def csum(payload):
    return "%02x" % (sum(payload.encode("latin-1")) & 0xff)


def pkt(payload):
    return ("$" + payload + "#" + csum(payload)).encode("latin-1")


class Client:
    def __init__(self, sock):
        self.s = sock
        self.s.settimeout(10)
        self.buf = b""
        self.ack = True

    def send(self, raw):
        self.s.sendall(raw)

    def read_until(self, pred, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            r = pred(self.buf)
            if r is not None:
                return r
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                break
            if not data:
                break
            self.buf += data
        return pred(self.buf)

    def byte(self):
        """Next ack byte ('+' or '-') or None."""
        def p(b):
            if b[:1] in (b"+", b"-"):
                c = b[:1]
                self.buf = b[1:]
                return c
            return None
        return self.read_until(p)

    def reply(self, timeout=10):
        """Next packet's payload (acked), or None."""
        def p(b):
            m = re.match(rb"^[+-]*\$([^#]*)#([0-9a-f]{2})", b, re.S)
            if m:
                self.buf = b[m.end():]
                return m.group(1).decode("latin-1")
            return None
        r = self.read_until(p, timeout)
        if r is not None and self.ack:
            self.send(b"+")
        return r

    def cmd(self, payload, timeout=10):
        self.send(pkt(payload))
        return self.reply(timeout)


def main():
    coremu, elf = sys.argv[1], sys.argv[2]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    emu = subprocess.Popen([coremu, "-M", "virt", "-bios", "none", "-nographic", "-smp", "4", "-kernel", elf,
                            "-S", "-gdb", f"tcp:127.0.0.1:{port}"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    line = emu.stdout.readline()
    check(b"GDB server on" in line, "server announces itself")

    def connect():
        return Client(socket.create_connection(("127.0.0.1", port), timeout=10))

    # 1. Garbage, bad checksums, unknown packets.
    c = connect()
    c.send(b"hello, world\x00\xff\x7f")
    c.send(b"$qC#00")
    check(c.byte() == b"-", "bad checksum is nacked")
    check(c.cmd("qC") == "QC1", "a good packet after garbage is answered")
    check(c.cmd("qNoSuchThing") == "", "unknown query: empty reply")
    check(c.cmd("jUnknownPacket") == "", "unknown packet: empty reply")
    c.send(b"$qC#zz")
    check(c.byte() == b"-", "non-hex checksum is nacked")
    c.send(b"$" + b"A" * 200000 + b"#00")
    check(c.byte() == b"-", "oversized packet is rejected")
    check(c.cmd("qC") == "QC1", "server still answers after an oversized packet")
    c.send(b"$qC$qC#" + csum("qC").encode())
    check(c.byte() == b"-", "a packet cut off by a new '$' is nacked")
    check(c.reply() == "QC1", "the packet that cut it off is answered")
    # Bad arguments to each command family: error replies, never a crash.
    for bad in ["m", "mzz,4", "m1000", "M1000,4:zz", "M1000,4:00", "X1000,8:ab", "Z9,1000,4", "Z0,zz",
                "z2,1000", "p", "pzz", "P1=", "Pzz=00", "Hg99999", "Hx1", "Tzz", "vCont;q", "vCont;s:zz",
                "vCont", "qXfer:features:read:target.xml:zz", "qXfer:features:read:other.xml:0,10",
                "qThreadExtraInfo,zz", "qRcmd,zz", "G00", "g" * 10, "c" + "z" * 40]:
        r = c.cmd(bad)
        check(r is not None and (r == "" or r.startswith("E") or r == "OK" or r.startswith("T")),
              f"malformed {bad[:24]!r} answered ({r!r})")
        if r is not None and r.startswith("T"):
            break
    # 2. A client that vanishes mid-packet.
    c.send(b"$m80000000,1")
    c.s.close()
    time.sleep(0.3)
    check(emu.poll() is None, "coremu survives a client vanishing mid-packet")

    # 3. A proper session still works, machine state intact.
    c = connect()
    feats = c.cmd("qSupported:multiprocess+;swbreak+;hwbreak+")
    check(feats is not None and "PacketSize=" in feats and "qXfer:features:read+" in feats, "qSupported")
    check(c.cmd("QStartNoAckMode") == "OK", "no-ack mode")
    c.ack = False
    check(c.cmd("?").startswith("T05thread:"), "? gives a stop reply")
    th = c.cmd("qfThreadInfo")
    check(th == "m1,2,3,4", f"four threads ({th})")
    check(c.cmd("qsThreadInfo") == "l", "end of thread list")
    xml, off = "", 0
    while True:
        part = c.cmd("qXfer:features:read:target.xml:%x,800" % off)
        if not part or part[0] not in "ml":
            break
        xml += part[1:]
        off += len(part) - 1
        if part[0] == "l":
            break
    check("org.gnu.gdb.riscv.cpu" in xml and xml.rstrip().endswith("</target>"), "target description in pieces")
    g = c.cmd("g")
    check(g is not None and len(g) == 33 * 16, "g packet: 33 registers")
    check(c.cmd("Hg2") == "OK", "select thread 2")
    pc = c.cmd("p20")
    check(pc is not None and len(pc) == 16 and int.from_bytes(bytes.fromhex(pc), "little") >= 0x80000000,
          f"thread 2 pc in RAM: the first client's departure resumed the harts ({pc})")
    check(c.cmd("p1041") == "0300000000000000", "priv register: M")
    check(c.cmd("P5=efbeadde00000000") == "OK", "write t0")
    check(c.cmd("p5") == "efbeadde00000000", "t0 reads back")
    check(c.cmd("m1000,4") is not None and len(c.cmd("m1000,4")) == 8, "read the reset ROM")
    check(c.cmd("m0,4").startswith("E"), "unmapped memory: error")
    check(c.cmd("M80100000,4:01020304") == "OK", "write RAM")
    check(c.cmd("m80100000,4") == "01020304", "RAM reads back")
    check(c.cmd("X80100000,0:") == "OK", "X probe")
    check(c.cmd("X80100000,2:" + "}\x03}\x0a") == "OK", "X with escaped bytes")
    check(c.cmd("m80100000,2") == "232a", "escaped binary written right")
    # Breakpoint at writer (only hart 2 runs it) by its address from the ELF.
    nm = subprocess.run(["riscv64-unknown-elf-nm", elf], capture_output=True, text=True).stdout
    addr = {l.split()[2]: int(l.split()[0], 16) for l in nm.splitlines() if len(l.split()) == 3}
    # The harts spin in spin(): a breakpoint there is hit by one of them.
    check(c.cmd("Z0,%x,2" % addr["spin"]) == "OK", "insert breakpoint (at spin, which the harts already passed)")
    # Hart 1 increments counters[1] all the time: a write watchpoint on it.
    ctr1 = addr["counters"] + 8
    check(c.cmd("Z2,%x,8" % ctr1) == "OK", "insert watchpoint")
    stop = c.cmd("vCont;c", timeout=30)
    check(stop is not None and stop.startswith("T05thread:2;") and ("watch:%x;" % ctr1) in stop,
          f"watchpoint stop names hart 1 and the address ({stop})")
    check(c.cmd("z2,%x,8" % ctr1) == "OK", "remove watchpoint")
    check(c.cmd("z0,%x,2" % addr["spin"]) == "OK", "remove breakpoint")
    # Ctrl-C while running.
    c.send(pkt("vCont;c"))
    time.sleep(0.3)
    c.send(b"\x03")
    stop = c.reply(timeout=10)
    check(stop is not None and stop.startswith("T02"), f"Ctrl-C stops ({stop})")
    r = c.cmd("qRcmd," + "info harts".encode().hex())
    check(r is not None, "monitor command answered")
    check(c.cmd("D") == "OK", "detach")
    c.s.close()
    time.sleep(0.3)
    check(emu.poll() is None, "machine keeps running after detach")

    # 4. Reconnect over the same port: the machine is stopped again, state kept.
    c = connect()
    check(c.cmd("?") is not None, "reconnect")
    check(c.cmd("m80100000,2") == "232a", "memory kept across sessions")
    done = addr["done"]
    check(c.cmd("M%x,4:01000000" % done) == "OK", "set done")
    r = c.cmd("c", timeout=60)
    check(r == "W00", f"guest exits normally ({r})")
    try:
        status = emu.wait(timeout=30)
    except subprocess.TimeoutExpired:
        emu.kill()
        status = None
    check(status == 0, f"coremu exit status 0 ({status})")

    # 5. Unix socket: attach, look, kill.
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "gdb.sock")
        emu = subprocess.Popen([coremu, "-M", "virt", "-bios", "none", "-nographic", "-smp", "2", "-kernel", elf,
                                "-S", "-gdb", "unix:" + path],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        emu.stdout.readline()
        u = socket.socket(socket.AF_UNIX)
        u.connect(path)
        c = Client(u)
        check(c.cmd("qfThreadInfo") == "m1,2", "unix socket: two threads")
        c.send(pkt("k"))
        try:
            status = emu.wait(timeout=30)
        except subprocess.TimeoutExpired:
            emu.kill()
            status = None
        check(status is not None, f"kill ends coremu ({status})")
    print("FAIL: %d checks" % len(failures) if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
