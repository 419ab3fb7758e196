#!/usr/bin/env bash
# Provides ONNX Runtime (headers + shared library) for vidsift's ORT backend,
# without ever changing the system's apt sources. Called by scripts/setup.sh.
#
#   scripts/fetch_onnxruntime.sh      # prints the ORT root (an include/ + lib/ tree) on stdout,
#                                     # or nothing when ORT is unavailable (status 0 either way)
#
# Debian 13+: installs libonnxruntime-dev from the system's apt (headers in
#   /usr/include/onnxruntime); prints nothing, CMake finds it in the system paths.
# Debian 12: assembles a tree cached in
#   ${XDG_CACHE_HOME:-~/.cache}/vidsift/onnxruntime-1.30.0/{include,lib}
#   - lib/libonnxruntime.so.1: Microsoft's CPU build from the npm package
#     onnxruntime-node@1.30.0 (`npm pack`, no install script runs);
#   - include/: the C/C++ headers from Debian 13's libonnxruntime-dev .deb,
#     fetched with `apt-get download` through a private apt configuration
#     (own sources list, lists and cache) and unpacked with `dpkg -x`.
#   The 1.21 headers ask the newer runtime for C API version 21, which it serves.
# Any failure (no network, no npm, ...) prints one line on stderr saying why
# and exits 0: the build then has the OpenCV dnn backend only.
set -uo pipefail

ORT_NPM_VERSION="${VIDSIFT_ORT_NPM_VERSION:-1.30.0}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/vidsift"
ROOT="$CACHE/onnxruntime-$ORT_NPM_VERSION"

unavailable() {
  echo "setup: ONNX Runtime unavailable ($*); building with the OpenCV dnn backend only" >&2
  exit 0
}

# Debian 13 and later: the system package (preferred over a cached tree).
if [ -f /usr/include/onnxruntime/onnxruntime_cxx_api.h ]; then exit 0; fi
debian_major="$(. /etc/os-release 2>/dev/null && [ "${ID:-}" = debian ] && echo "${VERSION_ID%%.*}")"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if [ "${debian_major:-0}" -ge 13 ] 2>/dev/null && ! apt-cache show libonnxruntime-dev >/dev/null 2>&1; then
  $SUDO apt-get update -qq >/dev/null 2>&1 || true # fresh system: no package lists yet
fi
if apt-cache show libonnxruntime-dev >/dev/null 2>&1; then
  echo "setup: installing libonnxruntime-dev" >&2
  if DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libonnxruntime-dev >/dev/null; then
    exit 0
  fi
  unavailable "apt-get install libonnxruntime-dev failed"
fi

# Debian 12: npm runtime + Debian 13 headers, assembled once (or given by the user).
if [ -f "$ROOT/include/onnxruntime_cxx_api.h" ] && [ -e "$ROOT/lib/libonnxruntime.so" ]; then
  echo "$ROOT"
  exit 0
fi
[ "$(uname -m)" = x86_64 ] || unavailable "the npm build is used on x86_64 only, this is $(uname -m)"
if ! command -v npm >/dev/null; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup: installing npm (to fetch ONNX Runtime's npm package)" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null 2>&1 ||
    unavailable "npm is not installed and apt-get install npm failed"
fi
command -v dpkg >/dev/null || unavailable "dpkg is not installed"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$CACHE"

# 1. The runtime library.
if ! (cd "$WORK" && npm pack --loglevel=error "onnxruntime-node@$ORT_NPM_VERSION" >npm.log 2>&1); then
  why="$(grep -m1 -E 'npm ERR! (code|network|errno|[0-9]{3})|^npm error' "$WORK/npm.log" | sed 's/^npm \(ERR!\|error\) *//')"
  unavailable "npm pack onnxruntime-node@$ORT_NPM_VERSION failed: ${why:-no reason given by npm}"
fi
tarball="$(ls "$WORK"/onnxruntime-node-*.tgz 2>/dev/null | head -n 1)"
[ -n "$tarball" ] || unavailable "npm pack produced no tarball"
so_in_tar="package/bin/napi-v6/linux/x64/libonnxruntime.so.1"
tar -xzf "$tarball" -C "$WORK" "$so_in_tar" 2>/dev/null || unavailable "$so_in_tar is not in $(basename "$tarball")"

# 2. The headers, through a private apt configuration pointing at Debian 13.
APT="$WORK/apt"
mkdir -p "$APT/etc/apt.conf.d" "$APT/etc/preferences.d" "$APT/etc/trusted.gpg.d" "$APT/state/lists/partial" \
  "$APT/cache/archives/partial" "$APT/deb"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || unavailable "no Debian archive keyring at $keyring"
echo "deb [signed-by=$keyring] http://deb.debian.org/debian trixie main" >"$APT/etc/sources.list"
: >"$APT/state/status"
apt_private=(
  -o "Dir::Etc=$APT/etc"
  -o "Dir::Etc::sourcelist=$APT/etc/sources.list"
  -o "Dir::Etc::sourceparts=-"
  -o "Dir::Etc::parts=$APT/etc/apt.conf.d"
  -o "Dir::Etc::preferencesparts=$APT/etc/preferences.d"
  -o "Dir::Etc::trustedparts=$APT/etc/trusted.gpg.d"
  -o "Dir::State=$APT/state"
  -o "Dir::State::status=$APT/state/status"
  -o "Dir::Cache=$APT/cache"
  -o "APT::Architecture=amd64"
  -o "Debug::NoLocking=1"
  -o "APT::Sandbox::User=root"
)
if ! apt-get "${apt_private[@]}" -qq update >"$WORK/apt.log" 2>&1; then
  unavailable "apt-get update of the private Debian 13 list failed: $(grep -m1 -E '^(E|W):' "$WORK/apt.log")"
fi
if ! (cd "$APT/deb" && apt-get "${apt_private[@]}" -qq download libonnxruntime-dev >"$WORK/apt.log" 2>&1); then
  unavailable "apt-get download libonnxruntime-dev (Debian 13) failed: $(grep -m1 -E '^(E|W):' "$WORK/apt.log")"
fi
deb="$(ls "$APT"/deb/libonnxruntime-dev_*.deb 2>/dev/null | head -n 1)"
[ -n "$deb" ] || unavailable "apt-get download produced no .deb"
dpkg -x "$deb" "$WORK/dev" || unavailable "dpkg -x $(basename "$deb") failed"
hdr="$WORK/dev/usr/include/onnxruntime"
[ -f "$hdr/onnxruntime_cxx_api.h" ] || unavailable "$(basename "$deb") has no onnxruntime_cxx_api.h"

# 3. Assemble the tree (release-tarball layout) and move it into place at once.
tree="$WORK/tree"
mkdir -p "$tree/include" "$tree/lib"
cp -a "$hdr"/. "$tree/include/"
cp "$WORK/$so_in_tar" "$tree/lib/libonnxruntime.so.1"
ln -s libonnxruntime.so.1 "$tree/lib/libonnxruntime.so"
{
  echo "runtime: npm onnxruntime-node@$ORT_NPM_VERSION ($so_in_tar)"
  echo "headers: Debian 13 $(basename "$deb")"
} >"$tree/SOURCE"
rm -rf "$ROOT"
mv "$tree" "$ROOT" || unavailable "cannot write $ROOT"
echo "setup: ONNX Runtime $ORT_NPM_VERSION assembled in $ROOT" >&2
echo "$ROOT"
