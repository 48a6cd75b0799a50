import { Tensor, allocOutput, assertNotCapturing, allocGrad } from '../tensor';
import { record } from '../autograd/tape';
import { gradKernels, jsBackward } from '../backend/grad';
import { backend } from '../backend/index';
import { shapeStr } from '../errors';
import { assertOptionalTensor, assertOptions, assertRank, assertTensor, bool, finite } from './validate';

function checkPerChannel(op: string, name: string, t: Tensor | null, C: number): void {
  if (t && (t.rank !== 1 || t.shape[0] !== C)) {
    throw new RangeError(`${op}: argument '${name}' must have shape [${C}], got ${shapeStr(t.shape)}`);
  }
}

function eps(op: string, v: unknown): number {
  const e = finite(op, 'eps', v ?? 1e-5);
  if (e < 0) throw new RangeError(`${op}: 'eps' must be non-negative, got ${e}`);
  return e;
}

export interface BatchNormOptions {
  runningMean: Tensor;
  runningVar: Tensor;
  weight?: Tensor | null;
  bias?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalisation over (N, H, W) per channel. In training mode it normalises with the batch
 * statistics (biased variance) and updates runningMean/runningVar in place with the unbiased
 * variance, as PyTorch does; in eval mode it uses the running statistics.
 */
export function batchNorm2d(x: Tensor, o: BatchNormOptions): Tensor {
  const op = 'batchNorm2d';
  assertTensor(op, 'x', x);
  const opts = assertOptions(op, o);
  assertRank(op, 'x', x, 4, 'NCHW');
  const [N, C, H, W] = x.shape;
  const runningMean = assertTensor(op, 'runningMean', opts.runningMean);
  const runningVar = assertTensor(op, 'runningVar', opts.runningVar);
  const weight = assertOptionalTensor(op, 'weight', opts.weight);
  const bias = assertOptionalTensor(op, 'bias', opts.bias);
  checkPerChannel(op, 'runningMean', runningMean, C);
  checkPerChannel(op, 'runningVar', runningVar, C);
  checkPerChannel(op, 'weight', weight, C);
  checkPerChannel(op, 'bias', bias, C);
  const training = bool(op, 'training', opts.training ?? false);
  const momentum = finite(op, 'momentum', opts.momentum ?? 0.1);
  if (momentum < 0 || momentum > 1) throw new RangeError(`${op}: 'momentum' must be in [0, 1], got ${momentum}`);
  const e = eps(op, opts.eps);
  const HW = H * W;
  const be = backend();
  const out = allocOutput(x.size);
  if (!training) {
    const xd = x.data, rmean = runningMean.data.slice(), rvar = runningVar.data.slice(), wd = weight?.data ?? null;
    be.batchNorm2d(xd, N, C, HW, rmean, rvar, wd, bias?.data ?? null, e, out);
    return record(Tensor.wrap(out, x.shape), op, [x, weight, bias], (dy) => {
      const dx = x.requiresGrad ? allocGrad(xd.length) : null;
      const dw = weight?.requiresGrad ? allocGrad(C) : null;
      const db = bias?.requiresGrad ? allocGrad(C) : null;
      jsBackward.batchNorm2dBackwardEval(xd, dy, N, C, HW, rmean, rvar, wd, e, dx, dw, db);
      return [dx, dw, db];
    });
  }
  const count = N * HW;
  if (count < 2) {
    throw new RangeError(`${op}: training needs more than one value per channel, got input shape ${shapeStr(x.shape)}`);
  }
  const mean = new Float32Array(C), variance = new Float32Array(C);
  be.channelStats(x.data, N, C, HW, mean, variance);
  const xd = x.data, wd = weight?.data ?? null;
  be.batchNorm2d(xd, N, C, HW, mean, variance, wd, bias?.data ?? null, e, out);
  be.runningStatsUpdate(runningMean.data, runningVar.data, mean, variance, momentum, count / (count - 1));
  runningMean.version++;
  runningVar.version++;
  return record(Tensor.wrap(out, x.shape), op, [x, weight, bias], (dy) => {
    const dx = x.requiresGrad ? allocGrad(xd.length) : null;
    const dw = weight?.requiresGrad ? allocGrad(C) : null;
    const db = bias?.requiresGrad ? allocGrad(C) : null;
    gradKernels().batchNorm2dBackward(xd, dy, N, C, HW, wd, e, dx, dw, db);
    return [dx, dw, db];
  }, true);
}

/**
 * Layer normalisation over the trailing `normalizedShape` dimensions of each sample.
 * @example ops.layerNorm(x, [C, H, W])
 */
export function layerNorm(x: Tensor, normalizedShape: number[], weight?: Tensor | null, bias?: Tensor | null, epsV = 1e-5): Tensor {
  const op = 'layerNorm';
  assertTensor(op, 'x', x);
  if (!Array.isArray(normalizedShape) || normalizedShape.length === 0) {
    throw new TypeError(`${op}: 'normalizedShape' must be a non-empty array of integers, got ${String(normalizedShape)}`);
  }
  const k = normalizedShape.length;
  const tail = x.shape.slice(x.rank - k);
  if (k > x.rank || normalizedShape.some((d, i) => d !== tail[i])) {
    throw new RangeError(`${op}: 'normalizedShape' ${shapeStr(normalizedShape)} must match the trailing dimensions of x ${shapeStr(x.shape)}`);
  }
  const w = assertOptionalTensor(op, 'weight', weight);
  const b = assertOptionalTensor(op, 'bias', bias);
  for (const [name, t] of [['weight', w], ['bias', b]] as const) {
    if (t && (t.rank !== k || t.shape.some((d, i) => d !== normalizedShape[i]))) {
      throw new RangeError(`${op}: argument '${name}' must have shape ${shapeStr(normalizedShape)}, got ${shapeStr(t.shape)}`);
    }
  }
  const inner = normalizedShape.reduce((a, c) => a * c, 1);
  if (inner < 1) throw new RangeError(`${op}: 'normalizedShape' ${shapeStr(normalizedShape)} must have no zero dimension`);
  const outer = x.size / inner;
  const out = allocOutput(x.size);
  const e = eps(op, epsV), xd = x.data, wd = w?.data ?? null;
  backend().layerNorm(xd, outer, inner, wd, b?.data ?? null, e, out);
  return record(Tensor.wrap(out, x.shape), op, [x, w, b], (dy) => {
    const dx = x.requiresGrad ? allocGrad(xd.length) : null;
    const dw = w?.requiresGrad ? allocGrad(inner) : null;
    const db = b?.requiresGrad ? allocGrad(inner) : null;
    jsBackward.layerNormBackward(xd, dy, outer, inner, wd, e, dx, dw, db);
    return [dx, dw, db];
  });
}

/**
 * Instance normalisation: each (n, c) plane over H x W (more than one element, as in PyTorch);
 * optional affine weight/bias [C].
 */
export function instanceNorm2d(x: Tensor, weight?: Tensor | null, bias?: Tensor | null, epsV = 1e-5): Tensor {
  const op = 'instanceNorm2d';
  assertTensor(op, 'x', x);
  assertRank(op, 'x', x, 4, 'NCHW');
  const [N, C, H, W] = x.shape;
  if (H * W < 1) throw new RangeError(`${op}: input x must have no zero dimension, got shape ${shapeStr(x.shape)}`);
  // One value per (n, c) plane has variance 0: every output would be the bias (zeros without one).
  // PyTorch refuses it too ("Expected more than 1 spatial element when training").
  if (H * W === 1) {
    throw new RangeError(`${op}: expected more than 1 spatial element (H x W) per channel, got input shape ${shapeStr(x.shape)}`);
  }
  const w = assertOptionalTensor(op, 'weight', weight);
  const b = assertOptionalTensor(op, 'bias', bias);
  checkPerChannel(op, 'weight', w, C);
  checkPerChannel(op, 'bias', b, C);
  const out = allocOutput(x.size);
  const e = eps(op, epsV), xd = x.data, wd = w?.data ?? null;
  backend().instanceNorm2d(xd, N, C, H * W, wd, b?.data ?? null, e, out);
  return record(Tensor.wrap(out, x.shape), op, [x, w, b], (dy) => {
    const dx = x.requiresGrad ? allocGrad(xd.length) : null;
    const dw = w?.requiresGrad ? allocGrad(C) : null;
    const db = b?.requiresGrad ? allocGrad(C) : null;
    jsBackward.instanceNorm2dBackward(xd, dy, N, C, H * W, wd, e, dx, dw, db);
    return [dx, dw, db];
  });
}
