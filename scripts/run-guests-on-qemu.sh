#!/bin/sh
# Runs every guest test program on qemu-system-riscv64 (the oracle) and
# prints a table of results and timings.
#
#   scripts/run-guests-on-qemu.sh [BUILD_DIR]
#
# BUILD_DIR holds guest/guests.txt and the ELFs (default: build). Build them
# first, e.g. standalone:
#   cmake -S tests/guest -B /tmp/guestbuild && cmake --build /tmp/guestbuild
#   scripts/run-guests-on-qemu.sh /tmp/guestbuild
# Runs listed as COREMU_ONLY in tests/guest/tests.cmake (HTIF) are skipped,
# and so are the SLOW ones (255 harts) unless SLOW=1. Environment: QEMU
# (default qemu-system-riscv64), TIMEOUT seconds per run (default 30), SLOW,
# EMULATOR to run another emulator with the same command line instead (e.g.
# EMULATOR=build/coremu: then every run is included and -m is not passed).
# Exit status 0 if every run exited with its expected code.
set -u

build=${1:-build}
manifest="$build/guest/guests.txt"
if [ ! -f "$manifest" ]; then
  echo "run-guests-on-qemu: no $manifest; build the guests first:" >&2
  echo "  cmake -S tests/guest -B $build && cmake --build $build" >&2
  exit 2
fi
qemu=${QEMU:-qemu-system-riscv64}
emu=${EMULATOR:-}
limit=${TIMEOUT:-30}
slow=${SLOW:-0}
if [ -n "$emu" ]; then
  runner=$emu
else
  runner=$qemu
  if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "run-guests-on-qemu: $qemu not found" >&2
    exit 2
  fi
fi

logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
passed=0
failed=0
skipped=0
printf '%-12s %5s %8s %6s %8s  %s\n' program harts expected exit seconds result
while read -r elf harts expected where; do
  case "$elf" in ''|'#'*) continue ;; esac
  if [ -z "$emu" ]; then
    if [ "$where" = coremu ] || { [ "$where" = slow ] && [ "$slow" != 1 ]; }; then
      skipped=$((skipped + 1))
      continue
    fi
  fi
  file="$build/guest/$elf.elf"
  log="$logdir/$elf-$harts.log"
  if [ -n "$emu" ]; then
    set -- "$runner" -M virt -bios none -nographic -smp "$harts" -kernel "$file"
  else
    set -- "$runner" -M virt -bios none -nographic -smp "$harts" -m 128M -kernel "$file"
  fi
  start=$(date +%s.%N)
  timeout -k 5 "$limit" "$@" </dev/null >"$log" 2>&1
  status=$?
  end=$(date +%s.%N)
  secs=$(echo "$start $end" | awk '{ printf "%.2f", $2 - $1 }')
  if [ "$status" -eq "$expected" ]; then
    result=PASS
    passed=$((passed + 1))
  else
    result=FAIL
    [ "$status" -eq 124 ] && result="FAIL (timeout)"
    failed=$((failed + 1))
  fi
  printf '%-12s %5s %8s %6s %8s  %s\n' "$elf" "$harts" "$expected" "$status" "$secs" "$result"
  if [ "$result" != PASS ]; then
    sed 's/^/    | /' "$log" | tail -n 20
  fi
done <"$manifest"
echo "skipped (coremu only, or slow without SLOW=1): $skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
