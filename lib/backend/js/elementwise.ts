/** Binary elementwise ops, same-shape or with b broadcast per channel ([C] over [N, C, inner]). */
import type { BinaryKind, BroadcastMode, CopyAxis, FArray } from '../types.js';

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

/** Runs of len floats over a grid of axes (outermost first); validated by the caller. */
export function copyStrided(x: FArray, out: FArray, len: number, axes: readonly CopyAxis[]): void {
  const walk = (k: number, xo: number, oo: number): void => {
    if (k === axes.length) { for (let j = 0; j < len; j++) out[oo + j] = x[xo + j]; return; }
    const a = axes[k];
    for (let i = 0; i < a.count; i++) walk(k + 1, xo + i * a.xStride, oo + i * a.outStride);
  };
  walk(0, 0, 0);
}
