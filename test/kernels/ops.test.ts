/**
 * Every op of API.md's `ops` against the independent float64 reference (test/reference), on both
 * backends, on shapes that hit SIMD/GEMM tails. Runs once per ISA (SIMDCNN_ISA set by
 * vitest.config.mts). Tolerance per element scales with the reduction length K:
 *   |got - ref| <= 1e-5 * |ref| + 2e-6 * sqrt(K) * sum_k |a_k * b_k|
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ops, tensor, setBackend, setNumThreads, getNumThreads, cpuInfo, Tensor } from '../../lib/index';
import { normalF32, uniformF32, prod, shapeStr } from '../reference/data';
import { compare, firstBitDifference } from '../reference/check';
import * as R from '../reference/ops';

const BACKENDS = ['native', 'js'] as const;
type BackendName = (typeof BACKENDS)[number];

afterAll(() => setBackend('native'));

function t(data: Float32Array, shape: number[]): Tensor {
  return tensor(data, shape);
}

function expectReport(r: { ok: boolean; message: string }): void {
  expect(r.ok, r.message).toBe(true);
}

function shapeOf(x: Tensor): number[] {
  return x.shape.slice();
}

// ---------------------------------------------------------------------------------------------
// conv2d cases

type ConvOpts = NonNullable<Parameters<typeof ops.conv2d>[3]>;
interface ConvCase {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  bias: boolean;
  o?: ConvOpts;
}

const CONV_CASES: ConvCase[] = [
  { name: '1x1 input, 1x1 kernel', x: [1, 1, 1, 1], w: [1, 1, 1, 1], bias: true },
  { name: 'C3 -> 5, 3x3 valid, 7x7', x: [1, 3, 7, 7], w: [5, 3, 3, 3], bias: false },
  { name: 'N2, C3 -> 16, 3x3 p1, 13x13', x: [2, 3, 13, 13], w: [16, 3, 3, 3], bias: true, o: { padding: 1 } },
  { name: 'C5 -> 15, 3x3 s2 p1, 31x31', x: [1, 5, 31, 31], w: [15, 5, 3, 3], bias: true, o: { stride: 2, padding: 1 } },
  { name: "C17 -> 17, 3x3 'same', 32x32", x: [1, 17, 32, 32], w: [17, 17, 3, 3], bias: true, o: { padding: 'same' } },
  { name: 'C8 -> 47, 1x1, 33x33', x: [1, 8, 33, 33], w: [47, 8, 1, 1], bias: true },
  { name: 'N2, C33 -> 48, 1x1, 7x13', x: [2, 33, 7, 13], w: [48, 33, 1, 1], bias: false },
  { name: 'C16 -> 49, 3x3 p1, 9x9', x: [1, 16, 9, 9], w: [49, 16, 3, 3], bias: true, o: { padding: 1 } },
  { name: 'C3 -> 16, 5x5 s3 pad [1,2,0,3], 31x33', x: [1, 3, 31, 33], w: [16, 3, 5, 5], bias: true, o: { stride: 3, padding: [1, 2, 0, 3] } },
  { name: 'C4 -> 6, 3x3 pad [0,1,2,0], 13x7', x: [1, 4, 13, 7], w: [6, 4, 3, 3], bias: false, o: { padding: [0, 1, 2, 0] } },
  { name: 'C3 -> 8, 3x3 d2 p2, 13x13', x: [1, 3, 13, 13], w: [8, 3, 3, 3], bias: true, o: { dilation: 2, padding: 2 } },
  { name: 'N2, C5 -> 7, 3x3 d3 s2 p[3,1], 31x31', x: [2, 5, 31, 31], w: [7, 5, 3, 3], bias: true, o: { dilation: 3, stride: 2, padding: [3, 1] } },
  { name: 'groups 2: C6 -> 10, 3x3 p1', x: [1, 6, 13, 13], w: [10, 3, 3, 3], bias: true, o: { groups: 2, padding: 1 } },
  { name: 'depthwise C17, 3x3 p1, N2', x: [2, 17, 13, 13], w: [17, 1, 3, 3], bias: true, o: { groups: 17, padding: 1 } },
  { name: 'depthwise x2 multiplier C8 -> 16, 3x3 s2 p1', x: [1, 8, 15, 15], w: [16, 1, 3, 3], bias: false, o: { groups: 8, stride: 2, padding: 1 } },
  { name: "depthwise C33, 5x5 'same', 16x16", x: [1, 33, 16, 16], w: [33, 1, 5, 5], bias: true, o: { groups: 33, padding: 'same' } },
  // The flattened small-plane path (stride 1, OW <= 32): no padding, asymmetric padding, 7x7 planes.
  { name: 'depthwise C20, 3x3 no padding, 7x9', x: [1, 20, 7, 9], w: [20, 1, 3, 3], bias: true, o: { groups: 20 } },
  { name: 'depthwise C19, 5x5 pads [2,1,0,3], 7x7, N2', x: [2, 19, 7, 7], w: [19, 1, 5, 5], bias: true, o: { groups: 19, padding: [2, 1, 0, 3] } },
  { name: "C3 -> 4 'valid'", x: [1, 3, 7, 7], w: [4, 3, 3, 3], bias: true, o: { padding: 'valid' } },
  { name: '1x3 kernel p[0,1]', x: [1, 5, 7, 13], w: [6, 5, 1, 3], bias: true, o: { padding: [0, 1] } },
  { name: '3x1 kernel s[2,1]', x: [1, 5, 13, 7], w: [6, 5, 3, 1], bias: false, o: { stride: [2, 1] } },
  { name: 'stride [1,2] dilation [2,1]', x: [1, 3, 13, 17], w: [5, 3, 3, 3], bias: true, o: { stride: [1, 2], dilation: [2, 1] } },
  { name: 'kernel == input (1x1 output), N3', x: [3, 7, 5, 5], w: [13, 7, 5, 5], bias: true },
  { name: 'K = 576: C64 -> 32, 3x3 p1', x: [1, 64, 9, 9], w: [32, 64, 3, 3], bias: true, o: { padding: 1 } },
  { name: 'stem 7x7 s2 p3, 32x32', x: [1, 3, 32, 32], w: [16, 3, 7, 7], bias: false, o: { stride: 2, padding: 3 } },
  { name: '11x11 s4 p2, 63x63', x: [1, 3, 63, 63], w: [8, 3, 11, 11], bias: true, o: { stride: 4, padding: 2 } },
  { name: 'height 1: 1x3 on 1x31', x: [1, 5, 1, 31], w: [7, 5, 1, 3], bias: true },
  { name: "even kernel 4x4 'same' (asymmetric)", x: [1, 3, 9, 9], w: [5, 3, 4, 4], bias: true, o: { padding: 'same' } },
  { name: "2x2 d2 'same'", x: [1, 2, 10, 10], w: [3, 2, 2, 2], bias: false, o: { dilation: 2, padding: 'same' } },
  { name: 'groups 3, 5 out per group, s2 p1, N2', x: [2, 9, 8, 8], w: [15, 3, 3, 3], bias: true, o: { groups: 3, stride: 2, padding: 1 } },
  { name: 'padding 4 > kernel (all-padding windows)', x: [1, 2, 5, 5], w: [3, 2, 3, 3], bias: true, o: { padding: 4 } },
  { name: 'N5, C1 -> 3, 5x5', x: [5, 1, 13, 13], w: [3, 1, 5, 5], bias: true },
  { name: 'C16 -> 16 1x1 on 32x32', x: [1, 16, 32, 32], w: [16, 16, 1, 1], bias: false },
  { name: 'C7 -> 31, 3x3 p1, 31x31', x: [1, 7, 31, 31], w: [31, 7, 3, 3], bias: true, o: { padding: 1 } },
  { name: "d[3,2] 'same' on 11x12", x: [1, 4, 11, 12], w: [6, 4, 3, 3], bias: true, o: { dilation: [3, 2], padding: 'same' } },
  { name: 'depthwise x2 with dilation 2', x: [1, 5, 12, 12], w: [10, 1, 3, 3], bias: true, o: { groups: 5, dilation: 2, padding: 2 } },
  { name: '1x1 stride 2, N2, C13 -> 17', x: [2, 13, 9, 9], w: [17, 13, 1, 1], bias: true, o: { stride: 2 } },
  { name: '1x1 with padding 1', x: [1, 3, 5, 5], w: [4, 3, 1, 1], bias: true, o: { padding: 1 } },
  { name: 'groups 2, 1x1, C34 -> 66', x: [1, 34, 6, 6], w: [66, 17, 1, 1], bias: false, o: { groups: 2 } },
  { name: 'C3 -> 1 (single output channel), 3x3 s3', x: [2, 3, 13, 13], w: [1, 3, 3, 3], bias: true, o: { stride: 3 } },
  { name: 'K = 1152 (GEMM K blocking): C128 -> 50, 3x3 p1, 10x10', x: [1, 128, 10, 10], w: [50, 128, 3, 3], bias: true, o: { padding: 1 } },
  { name: 'M/N blocking: C32 -> 97, 3x3 p1, 24x24', x: [1, 32, 24, 24], w: [97, 32, 3, 3], bias: true, o: { padding: 1 } },
];

function convRef(c: ConvCase, xd: Float32Array, wd: Float32Array, bd: Float32Array | null): R.Ref {
  return R.refConv2d(xd, c.x, wd, c.w, bd, R.resolveConvOpts(c.o as never, c.w[2], c.w[3]));
}

function convData(c: ConvCase, seed: number): { xd: Float32Array; wd: Float32Array; bd: Float32Array | null } {
  return {
    xd: normalF32(prod(c.x), seed),
    wd: uniformF32(prod(c.w), seed + 1, -0.5, 0.5),
    bd: c.bias ? uniformF32(c.w[0], seed + 2) : null,
  };
}

function convTol(ref: R.Ref): (i: number) => number {
  const sq = Math.sqrt(ref.K!);
  return (i) => 1e-5 * Math.abs(ref.out[i]) + 2e-6 * sq * ref.absSum![i];
}

describe.each(BACKENDS)('conv2d vs float64 reference (%s backend)', (be: BackendName) => {
  beforeEach(() => setBackend(be));
  it.each(CONV_CASES.map((c, i) => [c.name, c, i] as const))('%s', (_n, c, i) => {
    const { xd, wd, bd } = convData(c, 1000 + i * 7);
    const ref = convRef(c, xd, wd, bd);
    const x = t(xd, c.x), w = t(wd, c.w), b = bd ? t(bd, [c.w[0]]) : null;
    const y = ops.conv2d(x, w, b, c.o);
    const ctx = `conv2d[${be}] x ${shapeStr(c.x)} w ${shapeStr(c.w)} opts ${JSON.stringify(c.o ?? {})} K=${ref.K}`;
    expect(shapeOf(y), ctx).toEqual(ref.shape);
    expectReport(compare(y.toArray(), ref.out, ref.shape, convTol(ref), ctx));
    // inputs untouched
    expect(firstBitDifference(x.toArray(), xd), `${ctx}: x was modified`).toBe(-1);
    expect(firstBitDifference(w.toArray(), wd), `${ctx}: weight was modified`).toBe(-1);
    for (const z of [x, w, b, y]) z?.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
// pooling

interface PoolCase {
  name: string;
  x: [number, number, number, number];
  o: { kernelSize: number | [number, number]; stride?: number | [number, number]; padding?: number | [number, number];
    dilation?: number | [number, number]; ceilMode?: boolean; countIncludePad?: boolean };
  modes: ('max' | 'avg' | 'min')[];
}

const ALL: ('max' | 'avg' | 'min')[] = ['max', 'avg', 'min'];
const POOL_CASES: PoolCase[] = [
  { name: '4x4 k2', x: [1, 1, 4, 4], o: { kernelSize: 2 }, modes: ALL },
  { name: '7x7 k2 s2 floor', x: [2, 3, 7, 7], o: { kernelSize: 2, stride: 2 }, modes: ALL },
  { name: '7x7 k2 s2 ceilMode', x: [2, 3, 7, 7], o: { kernelSize: 2, stride: 2, ceilMode: true }, modes: ALL },
  { name: '13x13 k3 s2 p1', x: [1, 5, 13, 13], o: { kernelSize: 3, stride: 2, padding: 1 }, modes: ALL },
  { name: '13x13 k3 s2 p1 ceilMode', x: [1, 5, 13, 13], o: { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }, modes: ALL },
  { name: '14x14 k3 s2 p1 ceilMode', x: [1, 3, 14, 14], o: { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }, modes: ALL },
  { name: '31x33 k[3,2] s[2,1] p[1,0], C17', x: [1, 17, 31, 33], o: { kernelSize: [3, 2], stride: [2, 1], padding: [1, 0] }, modes: ALL },
  { name: '8x8 k3 s3 ceilMode (partial last window)', x: [1, 3, 8, 8], o: { kernelSize: 3, stride: 3, ceilMode: true }, modes: ALL },
  { name: '5x5 k2 s2 p1 ceilMode (window starting in padding dropped)', x: [1, 2, 5, 5], o: { kernelSize: 2, stride: 2, padding: 1, ceilMode: true }, modes: ALL },
  { name: '7x7 k3 s2 p1 countIncludePad=false', x: [1, 3, 7, 7], o: { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }, modes: ['avg'] },
  { name: '6x6 k3 s2 p1 ceil countIncludePad=false', x: [2, 5, 6, 6], o: { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false }, modes: ['avg'] },
  { name: '6x6 k3 s2 p1 ceil countIncludePad=true', x: [2, 5, 6, 6], o: { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: true }, modes: ['avg'] },
  { name: '8x8 k2 s3 p1 ceil countIncludePad=false', x: [1, 3, 8, 8], o: { kernelSize: 2, stride: 3, padding: 1, ceilMode: true, countIncludePad: false }, modes: ['avg'] },
  { name: 'max dilation 2 p1, 13x13', x: [1, 3, 13, 13], o: { kernelSize: 3, stride: 1, dilation: 2, padding: 1 }, modes: ['max'] },
  { name: 'max dilation [2,3] s2 ceil, 16x17', x: [2, 5, 16, 17], o: { kernelSize: [2, 3], stride: 2, dilation: [2, 3], ceilMode: true }, modes: ['max'] },
  { name: '1x1 kernel stride 2', x: [1, 3, 5, 5], o: { kernelSize: 1, stride: 2 }, modes: ALL },
  { name: 'N2 C33 32x32 k2', x: [2, 33, 32, 32], o: { kernelSize: 2 }, modes: ALL },
  { name: 'kernel == input 5x5', x: [1, 3, 5, 5], o: { kernelSize: 5 }, modes: ALL },
  { name: 'width 1: k[3,1] s[2,1]', x: [1, 8, 9, 1], o: { kernelSize: [3, 1], stride: [2, 1] }, modes: ALL },
  { name: 'k3 s1 overlapping, 31x31', x: [1, 7, 31, 31], o: { kernelSize: 3, stride: 1 }, modes: ALL },
  { name: 'k2 s1 p1, 13x13', x: [1, 5, 13, 13], o: { kernelSize: 2, stride: 1, padding: 1 }, modes: ALL },
];

const POOL_FN = { max: ops.maxPool2d, avg: ops.avgPool2d, min: ops.minPool2d } as const;

describe.each(BACKENDS)('pooling vs float64 reference (%s backend)', (be: BackendName) => {
  beforeEach(() => setBackend(be));
  const rows = POOL_CASES.flatMap((c, i) => c.modes.map((m) => [`${m} ${c.name}`, c, m, i] as const));
  it.each(rows)('%s', (_n, c, mode, i) => {
    // values with exact ties and negatives so max/min/padding handling all matter
    const xd = normalF32(prod(c.x), 5000 + i);
    if (i % 2 === 0) for (let k = 0; k < xd.length; k += 5) xd[k] = -3;
    const ref = R.refPool2d(xd, c.x, mode, R.resolvePoolOpts(c.o));
    const x = t(xd, c.x);
    const y = (POOL_FN[mode] as (x: Tensor, o: unknown) => Tensor)(x, c.o);
    const ctx = `${mode}Pool2d[${be}] x ${shapeStr(c.x)} opts ${JSON.stringify(c.o)}`;
    expect(shapeOf(y), ctx).toEqual(ref.shape);
    const sq = Math.sqrt(ref.K!);
    const tol = mode === 'avg' ? (k: number) => 1e-5 * Math.abs(ref.out[k]) + 2e-6 * sq * ref.absSum![k] : () => 0;
    expectReport(compare(y.toArray(), ref.out, ref.shape, tol, ctx));
    expect(firstBitDifference(x.toArray(), xd), `${ctx}: x was modified`).toBe(-1);
    x.dispose(); y.dispose();
  });

  it.each([[[2, 5, 7, 7]], [[1, 17, 31, 33]], [[3, 1, 1, 1]], [[1, 33, 32, 32]], [[2, 8, 1, 13]]] as [number[]][])(
    'globalAvgPool2d / globalMaxPool2d on %j', (shape) => {
      const xd = normalF32(prod(shape), 77 + shape[1], 0.3, 2);
      const x = t(xd, shape);
      for (const mode of ['avg', 'max'] as const) {
        const ref = R.refGlobalPool(xd, shape, mode);
        const y = mode === 'avg' ? ops.globalAvgPool2d(x) : ops.globalMaxPool2d(x);
        const ctx = `global${mode}Pool2d[${be}] x ${shapeStr(shape)}`;
        expect(shapeOf(y), ctx).toEqual(ref.shape);
        const sq = Math.sqrt(ref.K!);
        const tol = mode === 'avg' ? (k: number) => 1e-5 * Math.abs(ref.out[k]) + 2e-6 * sq * ref.absSum![k] : () => 0;
        expectReport(compare(y.toArray(), ref.out, ref.shape, tol, ctx));
        y.dispose();
      }
      x.dispose();
    });
});

// ---------------------------------------------------------------------------------------------
// normalisation

function normTol(ref: R.NormRef, K: number): (i: number) => number {
  const sq = Math.sqrt(Math.max(K, 1));
  return (i) => 1e-5 * Math.abs(ref.out[i]) + 2e-6 * sq * (ref.xhatAbs[i] + ref.scale[i]);
}

const BN_SHAPES: [number, number, number, number][] = [[1, 1, 1, 1], [2, 3, 7, 7], [1, 17, 13, 13], [3, 33, 5, 5], [4, 5, 1, 3]];

describe.each(BACKENDS)('normalisation vs float64 reference (%s backend)', (be: BackendName) => {
  beforeEach(() => setBackend(be));

  it.each(BN_SHAPES.flatMap((s) => [[s, true, 1e-5], [s, false, 1e-3]] as const))('batchNorm2d eval %j affine=%s eps=%s', (shape, affine, eps) => {
    const C = shape[1];
    const xd = normalF32(prod(shape), 11 + C, 0.5, 2);
    const rmd = normalF32(C, 12 + C, 0.2, 0.5), rvd = uniformF32(C, 13 + C, 0.5, 2);
    const wd = affine ? uniformF32(C, 14 + C, 0.5, 1.5) : null, bd = affine ? uniformF32(C, 15 + C) : null;
    const ref = R.refBatchNormEval(xd, shape, rmd, rvd, wd, bd, eps);
    const x = t(xd, shape), rm = t(rmd, [C]), rv = t(rvd, [C]);
    const w = wd ? t(wd, [C]) : null, b = bd ? t(bd, [C]) : null;
    const y = ops.batchNorm2d(x, { runningMean: rm, runningVar: rv, weight: w, bias: b, eps });
    const ctx = `batchNorm2d eval[${be}] x ${shapeStr(shape)} eps ${eps}`;
    expect(shapeOf(y), ctx).toEqual(shape);
    expectReport(compare(y.toArray(), ref.out, shape, normTol(ref, 1), ctx));
    // eval must not touch the running stats
    expect(firstBitDifference(rm.toArray(), rmd), `${ctx}: runningMean changed in eval`).toBe(-1);
    expect(firstBitDifference(rv.toArray(), rvd), `${ctx}: runningVar changed in eval`).toBe(-1);
  });

  it.each(BN_SHAPES.slice(1).flatMap((s) => [[s, true, 0.1], [s, false, 0.3]] as const))('batchNorm2d training %j affine=%s momentum=%s', (shape, affine, momentum) => {
    const C = shape[1];
    const xd = normalF32(prod(shape), 21 + C, 1.5, 2);
    const rmd = normalF32(C, 22 + C, 0, 0.5), rvd = uniformF32(C, 23 + C, 0.5, 2);
    const wd = affine ? uniformF32(C, 24 + C, 0.5, 1.5) : null, bd = affine ? uniformF32(C, 25 + C) : null;
    const ref = R.refBatchNormTrain(xd, shape, rmd, rvd, wd, bd, 1e-5, momentum);
    const x = t(xd, shape), rm = t(rmd, [C]), rv = t(rvd, [C]);
    const y = ops.batchNorm2d(x, { runningMean: rm, runningVar: rv, weight: wd ? t(wd, [C]) : null, bias: bd ? t(bd, [C]) : null, training: true, momentum });
    const ctx = `batchNorm2d train[${be}] x ${shapeStr(shape)} momentum ${momentum}`;
    expectReport(compare(y.toArray(), ref.out, shape, normTol(ref, ref.K!), ctx));
    const { maxAbs } = R.refChannelStats(xd, shape);
    const sq = Math.sqrt(ref.K!);
    expectReport(compare(rm.toArray(), ref.runningMean, [C], (c) => 1e-5 * Math.abs(ref.runningMean[c]) + 2e-6 * sq * maxAbs[c], `${ctx} runningMean`));
    expectReport(compare(rv.toArray(), ref.runningVar, [C], (c) => 1e-5 * Math.abs(ref.runningVar[c]) + 2e-6 * sq * maxAbs[c] * maxAbs[c], `${ctx} runningVar`));
  });

  const LN: [number[], number[]][] = [[[2, 3, 5, 5], [3, 5, 5]], [[4, 17], [17]], [[2, 33, 7], [7]], [[1, 1, 1, 1], [1]], [[3, 31], [31]], [[2, 4, 6, 8], [6, 8]]];
  it.each(LN.flatMap(([s, n]) => [[s, n, true], [s, n, false]] as const))('layerNorm x %j over %j affine=%s', (shape, ns, affine) => {
    const inner = prod(ns);
    const xd = normalF32(prod(shape), 31 + inner, -0.7, 3);
    const wd = affine ? uniformF32(inner, 32 + inner, 0.5, 1.5) : null, bd = affine ? uniformF32(inner, 33 + inner) : null;
    const ref = R.refLayerNorm(xd, shape, inner, wd, bd, 1e-5);
    const y = ops.layerNorm(t(xd, shape), ns, wd ? t(wd, ns) : null, bd ? t(bd, ns) : null);
    const ctx = `layerNorm[${be}] x ${shapeStr(shape)} over ${shapeStr(ns)}`;
    expect(shapeOf(y), ctx).toEqual(shape);
    expectReport(compare(y.toArray(), ref.out, shape, normTol(ref, inner), ctx));
  });

  const IN: [number, number, number, number][] = [[2, 3, 7, 7], [1, 17, 13, 13], [3, 5, 1, 31], [1, 33, 4, 4], [2, 2, 1, 2]];  // 1x1 planes are refused (errors.test.ts); 1x2 is the smallest
  it.each(IN.flatMap((s) => [[s, true], [s, false]] as const))('instanceNorm2d %j affine=%s', (shape, affine) => {
    const C = shape[1];
    const xd = normalF32(prod(shape), 41 + C, 2, 1.5);
    const wd = affine ? uniformF32(C, 42 + C, 0.5, 1.5) : null, bd = affine ? uniformF32(C, 43 + C) : null;
    const ref = R.refInstanceNorm(xd, shape, wd, bd, 1e-5);
    const y = ops.instanceNorm2d(t(xd, shape), wd ? t(wd, [C]) : null, bd ? t(bd, [C]) : null);
    const ctx = `instanceNorm2d[${be}] x ${shapeStr(shape)}`;
    expect(shapeOf(y), ctx).toEqual(shape);
    expectReport(compare(y.toArray(), ref.out, shape, normTol(ref, shape[2] * shape[3]), ctx));
  });
});

// ---------------------------------------------------------------------------------------------
// linear / matmul

const LINEAR: [number, number, number][] = [[1, 1, 1], [3, 7, 13], [2, 33, 47], [5, 48, 49], [4, 31, 16], [1, 256, 17], [7, 1, 15], [13, 100, 10], [17, 400, 120], [2, 5, 48], [67, 700, 130]];

describe.each(BACKENDS)('linear / matmul vs float64 reference (%s backend)', (be: BackendName) => {
  beforeEach(() => setBackend(be));
  it.each(LINEAR.flatMap((d) => [[...d, true], [...d, false]] as const))('linear N=%i in=%i out=%i bias=%s', (N, inF, outF, bias) => {
    const xd = normalF32(N * inF, 51 + inF), wd = uniformF32(outF * inF, 52 + outF, -0.3, 0.3);
    const bd = bias ? uniformF32(outF, 53) : null;
    const ref = R.refLinear(xd, N, inF, wd, outF, bd);
    const y = ops.linear(t(xd, [N, inF]), t(wd, [outF, inF]), bd ? t(bd, [outF]) : null);
    const ctx = `linear[${be}] x [${N},${inF}] w [${outF},${inF}]`;
    expect(shapeOf(y), ctx).toEqual([N, outF]);
    expectReport(compare(y.toArray(), ref.out, ref.shape, convTol(ref), ctx));
  });

  it.each([[1, 1, 1], [7, 13, 17], [31, 33, 48], [16, 49, 15], [2, 256, 3]])('matmul [%i,%i] x [%i..]', (M, K, N) => {
    const ad = normalF32(M * K, 61 + K), bd = normalF32(K * N, 62 + N);
    const ref = R.refMatmul(ad, M, K, bd, N);
    const y = ops.matmul(t(ad, [M, K]), t(bd, [K, N]));
    const ctx = `matmul[${be}] [${M},${K}] x [${K},${N}]`;
    expect(shapeOf(y), ctx).toEqual([M, N]);
    expectReport(compare(y.toArray(), ref.out, ref.shape, convTol(ref), ctx));
  });
});

// ---------------------------------------------------------------------------------------------
// activations, softmax, elementwise, losses

const SPECIAL = [0, -0, 1, -1, 20, -20, 88, -88, 100, -100, 1e-3, -1e-3, 1e-20, -1e-20, 0.5, -0.5, 4, -4, 9, -9];

function activationData(shape: number[], seed: number): Float32Array {
  const d = normalF32(prod(shape), seed, 0, 3);
  for (let i = 0; i < Math.min(SPECIAL.length, d.length); i++) d[(i * 7) % d.length] = SPECIAL[i];
  return d;
}

describe.each(BACKENDS)('activations / softmax / elementwise / losses vs float64 reference (%s backend)', (be: BackendName) => {
  beforeEach(() => setBackend(be));
  const UNARY_SHAPES = [[1], [7], [2, 3, 13, 13], [1, 33, 17], [5, 31], [16], [1, 1, 1, 33]];
  const KINDS = ['relu', 'leakyRelu', 'sigmoid', 'tanh'] as const;

  it.each(KINDS.flatMap((k) => UNARY_SHAPES.map((s) => [k, s] as const)))('%s on %j', (kind, shape) => {
    const xd = activationData(shape, 71 + prod(shape));
    const x = t(xd, shape);
    const cases: [number | undefined, Tensor][] = kind === 'leakyRelu'
      ? [[0.01, ops.leakyRelu(x)], [0.2, ops.leakyRelu(x, 0.2)]]
      : [[undefined, kind === 'relu' ? ops.relu(x) : kind === 'sigmoid' ? ops.sigmoid(x) : ops.tanh(x)]];
    for (const [slope, y] of cases) {
      const ref = R.refUnary(kind, xd, slope ?? 0.01);
      const ctx = `${kind}[${be}] x ${shapeStr(shape)}${slope !== undefined ? ` slope ${slope}` : ''}`;
      expect(shapeOf(y), ctx).toEqual(shape);
      const exact = kind === 'relu';
      const tol = exact ? () => 0 : (i: number) => 1e-5 * Math.abs(ref[i]) + 1e-7;
      expectReport(compare(y.toArray(), ref, shape, tol, ctx));
      if (kind === 'relu') {
        // relu(-0) may be +-0; relu of a negative must be +0 or -0 (never negative)
        expect(Array.from(y.toArray()).every((v) => v >= 0), ctx).toBe(true);
      }
    }
    expect(firstBitDifference(x.toArray(), xd)).toBe(-1);
  });

  const SM: [number[], number][] = [[[1, 1], 1], [[3, 7], 1], [[2, 13], -1], [[2, 5, 3, 3], 1], [[4, 31], 1], [[2, 1000], 1], [[3, 4, 5], 0], [[3, 4, 5], 2], [[2, 17, 2, 3], -3], [[33], 0]];
  it.each(SM.flatMap(([s, d]) => [[s, d, false], [s, d, true]] as const))('softmax x %j dim %i log=%s', (shape, dim, log) => {
    const xd = normalF32(prod(shape), 81 + prod(shape), 0, 4);
    if (xd.length > 4) { xd[0] = 60; xd[1] = -60; xd[3] = 88; }
    const ref = R.refSoftmax(xd, shape, dim, log);
    const x = t(xd, shape);
    const y = log ? ops.logSoftmax(x, dim) : ops.softmax(x, dim);
    const ctx = `${log ? 'logSoftmax' : 'softmax'}[${be}] x ${shapeStr(shape)} dim ${dim}`;
    expect(shapeOf(y), ctx).toEqual(shape);
    const sq = Math.sqrt(ref.K!);
    const tol = log
      ? (i: number) => 1e-5 * Math.abs(ref.out[i]) + 2e-6 * (sq + ref.absSum![i])
      : (i: number) => Math.abs(ref.out[i]) * (1e-5 + 2e-6 * (sq + ref.absSum![i])) + 1e-30;
    expectReport(compare(y.toArray(), ref.out, shape, tol, ctx));
  });

  it('softmax default dim is 1', () => {
    const xd = normalF32(2 * 5 * 3, 91);
    const ref = R.refSoftmax(xd, [2, 5, 3], 1, false);
    expectReport(compare(ops.softmax(t(xd, [2, 5, 3])).toArray(), ref.out, [2, 5, 3], (i) => 1e-5 * ref.out[i] + 1e-7, `softmax[${be}] default dim`));
  });

  const BIN: [number[], number[]][] = [[[2, 3, 7, 7], [2, 3, 7, 7]], [[2, 3, 7, 7], [1, 3, 1, 1]], [[1, 17, 13, 13], [1, 17, 1, 1]],
    [[3, 33], [1, 33]], [[3, 33], [3, 33]], [[1], [1]], [[2, 5, 31], [1, 5, 1]], [[1, 1, 1, 1], [1, 1, 1, 1]], [[4, 16, 3, 5], [1, 16, 1, 1]], [[31], [31]]];
  const BKINDS = ['add', 'sub', 'mul', 'div'] as const;
  it.each(BKINDS.flatMap((k) => BIN.map(([a, b]) => [k, a, b] as const)))('%s a %j b %j', (kind, as, bs) => {
    const ad = normalF32(prod(as), 101 + prod(as), 0, 2);
    const bd = uniformF32(prod(bs), 102 + prod(bs), 0.25, 2); // away from 0 for div
    for (let i = 0; i < bd.length; i += 2) bd[i] = -bd[i];
    const a = t(ad, as), b = t(bd, bs);
    const y = ops[kind](a, b);
    const ref = R.refBinary(kind, ad, as, bd, bs);
    const ctx = `${kind}[${be}] a ${shapeStr(as)} b ${shapeStr(bs)}`;
    expect(shapeOf(y), ctx).toEqual(as);
    expectReport(compare(y.toArray(), ref, as, (i) => 1e-6 * Math.abs(ref[i]) + 1e-38, ctx));
    expect(firstBitDifference(a.toArray(), ad)).toBe(-1);
    expect(firstBitDifference(b.toArray(), bd)).toBe(-1);
  });

  const CE: [number, number, number][] = [[1, 1, 1], [3, 7, 4], [8, 10, 3], [2, 1000, 9], [5, 13, 50], [33, 17, 2], [4, 2, 80]];
  it.each(CE)('crossEntropy N=%i K=%i scale=%i', (N, K, scale) => {
    const ld = normalF32(N * K, 111 + N * K, 0, scale);
    const targets = Array.from({ length: N }, (_, n) => (n * 7 + 3) % K);
    const ref = R.refCrossEntropy(ld, N, K, targets);
    const ma = ld.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const ctx = `crossEntropy[${be}] logits [${N},${K}] targets ${JSON.stringify(targets.slice(0, 8))}`;
    for (const tg of [targets, Int32Array.from(targets)]) {
      const y = ops.crossEntropy(t(ld, [N, K]), tg);
      expect(y.size, ctx).toBe(1);
      const tol = 1e-5 * Math.abs(ref) + 2e-6 * (Math.sqrt(K) + Math.sqrt(N) + ma);
      expectReport(compare([y.item()], [ref], [1], () => tol, ctx));
    }
  });

  it.each([[[1]], [[7]], [[2, 3, 13, 13]], [[1, 33, 31, 31]], [[5, 17]]] as [number[]][])('mseLoss on %j', (shape) => {
    const ad = normalF32(prod(shape), 121 + prod(shape)), bd = normalF32(prod(shape), 122 + prod(shape), 0.5, 1);
    const ref = R.refMse(ad, bd);
    const y = ops.mseLoss(t(ad, shape), t(bd, shape));
    const ctx = `mseLoss[${be}] ${shapeStr(shape)}`;
    expect(y.size, ctx).toBe(1);
    const tol = 1e-5 * ref + 2e-6 * Math.sqrt(prod(shape)) * ref;
    expectReport(compare([y.item()], [ref], [1], () => tol, ctx));
  });

  it('flatten matches the reshape it defines and shares storage', () => {
    const xd = normalF32(2 * 3 * 4 * 5, 131);
    const x = t(xd, [2, 3, 4, 5]);
    expect(ops.flatten(x).shape).toEqual([2, 60]);
    expect(ops.flatten(x, 2).shape).toEqual([2, 3, 20]);
    expect(ops.flatten(x, 0).shape).toEqual([120]);
    expect(firstBitDifference(ops.flatten(x).toArray(), xd)).toBe(-1);
  });

  it('dropout: eval is identity, training keeps 0 or x/(1-p)', () => {
    const xd = uniformF32(4096, 141, 0.5, 1.5);
    const x = t(xd, [4, 1024]);
    expect(firstBitDifference(ops.dropout(x, 0.3, false).toArray(), xd)).toBe(-1);
    const y = ops.dropout(x, 0.25, true).toArray();
    let zeros = 0;
    for (let i = 0; i < y.length; i++) {
      if (y[i] === 0) zeros++;
      else expect(Math.abs(y[i] - xd[i] / 0.75)).toBeLessThanOrEqual(1e-6 * Math.abs(xd[i] / 0.75));
    }
    expect(zeros / y.length).toBeGreaterThan(0.2);
    expect(zeros / y.length).toBeLessThan(0.3);
  });
});

describe.each(BACKENDS)('non-finite values (%s backend)', (be: BackendName) => {
  beforeEach(() => setBackend(be));

  it('sigmoid keeps relative accuracy in the deep negative tail (x in [-103, -80])', () => {
    const xs: number[] = [];
    for (let v = -80; v >= -103; v -= 0.25) xs.push(v);
    const xd = Float32Array.from(xs);
    const got = ops.sigmoid(t(xd, [xd.length])).toArray();
    const ref = R.refUnary('sigmoid', xd);
    const FLT_MIN = 1.1754943508222875e-38;
    // normal results: a few ulps; results below FLT_MIN: a subnormal (or 0 under flush-to-zero), never above FLT_MIN
    const tol = (i: number) => (ref[i] >= FLT_MIN ? 1e-5 * ref[i] : Math.max(FLT_MIN - ref[i], 0));
    expectReport(compare(got, ref, [xd.length], tol, `sigmoid[${be}] tail x=${xs[0]}..${xs[xs.length - 1]}`));
  });

  it('NaN propagates through max/min pooling, global max and relu (PyTorch semantics)', () => {
    const shape = [1, 2, 16, 40];
    const xd = normalF32(prod(shape), 4242);
    const nanAt = [0, 17, 40 + 33, 5 * 40 + 7, 16 * 40 + 39, 16 * 40 + 15 * 40 + 20];
    for (const i of nanAt) xd[i] = NaN;
    const x = t(xd, shape);
    for (const mode of ['max', 'min'] as const) {
      const y = (mode === 'max' ? ops.maxPool2d : ops.minPool2d)(x, { kernelSize: 2 }).toArray();
      for (let c = 0; c < 2; c++) for (let i = 0; i < 8; i++) for (let j = 0; j < 20; j++) {
        let hasNaN = false;
        for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) if (Number.isNaN(xd[(c * 16 + 2 * i + a) * 40 + 2 * j + b])) hasNaN = true;
        const v = y[(c * 8 + i) * 20 + j];
        expect(Number.isNaN(v), `${mode}Pool2d[${be}] out [0,${c},${i},${j}] = ${v}, window has NaN: ${hasNaN}`).toBe(hasNaN);
      }
    }
    const g = ops.globalMaxPool2d(x).toArray();
    expect(Number.isNaN(g[0]) && Number.isNaN(g[1]), `globalMaxPool2d[${be}] = ${Array.from(g)}`).toBe(true);
    const r = ops.relu(x).toArray();
    for (const i of nanAt) expect(Number.isNaN(r[i]), `relu[${be}] at ${i}`).toBe(true);
  });

  it('softmax / logSoftmax / crossEntropy with -Infinity logits', () => {
    const ld = Float32Array.from([-Infinity, 0, 1, -Infinity, 2, 3, -Infinity, -Infinity, 5]);
    const p = ops.softmax(t(ld, [1, 9])).toArray();
    const ref = R.refSoftmax(ld, [1, 9], 1, false);
    expectReport(compare(p, ref.out, [1, 9], (i) => 1e-6 * ref.out[i], `softmax[${be}] with -inf`));
    const lp = ops.logSoftmax(t(ld, [1, 9])).toArray();
    const lref = R.refSoftmax(ld, [1, 9], 1, true);
    for (let i = 0; i < 9; i++) {
      if (lref.out[i] === -Infinity) expect(lp[i]).toBe(-Infinity);
      else expect(Math.abs(lp[i] - lref.out[i])).toBeLessThanOrEqual(1e-5 * Math.abs(lref.out[i]) + 1e-6);
    }
    const ce = ops.crossEntropy(t(ld, [1, 9]), [8]).item();
    expect(Math.abs(ce - R.refCrossEntropy(ld, 1, 9, [8]))).toBeLessThan(1e-5);
  });
});

// ---------------------------------------------------------------------------------------------
// thread-count independence (native) and ISA selection

describe('native results do not depend on the thread count', () => {
  let saved = 1;
  beforeEach(() => { setBackend('native'); saved = getNumThreads(); });
  afterAll(() => { setNumThreads(saved); });

  const run = (fn: () => Tensor | number): Float32Array => {
    const r = fn();
    return r instanceof Tensor ? r.toArray() : Float32Array.of(r);
  };

  const subjects: [string, () => Tensor | number][] = [];
  for (const idx of [3, 4, 7, 11, 13, 15, 21, 22, 27, 31]) {
    const c = CONV_CASES[idx];
    const { xd, wd, bd } = convData(c, 9000 + idx);
    subjects.push([`conv2d ${c.name}`, () => ops.conv2d(t(xd, c.x), t(wd, c.w), bd ? t(bd, [c.w[0]]) : null, c.o)]);
  }
  {
    const big = { x: [2, 64, 32, 32] as number[], w: [64, 64, 3, 3] as number[] };
    const xd = normalF32(prod(big.x), 9100), wd = normalF32(prod(big.w), 9101, 0, 0.1);
    subjects.push(['conv2d [2,64,32,32] * [64,64,3,3] p1', () => ops.conv2d(t(xd, big.x), t(wd, big.w), null, { padding: 1 })]);
    const dw = normalF32(64 * 9, 9102);
    subjects.push(['depthwise [2,64,32,32] 3x3 p1', () => ops.conv2d(t(xd, big.x), t(dw, [64, 1, 3, 3]), null, { padding: 1, groups: 64 })]);
    subjects.push(['maxPool2d k3 s2 p1', () => ops.maxPool2d(t(xd, big.x), { kernelSize: 3, stride: 2, padding: 1 })]);
    subjects.push(['avgPool2d k3 s2 p1 ceil', () => ops.avgPool2d(t(xd, big.x), { kernelSize: 3, stride: 2, padding: 1, ceilMode: true })]);
    subjects.push(['globalAvgPool2d', () => ops.globalAvgPool2d(t(xd, big.x))]);
    const C = 64;
    const rm = normalF32(C, 9103), rv = uniformF32(C, 9104, 0.5, 2);
    subjects.push(['batchNorm2d eval', () => ops.batchNorm2d(t(xd, big.x), { runningMean: t(rm, [C]), runningVar: t(rv, [C]) })]);
    subjects.push(['batchNorm2d training', () => ops.batchNorm2d(t(xd, big.x), { runningMean: t(rm, [C]), runningVar: t(rv, [C]), training: true })]);
    subjects.push(['layerNorm', () => ops.layerNorm(t(xd, big.x), [64, 32, 32])]);
    subjects.push(['instanceNorm2d', () => ops.instanceNorm2d(t(xd, big.x))]);
    subjects.push(['softmax dim 1', () => ops.softmax(t(xd, big.x), 1)]);
    subjects.push(['tanh', () => ops.tanh(t(xd, big.x))]);
    subjects.push(['add broadcast', () => ops.add(t(xd, big.x), t(rm, [1, C, 1, 1]))]);
    subjects.push(['mseLoss', () => ops.mseLoss(t(xd, big.x), t(xd.map((v) => v * 0.5), big.x)).item()]);
    const lx = normalF32(64 * 1024, 9105), lw = normalF32(100 * 1024, 9106, 0, 0.05);
    subjects.push(['linear [64,1024] x [100,1024]', () => ops.linear(t(lx, [64, 1024]), t(lw, [100, 1024]), null)]);
    subjects.push(['crossEntropy [64,1024]', () => ops.crossEntropy(t(lx, [64, 1024]), Array.from({ length: 64 }, (_, i) => i * 13 % 1024)).item()]);
  }

  it.each(subjects)('%s: 1 vs 2 vs 3 threads bit-identical', (name, fn) => {
    setNumThreads(1);
    const a = run(fn);
    setNumThreads(2);
    const b = run(fn);
    setNumThreads(3);
    const c = run(fn);
    setNumThreads(saved);
    expect(firstBitDifference(a, b), `${name}: 1 vs 2 threads differ at index ${firstBitDifference(a, b)}`).toBe(-1);
    expect(firstBitDifference(a, c), `${name}: 1 vs 3 threads differ at index ${firstBitDifference(a, c)}`).toBe(-1);
  });
});

describe('ISA selection', () => {
  it('cpuInfo().isa equals SIMDCNN_ISA when set', () => {
    const want = process.env.SIMDCNN_ISA;
    const info = cpuInfo();
    expect(['avx512', 'avx2', 'neon', 'scalar']).toContain(info.isa);
    expect(typeof info.threads).toBe('number');
    if (want) {
      expect(info.isa).toBe(want);
      expect((info as { forced?: boolean }).forced).toBe(true);
    }
  });
});
