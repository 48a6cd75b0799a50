/**
 * The graph compiler's forward-only activations (clip, silu, hardSigmoid, hardSwish, sqrt, erf) as backend
 * unary kinds, native (this ISA) and JS, against float64 references; and the addon's checks of
 * their parameters. Runs once per ISA.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { setBackend } from '../../lib/index';
import { backend, getAddon } from '../../lib/backend/index';
import type { InferenceUnaryKind } from '../../lib/backend/types';
import { uniformF32 } from '../reference/data';
import { erfScalar, geluScalar } from '../../lib/backend/js/activation';

afterAll(() => setBackend('native'));

const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);
const CASES: { kind: InferenceUnaryKind; alpha: number; beta: number; ref: (v: number) => number; tol: number }[] = [
  { kind: 'clip', alpha: 0, beta: 6, ref: (v) => clamp(v, 0, 6), tol: 0 },
  { kind: 'clip', alpha: -Infinity, beta: 1.5, ref: (v) => Math.min(v, 1.5), tol: 0 },
  { kind: 'silu', alpha: 0, beta: 0, ref: (v) => v / (1 + Math.exp(-v)), tol: 8e-7 },
  { kind: 'hardSigmoid', alpha: 0.2, beta: 0.5, ref: (v) => clamp(Math.fround(0.2) * v + 0.5, 0, 1), tol: 3e-7 },
  { kind: 'hardSwish', alpha: 0, beta: 0, ref: (v) => v * clamp(v / 6 + 0.5, 0, 1), tol: 3e-7 },
  { kind: 'sqrt', alpha: 0, beta: 0, ref: (v) => Math.sqrt(v), tol: 6e-8 },
  { kind: 'erf', alpha: 0, beta: 0, ref: (v) => erfScalar(v), tol: 2.5e-7 },
  // Relative in the negative tail too (x/2 * erfc(|x| / sqrt 2), not 1 + erf's cancellation).
  { kind: 'gelu', alpha: 0, beta: 0, ref: (v) => geluScalar(v), tol: 4e-7 },
];

// Python's math.erf at points across both branches of the native erf (|x| = 1 is the switch).
const ERF_TABLE: [number, number][] = [
  [-5, -0.99999999999846256], [-3.2, -0.99999397423884828], [-1.7, -0.98379045859077452], [-1, -0.84270079294971489],
  [-0.999, -0.84228527020649691], [-0.3, -0.32862675945912739], [-0.001, -0.0011283787909692365], [1e-07, 1.1283791670955088e-07],
  [0.0001, 0.00011283791633342487], [0.01, 0.011283415555849616], [0.25, 0.2763263901682369], [0.5, 0.52049987781304652],
  [0.99, 0.83850806955536983], [1.0, 0.84270079294971489], [1.01, 0.84681049622827675], [1.5, 0.96610514647531076],
  [2, 0.99532226501895271], [2.75, 0.99989937807788032], [3.5, 0.99999925690162761], [4.5, 0.99999999980338394],
];

describe('inference-only unary kinds', () => {
  for (const be of ['native', 'js'] as const) {
    for (const c of CASES) {
      it(`${be} ${c.kind}(${c.alpha}, ${c.beta}) matches the float64 reference, NaN propagates`, () => {
        setBackend(be);
        // 1031: SIMD tails on every ISA; edges at the kinks of each function.
        const x = uniformF32(1031, 7, -12, 12);
        // -87.5 .. -104 and 88.5 .. 104: exp's argument where it turns subnormal, overflows and clamps.
        [0, -0, 3, -3, 6, -6, 2.5, -2.5, 90, -90, NaN, Infinity, -Infinity, -87.5, -88.7, -88.8, -103.9, -104.5, 88.5,
          88.8, 103.9, 104.5, 1e30, -1e30].forEach((v, i) => { x[i] = v; });
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

  it('erf: the float64 reference against Python\'s math.erf; native and JS relative to it, small |x| included', () => {
    // The float64 series and continued fraction hold ~13 digits: far below float32's 6e-8.
    for (const [x, r] of ERF_TABLE) expect(Math.abs(erfScalar(x) - r)).toBeLessThanOrEqual(1e-13 * Math.abs(r));
    for (const be of ['native', 'js'] as const) {
      setBackend(be);
      const x = Float32Array.from(ERF_TABLE.map(([v]) => v));
      const y = new Float32Array(x.length);
      backend().unary('erf', x, 0, y);
      ERF_TABLE.forEach(([, r], i) => expect(Math.abs(y[i] - r), `${be} erf(${x[i]})`).toBeLessThanOrEqual(2.5e-7 * Math.abs(r)));
      // Relative accuracy down to tiny arguments (where an absolute bound would hide a bad series).
      const tiny = Float32Array.from({ length: 200 }, (_, i) => (i % 2 ? -1 : 1) * 10 ** (-8 + i * 0.05));
      const yt = new Float32Array(tiny.length);
      backend().unary('erf', tiny, 0, yt);
      tiny.forEach((v, i) => expect(Math.abs(yt[i] - erfScalar(v)), `${be} erf(${v})`).toBeLessThanOrEqual(2.5e-7 * Math.abs(erfScalar(v))));
    }
  });

  it('gelu keeps its relative accuracy in the negative tail (no 1 + erf cancellation), native and JS', () => {
    // float64 reference: x/2 * erfc(|x| / sqrt 2) with erfc from its continued fraction (geluScalar).
    // The bound, 8e-6 relative down to -9 (5.1e-6 measured at -8.5), is float32's rounding of
    // erfc's exponent -x^2/2 (about 40 at -9, so 40 * 6e-8 absolute, which exp turns relative);
    // the ONNX decomposition x * (1 + erf(x / sqrt 2)) * 0.5 in float32 loses every digit there.
    // JS computes in float64: only the float32 output's rounding.
    const x = Float32Array.from({ length: 120 }, (_, i) => -3 - i * 0.05);  // -3 .. -8.95
    for (const be of ['native', 'js'] as const) {
      setBackend(be);
      const y = new Float32Array(x.length);
      backend().unary('gelu', x, 0, y);
      x.forEach((v, i) => {
        const r = geluScalar(v);
        expect(r).toBeLessThan(0);
        expect(Math.abs(y[i] - r), `${be} gelu(${v}) = ${y[i]} vs ${r}`).toBeLessThanOrEqual((be === 'js' ? 6e-8 : 8e-6) * Math.abs(r));
      });
    }
    // The float64 reference itself: gelu(-5) = -5/2 * erfc(5 / sqrt 2) = -1.4332578593959731e-6 (Python math.erfc).
    expect(Math.abs(geluScalar(-5) - -1.4332578593959731e-6)).toBeLessThanOrEqual(1e-18);
  });

  it('the addon rejects unknown kinds and bad parameters with RangeErrors naming them', () => {
    const a = getAddon() as unknown as { unary(x: Float32Array, o: Float32Array, k: number, al: number, be?: number): void };
    const x = new Float32Array(4), o = new Float32Array(4);
    expect(() => a.unary(x, o, 11, 0, 0)).toThrow(/unary: kind/);
    expect(() => a.unary(x, o, 4, NaN, 1)).toThrow(/unary: alpha must be a non-NaN float32/);
    expect(() => a.unary(x, o, 4, 2, 1)).toThrow(/clip's min 2 exceeds its max 1/);
    expect(() => a.unary(x, o, 6, Infinity, 0.5)).toThrow(/unary: alpha must be finite/);
    expect(() => a.unary(x, o, 6, 0.2, 1e39)).toThrow(/unary: beta must be a finite float32/);
    expect(() => a.unary(x, o, 4, 0, 'x' as unknown as number)).toThrow(TypeError);
  });
});
