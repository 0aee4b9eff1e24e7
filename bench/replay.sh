#!/usr/bin/env bash
# bench/replay.sh: the cost of deterministic mode, recording and replaying
# (issue 6), each against its baseline in the same invocation:
#   det      coremu --deterministic (no log) vs the parallel default
#   record   coremu record vs coremu --deterministic: the recording overhead
#            (goal: at most 1.1x), and the log size per million steps
#   replay   coremu replay vs coremu record (goal: at least as fast)
#   uniproc  one hart: coremu record / --deterministic vs QEMU
#            -icount shift=auto,rr=record / -icount shift=auto, and coremu
#            record vs QEMU record
#   reverse  reverse-stepi latency from gdb-multiarch at several places of
#            a long recording (goal: under 1 s), needs gdb-multiarch
# Guests: bench_compute (per-hart compute) and bench_spinlock (contended),
# 4 harts. Environment: BENCH_BUILD (default build), BENCH_QUICK=1 (a tenth
# of the work), QEMU (default qemu-system-riscv64), BENCH_REVERSE_STEPS
# (length of the reverse recording in millions of compute iterations).
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
build=${BENCH_BUILD:-build}
coremu=$build/coremu
guests=$build/guest
qemu=${QEMU:-qemu-system-riscv64}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
quick=${BENCH_QUICK:-0}
if [ "$quick" = 1 ]; then compute=4000000 spin=100000 rev=20; else compute=40000000 spin=1000000 rev=${BENCH_REVERSE_STEPS:-1000}; fi
[ -x "$coremu" ] || { echo "bench: $coremu missing: build first" >&2; exit 2; }
status=0

# secs CMD...: wall time of one run (stdout/stderr to $tmp/out), or exits on failure.
secs() {
  local t0 t1
  t0=$EPOCHREALTIME
  if ! "$@" </dev/null >"$tmp/out" 2>&1; then
    echo "bench: FAILED: $*" >&2
    tail -n 5 "$tmp/out" >&2
    status=1
  fi
  t1=$EPOCHREALTIME
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
digest() { grep -ao 'final state digest: [0-9a-f]*' "$tmp/out" | awk '{ print $4 }'; }

printf '%-28s %10s %10s %7s  %s\n' measure "time_s" "base_s" ratio note
for g in compute spinlock; do
  if [ $g = compute ]; then arg="total=$compute"; else arg="total=$spin"; fi
  m=(-M virt -bios none -nographic -m 256M -smp 4 -kernel "$guests/bench_$g.elf" -append "$arg")
  par=$(secs "$coremu" "${m[@]}")
  det=$(secs "$coremu" --deterministic "${m[@]}")
  d_det=$(digest)
  rec=$(secs "$coremu" record -o "$tmp/$g.log" "${m[@]}")
  d_rec=$(digest)
  steps=$(grep -ao 'recorded [0-9]* steps' "$tmp/out" | awk '{ print $2 }')
  rep=$(secs "$coremu" replay "$tmp/$g.log")
  d_rep=$(digest)
  bytes=$(stat -c %s "$tmp/$g.log")
  [ "$d_det" = "$d_rec" ] && [ "$d_rec" = "$d_rep" ] || { echo "bench: $g: digests differ: $d_det $d_rec $d_rep" >&2; status=1; }
  printf '%-28s %10s %10s %7s  %s\n' "$g-4 det vs parallel" "$det" "$par" "$(ratio "$det" "$par")" ""
  printf '%-28s %10s %10s %7s  %s\n' "$g-4 record vs det" "$rec" "$det" "$(ratio "$rec" "$det")" \
    "log $bytes bytes, $(awk -v b="$bytes" -v s="$steps" 'BEGIN { printf "%.1f", b / (s / 1e6) }') bytes per million steps ($steps steps)"
  printf '%-28s %10s %10s %7s  %s\n' "$g-4 replay vs record" "$rep" "$rec" "$(ratio "$rep" "$rec")" "digest $d_rep"
done

# One hart, against QEMU's own record/replay (which refuses -smp > 1).
m1=(-M virt -bios none -nographic -m 256M -smp 1 -kernel "$guests/bench_compute.elf" -append "total=$compute")
c_det=$(secs "$coremu" --deterministic "${m1[@]}")
c_rec=$(secs "$coremu" record -o "$tmp/u.log" "${m1[@]}")
if command -v "$qemu" >/dev/null; then
  q_plain=$(secs "$qemu" "${m1[@]}" -icount shift=auto)
  q_rec=$(secs "$qemu" "${m1[@]}" -icount "shift=auto,rr=record,rrfile=$tmp/q.rr")
  printf '%-28s %10s %10s %7s  %s\n' "uniproc coremu record/det" "$c_rec" "$c_det" "$(ratio "$c_rec" "$c_det")" ""
  printf '%-28s %10s %10s %7s  %s\n' "uniproc qemu rr/icount" "$q_rec" "$q_plain" "$(ratio "$q_rec" "$q_plain")" ""
  printf '%-28s %10s %10s %7s  %s\n' "uniproc record coremu/qemu" "$c_rec" "$q_rec" "$(ratio "$c_rec" "$q_rec")" \
    "overhead: coremu $(ratio "$c_rec" "$c_det")x, QEMU $(ratio "$q_rec" "$q_plain")x"
fi

# Reverse-stepi latency in a long recording, from gdb-multiarch.
if command -v gdb-multiarch >/dev/null; then
  m=(-M virt -bios none -nographic -m 256M -smp 4 -kernel "$guests/bench_compute.elf" -append "total=$((rev * 1000000))")
  rec=$(secs "$coremu" record -o "$tmp/rev.log" "${m[@]}")
  steps=$(grep -ao 'recorded [0-9]* steps' "$tmp/out" | awk '{ print $2 }')
  port=$((20000 + RANDOM % 20000))
  "$coremu" replay "$tmp/rev.log" -gdb "tcp::$port" -S >"$tmp/replay.out" 2>&1 &
  pid=$!
  sleep 0.5
  cat >"$tmp/rev.py" <<PY
import time, gdb
gdb.execute("set pagination off")
gdb.execute("set remotetimeout 1200")  # a goto across the recording replays it
gdb.execute("target remote :$port")
steps = $steps
worst = 0.0
for frac in (0.95, 0.75, 0.5, 0.25, 0.05):
    gdb.execute("monitor goto %d" % int(steps * frac), to_string=True)
    t = time.time()
    gdb.execute("reverse-stepi", to_string=True)
    dt = time.time() - t
    worst = max(worst, dt)
    print("reverse-stepi at %2d%% of %d steps: %.3f s" % (frac * 100, steps, dt))
print("reverse-stepi worst: %.3f s" % worst)
gdb.execute("kill")
PY
  timeout 1800 gdb-multiarch -q -batch -x "$tmp/rev.py" "$guests/bench_compute.elf" >"$tmp/gdb.out" 2>&1
  if grep -aq 'reverse-stepi worst' "$tmp/gdb.out"; then
    grep -a '^reverse-stepi' "$tmp/gdb.out"
  else
    echo "bench: reverse-stepi session failed:" >&2
    tail -n 5 "$tmp/gdb.out" >&2
    status=1
  fi
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  echo "(a recording of $steps steps, $rec s to record; each goto replays from the nearest checkpoint)"
fi
echo "host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
exit $status
