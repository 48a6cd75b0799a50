/**
 * The graph compiler's forward-only activations (clip, silu, hardSigmoid, hardSwish) as backend
 * unary kinds, native (this ISA) and JS, against float64 references; and the addon's checks of
 * their parameters. Runs once per ISA.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { setBackend } from '../../lib/index';
import { backend, getAddon } from '../../lib/backend/index';
import type { InferenceUnaryKind } from '../../lib/backend/types';
import { uniformF32 } from '../reference/data';

afterAll(() => setBackend('native'));

const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);
const CASES: { kind: InferenceUnaryKind; alpha: number; beta: number; ref: (v: number) => number; tol: number }[] = [
  { kind: 'clip', alpha: 0, beta: 6, ref: (v) => clamp(v, 0, 6), tol: 0 },
  { kind: 'clip', alpha: -Infinity, beta: 1.5, ref: (v) => Math.min(v, 1.5), tol: 0 },
  { kind: 'silu', alpha: 0, beta: 0, ref: (v) => v / (1 + Math.exp(-v)), tol: 8e-7 },
  { kind: 'hardSigmoid', alpha: 0.2, beta: 0.5, ref: (v) => clamp(Math.fround(0.2) * v + 0.5, 0, 1), tol: 3e-7 },
  { kind: 'hardSwish', alpha: 0, beta: 0, ref: (v) => v * clamp(v / 6 + 0.5, 0, 1), tol: 3e-7 },
];

describe('inference-only unary kinds', () => {
  for (const be of ['native', 'js'] as const) {
    for (const c of CASES) {
      it(`${be} ${c.kind}(${c.alpha}, ${c.beta}) matches the float64 reference, NaN propagates`, () => {
        setBackend(be);
        // 1031: SIMD tails on every ISA; edges at the kinks of each function.
        const x = uniformF32(1031, 7, -12, 12);
        [0, -0, 3, -3, 6, -6, 2.5, -2.5, 90, -90, NaN, Infinity, -Infinity].forEach((v, i) => { x[i] = v; });
        const y = new Float32Array(x.length);
        backend().unary(c.kind, x, c.alpha, y, c.beta);
        for (let i = 0; i < x.length; i++) {
          const r = c.ref(x[i]);
          if (Number.isNaN(r)) { expect(y[i], `x=${x[i]}`).toBeNaN(); continue; }
          if (!Number.isFinite(r)) { expect(y[i], `x=${x[i]}`).toBe(r); continue; }
          expect(Math.abs(y[i] - r), `x=${x[i]}: ${y[i]} vs ${r}`).toBeLessThanOrEqual(c.tol * Math.max(1, Math.abs(r)));
        }
        // In place gives the same bits.
        const z = x.slice();
        backend().unary(c.kind, z, c.alpha, z, c.beta);
        expect(Buffer.from(z.buffer).equals(Buffer.from(y.buffer))).toBe(true);
      });
    }
  }

  it('the addon rejects unknown kinds and bad parameters with RangeErrors naming them', () => {
    const a = getAddon() as unknown as { unary(x: Float32Array, o: Float32Array, k: number, al: number, be?: number): void };
    const x = new Float32Array(4), o = new Float32Array(4);
    expect(() => a.unary(x, o, 8, 0, 0)).toThrow(/unary: kind/);
    expect(() => a.unary(x, o, 4, NaN, 1)).toThrow(/unary: alpha must be a non-NaN float32/);
    expect(() => a.unary(x, o, 4, 2, 1)).toThrow(/clip's min 2 exceeds its max 1/);
    expect(() => a.unary(x, o, 6, Infinity, 0.5)).toThrow(/unary: alpha must be finite/);
    expect(() => a.unary(x, o, 6, 0.2, 1e39)).toThrow(/unary: beta must be a finite float32/);
    expect(() => a.unary(x, o, 4, 0, 'x' as unknown as number)).toThrow(TypeError);
  });
});
