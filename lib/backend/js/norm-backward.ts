/**
 * Gradients of the normalisation kernels. With xhat = (x - mean) * invStd and g = dy * weight, the
 * input gradient of a normalisation over M values with batch statistics is
 *   dx = invStd * (g - mean(g) - xhat * mean(g * xhat)),
 * and the affine gradients are dweight = sum(dy * xhat), dbias = sum(dy). Statistics are recomputed
 * from x (two-pass, float64). Outputs are overwritten; pass null for a gradient that is not needed.
 */
import type { FArray } from '../types.js';
import { channelStats, rowMoments } from './norm.js';

/**
 * Training-mode batchNorm2d backward (batch statistics, biased variance), x and dy viewed as
 * [N, C, HW]: writes dx, and dweight[C], dbias[C] when given. weight null means all ones.
 */
export function batchNorm2dBackward(x: FArray, dy: FArray, N: number, C: number, HW: number,
  weight: FArray | null, eps: number, dx: FArray | null, dweight: FArray | null, dbias: FArray | null): void {
  const M = N * HW;
  // The batch statistics, recomputed exactly as the forward computes them (in float64).
  const means = new Float64Array(C), vars = new Float64Array(C);
  channelStats(x, N, C, HW, means, vars);
  for (let c = 0; c < C; c++) {
    const mean = means[c];
    const invStd = 1 / Math.sqrt(vars[c] + eps);
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) {
        const d = dy[base + i];
        sumDy += d;
        sumDyXhat += d * (x[base + i] - mean) * invStd;
      }
    }
    if (dbias !== null) dbias[c] = sumDy;
    if (dweight !== null) dweight[c] = sumDyXhat;
    if (dx === null) continue;
    const scale = (weight === null ? 1 : weight[c]) * invStd;
    const meanDy = sumDy / M;
    const meanDyXhat = sumDyXhat / M;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) {
        const xhat = (x[base + i] - mean) * invStd;
        dx[base + i] = scale * (dy[base + i] - meanDy - xhat * meanDyXhat);
      }
    }
  }
}

/**
 * Eval-mode batchNorm2d backward (fixed running statistics `mean`, `variance`), x and dy viewed as
 * [N, C, HW]: dx = dy * weight / sqrt(variance + eps); dweight, dbias as in training mode.
 */
export function batchNorm2dBackwardEval(x: FArray, dy: FArray, N: number, C: number, HW: number,
  mean: FArray, variance: FArray, weight: FArray | null, eps: number,
  dx: FArray | null, dweight: FArray | null, dbias: FArray | null): void {
  for (let c = 0; c < C; c++) {
    const invStd = 1 / Math.sqrt(variance[c] + eps);
    const scale = (weight === null ? 1 : weight[c]) * invStd;
    const m = mean[c];
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) {
        const d = dy[base + i];
        sumDy += d;
        sumDyXhat += d * (x[base + i] - m) * invStd;
        if (dx !== null) dx[base + i] = d * scale;
      }
    }
    if (dbias !== null) dbias[c] = sumDy;
    if (dweight !== null) dweight[c] = sumDyXhat;
  }
}

/**
 * layerNorm backward, x and dy viewed as [outer, inner]: writes dx, and dweight[inner],
 * dbias[inner] (summed over rows) when given. weight null means all ones.
 */
export function layerNormBackward(x: FArray, dy: FArray, outer: number, inner: number, weight: FArray | null,
  eps: number, dx: FArray | null, dweight: FArray | null, dbias: FArray | null): void {
  const mo = new Float64Array(2);
  const accW = new Float64Array(inner);
  const accB = new Float64Array(inner);
  for (let r = 0; r < outer; r++) {
    const base = r * inner;
    rowMoments(x, base, inner, eps, mo);
    const mean = mo[0], invStd = mo[1];
    let sumG = 0;
    let sumGXhat = 0;
    for (let i = 0; i < inner; i++) {
      const d = dy[base + i];
      const xhat = (x[base + i] - mean) * invStd;
      const gi = d * (weight === null ? 1 : weight[i]);
      sumG += gi;
      sumGXhat += gi * xhat;
      accW[i] += d * xhat;
      accB[i] += d;
    }
    if (dx === null) continue;
    const meanG = sumG / inner;
    const meanGXhat = sumGXhat / inner;
    for (let i = 0; i < inner; i++) {
      const xhat = (x[base + i] - mean) * invStd;
      const gi = dy[base + i] * (weight === null ? 1 : weight[i]);
      dx[base + i] = invStd * (gi - meanG - xhat * meanGXhat);
    }
  }
  if (dweight !== null) for (let i = 0; i < inner; i++) dweight[i] = accW[i];
  if (dbias !== null) for (let i = 0; i < inner; i++) dbias[i] = accB[i];
}

/**
 * instanceNorm2d backward, x and dy viewed as [N, C, HW] (each (n, c) plane normalised on its own):
 * writes dx, and dweight[C], dbias[C] (summed over N and HW) when given. weight null means all ones.
 */
export function instanceNorm2dBackward(x: FArray, dy: FArray, N: number, C: number, HW: number,
  weight: FArray | null, eps: number, dx: FArray | null, dweight: FArray | null, dbias: FArray | null): void {
  const mo = new Float64Array(2);
  const accW = new Float64Array(C);
  const accB = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * HW;
      rowMoments(x, base, HW, eps, mo);
      const mean = mo[0], invStd = mo[1];
      let sumDy = 0;
      let sumDyXhat = 0;
      for (let i = 0; i < HW; i++) {
        const d = dy[base + i];
        sumDy += d;
        sumDyXhat += d * (x[base + i] - mean) * invStd;
      }
      accW[c] += sumDyXhat;
      accB[c] += sumDy;
      if (dx === null) continue;
      const scale = (weight === null ? 1 : weight[c]) * invStd;
      const meanDy = sumDy / HW;
      const meanDyXhat = sumDyXhat / HW;
      for (let i = 0; i < HW; i++) {
        const xhat = (x[base + i] - mean) * invStd;
        dx[base + i] = scale * (dy[base + i] - meanDy - xhat * meanDyXhat);
      }
    }
  }
  if (dweight !== null) for (let c = 0; c < C; c++) dweight[c] = accW[c];
  if (dbias !== null) for (let c = 0; c < C; c++) dbias[c] = accB[c];
}
