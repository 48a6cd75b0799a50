import { Tensor, assertNotCapturing } from '../tensor';
import { record } from '../autograd/tape';
import { backend } from '../backend/index';
import { rng } from '../random';
import { assertTensor, bool, finite } from './validate';

/** Internal: the inverted-dropout mask (0 or 1/(1-p)) drawn from the seeded generator. */
export function dropoutMask(size: number, p: number): Float32Array {
  const mask = new Float32Array(size);
  if (p >= 1) return mask;
  const keep = 1 / (1 - p);
  const r = rng();
  for (let i = 0; i < size; i++) mask[i] = r.uniform() < p ? 0 : keep;
  return mask;
}

/**
 * Inverted dropout: in training, zeroes each element with probability p and scales the rest by
 * 1/(1-p); otherwise returns a copy of x. Reproducible under manualSeed().
 */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  const op = 'dropout';
  assertTensor(op, 'x', x);
  const prob = finite(op, 'p', p);
  if (prob < 0 || prob > 1) throw new RangeError(`${op}: 'p' must be in [0, 1], got ${prob}`);
  const train = bool(op, 'training', training);
  // Identity outside training: a view, as PyTorch returns its input.
  if (!train || prob === 0) return x.reshape(x.shape);
  // The mask is drawn on the JS thread: a recorded step would replay the same mask every time.
  assertNotCapturing('dropout (training)');
  const mask = dropoutMask(x.size, prob);
  const out = new Float32Array(x.size);
  backend().binary('mul', x.data, mask, 1, 1, x.size, 'same', out);
  return record(Tensor.wrap(out, x.shape), op, [x], (dy) => {
    const dx = new Float32Array(dy.length);
    for (let i = 0; i < dx.length; i++) dx[i] = dy[i] * mask[i];
    return [dx];
  });
}
