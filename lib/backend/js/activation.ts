/** Elementwise activations and softmax / log-softmax (max-subtracted, so exp never overflows). */
import type { FArray, InferenceUnaryKind, UnaryKind } from '../types.js';

/** Logistic function without overflow: exp is only taken of a non-positive argument. */
export function sigmoidScalar(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

/** GELU in float64; its negative tail as x/2 * erfc(|x| / sqrt 2), without 1 + erf's cancellation. */
export function geluScalar(x: number): number {
  const t = x * Math.SQRT1_2;
  return t <= -3 ? 0.5 * x * erfcContinued(-t) : 0.5 * x * (1 + erfScalar(t));
}

/** erfc(x) for x >= 3: exp(-x^2) / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))), from the tail. */
function erfcContinued(x: number): number {
  let t = x;
  for (let k = 60; k >= 1; k--) t = x + k / 2 / t;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / t;
}

/** erf in float64: the Taylor series below 3 (cancellation costs at most 4 of 16 digits), erfc's continued fraction above. */
export function erfScalar(x: number): number {
  const ax = Math.abs(x);
  if (Number.isNaN(x)) return x;
  if (ax < 3) {
    let term = x, sum = x;
    const x2 = x * x;
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return Math.sign(x);
  return Math.sign(x) * (1 - erfcContinued(ax));
}

/**
 * Elementwise relu, leakyRelu (slope `alpha`), sigmoid, tanh, and the forward-only clip (alpha..beta),
 * silu, hardSigmoid (alpha * v + beta, clamped to [0, 1]), hardSwish, sqrt and erf; NaN propagates.
 */
export function unary(kind: UnaryKind | InferenceUnaryKind, x: FArray, alpha: number, out: FArray, beta = 0): void {
  // Clamps written as comparisons that are false for NaN, so NaN passes through.
  const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);
  const n = x.length;
  switch (kind) {
    case 'relu':
      for (let i = 0; i < n; i++) { const v = x[i]; out[i] = v < 0 ? 0 : v; }
      break;
    case 'leakyRelu':
      for (let i = 0; i < n; i++) { const v = x[i]; out[i] = v > 0 ? v : v * alpha; }
      break;
    case 'sigmoid':
      for (let i = 0; i < n; i++) out[i] = sigmoidScalar(x[i]);
      break;
    case 'tanh':
      for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]);
      break;
    case 'clip':
      for (let i = 0; i < n; i++) { const v = x[i]; out[i] = v < alpha ? alpha : v > beta ? beta : v; }
      break;
    case 'silu':
      for (let i = 0; i < n; i++) { const v = x[i]; out[i] = v * sigmoidScalar(v); }
      break;
    case 'hardSigmoid':
      for (let i = 0; i < n; i++) out[i] = clamp01(alpha * x[i] + beta);
      break;
    case 'sqrt':
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]);
      break;
    case 'erf':
      for (let i = 0; i < n; i++) out[i] = erfScalar(x[i]);
      break;
    case 'gelu':
      for (let i = 0; i < n; i++) out[i] = geluScalar(x[i]);
      break;
    case 'hardSwish':
      for (let i = 0; i < n; i++) { const v = x[i]; out[i] = v * clamp01(v / 6 + 0.5); }
      break;
  }
}

/**
 * x viewed as [outer, dim, inner]; softmax (or log-softmax) along dim. For inner > 1 the
 * reductions run over float64 rows of length `inner` so memory is read in order.
 */
export function softmax(x: FArray, outer: number, dim: number, inner: number, log: boolean, out: FArray): void {
  const mx = new Float64Array(inner);
  const sum = new Float64Array(inner);
  const stride = dim * inner;
  for (let o = 0; o < outer; o++) {
    const base = o * stride;
    mx.fill(-Infinity);
    sum.fill(0);
    for (let d = 0; d < dim; d++) {
      const row = base + d * inner;
      for (let i = 0; i < inner; i++) { const v = x[row + i]; if (v > mx[i] || v !== v) mx[i] = v; }
    }
    // A slice that is all -Infinity (or holds +Infinity) yields NaN, as in PyTorch: no special case.
    for (let d = 0; d < dim; d++) {
      const row = base + d * inner;
      for (let i = 0; i < inner; i++) sum[i] += Math.exp(x[row + i] - mx[i]);
    }
    if (log) {
      for (let i = 0; i < inner; i++) sum[i] = mx[i] + Math.log(sum[i]);  // log-sum-exp
      for (let d = 0; d < dim; d++) {
        const row = base + d * inner;
        for (let i = 0; i < inner; i++) out[row + i] = x[row + i] - sum[i];
      }
    } else {
      for (let d = 0; d < dim; d++) {
        const row = base + d * inner;
        for (let i = 0; i < inner; i++) out[row + i] = Math.exp(x[row + i] - mx[i]) / sum[i];
      }
    }
  }
}
