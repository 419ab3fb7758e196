#!/usr/bin/env bash
# Set up (deps + build), then run the whole test suite through ctest.
#   scripts/test.sh [ctest options...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR="${VIDSIFT_BUILD_DIR:-build}"
cd "$BUILD_DIR"
ctest --output-on-failure -j"${VIDSIFT_JOBS:-$(nproc)}" "$@"
