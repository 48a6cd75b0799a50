/**
 * Activations fused into the convolution and dense kernels (the addon's act code 0 none, 1 + unary
 * kind, with alpha and beta), on every ISA:
 *  - the depthwise kernel (bands of stride-phase planes) against the pure-TS reference conv2d over
 *    strides, dilations, asymmetric padding, channel multipliers and plane sizes from 1x1 to wider
 *    than a band;
 *  - every conv path (depthwise, implicit-im2col GEMM, pointwise GEMM, packed tiles, packed rows,
 *    Winograd) and the packed dense layer with each non-ReLU kind fused: the same bits as the
 *    kernel without activation followed by the addon's unary pass (both run the same unary code
 *    over the same values), for 1 and 2 threads.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadAddon } from '../../lib/backend/loader';
import type { NativeAddon } from '../../lib/backend/addon-types';
import type { Conv2dGeom } from '../../lib/backend/types';
import { conv2d as refConv2d } from '../../lib/backend/js/conv2d';
import { firstBitDifference } from '../reference/check';
import { uniformF32 } from '../reference/data';

const addon = loadAddon() as NativeAddon;
const threadsBefore = addon.getNumThreads();
afterAll(() => addon.setNumThreads(threadsBefore));

interface G {
  N: number; C: number; H: number; W: number; outC: number; k: [number, number];
  s?: [number, number]; p?: [number, number, number, number]; d?: [number, number]; groups?: number;
}

function geomOf(c: G): Conv2dGeom {
  const [strideH, strideW] = c.s ?? [1, 1];
  const [padTop, padLeft, padBottom, padRight] = c.p ?? [0, 0, 0, 0];
  const [dilationH, dilationW] = c.d ?? [1, 1];
  const [kH, kW] = c.k;
  const o = (n: number, k: number, s: number, a: number, b: number, d: number): number => Math.floor((n + a + b - d * (k - 1) - 1) / s) + 1;
  return {
    N: c.N, C: c.C, H: c.H, W: c.W, outC: c.outC, kH, kW, strideH, strideW, padTop, padLeft, padBottom, padRight,
    dilationH, dilationW, groups: c.groups ?? 1,
    OH: o(c.H, kH, strideH, padTop, padBottom, dilationH), OW: o(c.W, kW, strideW, padLeft, padRight, dilationW),
  };
}
const arr = (g: Conv2dGeom): number[] => [g.N, g.C, g.H, g.W, g.outC, g.kH, g.kW, g.strideH, g.strideW, g.padTop, g.padLeft,
  g.padBottom, g.padRight, g.dilationH, g.dilationW, g.groups];

// Unary codes of the addon (act code = 1 + these).
const KINDS: { name: string; unary: number; alpha: number; beta: number }[] = [
  { name: 'leakyRelu', unary: 1, alpha: 0.1, beta: 0 },
  { name: 'sigmoid', unary: 2, alpha: 0, beta: 0 },
  { name: 'tanh', unary: 3, alpha: 0, beta: 0 },
  { name: 'clip (ReLU6)', unary: 4, alpha: 0, beta: 6 },
  { name: 'clip (no min)', unary: 4, alpha: -Infinity, beta: 0.25 },
  { name: 'silu', unary: 5, alpha: 0, beta: 0 },
  { name: 'hardSigmoid', unary: 6, alpha: 0.2, beta: 0.5 },
  { name: 'hardSwish', unary: 7, alpha: 0, beta: 0 },
  { name: 'erf', unary: 9, alpha: 0, beta: 0 },
  { name: 'gelu', unary: 10, alpha: 0, beta: 0 },
];

describe('depthwise kernel vs the TS reference conv2d', () => {
  const CASES: [string, G][] = [
    ['3x3 s1 p1, 56x56 (wider than a 16-float vector, several vectors per row)', { N: 1, C: 5, H: 56, W: 56, outC: 5, k: [3, 3], p: [1, 1, 1, 1] }],
    ['3x3 s2 p1, 112x112 (several bands)', { N: 1, C: 3, H: 112, W: 112, outC: 3, k: [3, 3], s: [2, 2], p: [1, 1, 1, 1] }],
    ['5x5 s2 p2, 15x15 (odd size)', { N: 2, C: 4, H: 15, W: 15, outC: 4, k: [5, 5], s: [2, 2], p: [2, 2, 2, 2] }],
    ['5x5 s1 p2, 7x7', { N: 1, C: 7, H: 7, W: 7, outC: 7, k: [5, 5], p: [2, 2, 2, 2] }],
    ['3x3 s1 p1, 1x1 plane', { N: 3, C: 2, H: 1, W: 1, outC: 2, k: [3, 3], p: [1, 1, 1, 1] }],
    ['3x3 dilation 2, pad [2,1,0,3], multiplier 2', { N: 1, C: 3, H: 11, W: 17, outC: 6, k: [3, 3], p: [2, 1, 0, 3], d: [2, 2] }],
    ['3x5 stride [3,2] dilation [1,3], pad [1,4,2,0]', { N: 1, C: 2, H: 19, W: 23, outC: 2, k: [3, 5], s: [3, 2], p: [1, 4, 2, 0], d: [1, 3] }],
    ['7x7 s1 p3, 300 wide (a band of one row)', { N: 1, C: 2, H: 9, W: 300, outC: 2, k: [7, 7], p: [3, 3, 3, 3] }],
    ['1x1 stride 2, no padding', { N: 1, C: 3, H: 10, W: 9, outC: 3, k: [1, 1], s: [2, 2] }],
    ['padding larger than the kernel reach (all-zero border rows)', { N: 1, C: 2, H: 4, W: 4, outC: 2, k: [3, 3], p: [4, 4, 4, 4] }],
    ['3x3 s1 p1, 5x250 (16 vector chunks, a row block of 4 and one row)', { N: 1, C: 3, H: 5, W: 250, outC: 3, k: [3, 3], p: [1, 1, 1, 1] }],
    ['3x3 s2 no padding, 14x29 (odd width, 6 rows)', { N: 2, C: 3, H: 14, W: 29, outC: 3, k: [3, 3], s: [2, 2] }],
  ];
  it.each(CASES)('%s', (_name, c) => {
    const g = geomOf({ ...c, groups: c.C });
    const x = uniformF32(g.N * g.C * g.H * g.W, 11);
    const w = uniformF32(g.outC * g.kH * g.kW, 12);
    const b = uniformF32(g.outC, 13);
    const ref = new Float32Array(g.N * g.outC * g.OH * g.OW);
    refConv2d(x, w, b, g, ref, 'none');
    for (const threads of [1, 2]) {
      addon.setNumThreads(threads);
      const out = new Float32Array(ref.length).fill(NaN);
      addon.conv2d(x, w, b, out, arr(g), 0);
      // Float32 FMA chains of kH*kW terms against a float64 reference.
      const K = g.kH * g.kW;
      for (let i = 0; i < out.length; i++) {
        expect(Math.abs(out[i] - ref[i]), `threads ${threads}, out[${i}] = ${out[i]} vs ${ref[i]}`)
          .toBeLessThanOrEqual(4e-7 * Math.sqrt(K + 1) * (K + 1) + 1e-6 * Math.abs(ref[i]));
      }
      // ReLU fused: the reference clamped.
      const relu = new Float32Array(ref.length);
      addon.conv2d(x, w, b, relu, arr(g), 1);
      for (let i = 0; i < out.length; i++) expect(relu[i]).toBe(out[i] < 0 ? 0 : out[i]);
    }
    addon.setNumThreads(threadsBefore);
  });
});

/** Each path: a name, how to run it with (code, alpha, beta), and its output length. */
interface Path { name: string; len: number; run(out: Float32Array, code: number, alpha: number, beta: number): void }

function convPath(name: string, c: G, prepared: 'none' | 'packed' | 'winograd' | 'pointwise', residual = false): Path {
  const g = geomOf(c);
  const geom = arr(g);
  const x = uniformF32(g.N * g.C * g.H * g.W, 21, -2, 2);
  const w = uniformF32(g.outC * (g.C / g.groups) * g.kH * g.kW, 22, -1, 1);
  const b = uniformF32(g.outC, 23);
  const len = g.N * g.outC * g.OH * g.OW;
  const res = residual ? uniformF32(len, 24) : null;
  if (prepared === 'none') return { name, len, run: (out, a, al, be) => addon.conv2d(x, w, b, out, geom, a, al, be) };
  if (prepared === 'pointwise') return { name, len, run: (out, a, al, be) => addon.conv2dPointwise!(x, w, b, res, out, geom, a, al, be) };
  if (prepared === 'packed') {
    const packed = new Float32Array(addon.conv2dPackedSize!(geom));
    addon.conv2dPackWeights!(w, packed, geom);
    return { name, len, run: (out, a, al, be) => addon.conv2dPacked!(x, packed, b, res, out, geom, a, al, be) };
  }
  const u = new Float32Array(addon.winogradWeightsSize!(geom));
  addon.winogradWeights!(w, u, geom);
  return { name, len, run: (out, a, al, be) => addon.conv2dWinograd!(x, u, b, res, out, geom, a, al, be) };
}

const PATHS: Path[] = [
  convPath('depthwise 3x3/2', { N: 2, C: 24, H: 28, W: 28, outC: 24, k: [3, 3], s: [2, 2], p: [1, 1, 1, 1], groups: 24 }, 'none'),
  convPath('direct (implicit im2col GEMM) 3x3/2 grouped', { N: 1, C: 8, H: 14, W: 14, outC: 16, k: [3, 3], s: [2, 2], p: [1, 1, 1, 1], groups: 2 }, 'none'),
  convPath('pointwise GEMM 1x1', { N: 2, C: 16, H: 9, W: 9, outC: 40, k: [1, 1] }, 'none'),
  // The GEMM's own tile epilogue: B read in place (K <= 64), packed (K 96), several K blocks with
  // every row in one M block (K 300); and conv2dPointwise's GEMM from the residual.
  convPath('pointwise GEMM 1x1 @ 28x28, K 48', { N: 1, C: 48, H: 28, W: 28, outC: 24, k: [1, 1] }, 'none'),
  convPath('pointwise GEMM 1x1 @ 28x28, K 96, N 2', { N: 2, C: 96, H: 28, W: 28, outC: 40, k: [1, 1] }, 'none'),
  convPath('pointwise GEMM 1x1 @ 30x30, K 300', { N: 1, C: 300, H: 30, W: 30, outC: 16, k: [1, 1] }, 'none'),
  convPath('pointwise GEMM 1x1 + residual @ 28x28', { N: 1, C: 32, H: 28, W: 28, outC: 64, k: [1, 1] }, 'pointwise', true),
  convPath('packed tiles 1x1 (outC 96)', { N: 1, C: 24, H: 14, W: 14, outC: 96, k: [1, 1] }, 'packed', true),
  convPath('packed tiles 3x3/2, K blocks', { N: 2, C: 40, H: 10, W: 10, outC: 70, k: [3, 3], s: [2, 2], p: [1, 1, 1, 1] }, 'packed'),
  convPath('packed rows 3x3 (outC 6)', { N: 1, C: 3, H: 12, W: 12, outC: 6, k: [3, 3], p: [1, 1, 1, 1] }, 'packed', true),
  convPath('winograd 3x3', { N: 1, C: 16, H: 20, W: 20, outC: 32, k: [3, 3], p: [1, 1, 1, 1] }, 'winograd', true),
];

{
  const N = 3, inF = 70, outF = 37;
  const x = uniformF32(N * inF, 31), w = uniformF32(outF * inF, 32), b = uniformF32(outF, 33);
  const packed = new Float32Array(addon.linearPackedSize!([inF, outF]));
  addon.linearPackWeights!(w, packed, [inF, outF]);
  PATHS.push({ name: 'dense (packed, batch 3)', len: N * outF, run: (out, a, al, be) => addon.linearPacked!(x, packed, b, out, [N, inF, outF], a, al, be) });
  const N2 = 20;
  const x2 = uniformF32(N2 * inF, 34);
  PATHS.push({ name: 'dense (packed, batch 20: GEMM)', len: N2 * outF, run: (out, a, al, be) => addon.linearPacked!(x2, packed, b, out, [N2, inF, outF], a, al, be) });
  // ConvNeXt's MatMul + GELU shape class: many rows, K over one K block, outF past one tile.
  const N3 = 200, inF3 = 260, outF3 = 100;
  const x3 = uniformF32(N3 * inF3, 35), w3 = uniformF32(outF3 * inF3, 36), b3 = uniformF32(outF3, 37);
  const packed3 = new Float32Array(addon.linearPackedSize!([inF3, outF3]));
  addon.linearPackWeights!(w3, packed3, [inF3, outF3]);
  PATHS.push({ name: 'dense (packed, batch 200, K 260: GEMM over K blocks)', len: N3 * outF3, run: (out, a, al, be) => addon.linearPacked!(x3, packed3, b3, out, [N3, inF3, outF3], a, al, be) });
}

describe('fused activations give the bits of the kernel followed by the unary pass', () => {
  for (const p of PATHS) {
    it(`${p.name}: every kind, 1 and 2 threads`, () => {
      for (const threads of [1, 2]) {
        addon.setNumThreads(threads);
        const plain = new Float32Array(p.len);
        p.run(plain, 0, 0, 0);
        for (const k of KINDS) {
          const want = new Float32Array(p.len);
          addon.unary(plain, want, k.unary, k.alpha, k.beta);
          const got = new Float32Array(p.len).fill(NaN);
          p.run(got, 1 + k.unary, k.alpha, k.beta);
          expect(firstBitDifference(got, want), `${k.name}, ${threads} threads`).toBe(-1);
        }
      }
      addon.setNumThreads(threadsBefore);
    });
  }
});
