#!/usr/bin/env bash
# Builds vidsift and runs its whole ctest suite in a Debian 13 (trixie) root,
# with Debian 13's own FFmpeg 7.1, OpenCV 4.10 and ONNX Runtime 1.21.
#
#   scripts/ci_debian13.sh            # needs root (re-runs itself through sudo)
#   VIDSIFT_DEB13_ROOT=DIR scripts/ci_debian13.sh --prepare
#                                     # step 1 only, into DIR, kept for a later
#                                     # VIDSIFT_DEB13_ROOT=DIR scripts/ci_debian13.sh
#   (.ci/run prepares the root in the background while the Debian 12 steps
#   run: step 1 is mostly download and unpacking.)
#
# 1. The root: debootstrap --variant=minbase trixie from the mirror the
#    system's apt sources use (deb.debian.org by default; the system's apt
#    sources are only read, never changed). Not with
#    --include=libonnxruntime-dev: debootstrap's resolver misses libre2-11 (a
#    dependency of libonnxruntime1.21), fails configuring it and exits
#    non-zero. Instead scripts/setup.sh --deps-only, run inside the root,
#    installs the build dependencies and libonnxruntime-dev with apt-get, whose
#    resolver gets libre2-11 (after an `apt-get -f install` that repairs any
#    half-configured package). That root (without the repository) is cached as a tarball in
#    ${XDG_CACHE_HOME:-~/.cache}/vidsift/debian13-root.tar.zst and reused by
#    later runs (setup.sh still adds any package missing from it);
#    VIDSIFT_DEB13_FRESH=1 ignores the cache, VIDSIFT_DEB13_CACHE=0 does not
#    write it (a fresh CI machine gains nothing from it: ~100 s, 714 MB).
# 2. The repository (working tree, without build directories) is copied to
#    /work/vidsift in the root; the models and videos (../shared, or
#    VIDSIFT_SHARED_DIR) are bind-mounted read-only at /work/shared. /proc,
#    /dev, /dev/pts and /sys are mounted; a trap unmounts everything and
#    removes the root on any exit (VIDSIFT_DEB13_KEEP=1 keeps the root).
# 3. Inside the root: scripts/test.sh (setup.sh builds, then ctest), niced,
#    with VIDSIFT_JOBS jobs (default 2). VIDSIFT_DEB13_CTEST_ARGS is passed to
#    ctest as shell words (quote a regex with |), e.g.
#    VIDSIFT_DEB13_CTEST_ARGS="-R 'Preprocess|Hostile'".
#    VIDSIFT_DEB13_ROOT=DIR reuses a root made by --prepare or kept by an
#    earlier run (VIDSIFT_DEB13_KEEP=1): the repository is copied over again,
#    its build directory in the root is kept, so only what changed is rebuilt.
#    A reused root is kept afterwards unless VIDSIFT_DEB13_REMOVE=1.
# Exit status: ctest's (non-zero when any test fails), or 1 on a setup error.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then exec sudo --preserve-env=XDG_CACHE_HOME,VIDSIFT_SHARED_DIR,VIDSIFT_JOBS,VIDSIFT_DEB13_FRESH,VIDSIFT_DEB13_CACHE,VIDSIFT_DEB13_KEEP,VIDSIFT_DEB13_CTEST_ARGS,VIDSIFT_DEB13_ROOT,VIDSIFT_DEB13_REMOVE,VIDSIFT_DEBIAN_MIRROR "$0" "$@"; fi

REPO="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="$(cd "${VIDSIFT_SHARED_DIR:-$REPO/../shared}" && pwd)"
JOBS="${VIDSIFT_JOBS:-2}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/vidsift"
TARBALL="$CACHE/debian13-root.tar.zst"
SUITE=trixie
PREPARE=0
case "${1:-}" in
  --prepare) PREPARE=1 ;;
  "") ;;
  *)
    echo "usage: scripts/ci_debian13.sh [--prepare]" >&2
    exit 2
    ;;
esac

say() { echo "ci_debian13: $*" >&2; }
die() {
  say "error: $*"
  exit 1
}
elapsed() { echo "$((SECONDS - ${1}))s"; }

for tool in debootstrap chroot mount umount zstd tar findmnt; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install debootstrap zstd)"
done
[ -d "$SHARED/models" ] || die "no models in $SHARED (set VIDSIFT_SHARED_DIR)"

# The Debian mirror the system's apt sources use (read only).
mirror="${VIDSIFT_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n 1 | tr -d ' ')" || true
  mirror="${mirror:-http://deb.debian.org/debian}"
fi

REUSE=0
if [ "$PREPARE" = 1 ]; then
  [ -n "${VIDSIFT_DEB13_ROOT:-}" ] || die "--prepare needs VIDSIFT_DEB13_ROOT=DIR"
  mkdir -p "$VIDSIFT_DEB13_ROOT"
  [ -z "$(ls -A "$VIDSIFT_DEB13_ROOT")" ] || die "VIDSIFT_DEB13_ROOT=$VIDSIFT_DEB13_ROOT is not empty"
  ROOT="$(cd "$VIDSIFT_DEB13_ROOT" && pwd)"
elif [ -n "${VIDSIFT_DEB13_ROOT:-}" ]; then
  [ -x "${VIDSIFT_DEB13_ROOT}/usr/bin/apt-get" ] || die "VIDSIFT_DEB13_ROOT=$VIDSIFT_DEB13_ROOT is not a kept Debian root"
  ROOT="$(cd "$VIDSIFT_DEB13_ROOT" && pwd)"
  REUSE=1
else
  ROOT="$(mktemp -d /var/tmp/vidsift-deb13.XXXXXX)"
fi
# mktemp's 0700 would lock apt's _apt user out of the root, and the tests
# that run vidsift as `nobody` out of its libraries.
chmod 755 "$ROOT"

# Unmount everything under $ROOT (deepest first); true when nothing is left.
unmount_all() {
  local m
  for _ in 1 2 3; do
    mapfile -t mounts < <(findmnt -rn -o TARGET | grep -E "^$ROOT(/|$)" | sort -r)
    ((${#mounts[@]})) || return 0
    for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  done
  ! findmnt -rn -o TARGET | grep -qE "^$ROOT(/|$)"
}
cleanup() {
  local status=$?
  if ! unmount_all; then
    say "error: mounts remain under $ROOT; not removing it"
    exit 1
  fi
  if [ "${VIDSIFT_DEB13_KEEP:-0}" = 1 ] || { [ "$REUSE" = 1 ] && [ "${VIDSIFT_DEB13_REMOVE:-0}" != 1 ]; } ||
    { [ "$PREPARE" = 1 ] && [ "$status" = 0 ]; }; then
    say "root kept in $ROOT"
  else
    rm -rf --one-file-system "$ROOT"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_root() {
  chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
# Mounts made here never propagate back to the host (rslave), whatever the
# host's propagation settings.
mount_all() {
  mkdir -p "$ROOT/proc" "$ROOT/sys" "$ROOT/dev"
  mount -t proc proc "$ROOT/proc"
  mount -t sysfs sysfs "$ROOT/sys" 2>/dev/null || mount --bind /sys "$ROOT/sys"
  mount --make-rslave "$ROOT/sys"
  mount --bind /dev "$ROOT/dev"
  mount --make-rslave "$ROOT/dev"
  mount --bind /dev/pts "$ROOT/dev/pts"
  mount -t tmpfs -o mode=1777,nosuid,nodev shm "$ROOT/dev/shm"
}
copy_repo() {
  local dst="$ROOT/work/vidsift" f
  mkdir -p "$dst" "$ROOT/work/shared"
  if [ "$REUSE" != 1 ]; then
    rm -rf "$dst" && mkdir -p "$dst"
    tar -C "$REPO" --exclude='./build' --exclude='./build-*' --exclude='./.git' -cf - . | tar -C "$dst" -xf -
    return
  fi
  # A reused root keeps its build directory: only files whose content
  # changed are replaced, with a new modification time (the repository's
  # own times could be older than the objects built from the old files), and
  # files gone from the repository are removed.
  local stage="$ROOT/work/.vidsift-new"
  rm -rf "$stage" && mkdir -p "$stage"
  tar -C "$REPO" --exclude='./build' --exclude='./build-*' --exclude='./.git' -cf - . | tar -C "$stage" -xf -
  while IFS= read -r -d '' f; do
    if ! cmp -s "$stage/$f" "$dst/$f"; then
      mkdir -p "$(dirname "$dst/$f")"
      rm -f "$dst/$f"
      cp -p "$stage/$f" "$dst/$f" && touch "$dst/$f"
    fi
  done < <(cd "$stage" && find . -type f -print0)
  while IFS= read -r -d '' f; do
    [ -e "$stage/$f" ] || rm -f "$dst/$f"
  done < <(cd "$dst" && find . -path ./build -prune -o -type f -print0)
  rm -rf "$stage"
}

start=$SECONDS
if [ "$REUSE" = 1 ]; then
  unmount_all || die "mounts remain under $ROOT"
  say "reusing the root in $ROOT"
  mount_all
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  copy_repo
elif [ "${VIDSIFT_DEB13_FRESH:-0}" != 1 ] && [ -f "$TARBALL" ]; then
  t=$SECONDS
  tar -C "$ROOT" -I zstd -xpf "$TARBALL"
  chmod 755 "$ROOT" # the tarball's "./" may carry an older root's 0700
  say "root restored from $TARBALL ($(elapsed $t))"
  mount_all
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  copy_repo
else
  t=$SECONDS
  say "debootstrap $SUITE from $mirror into $ROOT"
  if ! nice debootstrap --variant=minbase "$SUITE" "$ROOT" "$mirror" >"$ROOT.log" 2>&1; then
    tail -n 20 "$ROOT.log" >&2
    rm -f "$ROOT.log"
    die "debootstrap failed"
  fi
  rm -f "$ROOT.log"
  say "debootstrap done ($(elapsed $t))"
  mount_all
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  # No service starts inside the root.
  printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
  chmod +x "$ROOT/usr/sbin/policy-rc.d"
  t=$SECONDS
  in_root apt-get update -qq
  in_root apt-get -f install -y -qq --no-install-recommends >/dev/null
  copy_repo
  in_root bash -c 'cd /work/vidsift && nice scripts/setup.sh --deps-only'
  for p in libonnxruntime-dev libre2-11; do
    in_root dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || die "$p is not installed in the root"
  done
  in_root apt-get clean
  say "build dependencies installed ($(elapsed $t))"
  t=$SECONDS
  if [ "${VIDSIFT_DEB13_CACHE:-1}" = 0 ]; then
    :
  elif mkdir -p "$CACHE" && tar -C "$ROOT" --one-file-system --exclude=./work/vidsift --exclude=./proc --exclude=./sys --exclude=./dev \
    -I 'zstd -T0 -3 -q' -cf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"; then
    say "root cached in $TARBALL ($(du -h "$TARBALL" | cut -f1), $(elapsed $t))"
  else
    rm -f "$TARBALL.tmp"
    say "could not cache the root (continuing)"
  fi
fi
if [ "$PREPARE" = 1 ]; then
  say "root prepared in $ROOT ($(elapsed $start))"
  exit 0
fi
mount --bind -o ro "$SHARED" "$ROOT/work/shared"
mount -o remount,bind,ro "$ROOT/work/shared"

say "$(in_root bash -c '. /etc/os-release; echo "$PRETTY_NAME"'):" \
  "$(in_root dpkg-query -W -f='${Package} ${Version}, ' libavcodec-dev libopencv-dev libonnxruntime-dev g++ cmake)"
t=$SECONDS
status=0
# Only what ctest needs (no benchmarks); no ccache (a fresh root has none).
in_root bash -c "cd /work/vidsift && VIDSIFT_JOBS=$JOBS VIDSIFT_CMAKE_ARGS=-DVIDSIFT_BUILD_BENCH=OFF nice scripts/test.sh ${VIDSIFT_DEB13_CTEST_ARGS:-}" || status=$?
say "build + ctest in the root: status $status ($(elapsed $t)); total $(elapsed $start)"
exit "$status"
