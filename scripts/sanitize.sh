#!/usr/bin/env bash
# Builds vidsift with -fsanitize=address,undefined in build-asan/ and runs the
# test suite under it. Any sanitizer report fails the run.
#
# What it leaves out, to fit CI's 60 minutes on 2 cores (this step was the
# longest, ~27 min):
#  - the tests labelled `heavy` in tests/CMakeLists.txt (ctest -LE heavy):
#    whole models run over vtest.avi only to compare backends or
#    model families. The vidsift code they run (model loading, every
#    family's decoding, the pipeline, the store) is run by smaller tests that
#    do run here; what the heavy ones add is OpenCV's and ONNX Runtime's own
#    inference time, which the sanitizers do not instrument. They run in the
#    Debian 12 and Debian 13 steps.
#  - benchmarks (not built);
#  - optimisation: -O1 (AddressSanitizer's recommended level) with -g1 (line
#    tables: reports still name file and line), which compiles much faster
#    than RelWithDebInfo's -O2 -g.
#   scripts/sanitize.sh [ctest options...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
export VIDSIFT_BUILD_DIR=build-asan
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DVIDSIFT_SANITIZE=ON -DVIDSIFT_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$(nproc)"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd build-asan
ctest --output-on-failure -j"$(nproc)" -LE heavy "$@"
