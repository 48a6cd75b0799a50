/** Dense layers: `linear` (x * w^T + b, PyTorch `F.linear`) and `matmul`; float64 accumulation. */
import type { FArray } from '../types.js';

/** out[N, outF] = x[N, inF] * w[outF, inF]^T + b[outF]. Both operands are read along contiguous rows. */
export function linear(x: FArray, w: FArray, b: FArray | null, N: number, inF: number, outF: number,
  out: FArray): void {
  for (let n = 0; n < N; n++) {
    const xBase = n * inF;
    for (let o = 0; o < outF; o++) {
      const wBase = o * inF;
      let s = b === null ? 0 : b[o];
      for (let i = 0; i < inF; i++) s += x[xBase + i] * w[wBase + i];
      out[n * outF + o] = s;
    }
  }
}

/**
 * out[M, N] = a[M, K] * b[K, N]. i-k-j order: each a[i, k] scales a contiguous row of b into a
 * float64 row accumulator, so the inner loop streams memory in order.
 */
export function matmul(a: FArray, b: FArray, M: number, K: number, N: number, out: FArray): void {
  const acc = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    acc.fill(0);
    for (let k = 0; k < K; k++) {
      const av = a[i * K + k];
      const bBase = k * N;
      for (let j = 0; j < N; j++) acc[j] += av * b[bBase + j];
    }
    const oBase = i * N;
    for (let j = 0; j < N; j++) out[oBase + j] = acc[j];
  }
}
