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
#   linux    (`bench/replay.sh linux`, issue 14) Linux 6.1 to its init's
#            PASS and through its threaded workload, on the project kernel
#            (scripts/guest/build-linux.sh) and its periodic-tick variant
#            (--variant hz250, if built), at BENCH_LINUX_HARTS (default
#            64 128 255): the parallel mode, --deterministic, record (log
#            bytes per million steps) and replay (same digest), and record
#            with --chaos BENCH_CHAOS (default 5) at the largest hart count
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

if [ "${1:-}" = linux ]; then
  # Linux boots (issue 14): one row per kernel and hart count.
  kernels=()
  if d=$(scripts/guest/build-linux.sh 2>/dev/null | tail -n1) && [ -f "$d/Image" ]; then kernels+=("nohz:$d"); fi
  hz=${COREMU_LINUX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/coremu/linux}/hz250
  if d=$(ls -d "$hz"/out-*/ 2>/dev/null | head -n1) && [ -f "$d/Image" ]; then
    kernels+=("hz250:${d%/}")
  else
    echo "bench: the hz250 kernel is not built (scripts/guest/build-linux.sh --variant hz250): its rows are skipped" >&2
  fi
  [ ${#kernels[@]} -gt 0 ] || { echo "bench: no Linux kernel built (scripts/guest/build-linux.sh)" >&2; exit 2; }
  harts=${BENCH_LINUX_HARTS:-64 128 255}
  seed=${BENCH_CHAOS:-5}
  last=${harts##* }
  # cpu CMD...: like secs, and the CPU seconds (user+sys) in $tmp/cpu.
  cpu() {
    local s
    s=$(secs /usr/bin/time -f 'cpu %U %S' -o "$tmp/time" "$@")
    awk '/^cpu/ { printf "%.1f", $2 + $3 }' "$tmp/time" >"$tmp/cpu"
    echo "$s"
  }
  pass() { grep -aq 'init: PASS' "$tmp/out" || { echo "bench: no init: PASS: $*" >&2; tail -n 3 "$tmp/out" >&2; status=1; }; }
  printf '%-6s %5s %9s %9s %9s %9s %7s %7s %11s %9s  %s\n' kernel harts par_s det_s record_s replay_s det/par rep/rec log_bytes B/Msteps "cpu-s (det record replay); digest"
  for k in "${kernels[@]}"; do
    name=${k%%:*} dir=${k#*:}
    for n in $harts; do
      m=(-M virt -m 512M -nographic -no-reboot -smp "$n" -kernel "$dir/Image" -append "console=ttyS0 cpus=$n")
      par=$(cpu "$coremu" "${m[@]}"); pass par "$name" "$n"
      det=$(cpu "$coremu" --deterministic "${m[@]}"); pass det "$name" "$n"; c_det=$(cat "$tmp/cpu"); d_det=$(digest)
      rec=$(cpu "$coremu" record -o "$tmp/l.log" "${m[@]}"); pass record "$name" "$n"; c_rec=$(cat "$tmp/cpu"); d_rec=$(digest)
      steps=$(grep -ao 'recorded [0-9]* steps' "$tmp/out" | awk '{ print $2 }')
      bytes=$(stat -c %s "$tmp/l.log")
      rep=$(cpu "$coremu" replay "$tmp/l.log"); pass replay "$name" "$n"; c_rep=$(cat "$tmp/cpu"); d_rep=$(digest)
      [ "$d_det" = "$d_rec" ] && [ "$d_rec" = "$d_rep" ] || { echo "bench: $name-$n: digests differ: $d_det $d_rec $d_rep" >&2; status=1; }
      printf '%-6s %5s %9s %9s %9s %9s %7s %7s %11s %9s  %s\n' "$name" "$n" "$par" "$det" "$rec" "$rep" \
        "$(ratio "$det" "$par")" "$(ratio "$rep" "$rec")" "$bytes" \
        "$(awk -v b="$bytes" -v s="$steps" 'BEGIN { printf "%.0f", b / (s / 1e6) }')" "$c_det $c_rec $c_rep; $d_rep"
      if [ "$n" = "$last" ]; then
        crec=$(cpu "$coremu" record --chaos "$seed" -o "$tmp/c.log" "${m[@]}"); pass chaos "$name" "$n"; d_c=$(digest)
        cbytes=$(stat -c %s "$tmp/c.log")
        crep=$(cpu "$coremu" replay "$tmp/c.log"); pass chaos-replay "$name" "$n"
        [ "$(digest)" = "$d_c" ] || { echo "bench: $name-$n chaos: replay digest differs" >&2; status=1; }
        printf '%-6s %5s %9s %9s %9s %9s %7s %7s %11s %9s  %s\n' "$name" "$n" - - "$crec" "$crep" - \
          "$(ratio "$crep" "$crec")" "$cbytes" - "record/replay --chaos $seed; $d_c"
      fi
    done
  done
  echo "host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); coremu $(git rev-parse --short HEAD 2>/dev/null)"
  exit $status
fi

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
