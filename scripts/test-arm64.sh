#!/usr/bin/env bash
# Cross-compiles the standalone native kernel tests for arm64 (Debian's g++-aarch64-linux-gnu, through
# CMakeLists.txt so the neon source lists of native/sources.json are the ones under test) and runs them
# under qemu-user. The binary runs every test on scalar and on neon (the ISAs an AArch64 CPU has), with 1
# and 2 threads; the summary counts the NEON cases per test family. Fails on any failed case, and when
# no NEON case ran at all.
#   SIMDCNN_ARM64_BUILD_DIR (default build-arm64), SIMDCNN_ARM64_TIMEOUT (seconds, default 330).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${SIMDCNN_ARM64_BUILD_DIR:-build-arm64}
limit=${SIMDCNN_ARM64_TIMEOUT:-330}
for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  command -v "$tool" > /dev/null || {
    echo "test:arm64 needs $tool: apt-get install -y g++-aarch64-linux-gnu qemu-user" >&2
    exit 1
  }
done
start=$(date +%s)

# -static: qemu-aarch64 then needs no arm64 sysroot. NEON is baseline on AArch64: no -m flags.
cmake -S . -B "$dir" -DSIMDCNN_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
  -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++ -DCMAKE_EXE_LINKER_FLAGS=-static \
  -DTHREADS_PREFER_PTHREAD_FLAG=ON > "$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
cmake --build "$dir" -j"$(nproc)" -- --no-print-directory > "$dir.build.log" 2>&1 || { cat "$dir.build.log"; exit 1; }
bin="$dir/simdcnn_native_tests"
file "$bin" 2>/dev/null | sed 's/, BuildID[^,]*//' || true
echo "built in $(( $(date +%s) - start ))s; running under qemu-aarch64 (limit ${limit}s)"

log="$dir/native-tests.log"
rc=0
timeout "$limit" qemu-aarch64 "$bin" "$@" > "$log" 2>&1 || rc=$?
if [ "$rc" = 124 ]; then echo "test:arm64: the native tests did not finish within ${limit}s under qemu" >&2; fi
grep -E "^(FAIL|  CHECK|  arm64 features)" "$log" | head -40 || true

# Lines are "ok   <name> [<isa>, <n> thread(s)]"; the family is the name's first word (up to ':' or ' ').
awk '
  /^(ok  |FAIL) / {
    isa = $0; sub(/.*\[/, "", isa); sub(/,.*/, "", isa)
    name = substr($0, 6); sub(/ \[[^]]*\]$/, "", name)
    fam = name; sub(/[: ].*/, "", fam)
    if (isa == "neon") { if ($1 == "ok") ok[fam]++; else bad[fam]++; seen[fam] = 1 }
    if ($1 == "ok") tot_ok[isa]++; else tot_bad[isa]++
  }
  END {
    printf "NEON cases passed per family (each test x 1 and 2 threads, vs references and the scalar kernels):\n"
    n = 0
    for (f in seen) fams[++n] = f
    for (i = 2; i <= n; i++) for (j = i; j > 1 && fams[j - 1] > fams[j]; j--) { t = fams[j]; fams[j] = fams[j - 1]; fams[j - 1] = t }
    for (i = 1; i <= n; i++) printf "  %-20s %3d passed%s\n", fams[i], ok[fams[i]], bad[fams[i]] ? sprintf(", %d FAILED", bad[fams[i]]) : ""
    for (isa in tot_ok) printf "%s: %d passed, %d failed\n", isa, tot_ok[isa], tot_bad[isa]
    if (!tot_ok["neon"]) { print "no NEON case ran" > "/dev/stderr"; exit 1 }
  }' "$log" || rc=1
tail -1 "$log"
echo "test:arm64 done in $(( $(date +%s) - start ))s"
exit "$rc"
