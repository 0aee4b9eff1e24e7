#!/usr/bin/env bash
# Quick start, step 2: the whole test suite (unit, guest programs, real
# firmware, sanitizers, fuzzers). Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j2
ctest --preset default -j2 --timeout 600
