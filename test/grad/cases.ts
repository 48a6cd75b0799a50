/**
 * One entry per differentiable op configuration: the float64 forward (pure-TS reference backend),
 * the analytic gradient (reference backward kernels), and the same op through the public API.
 * Input data is float32-representable so the float64 reference and the float32 API see equal inputs.
 */
import { jsBackend } from '../../lib/backend/js/index';
import * as bw from '../../lib/backend/js/backward';
import type { BinaryKind, Conv2dGeom, PoolGeom, PoolMode, UnaryKind } from '../../lib/backend/types';
import { ops, Tensor, zeros, ones } from '../../lib/index';
import { awayFromZero, distinct, positive, rand, uniform, type F64, type Gen } from './fd';

export interface InputSpec { name: string; shape: number[]; gen: Gen; grad?: boolean }

export interface GradCase {
  name: string;
  inputs: InputSpec[];
  outShape: number[];
  /** Float64 forward of the op. */
  forward(ins: F64[]): F64;
  /** Reference gradients for each input given dy (null for inputs without grad). */
  backward(ins: F64[], out: F64, dy: F64): (F64 | null)[];
  /** The op through the public API. */
  api(ts: Tensor[]): Tensor;
  /** Reduction length behind one gradient element (scales the float32 tolerance). */
  red: number;
  /**
   * Magnitude of the terms that cancel into a gradient, when it can exceed the gradient itself
   * (batch norm over 2 values: dx is ~eps-sized but its terms are |dy| / std). Defaults to the
   * gradient's own largest magnitude.
   */
  termScale?(ins: F64[], dy: F64): number;
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const f64 = (n: number) => new Float64Array(n);

/** PyTorch's output size (ceilMode drops a last window starting in the end padding). */
export function outSize(I: number, K: number, S: number, pb: number, pe: number, D: number, ceil: boolean): number {
  const span = I + pb + pe - D * (K - 1) - 1;
  let o = (ceil ? Math.ceil(span / S) : Math.floor(span / S)) + 1;
  if (ceil && (o - 1) * S >= I + pb) o--;
  return o;
}

// ---- conv2d ----------------------------------------------------------------------------------

interface ConvSpec {
  N: number; C: number; H: number; W: number; outC: number; kH: number; kW: number;
  stride?: [number, number]; pad?: [number, number, number, number]; dil?: [number, number]; groups?: number; bias?: boolean;
}

function convCase(name: string, s: ConvSpec): GradCase {
  const [sh, sw] = s.stride ?? [1, 1];
  const [pt, pl, pb, pr] = s.pad ?? [0, 0, 0, 0];
  const [dh, dw] = s.dil ?? [1, 1];
  const groups = s.groups ?? 1;
  const g: Conv2dGeom = {
    N: s.N, C: s.C, H: s.H, W: s.W, outC: s.outC, kH: s.kH, kW: s.kW, strideH: sh, strideW: sw,
    padTop: pt, padLeft: pl, padBottom: pb, padRight: pr, dilationH: dh, dilationW: dw, groups,
    OH: outSize(s.H, s.kH, sh, pt, pb, dh, false), OW: outSize(s.W, s.kW, sw, pl, pr, dw, false),
  };
  const bias = s.bias ?? true;
  const inputs: InputSpec[] = [
    { name: 'x', shape: [s.N, s.C, s.H, s.W], gen: uniform() },
    { name: 'weight', shape: [s.outC, s.C / groups, s.kH, s.kW], gen: uniform(-0.5, 0.5) },
  ];
  if (bias) inputs.push({ name: 'bias', shape: [s.outC], gen: uniform() });
  return {
    name: `conv2d ${name}`,
    inputs,
    outShape: [s.N, s.outC, g.OH, g.OW],
    red: Math.max((s.outC / groups) * s.kH * s.kW, (s.C / groups) * s.kH * s.kW, s.N * g.OH * g.OW),
    forward: ([x, w, b]) => {
      const out = f64(s.N * s.outC * g.OH * g.OW);
      jsBackend.conv2d(x, w, bias ? b : null, g, out);
      return out;
    },
    backward: ([x, w], _out, dy) => {
      const dx = f64(x.length), dw = f64(w.length);
      bw.conv2dBackwardInput(dy, w, g, dx);
      bw.conv2dBackwardWeight(x, dy, g, dw);
      if (!bias) return [dx, dw];
      const db = f64(s.outC);
      bw.conv2dBackwardBias(dy, g, db);
      return [dx, dw, db];
    },
    api: ([x, w, b]) => ops.conv2d(x, w, bias ? b : null, { stride: [sh, sw], padding: [pt, pl, pb, pr], dilation: [dh, dw], groups }),
  };
}

export const convCases: GradCase[] = [
  convCase('3x3 pad 1', { N: 2, C: 3, H: 7, W: 6, outC: 5, kH: 3, kW: 3, pad: [1, 1, 1, 1] }),
  convCase('stride 2, asymmetric padding, 3x2 kernel', { N: 1, C: 3, H: 9, W: 8, outC: 4, kH: 3, kW: 2, stride: [2, 2], pad: [1, 0, 2, 1] }),
  convCase('dilation 2, stride [1,2], no bias', { N: 2, C: 2, H: 8, W: 7, outC: 3, kH: 3, kW: 3, stride: [1, 2], dil: [2, 2], bias: false }),
  convCase('dilation [2,1], stride [3,1], pad [2,1]', { N: 1, C: 2, H: 11, W: 5, outC: 2, kH: 2, kW: 3, stride: [3, 1], dil: [2, 1], pad: [2, 1, 2, 1] }),
  convCase('groups 2', { N: 2, C: 4, H: 5, W: 5, outC: 6, kH: 3, kW: 3, pad: [1, 1, 1, 1], groups: 2 }),
  convCase('groups 3, 7 out per group', { N: 1, C: 9, H: 4, W: 5, outC: 21, kH: 2, kW: 2, groups: 3 }),
  convCase('depthwise stride 2', { N: 2, C: 5, H: 7, W: 7, outC: 5, kH: 3, kW: 3, stride: [2, 2], pad: [1, 1, 1, 1], groups: 5 }),
  convCase('depthwise multiplier 2', { N: 1, C: 3, H: 6, W: 5, outC: 6, kH: 3, kW: 3, pad: [1, 1, 1, 1], groups: 3 }),
  convCase('1x1, C=11 -> 9', { N: 2, C: 11, H: 5, W: 3, outC: 9, kH: 1, kW: 1 }),
  convCase('1x1 stride 2', { N: 1, C: 3, H: 5, W: 4, outC: 2, kH: 1, kW: 1, stride: [2, 2] }),
  convCase('all sizes 1', { N: 1, C: 1, H: 1, W: 1, outC: 1, kH: 1, kW: 1 }),
  convCase('kernel = input (1x1 output), C=13 -> 1', { N: 3, C: 13, H: 5, W: 5, outC: 1, kH: 5, kW: 5 }),
  convCase('padding wider than needed, 1 row input', { N: 1, C: 2, H: 1, W: 7, outC: 3, kH: 3, kW: 3, pad: [2, 1, 2, 1] }),
];

// ---- pooling ---------------------------------------------------------------------------------

interface PoolSpec {
  N: number; C: number; H: number; W: number; k: [number, number]; stride?: [number, number];
  pad?: [number, number]; dil?: [number, number]; ceil?: boolean; countIncludePad?: boolean;
}

function poolCase(mode: PoolMode, name: string, s: PoolSpec): GradCase {
  const [kH, kW] = s.k;
  const [sh, sw] = s.stride ?? s.k;
  const [ph, pw] = s.pad ?? [0, 0];
  const [dh, dw] = s.dil ?? [1, 1];
  const ceil = s.ceil ?? false;
  const cip = s.countIncludePad ?? true;
  const g: PoolGeom = {
    N: s.N, C: s.C, H: s.H, W: s.W, kH, kW, strideH: sh, strideW: sw, padH: ph, padW: pw, dilationH: dh, dilationW: dw,
    ceilMode: ceil, OH: outSize(s.H, kH, sh, ph, ph, dh, ceil), OW: outSize(s.W, kW, sw, pw, pw, dw, ceil),
  };
  const o: Record<string, unknown> = { kernelSize: [kH, kW], stride: [sh, sw], padding: [ph, pw], ceilMode: ceil };
  if (mode === 'max') o.dilation = [dh, dw];
  if (mode === 'avg') o.countIncludePad = cip;
  const fn = mode === 'max' ? ops.maxPool2d : mode === 'avg' ? ops.avgPool2d : ops.minPool2d;
  return {
    name: `${mode}Pool2d ${name}`,
    inputs: [{ name: 'x', shape: [s.N, s.C, s.H, s.W], gen: mode === 'avg' ? uniform() : distinct }],
    outShape: [s.N, s.C, g.OH, g.OW],
    red: kH * kW,
    forward: ([x]) => { const out = f64(s.N * s.C * g.OH * g.OW); jsBackend.pool2d(x, g, mode, cip, out); return out; },
    backward: ([x], _o, dy) => { const dx = f64(x.length); bw.pool2dBackward(x, dy, g, mode, cip, dx); return [dx]; },
    api: ([x]) => (fn as (x: Tensor, o: unknown) => Tensor)(x, o),
  };
}

export const poolCases: GradCase[] = [
  poolCase('max', 'k2 (plain)', { N: 2, C: 3, H: 6, W: 5, k: [2, 2] }),
  poolCase('max', 'k3 s2 p1', { N: 2, C: 3, H: 7, W: 6, k: [3, 3], stride: [2, 2], pad: [1, 1] }),
  poolCase('max', 'k3 s2 p1 ceilMode', { N: 1, C: 2, H: 8, W: 7, k: [3, 3], stride: [2, 2], pad: [1, 1], ceil: true }),
  poolCase('max', 'k3 s2 ceilMode, no padding', { N: 1, C: 3, H: 6, W: 8, k: [3, 3], stride: [2, 2], ceil: true }),
  poolCase('max', 'k2 dilation 2 stride 1', { N: 1, C: 2, H: 6, W: 7, k: [2, 2], stride: [1, 1], dil: [2, 2] }),
  poolCase('max', 'k[3,2] stride [2,1] pad [1,1] dilation [1,2]', { N: 2, C: 1, H: 7, W: 6, k: [3, 2], stride: [2, 1], pad: [1, 1], dil: [1, 2] }),
  poolCase('max', 'overlapping k3 s1 p1 on 1xW', { N: 1, C: 5, H: 1, W: 9, k: [3, 3], stride: [1, 1], pad: [1, 1] }),
  poolCase('avg', 'k2 (plain)', { N: 2, C: 3, H: 6, W: 5, k: [2, 2] }),
  poolCase('avg', 'k3 s2 p1 countIncludePad', { N: 2, C: 2, H: 7, W: 6, k: [3, 3], stride: [2, 2], pad: [1, 1] }),
  poolCase('avg', 'k3 s2 p1 excludePad', { N: 2, C: 2, H: 7, W: 6, k: [3, 3], stride: [2, 2], pad: [1, 1], countIncludePad: false }),
  poolCase('avg', 'k3 s2 p1 ceilMode countIncludePad', { N: 1, C: 3, H: 8, W: 6, k: [3, 3], stride: [2, 2], pad: [1, 1], ceil: true }),
  poolCase('avg', 'k3 s2 p1 ceilMode excludePad', { N: 1, C: 3, H: 8, W: 6, k: [3, 3], stride: [2, 2], pad: [1, 1], ceil: true, countIncludePad: false }),
  poolCase('avg', 'k[2,3] s[1,2] ceilMode', { N: 1, C: 2, H: 5, W: 8, k: [2, 3], stride: [1, 2], ceil: true }),
  poolCase('min', 'k2 (plain)', { N: 2, C: 3, H: 6, W: 5, k: [2, 2] }),
  poolCase('min', 'k3 s2 p1 ceilMode', { N: 1, C: 2, H: 8, W: 7, k: [3, 3], stride: [2, 2], pad: [1, 1], ceil: true }),
];

function globalCase(mode: 'avg' | 'max', N: number, C: number, H: number, W: number): GradCase {
  const HW = H * W;
  return {
    name: `global${mode === 'avg' ? 'Avg' : 'Max'}Pool2d [${N},${C},${H},${W}]`,
    inputs: [{ name: 'x', shape: [N, C, H, W], gen: mode === 'max' ? distinct : uniform() }],
    outShape: [N, C, 1, 1],
    red: HW,
    forward: ([x]) => { const out = f64(N * C); jsBackend.globalPool2d(x, N, C, HW, mode, out); return out; },
    backward: ([x], _o, dy) => { const dx = f64(x.length); bw.globalPool2dBackward(x, dy, N, C, HW, mode, dx); return [dx]; },
    api: ([x]) => (mode === 'avg' ? ops.globalAvgPool2d(x) : ops.globalMaxPool2d(x)),
  };
}

export const globalPoolCases: GradCase[] = [
  globalCase('avg', 2, 3, 5, 4), globalCase('avg', 1, 9, 1, 1), globalCase('max', 2, 3, 5, 4), globalCase('max', 3, 2, 1, 7),
];

// ---- normalisation ----------------------------------------------------------------------------

const EPS = 1e-5;

function bnTrainCase(N: number, C: number, H: number, W: number, affine: boolean): GradCase {
  const HW = H * W;
  const inputs: InputSpec[] = [{ name: 'x', shape: [N, C, H, W], gen: uniform(-2, 3) }];
  if (affine) inputs.push({ name: 'weight', shape: [C], gen: uniform(0.5, 1.5) }, { name: 'bias', shape: [C], gen: uniform() });
  return {
    name: `batchNorm2d training [${N},${C},${H},${W}]${affine ? ' affine' : ''}`,
    inputs,
    outShape: [N, C, H, W],
    red: N * HW,
    termScale: ([x, w], dy) => {
      const mean = f64(C), v = f64(C);
      jsBackend.channelStats(x, N, C, HW, mean, v);
      let s = 0;
      for (let c = 0; c < C; c++) s = Math.max(s, (affine ? Math.abs(w[c]) : 1) / Math.sqrt(v[c] + EPS));
      let d = 0;
      for (let i = 0; i < dy.length; i++) d = Math.max(d, Math.abs(dy[i]));
      return s * d;
    },
    forward: ([x, w, b]) => {
      const mean = f64(C), v = f64(C), out = f64(x.length);
      jsBackend.channelStats(x, N, C, HW, mean, v);
      jsBackend.batchNorm2d(x, N, C, HW, mean, v, affine ? w : null, affine ? b : null, EPS, out);
      return out;
    },
    backward: ([x, w], _o, dy) => {
      const dx = f64(x.length);
      if (!affine) { bw.batchNorm2dBackward(x, dy, N, C, HW, null, EPS, dx, null, null); return [dx]; }
      const dw = f64(C), db = f64(C);
      bw.batchNorm2dBackward(x, dy, N, C, HW, w, EPS, dx, dw, db);
      return [dx, dw, db];
    },
    api: ([x, w, b]) => ops.batchNorm2d(x, {
      runningMean: zeros([C]), runningVar: ones([C]), weight: affine ? w : null, bias: affine ? b : null, training: true,
    }),
  };
}

function bnEvalCase(N: number, C: number, H: number, W: number): GradCase {
  const HW = H * W;
  const r = rand(99);
  const rm = uniform()(C, r), rv = positive()(C, r);
  return {
    name: `batchNorm2d eval [${N},${C},${H},${W}]`,
    inputs: [
      { name: 'x', shape: [N, C, H, W], gen: uniform() },
      { name: 'weight', shape: [C], gen: uniform(0.5, 1.5) },
      { name: 'bias', shape: [C], gen: uniform() },
    ],
    outShape: [N, C, H, W],
    red: N * HW,
    forward: ([x, w, b]) => {
      const out = f64(x.length);
      jsBackend.batchNorm2d(x, N, C, HW, Float64Array.from(rm), Float64Array.from(rv), w, b, EPS, out);
      return out;
    },
    backward: ([x, w], _o, dy) => {
      const dx = f64(x.length), dw = f64(C), db = f64(C);
      bw.batchNorm2dBackwardEval(x, dy, N, C, HW, Float64Array.from(rm), Float64Array.from(rv), w, EPS, dx, dw, db);
      return [dx, dw, db];
    },
    api: ([x, w, b]) => ops.batchNorm2d(x, {
      runningMean: Tensor.from(rm, [C]), runningVar: Tensor.from(rv, [C]), weight: w, bias: b, training: false,
    }),
  };
}

function layerNormCase(shape: number[], k: number, affine: boolean): GradCase {
  const ns = shape.slice(shape.length - k);
  const inner = size(ns), outer = size(shape) / inner;
  const inputs: InputSpec[] = [{ name: 'x', shape, gen: uniform(-1, 2) }];
  if (affine) inputs.push({ name: 'weight', shape: ns, gen: uniform(0.5, 1.5) }, { name: 'bias', shape: ns, gen: uniform() });
  return {
    name: `layerNorm [${shape}] over [${ns}]${affine ? ' affine' : ''}`,
    inputs,
    outShape: shape,
    red: Math.max(inner, outer),
    forward: ([x, w, b]) => { const out = f64(x.length); jsBackend.layerNorm(x, outer, inner, affine ? w : null, affine ? b : null, EPS, out); return out; },
    backward: ([x, w], _o, dy) => {
      const dx = f64(x.length);
      if (!affine) { bw.layerNormBackward(x, dy, outer, inner, null, EPS, dx, null, null); return [dx]; }
      const dw = f64(inner), db = f64(inner);
      bw.layerNormBackward(x, dy, outer, inner, w, EPS, dx, dw, db);
      return [dx, dw, db];
    },
    api: ([x, w, b]) => ops.layerNorm(x, ns, affine ? w : null, affine ? b : null),
  };
}

function instanceNormCase(N: number, C: number, H: number, W: number, affine: boolean): GradCase {
  const HW = H * W;
  const inputs: InputSpec[] = [{ name: 'x', shape: [N, C, H, W], gen: uniform(-1, 2) }];
  if (affine) inputs.push({ name: 'weight', shape: [C], gen: uniform(0.5, 1.5) }, { name: 'bias', shape: [C], gen: uniform() });
  return {
    name: `instanceNorm2d [${N},${C},${H},${W}]${affine ? ' affine' : ''}`,
    inputs,
    outShape: [N, C, H, W],
    red: N * HW,
    forward: ([x, w, b]) => { const out = f64(x.length); jsBackend.instanceNorm2d(x, N, C, HW, affine ? w : null, affine ? b : null, EPS, out); return out; },
    backward: ([x, w], _o, dy) => {
      const dx = f64(x.length);
      if (!affine) { bw.instanceNorm2dBackward(x, dy, N, C, HW, null, EPS, dx, null, null); return [dx]; }
      const dw = f64(C), db = f64(C);
      bw.instanceNorm2dBackward(x, dy, N, C, HW, w, EPS, dx, dw, db);
      return [dx, dw, db];
    },
    api: ([x, w, b]) => ops.instanceNorm2d(x, affine ? w : null, affine ? b : null),
  };
}

export const normCases: GradCase[] = [
  bnTrainCase(3, 5, 4, 3, true), bnTrainCase(2, 3, 1, 1, false), bnTrainCase(1, 2, 3, 5, true),
  bnEvalCase(2, 3, 4, 5), bnEvalCase(1, 9, 1, 2),
  layerNormCase([3, 4, 5], 2, true), layerNormCase([4, 7], 1, false), layerNormCase([2, 3, 2, 3], 3, true),
  instanceNormCase(2, 3, 4, 5, true), instanceNormCase(1, 2, 1, 7, false),
];

// ---- linear / matmul --------------------------------------------------------------------------

function linearCase(N: number, inF: number, outF: number, bias: boolean): GradCase {
  const inputs: InputSpec[] = [
    { name: 'x', shape: [N, inF], gen: uniform() },
    { name: 'weight', shape: [outF, inF], gen: uniform(-0.5, 0.5) },
  ];
  if (bias) inputs.push({ name: 'bias', shape: [outF], gen: uniform() });
  return {
    name: `linear [${N},${inF}] -> ${outF}${bias ? '' : ' no bias'}`,
    inputs,
    outShape: [N, outF],
    red: Math.max(inF, outF, N),
    forward: ([x, w, b]) => { const out = f64(N * outF); jsBackend.linear(x, w, bias ? b : null, N, inF, outF, out); return out; },
    backward: ([x, w], _o, dy) => {
      const dx = f64(x.length), dw = f64(w.length), db = bias ? f64(outF) : null;
      bw.linearBackward(x, w, dy, N, inF, outF, dx, dw, db);
      return bias ? [dx, dw, db] : [dx, dw];
    },
    api: ([x, w, b]) => ops.linear(x, w, bias ? b : null),
  };
}

function matmulCase(M: number, K: number, N: number): GradCase {
  return {
    name: `matmul [${M},${K}] x [${K},${N}]`,
    inputs: [{ name: 'a', shape: [M, K], gen: uniform() }, { name: 'b', shape: [K, N], gen: uniform() }],
    outShape: [M, N],
    red: Math.max(M, K, N),
    forward: ([a, b]) => { const out = f64(M * N); jsBackend.matmul(a, b, M, K, N, out); return out; },
    backward: ([a, b], _o, dy) => {
      const da = f64(a.length), db = f64(b.length);
      bw.matmulBackward(a, b, dy, M, K, N, da, db);
      return [da, db];
    },
    api: ([a, b]) => ops.matmul(a, b),
  };
}

export const linearCases: GradCase[] = [
  linearCase(5, 7, 3, true), linearCase(1, 1, 1, true), linearCase(3, 17, 9, false), linearCase(4, 33, 2, true),
  matmulCase(4, 6, 3), matmulCase(1, 13, 1), matmulCase(5, 1, 7),
];

// ---- activations, softmax ---------------------------------------------------------------------

function unaryCase(kind: UnaryKind, alpha: number, shape: number[]): GradCase {
  const n = size(shape);
  return {
    name: `${kind}${kind === 'leakyRelu' ? ` slope ${alpha}` : ''} [${shape}]`,
    inputs: [{ name: 'x', shape, gen: kind === 'relu' || kind === 'leakyRelu' ? awayFromZero : uniform(-3, 3) }],
    outShape: shape,
    red: 1,
    forward: ([x]) => { const out = f64(n); jsBackend.unary(kind, x, alpha, out); return out; },
    backward: ([x], y, dy) => { const dx = f64(n); bw.unaryBackward(kind, x, y, dy, alpha, dx); return [dx]; },
    api: ([x]) => (kind === 'relu' ? ops.relu(x) : kind === 'leakyRelu' ? ops.leakyRelu(x, alpha)
      : kind === 'sigmoid' ? ops.sigmoid(x) : ops.tanh(x)),
  };
}

function softmaxCase(log: boolean, shape: number[], dim: number): GradCase {
  const d = dim < 0 ? dim + shape.length : dim;
  const outer = size(shape.slice(0, d)), n = shape[d], inner = size(shape.slice(d + 1));
  return {
    name: `${log ? 'logSoftmax' : 'softmax'} [${shape}] dim ${dim}`,
    inputs: [{ name: 'x', shape, gen: uniform(-2, 2) }],
    outShape: shape,
    red: n,
    forward: ([x]) => { const out = f64(x.length); jsBackend.softmax(x, outer, n, inner, log, out); return out; },
    backward: (_i, y, dy) => {
      const dx = f64(y.length);
      if (log) bw.logSoftmaxBackward(y, dy, outer, n, inner, dx); else bw.softmaxBackward(y, dy, outer, n, inner, dx);
      return [dx];
    },
    api: ([x]) => (log ? ops.logSoftmax(x, dim) : ops.softmax(x, dim)),
  };
}

export const activationCases: GradCase[] = [
  unaryCase('relu', 0, [2, 3, 5]), unaryCase('leakyRelu', 0.1, [2, 3, 5]), unaryCase('leakyRelu', 0.01, [17]),
  unaryCase('sigmoid', 0, [2, 3, 5]), unaryCase('tanh', 0, [2, 3, 5]),
  ...[0, 1, -1].flatMap((dim) => [softmaxCase(false, [3, 4, 5], dim), softmaxCase(true, [3, 4, 5], dim)]),
  softmaxCase(false, [6, 1], 1), softmaxCase(true, [2, 11], 1), softmaxCase(false, [7], 0),
];

// ---- elementwise ------------------------------------------------------------------------------

function binaryCase(kind: BinaryKind, shape: number[], channel: boolean): GradCase {
  const [N, C] = shape;
  const inner = channel ? size(shape.slice(2)) : size(shape);
  const bShape = channel ? [1, C, ...shape.slice(2).map(() => 1)] : shape;
  const mode = channel ? 'channel' : 'same';
  const dims: [number, number, number] = channel ? [N, C, inner] : [1, 1, inner];
  return {
    name: `${kind} ${channel ? 'per-channel' : 'same-shape'} [${shape}]`,
    inputs: [
      { name: 'a', shape, gen: uniform() },
      { name: 'b', shape: bShape, gen: kind === 'div' ? positive() : uniform() },
    ],
    outShape: shape,
    red: channel ? N * inner : 1,
    forward: ([a, b]) => { const out = f64(a.length); jsBackend.binary(kind, a, b, ...dims, mode, out); return out; },
    backward: ([a, b], _o, dy) => {
      const da = f64(a.length), db = f64(b.length);
      bw.binaryBackward(kind, a, b, dy, ...dims, mode, da, db);
      return [da, db];
    },
    api: ([a, b]) => ({ add: ops.add, sub: ops.sub, mul: ops.mul, div: ops.div })[kind](a, b),
  };
}

export const elementwiseCases: GradCase[] = (['add', 'sub', 'mul', 'div'] as BinaryKind[]).flatMap((k) => [
  binaryCase(k, [2, 3, 4, 5], false), binaryCase(k, [2, 3, 4, 5], true), binaryCase(k, [3, 7, 1, 3], true),
]);

// ---- losses, dropout --------------------------------------------------------------------------

function crossEntropyCase(N: number, K: number, targets: number[]): GradCase {
  const t = Int32Array.from(targets);
  return {
    name: `crossEntropy [${N},${K}]`,
    inputs: [{ name: 'logits', shape: [N, K], gen: uniform(-3, 3) }],
    outShape: [],
    red: K,
    forward: ([l]) => Float64Array.of(jsBackend.crossEntropy(l, t, N, K)),
    backward: ([l], _o, dy) => { const dl = f64(l.length); bw.crossEntropyBackward(l, t, N, K, dy[0], dl); return [dl]; },
    api: ([l]) => ops.crossEntropy(l, t),
  };
}

function mseCase(shape: number[]): GradCase {
  return {
    name: `mseLoss [${shape}]`,
    inputs: [{ name: 'a', shape, gen: uniform() }, { name: 'b', shape, gen: uniform() }],
    outShape: [],
    red: 1,
    forward: ([a, b]) => Float64Array.of(jsBackend.mseLoss(a, b)),
    backward: ([a, b], _o, dy) => { const da = f64(a.length), db = f64(b.length); bw.mseLossBackward(a, b, dy[0], da, db); return [da, db]; },
    api: ([a, b]) => ops.mseLoss(a, b),
  };
}

/** Dropout with a fixed inverted-dropout mask (0 or 1/(1-p)); the API case draws its own mask. */
export function dropoutCase(shape: number[], p: number, seed: number): GradCase & { mask: Float32Array } {
  const n = size(shape);
  const r = rand(seed);
  const mask = Float32Array.from({ length: n }, () => (r() < p ? 0 : 1 / (1 - p)));
  const m64 = Float64Array.from(mask);
  return {
    name: `dropout p=${p} [${shape}] (fixed mask)`,
    mask,
    inputs: [{ name: 'x', shape, gen: uniform() }],
    outShape: shape,
    red: 1,
    forward: ([x]) => { const out = f64(n); jsBackend.binary('mul', x, m64, 1, 1, n, 'same', out); return out; },
    backward: ([x], _o, dy) => { const dx = f64(n); bw.binaryBackward('mul', x, m64, dy, 1, 1, n, 'same', dx, null); return [dx]; },
    api: ([x]) => ops.dropout(x, p, true),
  };
}

export const lossCases: GradCase[] = [
  crossEntropyCase(5, 7, [0, 6, 3, 3, 1]), crossEntropyCase(1, 1, [0]), crossEntropyCase(3, 2, [1, 0, 1]),
  mseCase([3, 4]), mseCase([2, 3, 1, 5]),
];

export const allCases: GradCase[] = [
  ...convCases, ...poolCases, ...globalPoolCases, ...normCases, ...linearCases, ...activationCases,
  ...elementwiseCases, ...lossCases,
];

/** Deterministic float32-representable inputs for a case. */
export function makeInputs(c: GradCase, seed: number): Float32Array[] {
  const r = rand(seed);
  return c.inputs.map((s) => s.gen(size(s.shape), r));
}

/** A fixed random objective weight R with the case's output shape. */
export function makeR(c: GradCase, seed: number): Float32Array {
  return uniform()(Math.max(1, size(c.outShape)), rand(seed ^ 0x5bd1e995));
}
