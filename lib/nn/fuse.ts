/**
 * Planned inference: batch norm folded into the preceding convolution, the following ReLU (and, in
 * residual blocks, the skip connection's add) fused into the convolution's epilogue, and the
 * weights rearranged once for the fastest kernel the backend has for the layer's shape
 * (Winograd-transformed for 3x3 stride-1 layers where that wins, panel-packed otherwise). Used by
 * containers (Sequential), Conv2d and the model blocks when the modules are in eval() mode, no tape
 * is being recorded, and fast inference is on.
 *
 *   y = gamma * (conv(x, W) + b - mean) / sqrt(var + eps) + beta
 *     = conv(x, W * s) + (b - mean) * s + beta,   s = gamma / sqrt(var + eps)   (per output channel)
 *
 * The prepared weights are cached per convolution and rebuilt when any source tensor's version
 * changes (optimiser steps, loadStateDict), the backend changes, or the input's spatial size
 * changes (the kernel choice depends on it). They are persistent tensors, so memory() counts them;
 * Module.dispose frees them.
 */
import { Tensor, persist, allocOutput, sameShape } from '../tensor';
import { isGradEnabled } from '../autograd/tape';
import { backend } from '../backend/index';
import type { Conv2dGeom, PreparedConv2d } from '../backend/types';
import { conv2dAct, conv2dGeom } from '../ops/conv2d';
import { add } from '../ops/elementwise';
import { relu as reluOp } from '../ops/activation';
import { shapeStr } from '../errors';
import type { Module } from './module';
import type { Conv2d } from './conv';
import type { BatchNorm2d } from './norm';
import type { Linear } from './linear';
import { linear as linearOp, linearDims } from '../ops/linear';

interface Plan {
  /** What the prepared data was made from (planMatches compares it field by field, no strings). */
  stamp: Stamp;
  /** Geometry of the last input shape (validated by conv2dGeom) and the output shape. */
  geom: Conv2dGeom | null;
  outShape: readonly number[];
  bias: Tensor;
  /** Folded weights for backend().conv2d (null when prepared, or without BN: conv.weight serves). */
  weight: Tensor | null;
  prepared: PreparedConv2d | null;
  /** Holds prepared.data so memory() accounts for it. */
  preparedHolder: Tensor | null;
}
const plans = new WeakMap<Conv2d, Plan>();

/** The sources of a plan: each tensor with the version it had, and the choices that shaped it. */
interface Stamp {
  backend: string;
  H: number; W: number;
  pack: boolean; wino: boolean;
  tensors: (Tensor | null)[];
  versions: number[];
  bn: BatchNorm2d | null;
  eps: number;
}

function sources(conv: Conv2d, bn: BatchNorm2d | null): (Tensor | null)[] {
  return bn ? [conv.weight, conv.bias, bn.weight, bn.bias, bn.runningMean, bn.runningVar] : [conv.weight, conv.bias];
}

function makeStamp(conv: Conv2d, bn: BatchNorm2d | null, H: number, W: number): Stamp {
  const tensors = sources(conv, bn);
  return { backend: backend().name, H, W, pack: conv.packWeights, wino: conv.winograd, tensors,
    versions: tensors.map((t) => (t ? t.version : -1)), bn, eps: bn ? bn.eps : 0 };
}

// Runs every call of a planned forward: plain comparisons, nothing allocated.
function planMatches(st: Stamp, conv: Conv2d, bn: BatchNorm2d | null, H: number, W: number): boolean {
  if (st.backend !== backend().name || st.H !== H || st.W !== W || st.pack !== conv.packWeights ||
    st.wino !== conv.winograd || st.bn !== bn || (bn !== null && st.eps !== bn.eps)) return false;
  const t = st.tensors;
  if (t[0] !== conv.weight || t[1] !== conv.bias) return false;
  if (bn && (t[2] !== bn.weight || t[3] !== bn.bias || t[4] !== bn.runningMean || t[5] !== bn.runningVar)) return false;
  for (let i = 0; i < t.length; i++) {
    const ti = t[i];
    if ((ti ? ti.version : -1) !== st.versions[i]) return false;
  }
  return true;
}

/** True when the planned path may run for these modules now. */
export function canFuse(...mods: Module[]): boolean {
  return !isGradEnabled() && mods.every((m) => !m.training && m.fastInference);
}

function disposePlan(p: Plan): void {
  p.bias.dispose();
  p.weight?.dispose();
  p.preparedHolder?.dispose();
}

// Folded weights that only feed a prepared (rearranged) copy are written here instead of into a
// fresh array per layer: that array would be garbage at once, and a ResNet-18's worth of it (45 MB)
// stayed resident until the garbage collector ran, on top of the prepared copies. The largest
// layer's size is kept; each prepare copies out of it before the next fold.
let foldScratch = new Float32Array(0);

function foldTarget(n: number, transient: boolean): Float32Array {
  if (!transient) return new Float32Array(n);
  if (foldScratch.length < n) foldScratch = new Float32Array(n);
  return foldScratch.subarray(0, n);
}

/**
 * conv.weight and bias with bn folded in. transient: the weights are only read by a prepare
 * that copies them (they live in a shared scratch until the next fold).
 */
function foldedWeights(conv: Conv2d, bn: BatchNorm2d | null, transient = false): { w: Float32Array; b: Float32Array } {
  const outC = conv.outChannels;
  const w = conv.weight.data, b = conv.bias?.data;
  if (!bn) return { w, b: b ? b.slice() : new Float32Array(outC) };
  const per = conv.weight.size / outC;
  const mean = bn.runningMean.data, variance = bn.runningVar.data;
  const gamma = bn.weight?.data, beta = bn.bias?.data;
  const fw = foldTarget(w.length, transient), fb = new Float32Array(outC);
  for (let o = 0; o < outC; o++) {
    const s = (gamma ? gamma[o] : 1) / Math.sqrt(variance[o] + bn.eps);
    for (let i = 0; i < per; i++) fw[o * per + i] = w[o * per + i] * s;
    fb[o] = ((b ? b[o] : 0) - mean[o]) * s + (beta ? beta[o] : 0);
  }
  return { w: fw, b: fb };
}

function plan(conv: Conv2d, bn: BatchNorm2d | null, x: Tensor): Plan {
  const H = x.shape[2] ?? 0, W = x.shape[3] ?? 0;
  const cached = plans.get(conv);
  if (cached && !cached.bias.disposed && planMatches(cached.stamp, conv, bn, H, W)) return cached;
  if (cached) { disposePlan(cached); plans.delete(conv); }
  const be = backend();
  const preparing = !!(be.prepareConv2d && be.conv2dPrepared && conv.packWeights);
  let { w, b } = foldedWeights(conv, bn, preparing);
  let prepared: PreparedConv2d | null = null;
  if (preparing && be.prepareConv2d) {
    // Geometry for this input (validates x against the weights with conv2d's messages).
    const g = conv2dGeom('conv2d', x, conv.weight, conv.bias, convOptions(conv));
    prepared = be.prepareConv2d(w, g, { winograd: conv.winograd });
    // Without a prepared layout (grouped convolutions) the folded weights serve directly: own them.
    if (!prepared && bn) w = foldedWeights(conv, bn).w;
  }
  const p: Plan = {
    stamp: makeStamp(conv, bn, H, W),
    geom: null,
    outShape: [],
    bias: persist(Tensor.wrap(b, [conv.outChannels])),
    // Without BN and without a prepared layout the layer's own weights serve (no copy).
    weight: prepared || !bn ? null : persist(Tensor.wrap(w, conv.weight.shape)),
    prepared,
    preparedHolder: prepared ? persist(Tensor.wrap(prepared.data, [prepared.data.length])) : null,
  };
  plans.set(conv, p);
  return p;
}

function checkResidual(r: Tensor, outShape: readonly number[]): void {
  if (!sameShape(r.shape, outShape)) {
    throw new RangeError(`conv2d: residual has shape ${shapeStr(r.shape)}, expected the output's ${shapeStr(outShape)}`);
  }
}

function convOptions(conv: Conv2d) {
  return { stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups };
}

/**
 * conv (-> batch norm) (+ residual) (-> ReLU) as one convolution with folded, prepared weights and a
 * fused epilogue: act(conv(x) + bias + residual). residual must have the output's shape.
 */
export function plannedConv(conv: Conv2d, bn: BatchNorm2d | null, relu: boolean, x: Tensor,
  residual: Tensor | null = null): Tensor {
  const p = plan(conv, bn, x);
  const act = relu ? 'relu' : 'none';
  const be = backend();
  if (p.prepared && be.conv2dPrepared) {
    // The geometry depends on x's shape only (the layer's options are fixed): validated once per shape.
    let g = p.geom;
    const s = x.shape;
    if (!g || s.length !== 4 || g.N !== s[0] || g.C !== s[1] || g.H !== s[2] || g.W !== s[3]) {
      g = conv2dGeom('conv2d', x, conv.weight, p.bias, convOptions(conv));
      p.geom = g;
      p.outShape = Object.freeze([g.N, g.outC, g.OH, g.OW]);
    }
    if (residual) checkResidual(residual, p.outShape);
    const out = allocOutput(g.N * g.outC * g.OH * g.OW);
    be.conv2dPrepared(x.data, p.prepared, p.bias.data, residual ? residual.data : null, g, out, act);
    return Tensor.wrap(out, p.outShape);
  }
  if (residual) {
    const g = conv2dGeom('conv2d', x, conv.weight, p.bias, convOptions(conv));
    checkResidual(residual, [g.N, g.outC, g.OH, g.OW]);
  }
  const y = conv2dAct('conv2d', x, p.weight ?? conv.weight, p.bias, convOptions(conv), residual ? 'none' : act);
  if (!residual) return y;
  // No fused residual on this path: add (and ReLU) as separate ops.
  return addAct(y, residual, relu);
}

function addAct(a: Tensor, b: Tensor, relu: boolean): Tensor {
  const sum = add(a, b);
  if (!relu) return sum;
  const y = reluOp(sum);
  sum.dispose();
  return y;
}

/** conv -> batch norm (-> ReLU) as one convolution with folded weights and a fused epilogue. */
export function convBnAct(conv: Conv2d, bn: BatchNorm2d, relu: boolean, x: Tensor): Tensor {
  return plannedConv(conv, bn, relu, x);
}

/** Frees the planned weights cached for a convolution or dense layer (module dispose). */
export function releaseFold(m: Conv2d | Linear): void {
  const p = plans.get(m as Conv2d);
  if (p) { disposePlan(p); plans.delete(m as Conv2d); }
  const l = linearPlans.get(m as Linear);
  if (l) { l.packed.dispose(); linearPlans.delete(m as Linear); }
}

interface LinearPlan {
  backend: string; weight: Tensor; version: number; packed: Tensor;
  /** The output shape of the last batch size (frozen: shared by the outputs). */
  outShape: readonly number[];
}
const linearPlans = new WeakMap<Linear, LinearPlan>();

/**
 * Dense layer (-> ReLU) from weights packed once (contiguous vector loads instead of gathers at a
 * small batch; no per-call packing at a large one); plain linear (+ relu) where the backend has no
 * packed path.
 */
export function plannedLinear(lin: Linear, relu: boolean, x: Tensor): Tensor {
  const be = backend();
  if (!be.prepareLinear || !be.linearPrepared || !lin.packWeights) {
    releaseFold(lin);  // a copy made before packWeights was turned off
    const y = linearOp(x, lin.weight, lin.bias);
    if (!relu) return y;
    const r = reluOp(y);
    y.dispose();
    return r;
  }
  const [N, inF, outF] = linearDims('linear', x, lin.weight, lin.bias);
  let p = linearPlans.get(lin);
  if (!p || p.backend !== be.name || p.weight !== lin.weight || p.version !== lin.weight.version || p.packed.disposed) {
    if (p) p.packed.dispose();
    const packed = be.prepareLinear(lin.weight.data, inF, outF);
    p = { backend: be.name, weight: lin.weight, version: lin.weight.version, packed: persist(Tensor.wrap(packed, [packed.length])),
      outShape: Object.freeze([N, outF]) };
    linearPlans.set(lin, p);
  }
  if (p.outShape[0] !== N) p.outShape = Object.freeze([N, outF]);
  const out = allocOutput(N * outF);
  be.linearPrepared(x.data, p.packed.data, lin.bias ? lin.bias.data : null, N, inF, outF, out, relu ? 'relu' : 'none');
  return Tensor.wrap(out, p.outShape);
}
