/** Gradients of `linear` and `matmul`. Outputs are overwritten; pass null for one not needed. */
import type { FArray } from '../types.js';

/**
 * linear backward for out[N, outF] = x[N, inF] * w[outF, inF]^T + b, given dy[N, outF]:
 * dx[N, inF] = dy * w, dw[outF, inF] = dy^T * x, db[outF] = column sums of dy.
 */
export function linearBackward(x: FArray, w: FArray, dy: FArray, N: number, inF: number, outF: number,
  dx: FArray | null, dw: FArray | null, db: FArray | null): void {
  const acc = new Float64Array(inF);
  if (dx !== null) {
    for (let n = 0; n < N; n++) {
      acc.fill(0);
      for (let o = 0; o < outF; o++) {
        const gv = dy[n * outF + o];
        const wBase = o * inF;
        for (let i = 0; i < inF; i++) acc[i] += gv * w[wBase + i];
      }
      for (let i = 0; i < inF; i++) dx[n * inF + i] = acc[i];
    }
  }
  if (dw !== null) {
    for (let o = 0; o < outF; o++) {
      acc.fill(0);
      for (let n = 0; n < N; n++) {
        const gv = dy[n * outF + o];
        const xBase = n * inF;
        for (let i = 0; i < inF; i++) acc[i] += gv * x[xBase + i];
      }
      for (let i = 0; i < inF; i++) dw[o * inF + i] = acc[i];
    }
  }
  if (db !== null) {
    for (let o = 0; o < outF; o++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += dy[n * outF + o];
      db[o] = s;
    }
  }
}

/**
 * matmul backward for out[M, N] = a[M, K] * b[K, N], given dy[M, N]:
 * da[M, K] = dy * b^T, db[K, N] = a^T * dy.
 */
export function matmulBackward(a: FArray, b: FArray, dy: FArray, M: number, K: number, N: number,
  da: FArray | null, db: FArray | null): void {
  if (da !== null) {
    for (let i = 0; i < M; i++) {
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let j = 0; j < N; j++) s += dy[i * N + j] * b[k * N + j];
        da[i * K + k] = s;
      }
    }
  }
  if (db !== null) {
    const acc = new Float64Array(N);
    for (let k = 0; k < K; k++) {
      acc.fill(0);
      for (let i = 0; i < M; i++) {
        const av = a[i * K + k];
        const dyBase = i * N;
        for (let j = 0; j < N; j++) acc[j] += av * dy[dyBase + j];
      }
      for (let j = 0; j < N; j++) db[k * N + j] = acc[j];
    }
  }
}
