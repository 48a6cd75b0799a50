import { Tensor, allocOutput, allocGrad } from '../tensor';
import { record } from '../autograd/tape';
import { gradKernels } from '../backend/grad';
import { backend } from '../backend/index';
import type { PoolGeom, PoolMode } from '../backend/types';
import { shapeStr } from '../errors';
import { assertOptions, assertRank, assertTensor, bool, checkPoolWindow, intPair, outputSizeRaw } from './validate';

export interface PoolOptions {
  kernelSize: number | [number, number];
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

export function poolGeom(op: string, x: Tensor, o: unknown, allowDilation: boolean): PoolGeom {
  const opts = assertOptions(op, o);
  assertRank(op, 'x', x, 4, 'NCHW');
  if (opts.kernelSize === undefined) throw new TypeError(`${op}: 'kernelSize' is required`);
  const [kH, kW] = intPair(op, 'kernelSize', opts.kernelSize, 1);
  const [strideH, strideW] = intPair(op, 'stride', opts.stride ?? [kH, kW], 1);
  const [padH, padW] = intPair(op, 'padding', opts.padding ?? 0, 0);
  if (!allowDilation && opts.dilation !== undefined) {
    const [dh, dw] = intPair(op, 'dilation', opts.dilation, 1);
    if (dh !== 1 || dw !== 1) throw new RangeError(`${op}: 'dilation' is not supported (only maxPool2d takes it), got [${dh},${dw}]`);
  }
  const [dilationH, dilationW] = intPair(op, 'dilation', opts.dilation ?? 1, 1);
  const ceilMode = bool(op, 'ceilMode', opts.ceilMode ?? false);
  const [N, C, H, W] = x.shape;
  if (N < 1 || C < 1 || H < 1 || W < 1) throw new RangeError(`${op}: input x must have no zero dimension, got shape ${shapeStr(x.shape)}`);
  // PyTorch: pad should be at most half of the (effective) kernel size.
  if (2 * padH > kH || 2 * padW > kW) {
    throw new RangeError(`${op}: 'padding' [${padH},${padW}] must be at most half the kernel [${kH},${kW}]`);
  }
  checkPoolWindow(op, [kH, kW], [dilationH, dilationW], [padH, padW]);
  const OH = outputSizeRaw(H, kH, strideH, padH, padH, dilationH, ceilMode);
  const OW = outputSizeRaw(W, kW, strideW, padW, padW, dilationW, ceilMode);
  if (OH < 1 || OW < 1) {
    throw new RangeError(`${op}: output would be empty: input ${shapeStr(x.shape)} padded by [${padH},${padW}] is smaller than the kernel [${dilationH * (kH - 1) + 1},${dilationW * (kW - 1) + 1}]`);
  }
  return { N, C, H, W, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, ceilMode, OH, OW };
}

function pool(op: string, mode: PoolMode, x: Tensor, o: unknown, allowDilation: boolean): Tensor {
  assertTensor(op, 'x', x);
  const g = poolGeom(op, x, o, allowDilation);
  const countIncludePad = mode === 'avg' ? bool(op, 'countIncludePad', assertOptions(op, o).countIncludePad ?? true) : true;
  return poolWithGeom(op, mode, x, g, countIncludePad);
}

/**
 * Internal: pooling with a geometry poolGeom already validated for x's shape (layers keep the
 * geometry of their last input shape instead of re-validating their fixed options every call), and
 * optionally the output shape frozen once.
 */
export function poolWithGeom(op: string, mode: PoolMode, x: Tensor, g: PoolGeom, countIncludePad: boolean,
  outShape: readonly number[] = [g.N, g.C, g.OH, g.OW]): Tensor {
  const out = allocOutput(g.N * g.C * g.OH * g.OW);
  const xd = x.data;
  backend().pool2d(xd, g, mode, countIncludePad, out);
  return record(Tensor.wrap(out, outShape), op, [x], (dy) => {
    const dx = allocGrad(xd.length);
    gradKernels().pool2dBackward(xd, dy, g, mode, countIncludePad, dx);
    return [dx];
  }, true);
}

/**
 * Max pooling over [N, C, H, W]; stride defaults to the kernel size.
 * @example ops.maxPool2d(x, { kernelSize: 2 })
 */
export function maxPool2d(x: Tensor, o: { kernelSize: number | [number, number]; stride?: number | [number, number];
  padding?: number | [number, number]; dilation?: number | [number, number]; ceilMode?: boolean }): Tensor {
  return pool('maxPool2d', 'max', x, o, true);
}

/** Average pooling; countIncludePad (default true) counts zero padding in the divisor. */
export function avgPool2d(x: Tensor, o: { kernelSize: number | [number, number]; stride?: number | [number, number];
  padding?: number | [number, number]; ceilMode?: boolean; countIncludePad?: boolean }): Tensor {
  return pool('avgPool2d', 'avg', x, o, false);
}

/** Min pooling (= -maxPool2d(-x)); not in PyTorch, taught by the seeds. */
export function minPool2d(x: Tensor, o: { kernelSize: number | [number, number]; stride?: number | [number, number];
  padding?: number | [number, number]; ceilMode?: boolean }): Tensor {
  return pool('minPool2d', 'min', x, o, false);
}

function globalPool(op: string, mode: 'max' | 'avg', x: Tensor): Tensor {
  assertTensor(op, 'x', x);
  assertRank(op, 'x', x, 4, 'NCHW');
  const [N, C, H, W] = x.shape;
  if (N < 1 || C < 1 || H < 1 || W < 1) throw new RangeError(`${op}: input x must have no zero dimension, got shape ${shapeStr(x.shape)}`);
  const out = allocOutput(N * C);
  const xd = x.data;
  backend().globalPool2d(xd, N, C, H * W, mode, out);
  return record(Tensor.wrap(out, [N, C, 1, 1]), op, [x], (dy) => {
    const dx = allocGrad(xd.length);
    gradKernels().globalPool2dBackward(xd, dy, N, C, H * W, mode, dx);
    return [dx];
  }, true);
}

/** Mean over H and W: [N, C, H, W] -> [N, C, 1, 1]. */
export function globalAvgPool2d(x: Tensor): Tensor {
  return globalPool('globalAvgPool2d', 'avg', x);
}

/** Max over H and W: [N, C, H, W] -> [N, C, 1, 1]. */
export function globalMaxPool2d(x: Tensor): Tensor {
  return globalPool('globalMaxPool2d', 'max', x);
}
