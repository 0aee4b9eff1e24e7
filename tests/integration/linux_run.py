#!/usr/bin/env python3
"""Runs console.py on the kernel that scripts/guest/build-linux.sh built.

    linux_run.py DIRFILE CONSOLE_PY ARGS...

DIRFILE holds the output directory of build-linux.sh (written by the
linux_build test, the fixture of every linux_* test). Every "%LINUX%" in
ARGS is replaced by that directory, then console.py runs with ARGS.
"""
import os
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: linux_run.py DIRFILE CONSOLE_PY ARGS...")
    dirfile, console = sys.argv[1], sys.argv[2]
    try:
        with open(dirfile) as f:
            linux = f.read().strip().splitlines()[-1]
    except (OSError, IndexError):
        sys.exit(f"linux_run.py: {dirfile} is missing or empty: run the linux_build test "
                 "(scripts/guest/build-linux.sh) first")
    args = [a.replace("%LINUX%", linux) for a in sys.argv[3:]]
    os.execv(sys.executable, [sys.executable, console] + args)


if __name__ == "__main__":
    main()
