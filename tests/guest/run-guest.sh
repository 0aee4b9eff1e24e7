#!/bin/sh
# run-guest.sh EXPECTED_EXIT TIMEOUT_SECONDS EMULATOR ARGS...
# Runs one guest program under an emulator (coremu or qemu-system-riscv64)
# and succeeds if the emulator exits with EXPECTED_EXIT (the finisher's code)
# within TIMEOUT_SECONDS. Used by the CTest tests of tests/guest.
if [ $# -lt 3 ]; then
  echo "usage: $0 EXPECTED_EXIT TIMEOUT_SECONDS EMULATOR ARGS..." >&2
  exit 2
fi
expected=$1
limit=$2
shift 2
timeout -k 5 "$limit" "$@" </dev/null
status=$?
if [ "$status" -eq "$expected" ]; then
  exit 0
fi
if [ "$status" -eq 124 ]; then
  echo "run-guest: timed out after ${limit}s: $*" >&2
else
  echo "run-guest: exit status $status, expected $expected: $*" >&2
fi
exit 1
