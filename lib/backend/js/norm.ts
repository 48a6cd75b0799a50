/**
 * Normalisation kernels. Statistics are two-pass (mean, then the mean of squared deviations) in
 * float64, so a large common offset does not cancel the variance away. Variances are biased (/M),
 * as PyTorch normalises with.
 */
import type { FArray } from '../types.js';

/** out = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]; x viewed as [N, C, HW]. */
export function batchNorm2d(x: FArray, N: number, C: number, HW: number, mean: FArray, variance: FArray,
  weight: FArray | null, bias: FArray | null, eps: number, out: FArray): void {
  for (let c = 0; c < C; c++) {
    const invStd = 1 / Math.sqrt(variance[c] + eps);
    const scale = (weight === null ? 1 : weight[c]) * invStd;
    const shift = bias === null ? 0 : bias[c];
    const m = mean[c];
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) out[base + i] = (x[base + i] - m) * scale + shift;
    }
  }
}

/** Per-channel mean and biased variance over N and HW; x viewed as [N, C, HW]. */
export function channelStats(x: FArray, N: number, C: number, HW: number, mean: FArray, variance: FArray): void {
  const M = N * HW;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) s += x[base + i];
    }
    const m = s / M;
    let q = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) { const d = x[base + i] - m; q += d * d; }
    }
    mean[c] = m;
    variance[c] = q / M;
  }
}

/** Mean and 1/sqrt(biased variance + eps) of `len` contiguous values starting at `base`. */
export function rowMoments(x: FArray, base: number, len: number, eps: number, outMoments: Float64Array): void {
  let s = 0;
  for (let i = 0; i < len; i++) s += x[base + i];
  const m = s / len;
  let q = 0;
  for (let i = 0; i < len; i++) { const d = x[base + i] - m; q += d * d; }
  outMoments[0] = m;
  outMoments[1] = 1 / Math.sqrt(q / len + eps);
}

/** x viewed as [outer, inner]; each row normalised; weight/bias have `inner` entries (PyTorch `layer_norm`). */
export function layerNorm(x: FArray, outer: number, inner: number, weight: FArray | null, bias: FArray | null,
  eps: number, out: FArray): void {
  const mo = new Float64Array(2);
  for (let r = 0; r < outer; r++) {
    const base = r * inner;
    rowMoments(x, base, inner, eps, mo);
    const m = mo[0], invStd = mo[1];
    for (let i = 0; i < inner; i++) {
      const xhat = (x[base + i] - m) * invStd;
      out[base + i] = xhat * (weight === null ? 1 : weight[i]) + (bias === null ? 0 : bias[i]);
    }
  }
}

/** x viewed as [N, C, HW]; each (n, c) plane normalised over HW; weight/bias have C entries. */
export function instanceNorm2d(x: FArray, N: number, C: number, HW: number, weight: FArray | null,
  bias: FArray | null, eps: number, out: FArray): void {
  const mo = new Float64Array(2);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * HW;
      rowMoments(x, base, HW, eps, mo);
      const scale = (weight === null ? 1 : weight[c]) * mo[1];
      const shift = bias === null ? 0 : bias[c];
      const m = mo[0];
      for (let i = 0; i < HW; i++) out[base + i] = (x[base + i] - m) * scale + shift;
    }
  }
}
