/**
 * The addon's packed-weight direct convolution (conv2dPackedSize + conv2dPackWeights + conv2dPacked),
 * groups 1 and grouped, against the pure-TS reference conv2d, on every ISA (SIMDCNN_ISA set by
 * vitest.config.mts), plus its argument checks.
 *
 * Tolerance per element, as the native GEMM/conv tests (float32 accumulation over K terms):
 *   |got - ref| <= 1e-6 * |ref| + 4e-7 * sqrt(K + 2) * S + 1.2e-7 * |conv|,
 * S = sum_k |x_k * w_k| + |b| + |residual|; the last term covers the reference's own rounding of
 * conv(x, w) to float32 before the bias-free sum is compared.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadAddon } from '../../lib/backend/loader';
import type { NativeAddon, NativeBackwardAddon } from '../../lib/backend/addon-types';
import type { Conv2dGeom } from '../../lib/backend/types';
import { conv2d as refConv2d } from '../../lib/backend/js/conv2d';
import { firstBitDifference } from '../reference/check';
import { uniformF32 } from '../reference/data';

const addon = loadAddon() as NativeAddon & NativeBackwardAddon;
const threadsBefore = addon.getNumThreads();
afterAll(() => addon.setNumThreads(threadsBefore));

interface Case {
  name: string;
  N: number; C: number; H: number; W: number; outC: number;
  k: [number, number]; stride?: [number, number]; pad?: [number, number, number, number]; dil?: [number, number];
  groups?: number;
  bias: boolean; residual: boolean; relu: boolean;
}

function outSize(size: number, k: number, s: number, p0: number, p1: number, d: number): number {
  return Math.floor((size + p0 + p1 - d * (k - 1) - 1) / s) + 1;
}

function geomOf(c: Case): Conv2dGeom {
  const [strideH, strideW] = c.stride ?? [1, 1];
  const [padTop, padLeft, padBottom, padRight] = c.pad ?? [0, 0, 0, 0];
  const [dilationH, dilationW] = c.dil ?? [1, 1];
  const [kH, kW] = c.k;
  return {
    N: c.N, C: c.C, H: c.H, W: c.W, outC: c.outC, kH, kW, strideH, strideW, padTop, padLeft, padBottom, padRight,
    dilationH, dilationW, groups: c.groups ?? 1,
    OH: outSize(c.H, kH, strideH, padTop, padBottom, dilationH), OW: outSize(c.W, kW, strideW, padLeft, padRight, dilationW),
  };
}

function geomArray(g: Conv2dGeom): number[] {
  return [g.N, g.C, g.H, g.W, g.outC, g.kH, g.kW, g.strideH, g.strideW, g.padTop, g.padLeft, g.padBottom,
    g.padRight, g.dilationH, g.dilationW, g.groups];
}

interface Data {
  g: Conv2dGeom; geom: number[];
  x: Float32Array; w: Float32Array; packed: Float32Array; b: Float32Array | null; res: Float32Array | null;
}

function makeData(c: Case, seed: number): Data {
  const g = geomOf(c);
  const geom = geomArray(g);
  const x = uniformF32(g.N * g.C * g.H * g.W, seed);
  const w = uniformF32(g.outC * (g.C / g.groups) * g.kH * g.kW, seed + 1);
  const b = c.bias ? uniformF32(g.outC, seed + 2) : null;
  const res = c.residual ? uniformF32(g.N * g.outC * g.OH * g.OW, seed + 3) : null;
  const packed = new Float32Array(addon.conv2dPackedSize!(geom));
  addon.conv2dPackWeights!(w, packed, geom);
  return { g, geom, x, w, packed, b, res };
}

function runPacked(d: Data, relu: boolean): Float32Array {
  const out = new Float32Array(d.g.N * d.g.outC * d.g.OH * d.g.OW).fill(NaN);
  addon.conv2dPacked!(d.x, d.packed, d.b, d.res, out, d.geom, relu ? 1 : 0);
  return out;
}

/** Number of elements outside the tolerance (see the file comment); logs the first few. */
function countBad(d: Data, got: Float32Array, relu: boolean): number {
  const { g } = d;
  const conv = new Float32Array(got.length);
  refConv2d(d.x, d.w, null, g, conv, 'none');
  const absConv = new Float32Array(got.length);
  refConv2d(d.x.map(Math.abs), d.w.map(Math.abs), null, g, absConv, 'none');
  const K = (g.C / g.groups) * g.kH * g.kW;
  const OHW = g.OH * g.OW;
  let bad = 0;
  for (let o = 0; o < got.length; o++) {
    const oc = Math.floor(o / OHW) % g.outC;
    let ref = conv[o];
    let s = absConv[o];
    if (d.b) { ref += d.b[oc]; s += Math.abs(d.b[oc]); }
    if (d.res) { ref += d.res[o]; s += Math.abs(d.res[o]); }
    if (relu && ref < 0) ref = 0;
    const tol = 1e-6 * Math.abs(ref) + 4e-7 * Math.sqrt(K + 2) * s + 1.2e-7 * Math.abs(conv[o]);
    if (!(Math.abs(got[o] - ref) <= tol)) {
      if (bad < 3) console.error(`out[${o}] (channel ${oc}) = ${got[o]}, ref ${ref}, tol ${tol}`);
      bad++;
    }
  }
  return bad;
}

const CASES: Case[] = [
  { name: 'stem 7x7/2 p3, C3 -> 64', N: 1, C: 3, H: 32, W: 30, outC: 64, k: [7, 7], stride: [2, 2], pad: [3, 3, 3, 3], bias: true, residual: false, relu: true },
  { name: '3x3/2 p1, N2, C13 -> 70 (channel tail)', N: 2, C: 13, H: 15, W: 13, outC: 70, k: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], bias: true, residual: true, relu: true },
  { name: '3x3 p1, C16 -> 64, residual only', N: 1, C: 16, H: 14, W: 14, outC: 64, k: [3, 3], pad: [1, 1, 1, 1], bias: false, residual: true, relu: false },
  { name: '1x1/2, C7 -> 17', N: 1, C: 7, H: 9, W: 9, outC: 17, k: [1, 1], stride: [2, 2], bias: true, residual: false, relu: false },
  { name: '3x3 dilation 2 p2, C6 -> 33', N: 1, C: 6, H: 13, W: 13, outC: 33, k: [3, 3], pad: [2, 2, 2, 2], dil: [2, 2], bias: true, residual: true, relu: true },
  { name: '5x5 stride [1,2] pad [2,1,0,3], C3 -> 7', N: 1, C: 3, H: 17, W: 19, outC: 7, k: [5, 5], stride: [1, 2], pad: [2, 1, 0, 3], bias: true, residual: false, relu: true },
  { name: '1x3 pad [0,1,0,1], C5 -> 6', N: 1, C: 5, H: 7, W: 13, outC: 6, k: [1, 3], pad: [0, 1, 0, 1], bias: false, residual: false, relu: false },
  { name: 'K 576 (several K blocks), C64 -> 130', N: 1, C: 64, H: 9, W: 9, outC: 130, k: [3, 3], pad: [1, 1, 1, 1], bias: true, residual: true, relu: true },
  { name: 'stride 3, C4 -> 9, asymmetric pad', N: 1, C: 4, H: 20, W: 22, outC: 9, k: [3, 3], stride: [3, 3], pad: [1, 0, 2, 1], bias: true, residual: true, relu: false },
  // Grouped: RegNet (group width 16 and 8), ResNeXt (Cg = Mg = 4 .. 32), odd group widths, stride 2, dilation.
  { name: 'g3 Cg=Mg=16 3x3 p1 (RegNetX)', N: 1, C: 48, H: 14, W: 14, outC: 48, k: [3, 3], pad: [1, 1, 1, 1], groups: 3, bias: true, residual: true, relu: true },
  { name: 'g2 Cg=Mg=16 3x3/2 p1', N: 2, C: 32, H: 15, W: 15, outC: 32, k: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 2, bias: true, residual: false, relu: true },
  { name: 'g8 Cg=Mg=4 3x3 p1 (ResNeXt stage 1)', N: 1, C: 32, H: 12, W: 13, outC: 32, k: [3, 3], pad: [1, 1, 1, 1], groups: 8, bias: true, residual: true, relu: false },
  { name: 'g16 Cg=Mg=4 3x3/2 p1, N2', N: 2, C: 64, H: 11, W: 11, outC: 64, k: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 16, bias: false, residual: true, relu: true },
  { name: 'g3 Cg=Mg=8 dilation 2 p2 (RegNetY)', N: 1, C: 24, H: 13, W: 11, outC: 24, k: [3, 3], pad: [2, 2, 2, 2], dil: [2, 2], groups: 3, bias: true, residual: false, relu: false },
  { name: 'g2 Cg 3 -> Mg 37 (panels, tails)', N: 1, C: 6, H: 10, W: 9, outC: 74, k: [3, 3], pad: [1, 1, 1, 1], groups: 2, bias: true, residual: true, relu: true },
  { name: 'g3 Cg 33 -> Mg 2, stride [1,2], pad [0,1,2,0]', N: 1, C: 99, H: 8, W: 12, outC: 6, k: [3, 3], stride: [1, 2], pad: [0, 1, 2, 0], groups: 3, bias: true, residual: false, relu: true },
  { name: 'g4 Cg 1 -> Mg 3 (channel multiplier), 5x5 p2', N: 1, C: 4, H: 9, W: 8, outC: 12, k: [5, 5], pad: [2, 2, 2, 2], groups: 4, bias: false, residual: false, relu: false },
  { name: 'g32 Cg=Mg=32 3x3 p1 @7 (ResNeXt stage 4)', N: 1, C: 1024, H: 7, W: 7, outC: 1024, k: [3, 3], pad: [1, 1, 1, 1], groups: 32, bias: true, residual: true, relu: true },
];

describe('conv2dPacked vs the TS reference conv2d', () => {
  it.each(CASES.map((c, i) => [c.name, i, c] as const))('%s', (_name, i, c) => {
    const d = makeData(c, 300 + 10 * i);
    const out = runPacked(d, c.relu);
    expect(countBad(d, out, c.relu)).toBe(0);
  });

  it('1 and 2 threads give the same bits', () => {
    // The last two have one pixel block and one channel block at one thread; with two, the pixels
    // are split in two blocks (the padded one refills its input slab per block).
    for (const c of [
      { name: 't', N: 1, C: 32, H: 28, W: 28, outC: 96, k: [3, 3], pad: [1, 1, 1, 1], bias: true, residual: true, relu: true },
      { name: '1x1 480 -> 80 @ 14', N: 1, C: 480, H: 14, W: 14, outC: 80, k: [1, 1], bias: true, residual: true, relu: false },
      { name: '3x3 96 -> 64 @ 14 p1', N: 1, C: 96, H: 14, W: 14, outC: 64, k: [3, 3], pad: [1, 1, 1, 1], bias: true, residual: false, relu: true },
    ] as Case[]) {
      const d = makeData(c, 7);
      addon.setNumThreads(1);
      const one = runPacked(d, c.relu);
      addon.setNumThreads(2);
      const two = runPacked(d, c.relu);
      addon.setNumThreads(threadsBefore);
      expect(firstBitDifference(one, two), c.name).toBe(-1);
      expect(countBad(d, two, c.relu), c.name).toBe(0);
    }
  });

  it('grouped: 1 and 2 threads give the same bits, and clip is fused like ReLU', () => {
    const d = makeData({ name: 't', N: 2, C: 128, H: 14, W: 14, outC: 128, k: [3, 3], pad: [1, 1, 1, 1], groups: 8, bias: true, residual: true, relu: false }, 17);
    const run = (): Float32Array => {
      const out = new Float32Array(d.g.N * d.g.outC * d.g.OH * d.g.OW).fill(NaN);
      addon.conv2dPacked!(d.x, d.packed, d.b, d.res, out, d.geom, 5, 0, 0.75);  // Clip [0, 0.75]
      return out;
    };
    addon.setNumThreads(1);
    const one = run();
    addon.setNumThreads(2);
    const two = run();
    addon.setNumThreads(threadsBefore);
    expect(firstBitDifference(one, two)).toBe(-1);
    const unclamped = runPacked(d, false);
    let bad = 0;
    for (let i = 0; i < two.length; i++) if (two[i] !== Math.min(0.75, Math.max(0, unclamped[i]))) bad++;
    expect(bad).toBe(0);
    expect(countBad(d, unclamped, false)).toBe(0);
  });

  it('the packed size depends on the geometry only through outC and C*kH*kW', () => {
    const a = addon.conv2dPackedSize!([1, 8, 9, 9, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    const b = addon.conv2dPackedSize!([4, 8, 30, 17, 20, 3, 3, 2, 1, 0, 0, 0, 0, 2, 1, 1]);
    expect(a).toBe(b);
    expect(a).toBeGreaterThanOrEqual(20 * 8 * 9);
  });
});

describe('conv2dPacked argument checks', () => {
  const c: Case = { name: 'chk', N: 1, C: 4, H: 6, W: 6, outC: 8, k: [3, 3], pad: [1, 1, 1, 1], bias: true, residual: true, relu: false };
  const d = makeData(c, 900);
  const outLen = d.g.N * d.g.outC * d.g.OH * d.g.OW;
  const expectThrow = (f: () => unknown, cls: typeof RangeError | typeof TypeError, ...parts: string[]): void => {
    let err: unknown = null;
    try { f(); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(cls);
    for (const p of parts) expect((err as Error).message).toContain(p);
  };

  it('wrong packed length', () => {
    const short = d.packed.subarray(0, d.packed.length - 1);
    expectThrow(() => addon.conv2dPacked!(d.x, short, d.b, d.res, new Float32Array(outLen), d.geom, 0), RangeError,
      'conv2dPacked', 'packed', String(d.packed.length));
    expectThrow(() => addon.conv2dPackWeights!(d.w, new Float32Array(d.packed.length + 1), d.geom), RangeError,
      'conv2dPackWeights', 'packed');
  });

  it('groups that do not divide C and outC; weights packed for other groups', () => {
    const g3 = d.geom.slice();
    g3[15] = 3;
    expectThrow(() => addon.conv2dPackedSize!(g3), RangeError, 'conv2dPackedSize', 'groups');
    expectThrow(() => addon.conv2dPackWeights!(d.w, d.packed.slice(), g3), RangeError, 'conv2dPackWeights', 'groups');
    expectThrow(() => addon.conv2dPacked!(d.x, d.packed, d.b, d.res, new Float32Array(outLen), g3, 0), RangeError,
      'conv2dPacked', 'groups');
    // groups 2: w is [8, 2, 3, 3], half of the groups-1 weights.
    const g2 = d.geom.slice();
    g2[15] = 2;
    expectThrow(() => addon.conv2dPackWeights!(d.w, new Float32Array(addon.conv2dPackedSize!(g2)), g2), RangeError,
      'conv2dPackWeights', 'w');
    const packed2 = new Float32Array(addon.conv2dPackedSize!(g2));
    addon.conv2dPackWeights!(d.w.subarray(0, d.w.length / 2), packed2, g2);
    // Each layer's buffer is rejected for the other (by length or by header).
    expectThrow(() => addon.conv2dPacked!(d.x, d.packed, d.b, d.res, new Float32Array(outLen), g2, 0), RangeError,
      'conv2dPacked', 'packed');
    expectThrow(() => addon.conv2dPacked!(d.x, packed2, d.b, d.res, new Float32Array(outLen), d.geom, 0), RangeError,
      'conv2dPacked', 'packed');
  });

  it('out overlapping x, packed, b or residual', () => {
    const big = new Float32Array(d.x.length + outLen);
    big.set(d.x);
    const x = big.subarray(0, d.x.length);
    const out = big.subarray(d.x.length - 1, d.x.length - 1 + outLen);
    expectThrow(() => addon.conv2dPacked!(x, d.packed, d.b, d.res, out, d.geom, 0), RangeError, 'conv2dPacked', 'out', 'share memory');
    const res = new Float32Array(outLen);
    expectThrow(() => addon.conv2dPacked!(d.x, d.packed, d.b, res, res, d.geom, 0), RangeError, 'conv2dPacked', 'share memory');
  });

  it('packed not made by conv2dPackWeights for this geometry', () => {
    expectThrow(() => addon.conv2dPacked!(d.x, new Float32Array(d.packed.length), d.b, d.res, new Float32Array(outLen), d.geom, 0),
      RangeError, 'conv2dPacked', 'conv2dPackWeights');
    // Same packed size (outC, C*kH*kW equal), other kernel shape.
    const other = [1, 4, 6, 6, 8, 1, 9, 1, 1, 0, 4, 0, 4, 1, 1, 1];
    expect(addon.conv2dPackedSize!(other)).toBe(d.packed.length);
    expectThrow(() => addon.conv2dPacked!(d.x, d.packed, d.b, d.res, new Float32Array(outLen), other, 0), RangeError,
      'conv2dPacked', 'conv2dPackWeights');
  });

  it('wrong types, wrong x/out/b/residual lengths, bad act', () => {
    const out = new Float32Array(outLen);
    expectThrow(() => addon.conv2dPacked!(Array.from(d.x) as unknown as Float32Array, d.packed, d.b, d.res, out, d.geom, 0),
      TypeError, 'conv2dPacked', 'x');
    expectThrow(() => addon.conv2dPacked!(d.x.subarray(1), d.packed, d.b, d.res, out, d.geom, 0), RangeError, 'conv2dPacked', 'x');
    expectThrow(() => addon.conv2dPacked!(d.x, d.packed, d.b, d.res, out.subarray(1), d.geom, 0), RangeError, 'conv2dPacked', 'out');
    expectThrow(() => addon.conv2dPacked!(d.x, d.packed, new Float32Array(3), d.res, out, d.geom, 0), RangeError, 'conv2dPacked', 'b');
    expectThrow(() => addon.conv2dPacked!(d.x, d.packed, d.b, new Float32Array(3), out, d.geom, 0), RangeError, 'conv2dPacked', 'residual');
    expectThrow(() => addon.conv2dPacked!(d.x, d.packed, d.b, d.res, out, d.geom, 12), RangeError, 'conv2dPacked', 'act');
    expectThrow(() => addon.conv2dPacked!(d.x, d.packed, d.b, d.res, out, d.geom, 5, 6, 0), RangeError, 'conv2dPacked', 'clip');
    expectThrow(() => addon.conv2dPacked!(d.x, d.packed, d.b, d.res, out, d.geom, 2, NaN), RangeError, 'conv2dPacked', 'alpha');
    expectThrow(() => addon.conv2dPackedSize!([1, 2, 3]), RangeError, 'conv2dPackedSize', 'geom');
  });

  it('the process lives on: a valid call still works', () => {
    const out = runPacked(d, false);
    expect(countBad(d, out, false)).toBe(0);
  });
});
