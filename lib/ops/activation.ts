import { Tensor, allocOutput, allocGrad } from '../tensor';
import { record } from '../autograd/tape';
import { gradKernels, jsBackward } from '../backend/grad';
import { backend } from '../backend/index';
import type { UnaryKind } from '../backend/types';
import { shapeStr } from '../errors';
import { assertTensor, finite, int } from './validate';

function unary(op: string, kind: UnaryKind, x: Tensor, alpha = 0): Tensor {
  assertTensor(op, 'x', x);
  const out = allocOutput(x.size);
  const xd = x.data;
  backend().unary(kind, xd, alpha, out);
  // dy is this node's own array (lib/autograd/tape.ts): the gradient is computed in place.
  return record(Tensor.wrap(out, x.shape), op, [x], (dy) => {
    gradKernels().unaryBackward(kind, xd, out, dy, alpha, dy);
    return [dy];
  }, true);
}

/** max(x, 0) */
export function relu(x: Tensor): Tensor { return unary('relu', 'relu', x); }
/** x for x > 0, slope * x otherwise. */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  return unary('leakyRelu', 'leakyRelu', x, finite('leakyRelu', 'slope', slope));
}
export function sigmoid(x: Tensor): Tensor { return unary('sigmoid', 'sigmoid', x); }
export function tanh(x: Tensor): Tensor { return unary('tanh', 'tanh', x); }

/** Resolves a (possibly negative) dim and returns [outer, dim size, inner]. */
export function splitDim(op: string, x: Tensor, dim: unknown): [number, number, number, number] {
  if (x.rank === 0) throw new RangeError(`${op}: x must have at least one dimension, got a scalar`);
  const d0 = int(op, 'dim', dim, -x.rank);
  if (d0 >= x.rank) throw new RangeError(`${op}: 'dim' must be in [${-x.rank}, ${x.rank - 1}] for shape ${shapeStr(x.shape)}, got ${d0}`);
  const d = d0 < 0 ? d0 + x.rank : d0;
  const outer = x.shape.slice(0, d).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  return [outer, x.shape[d], inner, d];
}

function softmaxImpl(op: string, x: Tensor, dim: number, log: boolean): Tensor {
  assertTensor(op, 'x', x);
  const [outer, n, inner] = splitDim(op, x, dim);
  if (n < 1) throw new RangeError(`${op}: dimension ${dim} of ${shapeStr(x.shape)} is empty`);
  const out = allocOutput(x.size);
  backend().softmax(x.data, outer, n, inner, log, out);
  return record(Tensor.wrap(out, x.shape), op, [x], (dy) => {
    const dx = allocGrad(out.length);
    if (log) jsBackward.logSoftmaxBackward(out, dy, outer, n, inner, dx);
    else jsBackward.softmaxBackward(out, dy, outer, n, inner, dx);
    return [dx];
  });
}

/** Softmax along dim (default 1, the class axis of [N, K]). */
export function softmax(x: Tensor, dim = 1): Tensor { return softmaxImpl('softmax', x, dim, false); }
/** log(softmax(x)) computed stably. */
export function logSoftmax(x: Tensor, dim = 1): Tensor { return softmaxImpl('logSoftmax', x, dim, true); }
