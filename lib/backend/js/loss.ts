/** Losses, reduced to a JS number (mean over the batch / elements, PyTorch's default reduction). */
import type { FArray } from '../types.js';

/** log(sum(exp(row))) of logits[n, :], shifted by the row max so exp never overflows. */
export function rowLogSumExp(logits: FArray, base: number, K: number): number {
  let m = -Infinity;
  for (let k = 0; k < K; k++) { const v = logits[base + k]; if (v > m || v !== v) m = v; }
  let s = 0;
  for (let k = 0; k < K; k++) s += Math.exp(logits[base + k] - m);
  return m + Math.log(s);
}

/** Throws RangeError unless targets[n] is a class index in [0, K). */
export function checkTarget(t: number, n: number, K: number): void {
  if (!(t >= 0 && t < K)) {
    throw new RangeError(`crossEntropy: targets[${n}] = ${t} is out of range for ${K} classes`);
  }
}

/** Mean over the batch of -log softmax(logits)[n, targets[n]]; logits [N, K]. */
export function crossEntropy(logits: FArray, targets: Int32Array, N: number, K: number): number {
  let total = 0;
  for (let n = 0; n < N; n++) {
    const t = targets[n];
    checkTarget(t, n, K);
    const base = n * K;
    total += rowLogSumExp(logits, base, K) - logits[base + t];
  }
  return total / N;
}

/** crossEntropy written to loss[0]. */
export function crossEntropyInto(logits: FArray, targets: Int32Array, N: number, K: number, loss: FArray): void {
  loss[0] = crossEntropy(logits, targets, N, K);
}

/** Mean of (a - b)^2 over all elements. */
export function mseLoss(a: FArray, b: FArray): number {
  const n = a.length;
  let s = 0;
  for (let i = 0; i < n; i++) { const d = a[i] - b[i]; s += d * d; }
  return s / n;
}
