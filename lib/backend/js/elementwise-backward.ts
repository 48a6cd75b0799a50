/**
 * Gradients of `binary`. In 'channel' mode b is [C] broadcast over a's [N, C, inner], so its
 * gradient is summed over N and inner. Outputs are overwritten; pass null for one not needed.
 */
import type { BinaryKind, BroadcastMode, FArray } from '../types.js';

/**
 * binary backward given dy (a's shape): add da = dy, db = dy; sub da = dy, db = -dy;
 * mul da = dy * b, db = dy * a; div da = dy / b, db = -dy * a / b^2.
 */
export function binaryBackward(kind: BinaryKind, a: FArray, b: FArray, dy: FArray, N: number, C: number,
  inner: number, mode: BroadcastMode, da: FArray | null, db: FArray | null): void {
  const channel = mode === 'channel';
  if (channel && db !== null) db.fill(0);
  for (let p = 0; p < N * C; p++) {
    const c = p % C;
    const base = p * inner;
    const end = base + inner;
    let dbSum = 0;  // channel mode: this plane's contribution to db[c]
    for (let i = base; i < end; i++) {
      const g = dy[i];
      const bv = channel ? b[c] : b[i];
      let ga: number;
      let gb: number;
      switch (kind) {
        case 'add': ga = g; gb = g; break;
        case 'sub': ga = g; gb = -g; break;
        case 'mul': ga = g * bv; gb = g * a[i]; break;
        case 'div': ga = g / bv; gb = -g * a[i] / (bv * bv); break;
      }
      if (da !== null) da[i] = ga;
      if (channel) dbSum += gb;
      else if (db !== null) db[i] = gb;
    }
    if (channel && db !== null) db[c] += dbSum;
  }
}

/**
 * out[c] = sum over n and i of dy[(n C + c) inner + i]: the gradient of a per-channel operand
 * broadcast over [N, C, inner] (a convolution's bias). Overwritten.
 */
export function channelSum(dy: FArray, N: number, C: number, inner: number, out: FArray): void {
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * inner;
      for (let i = 0; i < inner; i++) s += dy[base + i];
    }
    out[c] = s;
  }
}
