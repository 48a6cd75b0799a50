#!/usr/bin/env bash
# Builds the prebuilds that ship in the npm package, with prebuildify's names (node-gyp-build picks
# them by platform, arch and libc):
#   prebuilds/linux-x64/simdcnn.glibc.node     native g++
#   prebuilds/linux-arm64/simdcnn.glibc.node   cross-compiled with Debian's g++-aarch64-linux-gnu
#   prebuilds/linux-x64/simdcnn.musl.node      only on a musl host (Alpine) or with MUSL_CXX set to a
#                                              musl C++ compiler (e.g. x86_64-linux-musl-g++): Debian
#                                              has no C++ runtime for musl
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
      else
        echo "== musl: skipped (no musl C++ toolchain here: Debian ships no libstdc++/libc++ for musl; set MUSL_CXX, or run this on Alpine)"
      fi ;;
    *) echo "unknown target $t (x64 | arm64 | musl)" >&2; exit 1 ;;
  esac
done
