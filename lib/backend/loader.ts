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

/** The prebuilds this copy of the package ships, e.g. ['linux-arm64 (glibc)', 'linux-x64 (glibc)']. */
function shippedPrebuilds(root: string): string[] {
  const out: string[] = [];
  try {
    for (const target of fs.readdirSync(path.join(root, 'prebuilds')).sort()) {
      for (const file of fs.readdirSync(path.join(root, 'prebuilds', target)).sort()) {
        const tags = file.split('.').slice(1, -1);
        out.push(tags.length ? `${target} (${tags.join(', ')})` : target);
      }
    }
  } catch { /* no prebuilds/ directory */ }
  return out;
}

/** The Node-API version the addon is built for (package.json binary.napi_versions). */
function addonNapiVersion(root: string): string {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).binary?.napi_versions;
    return Array.isArray(v) && v.length ? String(Math.min(...v)) : '?';
  } catch {
    return '?';
  }
}

let cached: NativeAddon | null = null;

/**
 * The addon, loaded on first use (the first native op, cpuInfo(), setNumThreads()), not at
 * require: without it, `require('simdcnn')` still works and setBackend('js') runs everything on
 * the TypeScript kernels. A failed load throws every time the addon is needed.
 */
export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const root = packageRoot();
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const load = require('node-gyp-build') as (dir: string) => unknown;
    cached = load(root) as NativeAddon;
    return cached;
  } catch (e) {
    const msg = ((e as Error).message ?? String(e)).trim();
    // A forced ISA the CPU lacks is a clear error of its own: pass it through unchanged.
    if (msg.startsWith('simdcnn: SIMDCNN_ISA')) throw e;
    const shipped = shippedPrebuilds(root);
    const alpine = fs.existsSync('/etc/alpine-release');
    throw new Error(
      `simdcnn: could not load the native addon for ${process.platform}-${process.arch} ` +
        `(libc: ${libc()}, Node ${process.versions.node}, Node-API ${process.versions.napi}; the addon needs Node-API >= ${addonNapiVersion(root)}).\n` +
        `  Prebuilds in this package: ${shipped.length ? shipped.join(', ') : 'none'}; looked in ${path.join(root, 'prebuilds')} ` +
        `and ${path.join(root, 'build', 'Release')}.\n` +
        `  Cause: ${msg.replace(/\s*\n\s*/g, '\n    ')}\n` +
        `  Fix: build it from source with \`npm rebuild simdcnn\` (or \`npx node-gyp rebuild\` in ${root});\n` +
        `  this needs python3, make and a C++17 compiler (${alpine ? 'Alpine: apk add python3 make g++' : 'Debian/Ubuntu: apt-get install python3 make g++'}).\n` +
        `  Or, without the addon: call setBackend('js') before any op: everything then runs on the pure-TypeScript kernels (slower).`,
    );
  }
}
