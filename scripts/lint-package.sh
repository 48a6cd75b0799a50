#!/usr/bin/env bash
# The package linters on the packed tarball (what npm publishes, prebuilds/ included if built):
# publint (package.json fields vs the files that ship) and are-the-types-wrong (the types resolve, as
# CommonJS or ESM as they should, under node10, node16 from CJS and ESM, and bundler resolution).
#   npm run lint:package
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d "${TMPDIR:-/tmp}/simdcnn-lint.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
npx tsc -p tsconfig.json
npm pack --ignore-scripts --pack-destination "$tmp" > "$tmp/pack.log" 2>&1 || { cat "$tmp/pack.log"; exit 1; }
tarball=$(ls "$tmp"/*.tgz)
echo "== publint $(basename "$tarball")"
npx publint run "$tarball" --strict
echo "== attw $(basename "$tarball")"
npx attw "$tarball" --profile strict --format table-flipped --no-emoji --no-color
