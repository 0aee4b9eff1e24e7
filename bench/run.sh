#!/usr/bin/env bash
# bench/run.sh [WORKLOAD...]: runs the benchmark guests on coremu and on
# qemu-system-riscv64 in the same invocation and prints, per workload and
# hart count, the wall time on each, the ratio coremu/QEMU (below 1 means
# coremu is faster) and guest instructions per second on each (from the
# `bench: insns=N` line each guest prints). Then the uniprocessor overhead of
# the parallel layer (coremu vs build/direct_run), and the host. Workloads
# (default: all, in this order): compute atomic spinlock ipi stream opensbi
# uniproc events linux. Also each emulator's CPU time (user + system, all
# threads). bench/README.md describes each workload and column.
# `linux` boots scripts/guest/build-linux.sh's kernel (built or taken from
# the cache) to its init and through the init's workload on 1, 4, 64, 128
# and 255 harts: coremu with its built-in SBI, QEMU with its OpenSBI.
#
# Environment:
#   BENCH_QUICK=1     a short sanity run: a tenth of the work, fewer hart counts
#   BENCH_BUILD=DIR   the build directory (default: build)
#   BENCH_TIMEOUT=S   per-run timeout in seconds (default: 60)
#   BENCH_REPS=N      runs per emulator and row, alternating coremu and QEMU; the
#                     fastest is shown (default: 1; uniproc always takes the best
#                     of 3, or 1 with BENCH_QUICK)
#   BENCH_HARTS="..." hart counts for compute, atomic and spinlock
#   BENCH_LOGDIR=DIR  where each run's serial output is kept (default: BUILD/bench-logs)
#   (workload `events`: the REPL's `break shared` cost, coremu only)
#   BENCH_ACCEL=A     coremu only: -accel A (e.g. tcg,threads=2 for the host-thread
#                     pool; default: coremu's default, one thread per hart)
#   QEMU=PATH         the QEMU binary (default: qemu-system-riscv64)
#   OPENSBI_FW=PATH   firmware for the opensbi workload (default: Debian's fw_jump.elf)
#   BENCH_LINUX_DIR=D the kernel for `linux` (D/Image; default: build-linux.sh's output)
#   BENCH_LINUX_HARTS="..." hart counts for `linux` (default: 1 4 64 128 255; quick: 1 4)
#   BENCH_LINUX_TIMEOUT=S per-run timeout of `linux` (default: 180)
#
# Exit status: 0 if every run passed (QEMU timeouts are not failures), 1 if
# a run failed (coremu or QEMU exited non-zero, coremu timed out, the guest
# printed no report or the two emulators reported different instruction
# counts), 2 for a usage or setup problem.
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2

build=${BENCH_BUILD:-build}
coremu=$build/coremu
direct=$build/direct_run
guests=$build/guest
qemu=${QEMU:-qemu-system-riscv64}
fw=${OPENSBI_FW:-/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf}
timeout_s=${BENCH_TIMEOUT:-60}
reps=${BENCH_REPS:-1}
quick=${BENCH_QUICK:-0}
logdir=${BENCH_LOGDIR:-$build/bench-logs}
all_workloads="compute atomic spinlock ipi stream opensbi uniproc events linux"

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "bench: $*" >&2; exit 2; }

# ---- work sizes: full run, and BENCH_QUICK=1 ----
if [ "$quick" = 1 ]; then
  compute_harts="1 4" atomic_harts="4" spinlock_harts="4" opensbi_harts=8
  compute_total=9600000 atomic_total=1600000 spinlock_total=200000
  ipi_rounds=20000 stream_passes=32 uniproc_reps=1
else
  compute_harts="1 2 4 16 64 255" atomic_harts="4 64 255" spinlock_harts="4 64 255" opensbi_harts=128
  compute_total=96000000 atomic_total=16000000 spinlock_total=2000000
  ipi_rounds=200000 stream_passes=512 uniproc_reps=3
fi
stream_mib=4
if [ -n "${BENCH_HARTS:-}" ]; then
  compute_harts=$BENCH_HARTS atomic_harts=$BENCH_HARTS spinlock_harts=$BENCH_HARTS
fi

# ---- which workloads ----
selected=()
for w in "$@"; do
  case " $all_workloads " in
    *" $w "*) selected+=("$w") ;;
    *) case $w in
         -h|--help|help) usage; exit 0 ;;
         *) die "unknown workload '$w' (workloads: $all_workloads)" ;;
       esac ;;
  esac
done
[ ${#selected[@]} -eq 0 ] && read -r -a selected <<<"$all_workloads"
wants() { case " ${selected[*]} " in *" $1 "*) return 0 ;; esac; return 1; }

# ---- set-up checks ----
[ -x "$coremu" ] || die "$coremu missing: build first (cmake --preset default && cmake --build build -j2)"
command -v "$qemu" >/dev/null || die "$qemu not found (Debian: qemu-system-misc)"
command -v timeout >/dev/null || die "timeout (coreutils) not found"
for w in compute atomic spinlock ipi stream; do
  if wants "$w" && [ ! -f "$guests/bench_$w.elf" ]; then die "$guests/bench_$w.elf missing: build the guests"; fi
done
if wants uniproc; then
  [ -x "$direct" ] || die "$direct missing: build it (cmake --build build --target direct_run)"
  [ -f "$guests/bench_compute.elf" ] || die "$guests/bench_compute.elf missing: build the guests"
fi
if wants opensbi; then
  [ -f "$fw" ] || die "OpenSBI firmware $fw missing (Debian: opensbi), or set OPENSBI_FW"
  [ -f "$guests/bench_opensbi_payload.elf" ] || die "$guests/bench_opensbi_payload.elf missing: build the guests"
fi
mkdir -p "$logdir" || die "cannot create $logdir"

failures=()

# run_once LOG CMD...: runs CMD once (stdin from /dev/null, output to LOG)
# under the timeout. Sets r_status (ok, timeout or fail:<exit status>),
# r_secs (wall time in seconds) and r_cpu (user + system CPU seconds of the
# process and its threads).
run_once() {
  local log=$1 t0 t1 rc times TIMEFORMAT='%U %S'
  shift
  t0=$EPOCHREALTIME
  times=$( { time timeout -k 5 "$timeout_s" "$@" </dev/null >"$log" 2>&1; } 2>&1 )
  rc=$?
  t1=$EPOCHREALTIME
  r_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  r_cpu=$(echo "$times" | awk 'END { printf "%.3f", $1 + $2 }')
  case $rc in
    0) r_status=ok ;;
    124 | 137) r_status=timeout ;;
    *) r_status="fail:$rc" ;;
  esac
}

# measure2 N LOG_A LOG_B -- CMD_A... -- CMD_B...: runs A and B alternately N
# times (alternating, so that a change in the machine's load hits both).
# Sets a_status/a_secs/a_cpu/a_insns and b_status/b_secs/b_cpu/b_insns: the
# fastest successful wall and CPU times (each the minimum over the runs), or
# the first failure (after which that side stops).
measure2() {
  local n=$1 log_a=$2 log_b=$3 i
  shift 3
  [ "$1" = -- ] && shift
  local cmd_a=() cmd_b=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do cmd_a+=("$1"); shift; done
  shift
  cmd_b=("$@")
  a_status=ok a_secs="" a_cpu="" b_status=ok b_secs="" b_cpu=""
  for ((i = 0; i < n; i++)); do
    if [ "$a_status" = ok ]; then
      run_once "$log_a" "${cmd_a[@]}"
      a_status=$r_status
      if [ "$r_status" = ok ]; then a_secs=$(min "$a_secs" "$r_secs") a_cpu=$(min "$a_cpu" "$r_cpu"); fi
    fi
    if [ "$b_status" = ok ]; then
      run_once "$log_b" "${cmd_b[@]}"
      b_status=$r_status
      if [ "$r_status" = ok ]; then b_secs=$(min "$b_secs" "$r_secs") b_cpu=$(min "$b_cpu" "$r_cpu"); fi
    fi
  done
  a_insns=$(report_insns "$log_a") b_insns=$(report_insns "$log_b")
}
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }
report_insns() { tr -d '\r' <"$1" | grep -ao 'bench: insns=[0-9]*' | tail -n1 | cut -d= -f2; }

# Percentage of the host's CPU time that was busy over one second (other
# work on the machine makes the numbers noisy).
host_busy() {
  local a b
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
    busy = y[1] - x[1]; idle = y[2] - x[2];
    if (busy + idle > 0) printf "%.0f%%", 100 * busy / (busy + idle); else printf "?" }'
}

fail() {  # WHAT LOG
  failures+=("$1")
  {
    echo "bench: FAILED: $1 (serial output in $2; last lines:)"
    tail -n 5 "$2" | tr -d '\r' | sed 's/^/bench:   | /'
  } >&2
}

header_done=0
header() {
  [ $header_done = 1 ] && return
  header_done=1
  printf '%-10s %5s %15s %15s %7s %12s %12s %10s %10s\n' workload harts coremu_s qemu_s ratio \
    coremu_Mi/s qemu_Mi/s coremu_cpu qemu_cpu
}

time_col() {  # STATUS SECS
  case $1 in
    ok) printf '%.2f' "$2" ;;
    timeout) printf 'timeout (>%ss)' "$timeout_s" ;;
    *) printf 'FAILED (%s)' "${1#fail:}" ;;
  esac
}
rate_col() {  # STATUS SECS INSNS
  if [ "$1" = ok ] && [ -n "$3" ]; then
    awk -v i="$3" -v s="$2" 'BEGIN { printf "%.1f", i / s / 1e6 }'
  else
    printf -- '-'
  fi
}

cpu_col() {  # STATUS CPU
  if [ "$1" = ok ] && [ -n "$2" ]; then printf '%.2f' "$2"; else printf -- '-'; fi
}

# row NAME HARTS KIND EMULATOR-ARGS...: runs both emulators and prints one
# table row. KIND is `report` (the guest prints a bench: line) or `payload`
# (the OpenSBI payload's line; no instruction count).
row() {
  local name=$1 harts=$2 kind=$3
  shift 3
  local clog="$logdir/$name-$harts-coremu.log" qlog="$logdir/$name-$harts-qemu.log"
  local cs cs_secs cs_cpu cs_insns qs qs_secs qs_cpu qs_insns ratio="-"
  measure2 "$reps" "$clog" "$qlog" -- "$coremu" ${BENCH_ACCEL:+-accel "$BENCH_ACCEL"} "$@" -- "$qemu" "$@"
  cs=$a_status cs_secs=$a_secs cs_cpu=$a_cpu cs_insns=$a_insns
  qs=$b_status qs_secs=$b_secs qs_cpu=$b_cpu qs_insns=$b_insns

  case $cs in
    ok) ;;
    timeout) fail "$name -smp $harts: coremu did not finish within ${timeout_s}s" "$clog" ;;
    *) fail "$name -smp $harts: coremu exited with status ${cs#fail:}" "$clog" ;;
  esac
  case $qs in
    ok | timeout) ;;
    *) fail "$name -smp $harts: QEMU exited with status ${qs#fail:}" "$qlog" ;;
  esac
  if [ "$kind" = report ]; then
    if [ "$cs" = ok ] && [ -z "$cs_insns" ]; then
      fail "$name -smp $harts: no 'bench: insns=' line from coremu" "$clog"
      cs=fail:no-report
    fi
    if [ "$qs" = ok ] && [ -z "$qs_insns" ]; then
      fail "$name -smp $harts: no 'bench: insns=' line from QEMU" "$qlog"
      qs=fail:no-report
    fi
    if [ "$cs" = ok ] && [ "$qs" = ok ] && [ "$cs_insns" != "$qs_insns" ]; then
      fail "$name -smp $harts: instruction counts differ (coremu $cs_insns, QEMU $qs_insns)" "$clog"
    fi
  else
    if [ "$cs" = ok ] && ! grep -aq 'bench: opensbi payload reached' "$clog"; then
      fail "$name -smp $harts: the payload did not run on coremu" "$clog"
      cs=fail:no-payload
    fi
    if [ "$qs" = ok ] && ! grep -aq 'bench: opensbi payload reached' "$qlog"; then
      fail "$name -smp $harts: the payload did not run on QEMU" "$qlog"
      qs=fail:no-payload
    fi
    cs_insns="" qs_insns=""
  fi
  if [ "$cs" = ok ] && [ "$qs" = ok ]; then
    ratio=$(awk -v a="$cs_secs" -v b="$qs_secs" 'BEGIN { printf "%.2f", a / b }')
  fi
  last_c_status=$cs last_c_secs=$cs_secs last_q_status=$qs last_q_secs=$qs_secs
  header
  printf '%-10s %5s %15s %15s %7s %12s %12s %10s %10s\n' "$name" "$harts" \
    "$(time_col "$cs" "$cs_secs")" "$(time_col "$qs" "$qs_secs")" "$ratio" \
    "$(rate_col "$cs" "$cs_secs" "$cs_insns")" "$(rate_col "$qs" "$qs_secs" "$qs_insns")" \
    "$(cpu_col "$cs" "$cs_cpu")" "$(cpu_col "$qs" "$qs_cpu")"
}

busy_start=$(host_busy)
suite_t0=$EPOCHREALTIME

# The command line shared by both emulators for the bare-metal guests.
bare=(-M virt -bios none -nographic -m 256M)

for w in "${selected[@]}"; do
  case $w in
    compute)
      for n in $compute_harts; do
        row compute "$n" report "${bare[@]}" -smp "$n" -kernel "$guests/bench_compute.elf" \
          -append "total=$compute_total"
        compute_c[$n]=$last_c_status:$last_c_secs compute_q[$n]=$last_q_status:$last_q_secs
      done ;;
    atomic)
      for n in $atomic_harts; do
        row atomic "$n" report "${bare[@]}" -smp "$n" -kernel "$guests/bench_atomic.elf" \
          -append "total=$atomic_total"
      done ;;
    spinlock)
      for n in $spinlock_harts; do
        row spinlock "$n" report "${bare[@]}" -smp "$n" -kernel "$guests/bench_spinlock.elf" \
          -append "total=$spinlock_total"
      done ;;
    ipi)
      row ipi 2 report "${bare[@]}" -smp 2 -kernel "$guests/bench_ipi.elf" -append "rounds=$ipi_rounds" ;;
    stream)
      row stream 1 report "${bare[@]}" -smp 1 -kernel "$guests/bench_stream.elf" \
        -append "passes=$stream_passes mib=$stream_mib" ;;
    opensbi)
      row opensbi "$opensbi_harts" payload -M virt -nographic -m 256M -smp "$opensbi_harts" \
        -bios "$fw" -kernel "$guests/bench_opensbi_payload.elf" ;;
    uniproc | events | linux) ;;  # their own tables, below
  esac
done

if wants uniproc; then
  args=("${bare[@]}" -smp 1 -kernel "$guests/bench_compute.elf" -append "total=$compute_total")
  ulog=$logdir/uniproc-coremu.log dlog=$logdir/uniproc-direct.log
  measure2 "$uniproc_reps" "$ulog" "$dlog" -- "$coremu" "${args[@]}" -- "$direct" "${args[@]}"
  us=$a_status us_secs=$a_secs us_cpu=$a_cpu us_insns=$a_insns
  ds=$b_status ds_secs=$b_secs ds_cpu=$b_cpu ds_insns=$b_insns
  if [ "$us" != ok ]; then fail "uniproc: coremu: $us" "$ulog"
  elif [ -z "$us_insns" ]; then fail "uniproc: no 'bench: insns=' line from coremu" "$ulog"; us=fail:no-report
  fi
  if [ "$ds" != ok ]; then fail "uniproc: direct_run: $ds" "$dlog"
  elif [ -z "$ds_insns" ]; then fail "uniproc: no 'bench: insns=' line from direct_run" "$dlog"; ds=fail:no-report
  fi
  [ $header_done = 1 ] && echo
  echo "uniprocessor overhead of the parallel layer: bench_compute total=$compute_total, 1 hart, best of $uniproc_reps"
  printf '  %-38s %15s %8s %12s\n' "" wall_s cpu_s Mi/s
  printf '  %-38s %15s %8s %12s\n' "coremu (coremu::Runner, a hart thread)" \
    "$(time_col "$us" "$us_secs")" "${us_cpu:--}" "$(rate_col "$us" "$us_secs" "$us_insns")"
  printf '  %-38s %15s %8s %12s\n' "direct_run (Hart::run loop on main)" \
    "$(time_col "$ds" "$ds_secs")" "${ds_cpu:--}" "$(rate_col "$ds" "$ds_secs" "$ds_insns")"
  if [ "$us" = ok ] && [ "$ds" = ok ]; then
    printf '  %-38s %15s %8s\n' "ratio coremu / direct_run" \
      "$(awk -v a="$us_secs" -v b="$ds_secs" 'BEGIN { printf "%.3f", a / b }')" \
      "$(awk -v a="$us_cpu" -v b="$ds_cpu" 'BEGIN { printf "%.3f", a / b }')"
  fi
fi

# The distance to native code: the compute kernel compiled for the host
# (bench/compute_native.c, the same work split over as many threads).
native=$build/compute_native
if wants compute && [ -x "$native" ]; then
  echo
  echo "distance to native code: bench/compute_native.c (the compute kernel, gcc -O2 for this host), total=$compute_total, best of $reps"
  printf '  %5s %10s %10s %10s %14s %12s\n' harts native_s coremu_s qemu_s coremu/native qemu/native
  for n in $compute_harts; do
    nlog=$logdir/compute-$n-native.log ns=ok nsecs=""
    for ((i = 0; i < reps; i++)); do
      run_once "$nlog" "$native" "total=$compute_total" "harts=$n"
      [ "$r_status" = ok ] || { ns=$r_status; break; }
      nsecs=$(min "$nsecs" "$r_secs")
    done
    [ "$ns" = ok ] || fail "compute native $n threads: $ns" "$nlog"
    c=${compute_c[$n]} q=${compute_q[$n]}
    cr=- qr=-
    [ "$ns" = ok ] && [ "${c%%:*}" = ok ] && cr=$(awk -v a="${c#*:}" -v b="$nsecs" 'BEGIN { printf "%.1f", a / b }')
    [ "$ns" = ok ] && [ "${q%%:*}" = ok ] && qr=$(awk -v a="${q#*:}" -v b="$nsecs" 'BEGIN { printf "%.1f", a / b }')
    printf '  %5s %10s %10s %10s %14s %12s\n' "$n" "${nsecs:--}" "${c#*:}" "${q#*:}" "$cr" "$qr"
  done
fi

# The cost of a REPL event breakpoint: bench_compute through `coremu --repl`
# with only `continue`, and with `break shared` on a word nobody touches
# first (on the page of the guest's barrier, which the harts do use).
if wants events; then
  mkdir -p "$logdir"
  printf 'continue\n' >"$logdir/events-plain.repl"
  printf 'break shared bar+0x800 8\ncontinue\n' >"$logdir/events-shared.repl"
  export EV_SCRIPT_PLAIN=$logdir/events-plain.repl EV_SCRIPT_SHARED=$logdir/events-shared.repl
  [ $header_done = 1 ] && echo
  echo "REPL event breakpoint cost: bench_compute total=$compute_total through coremu --repl, best of $uniproc_reps"
  printf '  %-6s %14s %14s %8s\n' harts plain_s shared_s ratio
  for n in 1 4; do
    elog=$logdir/events-$n-plain.log slog=$logdir/events-$n-shared.log
    measure2 "$uniproc_reps" "$elog" "$slog" \
      -- sh -c 'exec "$0" --repl "$@" <"$EV_SCRIPT_PLAIN"' "$coremu" "${bare[@]}" -smp "$n" \
         -kernel "$guests/bench_compute.elf" -append "total=$compute_total" \
      -- sh -c 'exec "$0" --repl "$@" <"$EV_SCRIPT_SHARED"' "$coremu" "${bare[@]}" -smp "$n" \
         -kernel "$guests/bench_compute.elf" -append "total=$compute_total"
    [ "$a_status" = ok ] || fail "events: plain REPL run: $a_status" "$elog"
    [ "$b_status" = ok ] || fail "events: REPL run with break shared: $b_status" "$slog"
    if [ "$a_status" = ok ] && [ "$b_status" = ok ]; then
      printf '  %-6s %14s %14s %8s\n' "$n" "$a_secs" "$b_secs" \
        "$(awk -v a="$b_secs" -v b="$a_secs" 'BEGIN { printf "%.3f", a / b }')"
    fi
  done
fi

# Linux boot: the same kernel and command line on both emulators; each
# console line is time-stamped as it arrives, so the table gives the wall
# time from the emulator's start to the init's first line ("init: started")
# and to its result line ("init: PASS"), and to the process's exit.
if wants linux; then
  if [ "$quick" = 1 ]; then linux_harts=${BENCH_LINUX_HARTS:-1 4}; else linux_harts=${BENCH_LINUX_HARTS:-1 4 64 128 255}; fi
  linux_timeout=${BENCH_LINUX_TIMEOUT:-180}
  ldir=${BENCH_LINUX_DIR:-}
  if [ -z "$ldir" ]; then
    ldir=$(./scripts/guest/build-linux.sh 2>"$logdir/build-linux.log" | tail -n1) || ldir=""
  fi
  # linux_run LOG CMD...: runs CMD with time-stamped output; sets l_status
  # (ok, timeout, fail:N), l_init, l_pass, l_exit (seconds from the start, or "").
  linux_run() {
    local log=$1 t0 rc
    shift
    t0=$EPOCHREALTIME
    timeout -k 5 "$linux_timeout" "$@" </dev/null 2>&1 |
      while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >"$log"
    rc=${PIPESTATUS[0]}
    l_exit=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
    case $rc in 0) l_status=ok ;; 124 | 137) l_status=timeout ;; *) l_status="fail:$rc" ;; esac
    l_init=$(awk -v a="$t0" '/init: started/ { printf "%.2f", $1 - a; exit }' "$log")
    l_pass=$(awk -v a="$t0" '/init: PASS/ { printf "%.2f", $1 - a; exit }' "$log")
  }
  lcol() {  # STATUS VALUE
    if [ -n "$2" ]; then printf '%s' "$2"
    elif [ "$1" = timeout ]; then printf 'not in %ss' "$linux_timeout"
    elif [ "$1" = ok ]; then printf -- '-'
    else printf 'cannot run'; fi
  }
  [ $header_done = 1 ] && echo
  if [ -z "$ldir" ] || [ ! -f "$ldir/Image" ]; then
    fail "linux: no kernel (scripts/guest/build-linux.sh failed, see $logdir/build-linux.log)" "$logdir/build-linux.log"
  else
    echo "Linux boot ($ldir/Image, built-in initramfs): seconds from the emulator's start to init's first line,"
    echo "to its PASS line (the workload done), and to the exit; coremu with its built-in SBI, QEMU with -bios default"
    printf '  %5s %10s %10s %10s %14s %14s %14s %8s\n' harts c_init c_pass c_exit q_init q_pass q_exit ratio
    for n in $linux_harts; do
      largs=(-M virt -m 512M -nographic -no-reboot -smp "$n" -kernel "$ldir/Image" -append "console=ttyS0 cpus=$n")
      clog=$logdir/linux-$n-coremu.log qlog=$logdir/linux-$n-qemu.log
      linux_run "$clog" "$coremu" ${BENCH_ACCEL:+-accel "$BENCH_ACCEL"} "${largs[@]}"
      cs=$l_status ci=$l_init cp=$l_pass ce=$l_exit
      linux_run "$qlog" "$qemu" -bios default "${largs[@]}"
      qs=$l_status qi=$l_init qp=$l_pass qe=$l_exit
      if [ "$cs" != ok ] || [ -z "$cp" ]; then fail "linux -smp $n: coremu: $cs, no PASS line" "$clog"; fi
      ratio=-
      if [ -n "$cp" ] && [ -n "$qp" ]; then ratio=$(awk -v a="$cp" -v b="$qp" 'BEGIN { printf "%.2f", a / b }'); fi
      [ "$cs" = ok ] || ce=""
      [ "$qs" = ok ] || qe=""
      printf '  %5s %10s %10s %10s %14s %14s %14s %8s\n' "$n" "$(lcol "$cs" "$ci")" "$(lcol "$cs" "$cp")" \
        "$(lcol "$cs" "$ce")" "$(lcol "$qs" "$qi")" "$(lcol "$qs" "$qp")" "$(lcol "$qs" "$qe")" "$ratio"
    done
    echo "  (ratio: coremu / QEMU to the PASS line; below 1 coremu is faster)"
  fi
fi

suite_secs=$(awk -v a="$suite_t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
echo
echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
echo "qemu: $("$qemu" --version | head -n1)"
echo "coremu: commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)'), $coremu"
echo "host CPU busy over 1 s: $busy_start before the suite, $(host_busy) after; the suite took ${suite_secs}s; serial logs in $logdir"
if [ ${#failures[@]} -gt 0 ]; then
  echo "bench: ${#failures[@]} run(s) FAILED:" >&2
  for f in "${failures[@]}"; do echo "bench:   $f" >&2; done
  exit 1
fi
