#!/usr/bin/env node
'use strict';
// The inference server (lib/serve/cli.ts), from the compiled package.
const path = require('path');
let cli;
try {
  cli = require(path.join(__dirname, '..', 'dist', 'lib', 'serve', 'cli.js'));
} catch (e) {
  process.stderr.write(`simdcnn-serve: cannot load dist/lib/serve/cli.js (build with npx tsc -p tsconfig.json): ${e.message}\n`);
  process.exit(1);
}
cli.main(process.argv.slice(2));
