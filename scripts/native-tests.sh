#!/usr/bin/env bash
# Builds the standalone native kernel tests (no Node) with AddressSanitizer + UndefinedBehaviorSanitizer
# and runs them through ctest. Any sanitizer report aborts the binary, so ctest fails.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${SIMDCNN_SAN_BUILD_DIR:-build-asan}
cmake -S . -B "$dir" -DSIMDCNN_BUILD_TESTS=ON -DSIMDCNN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug > "$dir.configure.log" 2>&1 \
  || { cat "$dir.configure.log"; exit 1; }
cmake --build "$dir" -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$dir" --output-on-failure
