#!/usr/bin/env bash
# scripts/guest/build-linux.sh: builds COREMU's small riscv64 Linux (issue 7)
# from Debian's linux-source-6.1 with gcc-riscv64-linux-gnu, and the test
# init program, into a cache. Prints the output directory on stdout (the
# last line; progress goes to stderr). A second run with the same inputs
# prints it at once.
#
# Output directory (files):
#   Image            the kernel with the initramfs built in (boot it as is)
#   vmlinux          its ELF, with symbols (gdb, the REPL)
#   Image-bare       the same kernel without the built-in initramfs (for -initrd)
#   vmlinux-bare     its ELF
#   initramfs.cpio   the initramfs alone (newc cpio: /init, /dev/console, /dev/mem)
#   init             the static init program (tests/guest/linux/init.c)
#   config           the kernel's .config
#   build-seconds    how long this output took to build
#
# Inputs: tests/guest/linux/linux.config (a fragment applied on top of
# allnoconfig), tests/guest/linux/init.c, and tests/guest/linux/coremu_race.c
# (the kernel race demo of docs/tutorial-kernel-race.md: copied into the
# tree as kernel/coremu_race.c and built in; it adds /proc/coremu_race).
#
# Cache: $COREMU_LINUX_CACHE, default ${XDG_CACHE_HOME:-~/.cache}/coremu/linux.
#   tree-<K1>/   the extracted source and the kernel build directory, K1 a hash of
#                the fragment, the linux-source-6.1 package version and the compiler
#   out-<K2>/    the outputs, K2 a hash of K1, init.c, coremu_race.c and this script
# A change to init.c only relinks the kernel (seconds), one to coremu_race.c
# compiles that file and relinks; a change to the
# fragment or the source package rebuilds the tree (169 s on 2 idle
# cores: 20 s extracting, the rest compiling). Older trees are removed when a new one is
# made. Concurrent runs wait for each other (flock).
#
# Variants: `build-linux.sh --variant NAME` builds the same kernel with the
# fragment tests/guest/linux/NAME.config applied on top of linux.config (a
# symbol the variant names takes the variant's value), into its own cache
# subdirectory $cache/NAME/ (tree and outputs as above), and outputs only
# Image, vmlinux, init, initramfs.cpio and config (no -bare kernel). The
# default kernel's cache entry is not touched. `--if-built` (after the
# other arguments) builds nothing: it prints the output directory if that
# build is cached, else says so and exits with status 3 (tests that need a
# kernel CI may not have built). Variants:
#   hz250   a periodic tick at HZ=250 (HZ_PERIODIC instead of NO_HZ_IDLE,
#           HZ_250 instead of HZ_100): every CPU ticks even when idle
#
# Environment: COREMU_LINUX_CACHE, COREMU_LINUX_JOBS (make -j, default 2).
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "$0")/../.." && pwd)
frag=$root/tests/guest/linux/linux.config
init_src=$root/tests/guest/linux/init.c
race_src=$root/tests/guest/linux/coremu_race.c
src_tar=/usr/src/linux-source-6.1.tar.xz
cross=riscv64-linux-gnu-
jobs=${COREMU_LINUX_JOBS:-2}
cache=${COREMU_LINUX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/coremu/linux}

log() { echo "build-linux: $*" >&2; }
die() { log "error: $*"; exit 1; }

variant=
if_built=0
if [ "${!#:-}" = --if-built ] && [ $# -gt 0 ]; then
  if_built=1
  set -- "${@:1:$(($# - 1))}"
fi
case ${1:-} in
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
  --variant)
    variant=${2:-}
    [[ $variant =~ ^[a-z0-9_-]+$ ]] || die "--variant needs a name (a-z, 0-9, _ and -; see --help)"
    [ -f "$root/tests/guest/linux/$variant.config" ] || die "no variant '$variant': tests/guest/linux/$variant.config missing"
    [ $# -eq 2 ] || die "unexpected argument '${3:-}' (see --help)" ;;
  "") ;;
  *) die "unexpected argument '$1' (see --help)" ;;
esac

[ -f "$src_tar" ] || die "$src_tar missing: install Debian's linux-source-6.1 (scripts/install-deps.sh)"
command -v "${cross}gcc" >/dev/null || die "${cross}gcc missing: install gcc-riscv64-linux-gnu"
[ -f /usr/riscv64-linux-gnu/lib/libc.a ] || die "static riscv64 glibc missing: install libc6-dev-riscv64-cross"
for t in make flex bison bc xz flock sha256sum; do
  command -v "$t" >/dev/null || die "$t missing (scripts/install-deps.sh installs what the build needs)"
done

hash_of() { sha256sum | cut -c1-16; }
if [ -n "$variant" ]; then
  # The variant's fragment: linux.config without the symbols the variant
  # sets, then the variant's lines (so the check below holds for every line).
  vfrag=$root/tests/guest/linux/$variant.config
  names=$(grep -oE '^(# )?CONFIG_[A-Za-z0-9_]+' "$vfrag" | sed 's/^# //' | sort -u)
  mkdir -p "$cache/$variant"
  frag=$cache/$variant/fragment.config
  { grep -vwF -f <(echo "$names") "$root/tests/guest/linux/linux.config"; echo "# variant $variant"; cat "$vfrag"; } >"$frag.tmp"
  mv "$frag.tmp" "$frag"
  cache=$cache/$variant
fi
src_version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || stat -c %s "$src_tar")
k1=$( { cat "$frag"; echo "$src_version"; "${cross}gcc" --version | head -n1; } | hash_of)
k2=$( { echo "$k1"; cat "$init_src" "$race_src" "$0"; } | hash_of)
tree=$cache/tree-$k1
out=$cache/out-$k2

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

if [ -f "$out/Image" ] && { [ -n "$variant" ] || [ -f "$out/Image-bare" ]; } && [ -f "$out/initramfs.cpio" ]; then
  log "cached: $out"
  echo "$out"
  exit 0
fi
if [ $if_built = 1 ]; then
  log "not built: $out (run scripts/guest/build-linux.sh${variant:+ --variant $variant})"
  exit 3
fi

t0=$(date +%s)
# A reproducible build: no build time, user or host in the kernel (its
# banner) or in the initramfs's file times, so that the same sources and
# compiler give the same Image everywhere, and a recording made with it
# (docs/tutorial-kernel-race.md) replays the same on another machine.
export KBUILD_BUILD_TIMESTAMP="Thu Jan  1 00:00:00 UTC 2026" KBUILD_BUILD_USER=coremu KBUILD_BUILD_HOST=coremu \
  KBUILD_BUILD_VERSION=1
kmake() { make -s -C "$tree/src" O="$tree/build" ARCH=riscv CROSS_COMPILE="$cross" -j"$jobs" "$@" >&2; }

# ---- the source tree (once per K1) ----
if [ ! -f "$tree/.extracted" ]; then
  for old in "$cache"/tree-* "$cache"/out-*; do
    [ -e "$old" ] && [ "$old" != "$tree" ] && { log "removing old cache entry $old"; rm -rf "$old"; }
  done
  rm -rf "$tree"
  mkdir -p "$tree/src"
  log "extracting $src_tar (half a minute)"
  tar -xJf "$src_tar" -C "$tree/src" --strip-components=1
  touch "$tree/.extracted"
fi

# ---- our own kernel code: the race demo, built in ----
# Copied only when it differs (an unchanged file keeps its time stamp and is
# not recompiled); the Makefile line is added once.
cmp -s "$race_src" "$tree/src/kernel/coremu_race.c" || cp "$race_src" "$tree/src/kernel/coremu_race.c"
grep -qxF 'obj-y += coremu_race.o' "$tree/src/kernel/Makefile" || echo 'obj-y += coremu_race.o' >>"$tree/src/kernel/Makefile"

# ---- configuration: allnoconfig + the fragment ----
# set_initramfs SOURCE: (re)configures the tree with CONFIG_INITRAMFS_SOURCE.
set_initramfs() {
  local all=$tree/allconfig
  { cat "$frag"; echo "CONFIG_INITRAMFS_SOURCE=\"$1\""; } >"$all"
  if [ ! -f "$tree/build/.config" ]; then
    log "configuring (allnoconfig + $(basename "$frag"))"
    mkdir -p "$tree/build"
    KCONFIG_ALLCONFIG=$all kmake allnoconfig
    # Every option of the fragment must have survived (a typo, a missing
    # dependency or a choice Kconfig overrode would silently drop it).
    local bad=0 line name
    while IFS= read -r line; do
      case $line in
        CONFIG_*=*) name=${line%%=*}
          grep -qxF "$line" "$tree/build/.config" || { log "fragment: '$line' did not stick: $(grep -E "^(# )?$name[= ]" "$tree/build/.config" || echo "$name absent")"; bad=1; } ;;
        "# CONFIG_"*" is not set") name=${line#\# }; name=${name%% *}
          if grep -q "^$name=" "$tree/build/.config"; then log "fragment: '$line' but .config has $(grep "^$name=" "$tree/build/.config")"; bad=1; fi ;;
      esac
    done <"$frag"
    [ $bad = 0 ] || { rm -f "$tree/build/.config"; die "the config fragment does not apply to this kernel"; }
  else
    "$tree/src/scripts/config" --file "$tree/build/.config" --set-str INITRAMFS_SOURCE "$1"
    kmake olddefconfig
  fi
}

# ---- init and the initramfs ----
tmp=$out.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
log "compiling init ($(basename "$init_src"))"
"${cross}gcc" -static -O2 -Wall -Wextra -Werror -pthread -o "$tmp/init" "$init_src"
touch -d "$KBUILD_BUILD_TIMESTAMP" "$tmp/init"  # the cpio records a regular file's own time
cat >"$tmp/initramfs.list" <<EOF
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
nod /dev/mem 0600 0 0 c 1 1
dir /proc 0755 0 0
dir /sys 0755 0 0
file /init $tmp/init 0755 0 0
EOF

# ---- the kernel without, then with, the built-in initramfs ----
if [ -z "$variant" ]; then
  set_initramfs ""
  log "building Image-bare (a cold build, extraction included, takes about 3 minutes on 2 cores)"
  kmake Image
  cp "$tree/build/arch/riscv/boot/Image" "$tmp/Image-bare"
  cp "$tree/build/vmlinux" "$tmp/vmlinux-bare"
fi
set_initramfs "$tmp/initramfs.list"

log "building Image (initramfs built in)${variant:+, variant $variant}"
kmake Image
"$tree/build/usr/gen_init_cpio" -t "$(date -d "$KBUILD_BUILD_TIMESTAMP" +%s)" "$tmp/initramfs.list" >"$tmp/initramfs.cpio"
cp "$tree/build/arch/riscv/boot/Image" "$tmp/Image"
cp "$tree/build/vmlinux" "$tmp/vmlinux"
cp "$tree/build/.config" "$tmp/config"
sed -i "s|$tmp|$out|" "$tmp/initramfs.list" "$tmp/config"

echo $(( $(date +%s) - t0 )) >"$tmp/build-seconds"
rm -rf "$out"
mv "$tmp" "$out"
log "built in $(cat "$out/build-seconds")s: $out"
echo "$out"
