/**
 * Planned inference: batch norm folded into the preceding convolution, the following ReLU fused
 * into the convolution's epilogue. Used by containers (Sequential) and the model blocks when the
 * modules are in eval() mode, no tape is being recorded, and fast inference is on.
 *
 *   y = gamma * (conv(x, W) + b - mean) / sqrt(var + eps) + beta
 *     = conv(x, W * s) + (b - mean) * s + beta,   s = gamma / sqrt(var + eps)   (per output channel)
 */
import { Tensor, persist } from '../tensor';
import { isGradEnabled } from '../autograd/tape';
import { conv2dAct } from '../ops/conv2d';
import type { Module } from './module';
import type { Conv2d } from './conv';
import type { BatchNorm2d } from './norm';

interface Folded { key: string; weight: Tensor; bias: Tensor }
const folds = new WeakMap<Conv2d, Folded>();

function versionKey(conv: Conv2d, bn: BatchNorm2d): string {
  const v = (t: Tensor | null) => (t ? `${t.version}` : '-');
  return [v(conv.weight), v(conv.bias), v(bn.weight), v(bn.bias), v(bn.runningMean), v(bn.runningVar), bn.eps].join(',');
}

/** True when the planned path may run for these modules now. */
export function canFuse(...mods: Module[]): boolean {
  return !isGradEnabled() && mods.every((m) => !m.training && m.fastInference);
}

function fold(conv: Conv2d, bn: BatchNorm2d): Folded {
  const key = versionKey(conv, bn);
  const cached = folds.get(conv);
  if (cached && cached.key === key && !cached.weight.disposed) return cached;
  if (cached) { cached.weight.dispose(); cached.bias.dispose(); }
  const outC = conv.outChannels;
  const per = conv.weight.size / outC;
  const w = conv.weight.data, b = conv.bias?.data;
  const mean = bn.runningMean.data, variance = bn.runningVar.data;
  const gamma = bn.weight?.data, beta = bn.bias?.data;
  const fw = new Float32Array(w.length), fb = new Float32Array(outC);
  for (let o = 0; o < outC; o++) {
    const s = (gamma ? gamma[o] : 1) / Math.sqrt(variance[o] + bn.eps);
    for (let i = 0; i < per; i++) fw[o * per + i] = w[o * per + i] * s;
    fb[o] = ((b ? b[o] : 0) - mean[o]) * s + (beta ? beta[o] : 0);
  }
  const f = { key, weight: persist(Tensor.wrap(fw, conv.weight.shape)), bias: persist(Tensor.wrap(fb, [outC])) };
  folds.set(conv, f);
  return f;
}

/** conv -> batch norm (-> ReLU) as one convolution with folded weights and a fused epilogue. */
export function convBnAct(conv: Conv2d, bn: BatchNorm2d, relu: boolean, x: Tensor): Tensor {
  const f = fold(conv, bn);
  return conv2dAct('conv2d', x, f.weight, f.bias,
    { stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups }, relu ? 'relu' : 'none');
}

/** Frees the folded weights cached for a convolution (module dispose). */
export function releaseFold(conv: Conv2d): void {
  const f = folds.get(conv);
  if (f) { f.weight.dispose(); f.bias.dispose(); folds.delete(conv); }
}
