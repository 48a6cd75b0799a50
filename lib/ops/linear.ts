import { Tensor, allocOutput, allocGrad } from '../tensor';
import { record } from '../autograd/tape';
import { gradKernels, jsBackward } from '../backend/grad';
import { backend } from '../backend/index';
import { shapeStr } from '../errors';
import { assertOptionalTensor, assertRank, assertTensor } from './validate';

/** Validates a dense layer's arguments; returns [N, inF, outF]. */
export function linearDims(op: string, x: Tensor, weight: Tensor, bias?: Tensor | null): [number, number, number] {
  assertTensor(op, 'x', x);
  assertTensor(op, 'weight', weight);
  const b = assertOptionalTensor(op, 'bias', bias);
  assertRank(op, 'x', x, 2, '[N, in]');
  assertRank(op, 'weight', weight, 2, '[out, in]');
  const [N, inF] = x.shape;
  const [outF, wIn] = weight.shape;
  if (wIn !== inF) {
    throw new RangeError(`${op}: x has ${inF} features (shape ${shapeStr(x.shape)}) but weight ${shapeStr(weight.shape)} expects ${wIn}`);
  }
  if (N < 1 || inF < 1 || outF < 1) throw new RangeError(`${op}: shapes must have no zero dimension, got x ${shapeStr(x.shape)}, weight ${shapeStr(weight.shape)}`);
  if (b && (b.rank !== 1 || b.shape[0] !== outF)) {
    throw new RangeError(`${op}: argument 'bias' must have shape [${outF}], got ${shapeStr(b.shape)}`);
  }
  return [N, inF, outF];
}

/**
 * Fully connected layer: x [N, in] times weight [out, in] transposed, plus bias [out].
 * @example ops.linear(ops.flatten(x), w, b)
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const op = 'linear';
  const [N, inF, outF] = linearDims(op, x, weight, bias);
  const b = bias ?? null;
  const out = allocOutput(N * outF);
  const xd = x.data, wd = weight.data;
  backend().linear(xd, wd, b?.data ?? null, N, inF, outF, out);
  return record(Tensor.wrap(out, [N, outF]), op, [x, weight, b], (dy) => {
    const dx = x.requiresGrad ? allocGrad(xd.length) : null;
    const dw = weight.requiresGrad ? allocGrad(wd.length) : null;
    const db = b?.requiresGrad ? allocGrad(outF) : null;
    gradKernels().linearBackward(xd, wd, dy, N, inF, outF, dx, dw, db);
    return [dx, dw, db];
  }, true);
}

/** Matrix product of a [M, K] and b [K, N]. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const op = 'matmul';
  assertTensor(op, 'a', a);
  assertTensor(op, 'b', b);
  assertRank(op, 'a', a, 2, '[M, K]');
  assertRank(op, 'b', b, 2, '[K, N]');
  const [M, K] = a.shape;
  const [K2, N] = b.shape;
  if (K !== K2) throw new RangeError(`${op}: inner dimensions differ: a ${shapeStr(a.shape)} and b ${shapeStr(b.shape)}`);
  if (M < 1 || K < 1 || N < 1) throw new RangeError(`${op}: shapes must have no zero dimension, got a ${shapeStr(a.shape)}, b ${shapeStr(b.shape)}`);
  const out = allocOutput(M * N);
  const ad = a.data, bd = b.data;
  backend().matmul(ad, bd, M, K, N, out);
  return record(Tensor.wrap(out, [M, N]), op, [a, b], (dy) => {
    const da = a.requiresGrad ? allocGrad(ad.length) : null;
    const db = b.requiresGrad ? allocGrad(bd.length) : null;
    jsBackward.matmulBackward(ad, bd, dy, M, K, N, da, db);
    return [da, db];
  });
}
