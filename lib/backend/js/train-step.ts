/**
 * Reference kernels of a training step's bookkeeping: fills, copies and accumulation into
 * gradients, batch norm's running statistics, and the optimiser updates (the arithmetic of
 * lib/optim in float64, stored to the arrays' precision).
 */
import type { FArray } from '../types.js';

export function fill(out: FArray, value: number): void {
  out.fill(value);
}

export function copy(src: FArray, dst: FArray): void {
  const n = dst.length;
  for (let i = 0; i < n; i++) dst[i] = src[i];
}

export function accumulate(dst: FArray, src: FArray): void {
  const n = dst.length;
  for (let i = 0; i < n; i++) dst[i] += src[i];
}

/** rm = (1 - m) rm + m mean; rv = (1 - m) rv + m var unbias, per channel. */
export function runningStatsUpdate(runningMean: FArray, runningVar: FArray, mean: FArray, variance: FArray,
  momentum: number, unbias: number): void {
  for (let c = 0; c < runningMean.length; c++) {
    runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean[c];
    runningVar[c] = (1 - momentum) * runningVar[c] + momentum * variance[c] * unbias;
  }
}

/** torch.optim.SGD; hyper = [lr, momentum, dampening, weightDecay, nesterov, firstStep]. */
export function sgdStep(params: FArray[], grads: FArray[], buffers: (FArray | null)[], hyper: Float32Array): void {
  const [lr, mu, dampening, wd, nesterov, first] = hyper;
  for (let p = 0; p < params.length; p++) {
    const w = params[p], g = grads[p], buf = buffers[p];
    for (let i = 0; i < w.length; i++) {
      let d = g[i] + wd * w[i];
      if (buf !== null) {
        buf[i] = first !== 0 ? d : mu * buf[i] + (1 - dampening) * d;
        d = nesterov !== 0 ? d + mu * buf[i] : buf[i];
      }
      w[i] -= lr * d;
    }
  }
}

/** Adam (lib/optim/adam.ts); hyper = [lr, beta1, beta2, eps, weightDecay, c1, c2]. */
export function adamStep(params: FArray[], grads: FArray[], m: FArray[], v: FArray[], hyper: Float32Array): void {
  const [lr, b1, b2, eps, wd, c1, c2] = hyper;
  for (let p = 0; p < params.length; p++) {
    const w = params[p], g = grads[p], mp = m[p], vp = v[p];
    for (let i = 0; i < w.length; i++) {
      const d = g[i] + wd * w[i];
      mp[i] = b1 * mp[i] + (1 - b1) * d;
      vp[i] = b2 * vp[i] + (1 - b2) * d * d;
      w[i] -= lr * (mp[i] / c1) / (Math.sqrt(vp[i] / c2) + eps);
    }
  }
}
