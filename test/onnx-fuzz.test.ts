// A short fuzz run in-process (bench/fuzz-onnx.ts runs thousands in watched children): mutants of
// the built-in seed models (LeNet-5, a conv net with batch norm, a Concat/Reshape/Gemm net), each
// loaded and, when it loads, run on small inputs. Every case must end: loaded, or refused with an
// Error that has a message; no other throw, no crash, no case slower than a few seconds.
import { describe, it, expect } from 'vitest';
import { builtinSeeds, makeCase, runCase, reasonKey } from '../bench/fuzz-onnx-cases';

describe('fuzzing loadOnnx (fixed seed)', () => {
  it('300 mutants: each loads or is refused with an Error saying why', () => {
    const seeds = builtinSeeds();
    const rssBefore = process.memoryUsage().rss;
    const kinds = { loaded: 0, rejected: 0, runRefused: 0 };
    const reasons = new Set<string>();
    let slowest = 0;
    for (let i = 0; i < 300; i++) {
      const c = makeCase(seeds, seeds.length, 20261207, i);
      const t0 = performance.now();
      const o = runCase(c.bytes);
      slowest = Math.max(slowest, performance.now() - t0);
      if (o.kind === 'bad-throw') expect.fail(`case ${i} (${c.seed}; ${c.mutations.join('; ')}): ${o.reason}`);
      if (o.kind === 'rejected') {
        kinds.rejected++;
        // Load errors name loadOnnx and give a reason after it.
        expect(o.reason).toMatch(/^(Type|Range)?Error: loadOnnx: \S/);
        reasons.add(reasonKey(o.reason));
      } else {
        kinds.loaded++;
        if (o.ran === 'error') {
          kinds.runRefused++;
          expect(o.reason).toMatch(/^(Type|Range)?Error: OnnxModel\.run: \S/);
        }
      }
    }
    // Both outcomes occur (the mutants are not all trivially broken, nor all harmless), with
    // many distinct reasons.
    expect(kinds.loaded).toBeGreaterThan(20);
    expect(kinds.rejected).toBeGreaterThan(100);
    expect(reasons.size).toBeGreaterThan(15);
    expect(slowest).toBeLessThan(5000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * 2 ** 20);
  });
});
