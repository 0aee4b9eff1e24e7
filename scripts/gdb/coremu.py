# gdb helpers for debugging a coremu machine. Load them in gdb with
#     (gdb) source scripts/gdb/coremu.py
# Commands:
#     coremu harts          a table of harts: gdb thread, state, privilege,
#                           pc, function and source line, instruction count
#     coremu hart N         select hart N's thread (thread N+1)
#     coremu icount [N]     instructions retired by hart N, or by each hart
# The data comes from the stub's monitor commands (`monitor info harts`,
# `monitor icount`) and gdb's own symbol tables.
import re

import gdb

_HART_LINE = re.compile(
    r"^hart\s+(\d+)\s+(\w+)\s+(?:(\w)\s+pc=(0x[0-9a-f]+)\s+\S+\s+icount=(\d+))?", re.M)


def _monitor(cmd):
    return gdb.execute("monitor " + cmd, to_string=True)


def _where(pc):
    """'func at file:line' (or 'func', or '??') for an address."""
    try:
        block = gdb.block_for_pc(pc)
    except RuntimeError:
        block = None
    func = None
    while block is not None and func is None:
        func = block.function
        block = block.superblock
    name = func.print_name if func else None
    if name is None:
        # Fall back to the minimal symbol table (assembly, no debug info).
        out = gdb.execute("info symbol %#x" % pc, to_string=True)
        if not out.startswith("No symbol"):
            name = out.split(" in section")[0].strip()
    sal = gdb.find_pc_line(pc)
    loc = ""
    if sal.symtab is not None:
        loc = " at %s:%d" % (sal.symtab.filename.split("/")[-1], sal.line)
    return (name or "??") + loc


class Coremu(gdb.Command):
    """coremu: helpers for coremu machines (coremu harts, coremu hart N, coremu icount [N])."""

    def __init__(self):
        super().__init__("coremu", gdb.COMMAND_USER, prefix=True)


class CoremuHarts(gdb.Command):
    """Show a table of harts: thread, state, privilege, pc, location, icount."""

    def __init__(self):
        super().__init__("coremu harts", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        text = _monitor("info harts")
        rows = _HART_LINE.findall(text)
        if not rows:
            raise gdb.GdbError("coremu: unexpected 'monitor info harts' output: " + text.strip())
        current = gdb.selected_thread()
        cur = current.num - 1 if current is not None else -1
        print("  %-5s %-6s %-8s %-4s %-18s %-12s %s" % ("hart", "thread", "state", "priv", "pc", "icount", "where"))
        for hart, state, priv, pc, icount in rows:
            h = int(hart)
            mark = "*" if h == cur else " "
            if not pc:
                print("%s %-5d %-6d %-8s" % (mark, h, h + 1, state))
                continue
            pcv = int(pc, 16)
            print("%s %-5d %-6d %-8s %-4s %#018x %-12s %s" % (mark, h, h + 1, state, priv, pcv, icount, _where(pcv)))


class CoremuHart(gdb.Command):
    """Select hart N (gdb thread N+1)."""

    def __init__(self):
        super().__init__("coremu hart", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        try:
            n = int(arg, 0)
        except ValueError:
            raise gdb.GdbError("usage: coremu hart N")
        gdb.execute("thread %d" % (n + 1), from_tty)


class CoremuIcount(gdb.Command):
    """Instructions retired by hart N, or by every hart."""

    def __init__(self):
        super().__init__("coremu icount", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        gdb.write(_monitor("icount " + arg.strip()))


Coremu()
CoremuHarts()
CoremuHart()
CoremuIcount()
