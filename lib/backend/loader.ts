/**
 * Loads the native addon through node-gyp-build (prebuilds/ first, then build/Release). When
 * nothing loads, the error names the platform, arch, libc, Node-API version and the fix.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { NativeAddon } from './addon-types';

/** The package root: the nearest ancestor directory whose package.json is simdcnn's. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if (JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'simdcnn') return dir;
      } catch { /* keep walking */ }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`simdcnn: cannot find the package root above ${__dirname}`);
    dir = up;
  }
}

function libc(): string {
  if (process.platform !== 'linux') return 'n/a';
  const report = (process as unknown as { report?: { getReport(): { header?: { glibcVersionRuntime?: string } } } }).report;
  const glibc = report?.getReport().header?.glibcVersionRuntime;
  return glibc ? `glibc ${glibc}` : 'musl (or unknown)';
}

let cached: NativeAddon | null = null;

export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const root = packageRoot();
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const load = require('node-gyp-build') as (dir: string) => unknown;
    cached = load(root) as NativeAddon;
    return cached;
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    // A forced ISA the CPU lacks is a clear error of its own: pass it through unchanged.
    if (msg.startsWith('simdcnn: SIMDCNN_ISA')) throw e;
    throw new Error(
      `simdcnn: could not load the native addon for ${process.platform}-${process.arch} ` +
        `(${libc()}, Node ${process.versions.node}, Node-API ${process.versions.napi}).\n` +
        `  Looked in ${path.join(root, 'prebuilds')} and ${path.join(root, 'build', 'Release')}.\n` +
        `  Cause: ${msg}\n` +
        `  Fix: build it from source with \`npm rebuild simdcnn\` (or \`npx node-gyp rebuild\` in ${root});\n` +
        `  this needs python3, make and a C++17 compiler (Debian: apt-get install python3 make g++).\n` +
        `  Meanwhile setBackend('js') runs everything on the pure-TypeScript kernels.`,
    );
  }
}
