/**
 * The addon's conv2dPointwise (a 1x1 stride-1 unpadded convolution + residual through the GEMM,
 * the planner's choice for a bottleneck's last layer on maps of 28x28 and more) against the pure-TS
 * reference conv2d, on every ISA (SIMDCNN_ISA set by vitest.config.mts), plus its argument checks.
 * Tolerance per element as conv-packed.test.ts (float32 accumulation over K terms):
 *   |got - ref| <= 1e-6 * |ref| + 4e-7 * sqrt(K + 2) * S,  S = sum_k |x_k * w_k| + |b| + |residual|.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadAddon } from '../../lib/backend/loader';
import type { NativeAddon } from '../../lib/backend/addon-types';
import { conv2d as refConv2d } from '../../lib/backend/js/conv2d';
import type { Conv2dGeom } from '../../lib/backend/types';
import { firstBitDifference } from '../reference/check';
import { uniformF32 } from '../reference/data';

const addon = loadAddon() as NativeAddon;
const threadsBefore = addon.getNumThreads();
afterAll(() => addon.setNumThreads(threadsBefore));

interface Case { name: string; N: number; C: number; outC: number; H: number; W: number; groups?: number; bias: boolean; act: number; alpha?: number; beta?: number }

// act codes: 0 none, 1 relu, 3 sigmoid (a pass over the finished output), 5 clip (the GEMM's clamp).
const CASES: Case[] = [
  { name: 'C64 -> 256 @ 9x7, ReLU (weights read in place)', N: 1, C: 64, outC: 256, H: 9, W: 7, bias: true, act: 1 },
  { name: 'C5 -> 13 @ 6x6 (weights packed: 13 rows)', N: 1, C: 5, outC: 13, H: 6, W: 6, bias: true, act: 0 },
  { name: 'C300 -> 40 @ 5x11, N2 (several K blocks)', N: 2, C: 300, outC: 40, H: 5, W: 11, bias: false, act: 1 },
  { name: 'C24 -> 48, groups 2, sigmoid after the sum', N: 2, C: 24, outC: 48, H: 7, W: 9, groups: 2, bias: true, act: 3 },
  { name: 'C16 -> 32 @ 28x28, clip [-0.5, 0.75]', N: 1, C: 16, outC: 32, H: 28, W: 28, bias: true, act: 5, alpha: -0.5, beta: 0.75 },
];

function geomOf(c: Case): { g: Conv2dGeom; geom: number[] } {
  const g: Conv2dGeom = {
    N: c.N, C: c.C, H: c.H, W: c.W, outC: c.outC, kH: 1, kW: 1, strideH: 1, strideW: 1, padTop: 0, padLeft: 0,
    padBottom: 0, padRight: 0, dilationH: 1, dilationW: 1, groups: c.groups ?? 1, OH: c.H, OW: c.W,
  };
  return { g, geom: [g.N, g.C, g.H, g.W, g.outC, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, g.groups] };
}

function makeData(c: Case, seed: number) {
  const { g, geom } = geomOf(c);
  const x = uniformF32(g.N * g.C * g.H * g.W, seed);
  const w = uniformF32(g.outC * (g.C / g.groups), seed + 1);
  const b = c.bias ? uniformF32(g.outC, seed + 2) : null;
  const res = uniformF32(g.N * g.outC * g.H * g.W, seed + 3);
  return { g, geom, x, w, b, res };
}

const actOf = (v: number, c: Case): number => {
  if (c.act === 1) return v < 0 ? 0 : v;
  if (c.act === 3) return 1 / (1 + Math.exp(-v));
  if (c.act === 5) return Math.min(c.beta!, Math.max(c.alpha!, v));
  return v;
};

/** Elements outside the tolerance (see the file comment), the first few logged. */
function countBad(c: Case, d: ReturnType<typeof makeData>, got: Float32Array): number {
  const conv = new Float32Array(got.length), absConv = new Float32Array(got.length);
  refConv2d(d.x, d.w, null, d.g, conv, 'none');
  refConv2d(d.x.map(Math.abs), d.w.map(Math.abs), null, d.g, absConv, 'none');
  const K = d.g.C / d.g.groups, HW = d.g.H * d.g.W;
  let bad = 0;
  for (let o = 0; o < got.length; o++) {
    const oc = Math.floor(o / HW) % d.g.outC;
    const pre = conv[o] + (d.b ? d.b[oc] : 0) + d.res[o];
    const s = absConv[o] + (d.b ? Math.abs(d.b[oc]) : 0) + Math.abs(d.res[o]);
    const ref = actOf(pre, c);
    // The activation's slope is at most 1 for all three: the sum's error bounds the output's.
    const tol = 1e-6 * Math.abs(ref) + 4e-7 * Math.sqrt(K + 2) * s;
    if (!(Math.abs(got[o] - ref) <= tol)) {
      if (bad < 3) console.error(`out[${o}] (channel ${oc}) = ${got[o]}, ref ${ref}, tol ${tol}`);
      bad++;
    }
  }
  return bad;
}

const run = (c: Case, d: ReturnType<typeof makeData>, res: Float32Array | null, out: Float32Array): Float32Array => {
  addon.conv2dPointwise!(d.x, d.w, d.b, res, out, d.geom, c.act, c.alpha ?? 0, c.beta ?? 0);
  return out;
};

describe('conv2dPointwise vs the TS reference conv2d + residual', () => {
  it.each(CASES.map((c, i) => [c.name, i, c] as const))('%s', (_name, i, c) => {
    const d = makeData(c, 700 + 10 * i);
    const resBefore = d.res.slice();
    const out = run(c, d, d.res, new Float32Array(d.res.length).fill(NaN));
    expect(countBad(c, d, out)).toBe(0);
    expect(firstBitDifference(d.res, resBefore), 'a distinct residual is only read').toBe(-1);
    // In place (out is the residual itself): the same bits as into a separate buffer.
    const inPlace = d.res.slice();
    run(c, d, inPlace, inPlace);
    expect(firstBitDifference(inPlace, out)).toBe(-1);
    // 1 and 2 threads: the same bits.
    addon.setNumThreads(2);
    const two = run(c, d, d.res, new Float32Array(d.res.length));
    addon.setNumThreads(threadsBefore);
    expect(firstBitDifference(two, out)).toBe(-1);
  });

  it('without a residual it is conv2d, bit for bit', () => {
    const c = CASES[0];
    const d = makeData(c, 790);
    const want = new Float32Array(d.res.length);
    addon.conv2d(d.x, d.w, d.b, want, d.geom, c.act);
    expect(firstBitDifference(run(c, d, null, new Float32Array(d.res.length)), want)).toBe(-1);
  });
});

describe('conv2dPointwise argument checks', () => {
  const c = CASES[1];
  const d = makeData(c, 800);
  const n = d.res.length;
  const expectThrow = (f: () => void, type: ErrorConstructor, ...words: string[]) => {
    let err: unknown;
    try { f(); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(type);
    for (const wd of words) expect((err as Error).message).toContain(wd);
  };
  it('a geometry that is not 1x1 at stride 1 without padding', () => {
    const g3 = [1, 5, 6, 6, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    expectThrow(() => addon.conv2dPointwise!(d.x, new Float32Array(13 * 5 * 9), d.b, d.res, new Float32Array(n), g3, 0),
      RangeError, 'conv2dPointwise', 'geometry', 'kernel [3,3]');
    const s2 = [1, 5, 6, 6, 13, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1];
    expectThrow(() => addon.conv2dPointwise!(d.x, d.w, d.b, new Float32Array(13 * 9), new Float32Array(13 * 9), s2, 0),
      RangeError, 'conv2dPointwise', 'stride [2,2]');
    const p1 = [1, 5, 6, 6, 13, 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1];
    expectThrow(() => addon.conv2dPointwise!(d.x, d.w, d.b, new Float32Array(13 * 42), new Float32Array(13 * 42), p1, 0),
      RangeError, 'conv2dPointwise', 'padding [0,1,0,0]');
  });
  it('a residual that overlaps out shifted, out overlapping x, wrong lengths, bad act', () => {
    const big = new Float32Array(n + 1);
    expectThrow(() => addon.conv2dPointwise!(d.x, d.w, d.b, big.subarray(1), big.subarray(0, n), d.geom, 0),
      RangeError, 'conv2dPointwise', 'residual');
    const xo = new Float32Array(d.x.length + n);
    xo.set(d.x);
    expectThrow(() => addon.conv2dPointwise!(xo.subarray(0, d.x.length), d.w, d.b, d.res, xo.subarray(d.x.length - 1, d.x.length - 1 + n), d.geom, 0),
      RangeError, 'conv2dPointwise', 'share memory');
    expectThrow(() => addon.conv2dPointwise!(d.x, d.w, d.b, new Float32Array(3), new Float32Array(n), d.geom, 0), RangeError, 'conv2dPointwise', 'residual');
    expectThrow(() => addon.conv2dPointwise!(d.x, d.w.subarray(1), d.b, d.res, new Float32Array(n), d.geom, 0), RangeError, 'conv2dPointwise', 'w');
    expectThrow(() => addon.conv2dPointwise!(d.x, d.w, d.b, d.res, new Float32Array(n), d.geom, 12), RangeError, 'conv2dPointwise', 'act');
    expectThrow(() => addon.conv2dPointwise!(Array.from(d.x) as unknown as Float32Array, d.w, d.b, d.res, new Float32Array(n), d.geom, 0),
      TypeError, 'conv2dPointwise', 'x');
  });
  it('the process lives on: a valid call still works', () => {
    expect(countBad(c, d, run(c, d, d.res, new Float32Array(n)))).toBe(0);
  });
});
