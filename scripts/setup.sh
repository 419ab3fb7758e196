#!/usr/bin/env bash
# Installs the Debian packages vidsift needs (only those missing; the same
# names on Debian 12 and 13), provides ONNX Runtime
# (scripts/fetch_onnxruntime.sh: Debian 13's package, or on Debian 12 a tree
# cached in ~/.cache/vidsift; without network the build has the OpenCV dnn
# backend only) and builds a Release binary in build/. Safe to run again.
# VIDSIFT_NO_ORT=1 skips ONNX Runtime; VIDSIFT_JOBS sets the build's jobs
# (default: nproc).
#   scripts/setup.sh              # deps + build
#   scripts/setup.sh --deps-only  # deps only
#   VIDSIFT_BUILD_DIR=dir scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DEPS_ONLY=0
if [ "${1:-}" = --deps-only ]; then DEPS_ONLY=1; fi

PACKAGES=(
  build-essential cmake pkg-config git
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev ffmpeg
  libopencv-dev libtbb-dev libboost-program-options-dev
  libsqlite3-dev sqlite3 nlohmann-json3-dev
  libonnx-dev libprotobuf-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  valgrind time python3-onnx python3-yaml tmux
  tzdata
  chromium chromium-driver python3-selenium python3-pil
  slurm-wlm munge
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian 13 (trixie) has FFmpeg 7.1, OpenCV 4.10 and ONNX Runtime 1.21 in apt;
# Debian 12 has FFmpeg 5.1 and OpenCV 4.6 (ORT: see fetch_onnxruntime.sh).
if [ -r /etc/os-release ]; then
  os="$(. /etc/os-release && echo "${PRETTY_NAME:-$ID $VERSION_ID}")"
  echo "setup: $os; FFmpeg (libavcodec) $(dpkg-query -W -f='${Version}' libavcodec-dev 2>/dev/null)," \
    "OpenCV $(dpkg-query -W -f='${Version}' libopencv-dev 2>/dev/null)" >&2
fi

ORT_ARGS=()
if [ "${VIDSIFT_NO_ORT:-0}" != 1 ]; then
  ORT_ROOT="$(bash scripts/fetch_onnxruntime.sh)"
  if [ -n "$ORT_ROOT" ] && [ -d "$ORT_ROOT" ]; then ORT_ARGS=(-DONNXRUNTIME_ROOT="$ORT_ROOT"); fi
fi

if ((DEPS_ONLY)); then exit 0; fi

BUILD_DIR="${VIDSIFT_BUILD_DIR:-build}"
cmake_log="$(mktemp)"
if ! cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "${ORT_ARGS[@]}" ${VIDSIFT_CMAKE_ARGS:-} >"$cmake_log" 2>&1; then
  cat "$cmake_log" >&2
  rm -f "$cmake_log"
  exit 1
fi
grep -E "vidsift: inference backends" "$cmake_log" | sed 's/^-- /setup: /' >&2 || true
rm -f "$cmake_log"
cmake --build "$BUILD_DIR" -j"${VIDSIFT_JOBS:-$(nproc)}"
echo "setup: built $BUILD_DIR/vidsift" >&2
