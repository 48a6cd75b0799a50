#!/usr/bin/env bash
# Runs test/workers.test.ts (worker_threads: concurrent forwards, terminate mid-forward, RSS over
# create/terminate cycles) 20 times in a row and stops at the first failure. Not part of npm test:
# a soak run for changes to native/binding/ (defer.cc's async runs, finalizers, cleanup hook).
# Usage: bash scripts/worker-loop.sh [runs]   (build first: npx node-gyp build && npx tsc -p tsconfig.json)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
for i in $(seq 1 "$runs"); do
  echo "== worker-loop run $i/$runs"
  if ! npx vitest run --project default test/workers.test.ts; then
    echo "worker-loop: run $i/$runs failed" >&2
    exit 1
  fi
done
echo "worker-loop: $runs/$runs runs passed"
