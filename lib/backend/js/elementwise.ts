/** Binary elementwise ops, same-shape or with b broadcast per channel ([C] over [N, C, inner]). */
import type { BinaryKind, BroadcastMode, FArray } from '../types.js';

/** a viewed as [N, C, inner]; b is a's shape ('same') or [C] ('channel'); out = a (op) b. */
export function binary(kind: BinaryKind, a: FArray, b: FArray, N: number, C: number, inner: number,
  mode: BroadcastMode, out: FArray): void {
  if (mode === 'same') {
    const n = N * C * inner;
    switch (kind) {
      case 'add': for (let i = 0; i < n; i++) out[i] = a[i] + b[i]; break;
      case 'sub': for (let i = 0; i < n; i++) out[i] = a[i] - b[i]; break;
      case 'mul': for (let i = 0; i < n; i++) out[i] = a[i] * b[i]; break;
      case 'div': for (let i = 0; i < n; i++) out[i] = a[i] / b[i]; break;
    }
    return;
  }
  for (let p = 0; p < N * C; p++) {
    const bv = b[p % C];
    const base = p * inner;
    const end = base + inner;
    switch (kind) {
      case 'add': for (let i = base; i < end; i++) out[i] = a[i] + bv; break;
      case 'sub': for (let i = base; i < end; i++) out[i] = a[i] - bv; break;
      case 'mul': for (let i = base; i < end; i++) out[i] = a[i] * bv; break;
      case 'div': for (let i = base; i < end; i++) out[i] = a[i] / bv; break;
    }
  }
}

/** Block b of blockLen floats from x[b * xStride] to out[b * outStride] (validated by the caller). */
export function copyBlocks(x: FArray, out: FArray, blocks: number, blockLen: number, xStride: number, outStride: number): void {
  for (let b = 0; b < blocks; b++) out.set(x.subarray(b * xStride, b * xStride + blockLen), b * outStride);
}
