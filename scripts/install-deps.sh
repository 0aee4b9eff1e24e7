#!/usr/bin/env bash
# Installs every Debian package COREMU needs to build, test and benchmark.
# Safe to run again: does nothing when everything is present.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config python3
  libfmt-dev libelf-dev libfdt-dev libreadline-dev libgtest-dev libzstd-dev libxxhash-dev
  libxbyak-dev libzydis-dev
  gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf picolibc-riscv64-unknown-elf
  gcc-riscv64-linux-gnu libc6-dev-riscv64-cross
  linux-source-6.1 bc flex bison cpio libssl-dev xz-utils
  gdb-multiarch device-tree-compiler
  opensbi u-boot-qemu qemu-system-misc
  clang libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
