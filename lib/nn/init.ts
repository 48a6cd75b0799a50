/**
 * PyTorch's default initialisation, drawn from the seeded generator so manualSeed() reproduces it.
 * Conv2d/Linear: weight kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(fanIn), 1/sqrt(fanIn)); bias the same bound.
 */
import { Tensor } from '../tensor';
import { rng } from '../random';

/** U(-bound, bound) of the given shape. */
export function uniform(shape: readonly number[], bound: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  const r = rng();
  for (let i = 0; i < n; i++) d[i] = (2 * r.uniform() - 1) * bound;
  return Tensor.wrap(d, shape);
}

/** N(0, std^2) of the given shape. */
export function normal(shape: readonly number[], std: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  const r = rng();
  for (let i = 0; i < n; i++) d[i] = r.normal() * std;
  return Tensor.wrap(d, shape);
}

/**
 * kaiming_normal_(mode='fan_out', nonlinearity='relu') in place: torchvision's ResNet conv init,
 * std = sqrt(2 / (outC * kH * kW)).
 */
export function kaimingNormalFanOut(w: Tensor): void {
  const fanOut = w.shape[0] * w.shape.slice(2).reduce((a, b) => a * b, 1);
  const std = Math.sqrt(2 / fanOut);
  const d = w.data;
  const r = rng();
  for (let i = 0; i < d.length; i++) d[i] = r.normal() * std;
}
