/** Gradients of the losses w.r.t. their inputs, scaled by the upstream gradient of the scalar loss. */
import type { FArray } from '../types.js';
import { checkTarget, rowLogSumExp } from './loss.js';

/**
 * crossEntropy backward: dlogits[n, k] = gradOut / N * (softmax(logits[n])[k] - [k == targets[n]]).
 * Throws RangeError for an out-of-range target. dlogits is overwritten.
 */
export function crossEntropyBackward(logits: FArray, targets: Int32Array, N: number, K: number, gradOut: number,
  dlogits: FArray): void {
  const scale = gradOut / N;
  for (let n = 0; n < N; n++) {
    const t = targets[n];
    checkTarget(t, n, K);
    const base = n * K;
    const lse = rowLogSumExp(logits, base, K);
    for (let k = 0; k < K; k++) {
      const p = Math.exp(logits[base + k] - lse);
      dlogits[base + k] = scale * (k === t ? p - 1 : p);
    }
  }
}

/**
 * crossEntropyBackward with the upstream gradient read from gradOut[0] when it runs (a captured
 * training step replays it with the arrays it was recorded with).
 */
export function crossEntropyBackwardFrom(logits: FArray, targets: Int32Array, N: number, K: number, gradOut: FArray,
  dlogits: FArray): void {
  crossEntropyBackward(logits, targets, N, K, gradOut[0], dlogits);
}

/** mseLoss backward: da = gradOut * 2 (a - b) / size, db = -da (either may be null). Overwritten. */
export function mseLossBackward(a: FArray, b: FArray, gradOut: number, da: FArray | null, db: FArray | null): void {
  const n = a.length;
  const scale = 2 * gradOut / n;
  for (let i = 0; i < n; i++) {
    const g = scale * (a[i] - b[i]);
    if (da !== null) da[i] = g;
    if (db !== null) db[i] = -g;
  }
}
