#!/usr/bin/env bash
# Quick start, step 1: install what is missing, build, and run the bundled
# multi-hart demo guest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j2
echo
echo "== running the bundled demo guest: ./build/coremu"
./build/coremu
