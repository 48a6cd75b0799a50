import { Tensor, sameShape, assertNotCapturing, allocGrad, captureState } from '../tensor';
import { record } from '../autograd/tape';
import { gradKernels, jsBackward } from '../backend/grad';
import { backend } from '../backend/index';
import { describe, shapeStr } from '../errors';
import { assertRank, assertTensor } from './validate';

/** Validates class-index targets for [N, K] logits and returns them as an Int32Array. */
export function checkTargets(op: string, targets: unknown, N: number, K: number): Int32Array {
  if (!(targets instanceof Int32Array) && !Array.isArray(targets)) {
    throw new TypeError(`${op}: 'targets' must be an Int32Array or an array of class indices, got ${describe(targets)}`);
  }
  if (targets.length !== N) throw new RangeError(`${op}: 'targets' has ${targets.length} entries, expected ${N} (one per row of the logits)`);
  const t = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const v = (targets as ArrayLike<unknown>)[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= K) {
      throw new RangeError(`${op}: targets[${i}] = ${String(v)} is not a class index in [0, ${K - 1}]`);
    }
    t[i] = v;
  }
  return t;
}

/**
 * Cross-entropy of logits [N, K] against class indices, averaged over the batch
 * (log-softmax + negative log-likelihood, as PyTorch's F.cross_entropy).
 */
export function crossEntropy(logits: Tensor, targets: Int32Array | number[]): Tensor {
  const op = 'crossEntropy';
  assertTensor(op, 'logits', logits);
  assertRank(op, 'logits', logits, 2, '[N, K]');
  const [N, K] = logits.shape;
  if (N < 1 || K < 1) throw new RangeError(`${op}: logits must have no zero dimension, got ${shapeStr(logits.shape)}`);
  // A recorded training step (lib/train/step.ts) passes its own targets array, which it fills and
  // checks before each replay: the recording must read that array, not a copy of today's values.
  const t = captureState.active && targets instanceof Int32Array && targets.length === N ? targets : checkTargets(op, targets, N, K);
  const ld = logits.data;
  // The loss is written into an array (not returned) and its gradient read from one, so that a
  // captured training step (lib/train/step.ts) can replay both.
  const loss = new Float32Array(1);
  backend().crossEntropyInto(ld, t, N, K, loss);
  return record(Tensor.wrap(loss, []), op, [logits], (dy) => {
    const dl = allocGrad(ld.length);
    gradKernels().crossEntropyBackward(ld, t, N, K, dy, dl);
    return [dl];
  }, true);
}

/** Mean squared error between two tensors of the same shape. */
export function mseLoss(a: Tensor, b: Tensor): Tensor {
  const op = 'mseLoss';
  assertNotCapturing(op);
  assertTensor(op, 'a', a);
  assertTensor(op, 'b', b);
  if (!sameShape(a.shape, b.shape)) throw new RangeError(`${op}: a ${shapeStr(a.shape)} and b ${shapeStr(b.shape)} must have the same shape`);
  if (a.size < 1) throw new RangeError(`${op}: inputs must not be empty, got ${shapeStr(a.shape)}`);
  const ad = a.data, bd = b.data;
  return record(Tensor.wrap(new Float32Array([backend().mseLoss(ad, bd)]), []), op, [a, b], (dy) => {
    const da = a.requiresGrad ? allocGrad(ad.length) : null;
    const db = b.requiresGrad ? allocGrad(bd.length) : null;
    jsBackward.mseLossBackward(ad, bd, dy[0], da, db);
    return [da, db];
  });
}
