#!/usr/bin/env bash
# bench/run.sh [BUILD_DIR]: runs each benchmark guest on coremu and on
# qemu-system-riscv64 in the same invocation and prints wall times and the
# coremu/QEMU ratio (lower is better for coremu). Timing lives here, never in
# the tests. Guests are built by the normal build (build/guest/bench_*.elf).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
coremu="$build/coremu"
qemu=${QEMU:-qemu-system-riscv64}
[ -x "$coremu" ] || { echo "bench: $coremu missing: build first (cmake --build --preset default)"; exit 2; }
command -v "$qemu" >/dev/null || { echo "bench: $qemu not found (Debian: qemu-system-misc)"; exit 2; }

# Wall time in seconds of one run (which must exit 0).
wall() {
  local t0 t1
  t0=$(date +%s.%N)
  if ! "$@" </dev/null >/dev/null 2>&1; then echo "bench: failed: $*" >&2; exit 1; fi
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

printf '%-26s %5s %10s %10s %8s\n' workload harts coremu_s qemu_s ratio
run() {  # NAME ELF HARTS
  local name=$1 elf=$2 n=$3 a b
  local args=(-M virt -bios none -nographic -m 256M -smp "$n" -kernel "$elf")
  a=$(wall "$coremu" "${args[@]}")
  b=$(wall "$qemu" "${args[@]}")
  printf '%-26s %5d %10.2f %10.2f %8.2f\n' "$name" "$n" "$a" "$b" "$(echo "$a / $b" | bc -l)"
}
for n in ${BENCH_HARTS:-1 2 4 16}; do
  run "compute (per-hart)" "$build/guest/bench_compute.elf" "$n"
done
echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $("$qemu" --version | head -n1)"
