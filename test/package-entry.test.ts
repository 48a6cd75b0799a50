import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as lib from '../lib/index';

// The built package (dist/, compiled by `npm install`'s prepare step) from both module systems.
const root = path.resolve(__dirname, '..');
const names = Object.keys(lib).filter((k) => k !== 'default').sort();

describe('package entry points', () => {
  it('dist is built (npm install runs tsc)', () => {
    expect(fs.existsSync(path.join(root, 'dist', 'lib', 'index.js'))).toBe(true);
  });

  it("require('simdcnn') exposes the public names", () => {
    const out = execFileSync(process.execPath, ['-e',
      `const m = require(${JSON.stringify(root)}); console.log(JSON.stringify(Object.keys(m).sort()));` +
      `const y = m.ops.relu(m.tensor([-1, 2], [2])); if (y.toArray()[1] !== 2) process.exit(3);`], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(names);
  });

  it("import from 'simdcnn' (ESM) exposes the same names and the same module instance", () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e',
      `import * as m from ${JSON.stringify(path.join(root, 'index.mjs'))};` +
      `import { createRequire } from 'module'; const cjs = createRequire(import.meta.url)(${JSON.stringify(root)});` +
      `if (m.Tensor !== cjs.Tensor) process.exit(4);` +
      `console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default').sort()));`], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(names);
  });

  it('types ship with the package', () => {
    expect(fs.existsSync(path.join(root, 'dist', 'lib', 'index.d.ts'))).toBe(true);
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(pkg.types).toBe('dist/lib/index.d.ts');
  });
});
