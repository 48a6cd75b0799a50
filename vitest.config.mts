import { defineConfig } from 'vitest/config';
import { readFileSync } from 'node:fs';

// Op-level kernel tests run once per ISA this CPU has (SIMDCNN_ISA is read when the addon loads,
// and each forked worker loads its own copy); the rest of the suite runs on the default ISA.
function cpuFlags(): Set<string> {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags') || l.startsWith('Features'));
    return new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}
const flags = cpuFlags();
const isas = ['scalar'];
if (flags.has('avx2') && flags.has('fma')) isas.push('avx2');
if (flags.has('avx512f')) isas.push('avx512');
if (flags.has('asimd')) isas.push('neon');

const perIsa = ['test/kernels/**/*.test.ts'];
// Checks against PyTorch-generated fixtures: `npm run test:torch` only.
const torch = ['test/torch/**/*.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: { name: 'default', include: ['test/**/*.test.ts'], exclude: [...perIsa, ...torch, '**/node_modules/**'] },
      },
      {
        extends: true,
        test: { name: 'torch', include: torch },
      },
      ...isas.map((isa) => ({
        extends: true,
        test: { name: `isa-${isa}`, include: perIsa, env: { SIMDCNN_ISA: isa } },
      })),
    ],
  },
});
