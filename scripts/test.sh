#!/usr/bin/env bash
# Quick start, step 2: the whole test suite. Installs what is missing, then
#   0. builds the test Linux kernel (scripts/guest/build-linux.sh; cached in
#      ~/.cache/coremu/linux: about 3 minutes of 2 cores the first time,
#      seconds after), so that the linux_* tests of every stage find it;
#   1. ASan+UBSan build: unit tests and guest programs (up to 64 harts),
#      Linux on 1 and 4 harts;
#   2. ThreadSanitizer build: the multi-hart guest programs, Linux on 4
#      harts, and the GDB server and the REPL driving running harts;
#   3. libFuzzer targets for the parsers of outside input, and the
#      translator against the interpreter on fuzzed programs, run briefly;
#   4. the default build: every test (unit, guest programs up to 255 harts,
#      OpenSBI/U-Boot boots, Linux up to 255 harts, command-line errors).
#      Its summary comes last.
# COREMU_QUICK=1 skips 1-3.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

stage() { echo; echo "=== test.sh: $*"; }

stage "Linux kernel for the linux_* tests (cached)"
./scripts/guest/build-linux.sh >/dev/null

if [ "${COREMU_QUICK:-0}" != 1 ]; then
  stage "ASan+UBSan"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j2
  ctest --test-dir build-asan -j2 --timeout 600 --output-on-failure -E 'smp255|^(opensbi|uboot)|^linux_(boot_(16|64|255)|opensbi|append|initrd|fail)'

  stage "ThreadSanitizer (multi-hart guests)"
  cmake --preset tsan -DCOREMU_TESTS=ON >/dev/null
  cmake --build --preset tsan -j2 --target coremu guests unit_tests
  # The multi-hart guests, the debugger's control of running harts, and
  # replays debugged from another thread. (CMake's regular expressions
  # allow few groups: one ctest per family; an empty selection fails.)
  for re in '^(guest|pool)_(smp_|demo|bench_).*_smp(4|64)$' '^guest_(litmus|smc)_smp4$' \
            '^gdb_(breakpoint|watch|stepi_locked|rsp_robustness|replay_watch|replay_step)(_pool)?$' \
            '^repl_(watch|step|events_shared|events_race|replay_race)(_pool)?$' \
            '^replay_(deterministic|race|killed)$' '^(DetRunner|ServerFixture|ReplFixture|Jit[A-Za-z]*)[.]' '^linux_boot_4$'; do
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
      ctest --test-dir build-tsan -j2 --timeout 600 --output-on-failure --no-tests=error -R "$re"
  done

  stage "libFuzzer (${COREMU_FUZZ_SECONDS:=20}s per target)"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j2
  mkdir -p build-fuzz/corpus/fuzz_options build-fuzz/corpus/fuzz_elf build-fuzz/corpus/fuzz_dtb \
    build-fuzz/corpus/fuzz_rsp build-fuzz/corpus/fuzz_replaylog build-fuzz/corpus/fuzz_exec
  # Seeds: a real command line, a real RISC-V ELF, a real device tree.
  printf '%s\0' -M virt -smp 4 -m 256M -drive file=a.img,if=none,id=x0 \
    -device virtio-blk-device,drive=x0 > build-fuzz/corpus/fuzz_options/seed
  cp /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf build-fuzz/corpus/fuzz_elf/seed.elf
  build-fuzz/coremu -M virt,dumpdtb=build-fuzz/corpus/fuzz_dtb/seed.dtb -smp 2 </dev/null
  # A gdb session's opening packets (the first byte sets the chunk size).
  printf '\x10+$qSupported:multiprocess+;swbreak+#2e+$vCont;s:1;c#a1$m80000000,40#5b\x03$Z2,80001000,8#a0' \
    > build-fuzz/corpus/fuzz_rsp/seed
  # Record/replay logs written by the log module itself.
  build-fuzz/tests/fuzz/replaylog_seed build-fuzz/corpus/fuzz_replaylog
  # A program for the executors (8 seed bytes, then: addi x1,x1,1; sd x1,0(x4); bne x1,x2,-8).
  printf '\x01\0\0\0\0\0\0\0\x93\x80\x10\x00\x23\x30\x12\x00\xe3\x9c\x20\xfe' > build-fuzz/corpus/fuzz_exec/seed
  # A crash, a leak or an input slower than 10 s fails the run; the
  # offending input is left in build-fuzz/ (crash-*, leak-*, timeout-*).
  for t in fuzz_options fuzz_elf fuzz_dtb fuzz_rsp fuzz_replaylog fuzz_exec; do
    if ! "build-fuzz/tests/fuzz/$t" -max_total_time="$COREMU_FUZZ_SECONDS" -timeout=10 -print_final_stats=0 \
        -artifact_prefix=build-fuzz/ "build-fuzz/corpus/$t" >"build-fuzz/$t.log" 2>&1; then
      tail -n 40 "build-fuzz/$t.log"
      echo "test.sh: $t failed (its log: build-fuzz/$t.log)" >&2
      exit 1
    fi
    tail -n 1 "build-fuzz/$t.log"
  done
fi

stage "all tests (default build)"
cmake --preset default >/dev/null
cmake --build --preset default -j2
ctest --preset default -j2 --timeout 600
