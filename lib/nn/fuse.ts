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
import type { PreparedConv2d } from '../backend/types';
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
  key: string;
  bias: Tensor;
  /** Folded weights for backend().conv2d (null when prepared, or without BN: conv.weight serves). */
  weight: Tensor | null;
  prepared: PreparedConv2d | null;
  /** Holds prepared.data so memory() accounts for it. */
  preparedHolder: Tensor | null;
}
const plans = new WeakMap<Conv2d, Plan>();

function planKey(conv: Conv2d, bn: BatchNorm2d | null, H: number, W: number): string {
  const v = (t: Tensor | null) => (t ? `${t.version}` : '-');
  const b = bn ? [v(bn.weight), v(bn.bias), v(bn.runningMean), v(bn.runningVar), bn.eps].join(',') : 'nobn';
  return `${backend().name}|${H}x${W}|${conv.packWeights ? 'pack' : 'nopack'}|${conv.winograd ? 'wino' : 'direct'}|${v(conv.weight)},${v(conv.bias)}|${b}`;
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

function foldedWeights(conv: Conv2d, bn: BatchNorm2d | null): { w: Float32Array; b: Float32Array } {
  const outC = conv.outChannels;
  const w = conv.weight.data, b = conv.bias?.data;
  if (!bn) return { w, b: b ? b.slice() : new Float32Array(outC) };
  const per = conv.weight.size / outC;
  const mean = bn.runningMean.data, variance = bn.runningVar.data;
  const gamma = bn.weight?.data, beta = bn.bias?.data;
  const fw = new Float32Array(w.length), fb = new Float32Array(outC);
  for (let o = 0; o < outC; o++) {
    const s = (gamma ? gamma[o] : 1) / Math.sqrt(variance[o] + bn.eps);
    for (let i = 0; i < per; i++) fw[o * per + i] = w[o * per + i] * s;
    fb[o] = ((b ? b[o] : 0) - mean[o]) * s + (beta ? beta[o] : 0);
  }
  return { w: fw, b: fb };
}

function plan(conv: Conv2d, bn: BatchNorm2d | null, x: Tensor): Plan {
  const H = x.shape[2] ?? 0, W = x.shape[3] ?? 0;
  const key = planKey(conv, bn, H, W);
  const cached = plans.get(conv);
  if (cached && cached.key === key && !cached.bias.disposed) return cached;
  if (cached) { disposePlan(cached); plans.delete(conv); }
  const { w, b } = foldedWeights(conv, bn);
  const be = backend();
  let prepared: PreparedConv2d | null = null;
  if (be.prepareConv2d && be.conv2dPrepared && conv.packWeights) {
    // Geometry for this input (validates x against the weights with conv2d's messages).
    const g = conv2dGeom('conv2d', x, conv.weight, conv.bias, convOptions(conv));
    prepared = be.prepareConv2d(w, g, { winograd: conv.winograd });
  }
  const p: Plan = {
    key,
    bias: persist(Tensor.wrap(b, [conv.outChannels])),
    // Without BN and without a prepared layout the layer's own weights serve (no copy).
    weight: prepared || !bn ? null : persist(Tensor.wrap(w, conv.weight.shape)),
    prepared,
    preparedHolder: prepared ? persist(Tensor.wrap(prepared.data, [prepared.data.length])) : null,
  };
  plans.set(conv, p);
  return p;
}

function checkResidual(r: Tensor, outShape: number[]): void {
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
    const g = conv2dGeom('conv2d', x, conv.weight, p.bias, convOptions(conv));
    const outShape = [g.N, g.outC, g.OH, g.OW];
    if (residual) checkResidual(residual, outShape);
    const out = allocOutput(g.N * g.outC * g.OH * g.OW);
    be.conv2dPrepared(x.data, p.prepared, p.bias.data, residual ? residual.data : null, g, out, act);
    return Tensor.wrap(out, outShape);
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

interface LinearPlan { key: string; packed: Tensor }
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
  const key = `${be.name}|${lin.weight.version}`;
  let p = linearPlans.get(lin);
  if (!p || p.key !== key || p.packed.disposed) {
    if (p) p.packed.dispose();
    const packed = be.prepareLinear(lin.weight.data, inF, outF);
    p = { key, packed: persist(Tensor.wrap(packed, [packed.length])) };
    linearPlans.set(lin, p);
  }
  const out = allocOutput(N * outF);
  be.linearPrepared(x.data, p.packed.data, lin.bias ? lin.bias.data : null, N, inF, outF, out, relu ? 'relu' : 'none');
  return Tensor.wrap(out, [N, outF]);
}
