import { Tensor, allocOutput, allocGrad } from '../tensor';
import { needsGrad, record } from '../autograd/tape';
import { gradKernels } from '../backend/grad';
import { backend } from '../backend/index';
import type { Conv2dGeom, FusedActivation } from '../backend/types';
import { describe, shapeStr } from '../errors';
import { assertOptionalTensor, assertOptions, assertOutputSize, assertRank, assertTensor, int, intPair, outputSizeRaw } from './validate';

export type Padding = number | [number, number] | [number, number, number, number] | 'same' | 'valid';

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: Padding;
  dilation?: number | [number, number];
  groups?: number;
}

/** [top, left, bottom, right] from any accepted padding form. */
export function convPadding(op: string, p: unknown, kH: number, kW: number, dH: number, dW: number,
  sH: number, sW: number): [number, number, number, number] {
  if (p === undefined || p === 'valid') return [0, 0, 0, 0];
  if (p === 'same') {
    if (sH !== 1 || sW !== 1) {
      throw new RangeError(`${op}: padding 'same' requires stride 1, got stride [${sH},${sW}] (as in PyTorch)`);
    }
    // PyTorch puts the odd extra pixel at the end (bottom/right).
    const th = dH * (kH - 1), tw = dW * (kW - 1);
    return [th >> 1, tw >> 1, th - (th >> 1), tw - (tw >> 1)];
  }
  if (typeof p === 'number') { const v = int(op, 'padding', p, 0); return [v, v, v, v]; }
  if (Array.isArray(p)) {
    if (p.length === 2) {
      const h = int(op, 'padding[0]', p[0], 0), w = int(op, 'padding[1]', p[1], 0);
      return [h, w, h, w];
    }
    if (p.length === 4) {
      return [int(op, 'padding[0]', p[0], 0), int(op, 'padding[1]', p[1], 0), int(op, 'padding[2]', p[2], 0),
        int(op, 'padding[3]', p[3], 0)];
    }
    throw new RangeError(`${op}: 'padding' must be a number, [pH, pW], [top, left, bottom, right], 'same' or 'valid'; got an array of length ${p.length}`);
  }
  if (typeof p === 'string') throw new RangeError(`${op}: 'padding' string must be 'same' or 'valid', got '${p}'`);
  throw new TypeError(`${op}: 'padding' must be a number, [pH, pW], [top, left, bottom, right], 'same' or 'valid'; got ${describe(p)}`);
}

/** Validates a convolution and returns its geometry. */
export function conv2dGeom(op: string, x: Tensor, weight: Tensor, bias: Tensor | null, o: Conv2dOptions | undefined): Conv2dGeom {
  const opts = assertOptions(op, o);
  assertRank(op, 'x', x, 4, 'NCHW');
  assertRank(op, 'weight', weight, 4, '[outC, inC/groups, kH, kW]');
  const [N, C, H, W] = x.shape;
  const [outC, cPerGroup, kH, kW] = weight.shape;
  const groups = int(op, 'groups', opts.groups ?? 1, 1);
  const [strideH, strideW] = intPair(op, 'stride', opts.stride ?? 1, 1);
  const [dilationH, dilationW] = intPair(op, 'dilation', opts.dilation ?? 1, 1);
  if (N < 1 || C < 1 || H < 1 || W < 1) throw new RangeError(`${op}: input x must have no zero dimension, got shape ${shapeStr(x.shape)}`);
  if (outC < 1 || cPerGroup < 1 || kH < 1 || kW < 1) {
    throw new RangeError(`${op}: weight must have no zero dimension, got shape ${shapeStr(weight.shape)}`);
  }
  if (C % groups !== 0) throw new RangeError(`${op}: groups ${groups} must divide the input channels ${C} (x shape ${shapeStr(x.shape)})`);
  if (outC % groups !== 0) throw new RangeError(`${op}: groups ${groups} must divide the output channels ${outC} (weight shape ${shapeStr(weight.shape)})`);
  if (cPerGroup * groups !== C) {
    throw new RangeError(`${op}: input x has ${C} channels (shape ${shapeStr(x.shape)}) but weight ${shapeStr(weight.shape)} with groups ${groups} expects ${cPerGroup * groups}`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outC)) {
    throw new RangeError(`${op}: argument 'bias' must have shape [${outC}], got ${shapeStr(bias.shape)}`);
  }
  const [padTop, padLeft, padBottom, padRight] = convPadding(op, opts.padding, kH, kW, dilationH, dilationW, strideH, strideW);
  const OH = outputSizeRaw(H, kH, strideH, padTop, padBottom, dilationH, false);
  const OW = outputSizeRaw(W, kW, strideW, padLeft, padRight, dilationW, false);
  if (OH < 1 || OW < 1) {
    throw new RangeError(`${op}: output would be empty: input ${shapeStr(x.shape)} padded by [${padTop},${padLeft},${padBottom},${padRight}] is smaller than the dilated kernel ${dilationH * (kH - 1) + 1}x${dilationW * (kW - 1) + 1} (weight ${shapeStr(weight.shape)})`);
  }
  assertOutputSize(op, [N, outC, OH, OW], `input ${shapeStr(x.shape)} padded by [${padTop},${padLeft},${padBottom},${padRight}], weight ${shapeStr(weight.shape)}, stride [${strideH},${strideW}], dilation [${dilationH},${dilationW}]`);
  return { N, C, H, W, outC, kH, kW, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW, groups, OH, OW };
}

/**
 * 2-D convolution (cross-correlation, as PyTorch's conv2d) of x [N, C, H, W] with
 * weight [outC, C/groups, kH, kW] plus an optional bias [outC].
 * @example const y = ops.conv2d(x, w, b, { stride: 2, padding: 'valid' });
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, o?: Conv2dOptions): Tensor {
  return conv2dAct('conv2d', x, weight, bias, o, 'none');
}

/** Internal: conv2d with a fused activation (used by planned inference). */
export function conv2dAct(op: string, x: Tensor, weight: Tensor, bias: Tensor | null | undefined, o: Conv2dOptions | undefined,
  act: FusedActivation): Tensor {
  assertTensor(op, 'x', x);
  assertTensor(op, 'weight', weight);
  const b = assertOptionalTensor(op, 'bias', bias);
  const g = conv2dGeom(op, x, weight, b, o);
  const out = allocOutput(g.N * g.outC * g.OH * g.OW);
  const xd = x.data, wd = weight.data;
  backend().conv2d(xd, wd, b ? b.data : null, g, out, act);
  const y = Tensor.wrap(out, [g.N, g.outC, g.OH, g.OW]);
  if (act !== 'none' && act !== 'relu' && needsGrad(x, weight, b)) throw new Error(`internal: ${op} has no gradient for a fused ${act.kind}`);
  return record(y, op, [x, weight, b], (dy) => {
    const k = gradKernels();
    // A fused ReLU's gradient from the output, in place (dy is this node's own array).
    if (act === 'relu') k.unaryBackward('reluOut', out, out, dy, 0, dy);
    let dx: Float32Array | null = null, dw: Float32Array | null = null, db: Float32Array | null = null;
    if (x.requiresGrad) { dx = allocGrad(xd.length); k.conv2dBackwardInput(dy, wd, g, dx); }
    if (weight.requiresGrad) { dw = allocGrad(wd.length); k.conv2dBackwardWeight(xd, dy, g, dw); }
    if (b && b.requiresGrad) { db = allocGrad(g.outC); k.channelSum(dy, g.N, g.outC, g.OH * g.OW, db); }
    return [dx, dw, db];
  }, true);
}
