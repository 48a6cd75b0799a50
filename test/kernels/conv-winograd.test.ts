/**
 * The addon's Winograd F(4x4,3x3) and F(2x2,3x3) paths (winogradWeights + conv2dWinograd) against the
 * pure-TS reference conv2d, on every ISA (SIMDCNN_ISA set by vitest.config.mts), plus its argument
 * checks.
 *
 * Tolerance: a Winograd output inherits the rounding of its whole tile (all outputs of a 4x4 or 2x2
 * tile come out of one transformed patch), so each element is held to
 *   |got - ref| <= 1e-5 * (S_tile + |b| + |residual|),  S_tile = max over the tile of sum |x * w|,
 * about 10x the largest error measured natively (test_winograd.cc), and far below the error of any
 * wrong coefficient, padding or tile offset.
 */
import { describe, expect, it } from 'vitest';
import { loadAddon } from '../../lib/backend/loader';
import type { NativeAddon, NativeBackwardAddon } from '../../lib/backend/addon-types';
import type { Conv2dGeom } from '../../lib/backend/types';
import { conv2d as refConv2d } from '../../lib/backend/js/conv2d';
import { uniformF32 } from '../reference/data';

const addon = loadAddon() as NativeAddon & NativeBackwardAddon;

interface Case {
  N: number; C: number; outC: number; H: number; W: number;
  pad: [number, number, number, number];  // top, left, bottom, right
  bias: boolean; residual: boolean; relu: boolean;
  /** Output tile size of the transformed weights (default: the layer's own choice). */
  m?: 2 | 4;
}

function geomOf(c: Case): Conv2dGeom {
  const [padTop, padLeft, padBottom, padRight] = c.pad;
  return {
    N: c.N, C: c.C, H: c.H, W: c.W, outC: c.outC, kH: 3, kW: 3, strideH: 1, strideW: 1,
    padTop, padLeft, padBottom, padRight, dilationH: 1, dilationW: 1, groups: 1,
    OH: c.H + padTop + padBottom - 2, OW: c.W + padLeft + padRight - 2,
  };
}

function geomArray(g: Conv2dGeom): number[] {
  return [g.N, g.C, g.H, g.W, g.outC, g.kH, g.kW, g.strideH, g.strideW, g.padTop, g.padLeft, g.padBottom,
    g.padRight, g.dilationH, g.dilationW, g.groups];
}

interface Data {
  g: Conv2dGeom; geom: number[];
  x: Float32Array; w: Float32Array; u: Float32Array; b: Float32Array | null; res: Float32Array | null;
}

function makeData(c: Case, seed: number): Data {
  const g = geomOf(c);
  const geom = geomArray(g);
  const x = uniformF32(c.N * c.C * c.H * c.W, seed);
  const w = uniformF32(c.outC * c.C * 9, seed + 1);
  const b = c.bias ? uniformF32(c.outC, seed + 2) : null;
  const res = c.residual ? uniformF32(c.N * c.outC * g.OH * g.OW, seed + 3) : null;
  const u = new Float32Array(addon.winogradWeightsSize!(geom, c.m ?? 0));
  addon.winogradWeights!(w, u, geom, c.m ?? 0);
  return { g, geom, x, w, u, b, res };
}

function runWinograd(d: Data, relu: boolean): Float32Array {
  const out = new Float32Array(d.g.N * d.g.outC * d.g.OH * d.g.OW).fill(NaN);
  addon.conv2dWinograd!(d.x, d.u, d.b, d.res, out, d.geom, relu ? 1 : 0);
  return out;
}

/** Number of elements outside the tolerance (see the file comment); logs the first few. */
function countBad(d: Data, got: Float32Array, relu: boolean): number {
  const { g } = d;
  const conv = new Float32Array(got.length);
  refConv2d(d.x, d.w, null, g, conv, 'none');
  const absConv = new Float32Array(got.length);
  refConv2d(d.x.map(Math.abs), d.w.map(Math.abs), null, g, absConv, 'none');
  const TW = Math.ceil(g.OW / 4), TH = Math.ceil(g.OH / 4);
  let bad = 0;
  for (let n = 0; n < g.N; n++) {
    for (let oc = 0; oc < g.outC; oc++) {
      const base = (n * g.outC + oc) * g.OH * g.OW;
      const tileS = new Float64Array(TH * TW);
      for (let oh = 0; oh < g.OH; oh++) {
        for (let ow = 0; ow < g.OW; ow++) {
          const t = Math.floor(oh / 4) * TW + Math.floor(ow / 4);
          tileS[t] = Math.max(tileS[t], absConv[base + oh * g.OW + ow]);
        }
      }
      for (let oh = 0; oh < g.OH; oh++) {
        for (let ow = 0; ow < g.OW; ow++) {
          const o = base + oh * g.OW + ow;
          let ref = conv[o];
          let s = tileS[Math.floor(oh / 4) * TW + Math.floor(ow / 4)];
          if (d.b) { ref += d.b[oc]; s += Math.abs(d.b[oc]); }
          if (d.res) { ref += d.res[o]; s += Math.abs(d.res[o]); }
          if (relu && ref < 0) ref = 0;
          // The reference conv is itself rounded to float32 once: allow that too.
          const tol = 1e-5 * s + 1.2e-7 * Math.abs(conv[o]);
          if (!(Math.abs(got[o] - ref) <= tol)) {
            if (bad < 3) console.error(`out[${n},${oc},${oh},${ow}] = ${got[o]}, ref ${ref}, tol ${tol}`);
            bad++;
          }
        }
      }
    }
  }
  return bad;
}

const BASE_CASES: Case[] = [
  { N: 1, C: 16, outC: 24, H: 28, W: 28, pad: [1, 1, 1, 1], bias: true, residual: false, relu: true },
  { N: 2, C: 5, outC: 7, H: 9, W: 11, pad: [0, 2, 1, 0], bias: false, residual: true, relu: true },
  { N: 1, C: 3, outC: 4, H: 2, W: 2, pad: [1, 1, 1, 1], bias: true, residual: true, relu: false },
  { N: 1, C: 64, outC: 64, H: 14, W: 14, pad: [1, 1, 1, 1], bias: true, residual: true, relu: true },
  { N: 1, C: 17, outC: 9, H: 13, W: 30, pad: [0, 0, 0, 0], bias: true, residual: false, relu: false },
  { N: 1, C: 2, outC: 3, H: 5, W: 5, pad: [4, 3, 2, 4], bias: false, residual: false, relu: false },
];
// Every case with both tile sizes.
const CASES: Case[] = BASE_CASES.flatMap((c) => [{ ...c, m: 4 as const }, { ...c, m: 2 as const }]);

describe('conv2dWinograd vs the TS reference conv2d', () => {
  it.each(CASES.map((c, i) => [i, c] as const))('case %i', (i, c) => {
    const d = makeData(c, 100 + 10 * i);
    const out = runWinograd(d, c.relu);
    expect(countBad(d, out, c.relu)).toBe(0);
  });

  it('the checker itself rejects one element off by 0.01 (a small fraction of one x*w term)', () => {
    const d = makeData(BASE_CASES[3], 130);
    const out = runWinograd(d, true);
    const k = out.findIndex((v) => v > 1);
    out[k] += 0.01;
    expect(countBad(d, out, true)).toBe(1);
  });

  it('u = G w G^T for a single tap (element a*i+j of u, after the 16-float header, one channel)', () => {
    // One input and one output channel: each element's panel is one row of VS floats, channel 0
    // first, so element e sits at 16 + e * (length - 16) / (a*a).
    const geom = [1, 1, 3, 3, 1, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1];
    const w = new Float32Array(9);
    w[4] = 1;  // tap (1, 1): G[:,1] G[:,1]^T
    for (const [m, g1] of [[4, [0, 1 / 3, 1 / 3, -8 / 15, -2 / 15, 0]], [2, [0, 0.5, -0.5, 0]]] as const) {
      const a = m + 2;
      const u = new Float32Array(addon.winogradWeightsSize!(geom, m));
      addon.winogradWeights!(w, u, geom, m);
      const per = (u.length - 16) / (a * a);
      for (let i = 0; i < a; i++) {
        for (let j = 0; j < a; j++) {
          expect(u[16 + (a * i + j) * per]).toBeCloseTo(g1[i] * g1[j], 7);
          for (let q = 1; q < per; q++) expect(u[16 + (a * i + j) * per + q]).toBe(0);  // the panel's zero padding
        }
      }
    }
  });

  it('weights made for one layer are rejected by another (the header), and F(2x2) weights run as F(2x2)', () => {
    const c: Case = { N: 1, C: 8, outC: 16, H: 30, W: 30, pad: [1, 1, 1, 1], bias: true, residual: false, relu: false, m: 2 };
    const d = makeData(c, 77);
    expect(addon.winogradTileSize!(d.geom)).toBe(4);
    expect(countBad(d, runWinograd(d, false), false)).toBe(0);
    const other = d.geom.map((v, i) => (i === 4 ? 15 : v));  // outC 15
    const out = new Float32Array(15 * 30 * 30);
    expect(() => addon.conv2dWinograd!(d.x, d.u, null, null, out, other, 0)).toThrow(RangeError);
    const garbage = d.u.slice();
    garbage[0] = 0;
    expect(() => addon.conv2dWinograd!(d.x, garbage, null, null, new Float32Array(16 * 900), d.geom, 0))
      .toThrow(/conv2dWinograd: u does not hold weights made by winogradWeights/);
    expect(() => addon.winogradWeightsSize!(d.geom, 3)).toThrow(/winogradWeightsSize: m must be 0, 2 or 4/);
  });

  it('the epilogue: residual is added before the ReLU', () => {
    const c: Case = { N: 1, C: 4, outC: 5, H: 8, W: 8, pad: [1, 1, 1, 1], bias: true, residual: true, relu: true };
    const d = makeData(c, 7);
    const withRelu = runWinograd(d, true);
    const noRelu = runWinograd(d, false);
    for (let i = 0; i < withRelu.length; i++) expect(withRelu[i]).toBe(Math.max(0, noRelu[i]));
    expect(countBad(d, withRelu, true)).toBe(0);
    // A large negative residual switches outputs off only through the ReLU.
    d.res!.fill(-1e6);
    expect(runWinograd(d, true).every((v) => v === 0)).toBe(true);
  });

  it('batch invariance: each image of a batch equals a batch-1 call bit for bit', () => {
    const c: Case = { N: 3, C: 9, outC: 16, H: 15, W: 13, pad: [1, 1, 1, 1], bias: true, residual: true, relu: true };
    const d = makeData(c, 40);
    const whole = runWinograd(d, true);
    const inSz = c.C * c.H * c.W, outSz = c.outC * d.g.OH * d.g.OW;
    for (let n = 0; n < c.N; n++) {
      const one: Data = {
        ...d,
        g: { ...d.g, N: 1 },
        geom: [1, ...d.geom.slice(1)],
        x: d.x.slice(n * inSz, (n + 1) * inSz),
        res: d.res!.slice(n * outSz, (n + 1) * outSz),
      };
      const got = runWinograd(one, true);
      expect(Buffer.from(got.buffer).equals(Buffer.from(whole.buffer, n * outSz * 4, outSz * 4))).toBe(true);
    }
  });

  it('winogradPreferred is a boolean that ignores N and is false where Winograd cannot run', () => {
    const geom = (N: number, C: number, H: number, s = 1) => [N, C, H, H, C, 3, 3, s, s, 1, 1, 1, 1, 1, 1, 1];
    for (const [C, H] of [[64, 56], [128, 28], [256, 14], [512, 7], [16, 28]]) {
      const p1 = addon.winogradPreferred!(geom(1, C, H));
      expect(typeof p1).toBe('boolean');
      expect(addon.winogradPreferred!(geom(8, C, H))).toBe(p1);
    }
    // The measured rule (winograd.cc): ResNet-18's layer1..layer3 shapes yes (layer3's 14x14 as
    // F(2x2)), 7x7 no.
    expect([[64, 56], [128, 28], [256, 14], [512, 7]].map(([C, H]) => addon.winogradPreferred!(geom(1, C, H))))
      .toEqual([true, true, true, false]);
    expect([[64, 56], [128, 28], [256, 14], [512, 7]].map(([C, H]) => addon.winogradTileSize!(geom(1, C, H))))
      .toEqual([4, 4, 2, 2]);
    expect(addon.winogradPreferred!(geom(1, 64, 56, 2))).toBe(false);
    expect(addon.winogradPreferred!([1, 64, 56, 56, 64, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1])).toBe(false);
    expect(addon.winogradPreferred!([1, 64, 56, 56, 64, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1])).toBe(false);
    expect(addon.winogradPreferred!([1, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2])).toBe(false);
  });
});

describe('conv2dWinograd argument checks', () => {
  const c: Case = { N: 1, C: 3, outC: 4, H: 6, W: 6, pad: [1, 1, 1, 1], bias: true, residual: true, relu: true };
  const d = makeData(c, 5);
  const outLen = 4 * 36;
  const uLen = d.u.length;
  const call = (over: Partial<{ x: unknown; u: unknown; b: unknown; res: unknown; out: unknown; geom: unknown; act: unknown }>) => () =>
    (addon.conv2dWinograd as unknown as (...a: unknown[]) => void)(
      'x' in over ? over.x : d.x, 'u' in over ? over.u : d.u, 'b' in over ? over.b : d.b,
      'res' in over ? over.res : d.res, 'out' in over ? over.out : new Float32Array(outLen),
      'geom' in over ? over.geom : d.geom, 'act' in over ? over.act : 1);
  const withGeom = (i: number, v: number) => d.geom.map((g, j) => (j === i ? v : g));

  it('accepts the valid call', () => {
    expect(call({})).not.toThrow();
  });

  it.each([
    ['x', { x: new Float32Array(3 * 36 - 1) }],
    ['u', { u: new Float32Array(uLen + 1) }],
    ['b', { b: new Float32Array(3) }],
    ['residual', { res: new Float32Array(outLen + 4) }],
    ['out', { out: new Float32Array(outLen - 1) }],
  ] as const)('wrong length of %s -> RangeError naming the op and argument', (arg, over) => {
    expect(call(over)).toThrow(RangeError);
    expect(call(over)).toThrow(new RegExp(`conv2dWinograd.*${arg}`));
  });

  it.each([
    ['kH = 5', withGeom(5, 5)],
    ['kW = 1', withGeom(6, 1)],
    ['stride 2', withGeom(8, 2)],
    ['dilation 2', withGeom(13, 2)],
    ['groups 3', [1, 3, 6, 6, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3]],
    ['empty output', [1, 3, 1, 1, 4, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1]],
    ['negative padding', withGeom(9, -1)],
  ] as const)('%s -> RangeError naming the op', (_name, geom) => {
    expect(call({ geom })).toThrow(RangeError);
    expect(call({ geom })).toThrow(/conv2dWinograd/);
  });

  it('act outside the codes 0..11 -> RangeError', () => {
    expect(call({ act: 12 })).toThrow(RangeError);
    expect(call({ act: -1 })).toThrow(RangeError);
  });

  it('out overlapping x, u, b or residual -> RangeError', () => {
    const big = new Float32Array(1000);
    const x = big.subarray(0, 3 * 36);
    const out = big.subarray(100, 100 + outLen);  // shares elements 100..107 with x
    expect(call({ x, out })).toThrow(/conv2dWinograd: out must not share memory/);
    const res = new Float32Array(outLen);
    expect(call({ res, out: res })).toThrow(RangeError);
  });

  it('non-Float32Array inputs -> TypeError naming the op', () => {
    expect(call({ x: new Float64Array(3 * 36) })).toThrow(TypeError);
    expect(call({ u: [1, 2, 3] })).toThrow(/conv2dWinograd/);
    expect(call({ b: 'bias' })).toThrow(TypeError);
  });

  it('winogradWeights checks its arguments too', () => {
    const geom = [1, 3, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    const n = addon.winogradWeightsSize!(geom);
    expect(() => addon.winogradWeights!(new Float32Array(4 * 3 * 9), new Float32Array(n - 1), geom)).toThrow(/winogradWeights.*u/);
    expect(() => addon.winogradWeights!(new Float32Array(4 * 3 * 9 + 1), new Float32Array(n), geom)).toThrow(/winogradWeights.*w/);
    expect(() => addon.winogradWeights!(new Float32Array(4 * 3 * 25), new Float32Array(n),
      [1, 3, 6, 6, 4, 5, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1])).toThrow(RangeError);
    expect(() => addon.winogradWeights!(new Float32Array(4 * 3 * 9), new Float32Array(n), geom, 5)).toThrow(RangeError);
    const shared = new Float32Array(n + 108);
    expect(() => addon.winogradWeights!(shared.subarray(0, 108), shared.subarray(100, 100 + n), geom)).toThrow(/winogradWeights: u must not share/);
  });

  it('the process lives on: a valid call still works after the errors', () => {
    const out = runWinograd(d, true);
    expect(countBad(d, out, true)).toBe(0);
  });
});
