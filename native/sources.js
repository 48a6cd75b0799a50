'use strict';
// The one source list (sources.json) as seen by CMakeLists.txt and binding.gyp.
//   node native/sources.js common|avx2|avx512|neon|binding|tests [--cmake]
// Paths are relative to the package root; binding.gyp wants them as-is, CMake gets ';'-joined.
const fs = require('fs');
const path = require('path');

const spec = JSON.parse(fs.readFileSync(path.join(__dirname, 'sources.json'), 'utf8'));

function list(kind) {
  const out = [];
  if (kind === 'common') out.push(...spec.core);
  if (kind === 'binding') out.push(...spec.binding);
  if (kind === 'tests') out.push(...spec.tests);
  for (const fam of Object.values(spec.families)) out.push(...(fam[kind] || []));
  return out;
}

module.exports = { list };

if (require.main === module) {
  const kind = process.argv[2];
  const files = list(kind);
  process.stdout.write(process.argv.includes('--cmake') ? files.join(';') : files.join(' '));
}
