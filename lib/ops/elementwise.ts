import { Tensor, allocOutput, sameShape, allocGrad } from '../tensor';
import { record } from '../autograd/tape';
import { gradKernels } from '../backend/grad';
import { backend } from '../backend/index';
import type { BinaryKind, BroadcastMode } from '../backend/types';
import { shapeStr } from '../errors';
import { assertTensor } from './validate';

/** How b combines with a: the same shape, or [1, C, 1, ...] broadcast per channel. */
export function broadcastMode(op: string, a: Tensor, b: Tensor): { mode: BroadcastMode; N: number; C: number; inner: number } {
  if (sameShape(a.shape, b.shape)) return { mode: 'same', N: 1, C: 1, inner: a.size };
  const perChannel = a.rank >= 2 && b.rank === a.rank && b.shape[0] === 1 && b.shape[1] === a.shape[1] &&
    b.shape.slice(2).every((d) => d === 1);
  if (!perChannel) {
    const hint = a.rank >= 2 ? ` or [1,${a.shape[1]}${',1'.repeat(a.rank - 2)}]` : '';
    throw new RangeError(`${op}: b must have a's shape ${shapeStr(a.shape)}${hint}, got ${shapeStr(b.shape)}`);
  }
  const [N, C] = a.shape;
  return { mode: 'channel', N, C, inner: a.size / (N * C) };
}

function binary(op: BinaryKind, a: Tensor, b: Tensor): Tensor {
  assertTensor(op, 'a', a);
  assertTensor(op, 'b', b);
  const { mode, N, C, inner } = broadcastMode(op, a, b);
  const out = allocOutput(a.size);
  const ad = a.data, bd = b.data;
  if (a.size > 0) backend().binary(op, ad, bd, N, C, inner, mode, out);
  return record(Tensor.wrap(out, a.shape), op, [a, b], (dy) => {
    const da = a.requiresGrad ? allocGrad(ad.length) : null;
    const db = b.requiresGrad ? allocGrad(bd.length) : null;
    gradKernels().binaryBackward(op, ad, bd, dy, N, C, inner, mode, da, db);
    return [da, db];
  }, true);
}

/** a + b; b has a's shape or is [1, C, 1, 1]. */
export function add(a: Tensor, b: Tensor): Tensor { return binary('add', a, b); }
/** a - b; b has a's shape or is [1, C, 1, 1]. */
export function sub(a: Tensor, b: Tensor): Tensor { return binary('sub', a, b); }
/** a * b (elementwise); b has a's shape or is [1, C, 1, 1]. */
export function mul(a: Tensor, b: Tensor): Tensor { return binary('mul', a, b); }
/** a / b (elementwise); b has a's shape or is [1, C, 1, 1]. */
export function div(a: Tensor, b: Tensor): Tensor { return binary('div', a, b); }
