/**
 * Loading the native addon in fresh processes: SIMDCNN_ISA is read at load time, so each check
 * spawns its own `node -e` child with the package root as cwd (node-gyp-build finds
 * build/Release there).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

function runNode(code: string, env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['-e', code], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, signal: r.signal, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

const LOAD = `const a = require('node-gyp-build')(${JSON.stringify(ROOT)});`;

describe('native addon load with SIMDCNN_ISA', () => {
  it('SIMDCNN_ISA=bogus: a clear error naming SIMDCNN_ISA, non-zero exit, no crash signal', () => {
    const r = runNode(`${LOAD} console.log('LOADED', a.cpuInfo().isa);`, { SIMDCNN_ISA: 'bogus' });
    expect(r.signal, r.out).toBeNull();
    expect(r.status, r.out).not.toBe(0);
    expect(r.out).toContain('SIMDCNN_ISA');
    expect(r.out).toContain('bogus');
    expect(r.out).not.toContain('LOADED');
  });

  it('SIMDCNN_ISA=scalar loads and cpuInfo().isa is scalar (forced)', () => {
    const r = runNode(`${LOAD} const i = a.cpuInfo(); console.log(JSON.stringify(i));`, { SIMDCNN_ISA: 'scalar' });
    expect(r.signal, r.out).toBeNull();
    expect(r.status, r.out).toBe(0);
    const info = JSON.parse(r.out.trim().split('\n').pop()!);
    expect(info.isa).toBe('scalar');
    expect(info.forced).toBe(true);
  });

  it('without SIMDCNN_ISA it picks a real ISA, not forced', () => {
    const env: Record<string, string> = {};
    const r = spawnSync(process.execPath, ['-e', `${LOAD} console.log(JSON.stringify(a.cpuInfo()));`], {
      cwd: ROOT, env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'SIMDCNN_ISA')) as Record<string, string>,
      encoding: 'utf8', timeout: 60_000,
    });
    void env;
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    const info = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(['avx512', 'avx2', 'neon', 'scalar']).toContain(info.isa);
    expect(info.forced).toBe(false);
  });

  it('a forced ISA this CPU has loads as that ISA; one it lacks is a clear error', () => {
    const feats: string[] = JSON.parse(runNode(`${LOAD} console.log(JSON.stringify(a.cpuInfo().features));`, { SIMDCNN_ISA: 'scalar' }).out.trim().split('\n').pop()!);
    for (const isa of ['avx2', 'avx512', 'neon']) {
      const has = isa === 'avx2' ? feats.includes('avx2') && feats.includes('fma') : isa === 'avx512' ? feats.includes('avx512f') : feats.includes('asimd') || feats.includes('neon');
      const r = runNode(`${LOAD} console.log('ISA', a.cpuInfo().isa);`, { SIMDCNN_ISA: isa });
      expect(r.signal, r.out).toBeNull();
      if (has) {
        expect(r.status, r.out).toBe(0);
        expect(r.out).toContain(`ISA ${isa}`);
      } else {
        expect(r.status, r.out).not.toBe(0);
        expect(r.out).toContain('SIMDCNN_ISA');
      }
    }
  });
});
