#!/usr/bin/env bash
# Builds vidsift with -fsanitize=address,undefined in build-asan/ and runs the
# whole test suite under it. Any sanitizer report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
export VIDSIFT_BUILD_DIR=build-asan
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIDSIFT_SANITIZE=ON -DVIDSIFT_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$(nproc)"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd build-asan
ctest --output-on-failure -j"$(nproc)" "$@"
