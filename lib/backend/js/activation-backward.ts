/** Gradients of the activations and of softmax / log-softmax. dx is overwritten. */
import type { FArray, UnaryBackwardKind } from '../types.js';

/**
 * Elementwise activation backward: dx = dy * f'(.). relu and leakyRelu read the input x (gradient 0
 * at x = 0, as PyTorch); sigmoid and tanh read the forward output y (dy * y * (1 - y),
 * dy * (1 - y^2)); reluOut is relu read from its output y. The argument a kind does not read may
 * be any array (e.g. the other one). dx may be dy itself.
 */
export function unaryBackward(kind: UnaryBackwardKind, x: FArray, y: FArray, dy: FArray, alpha: number, dx: FArray): void {
  const n = dy.length;
  switch (kind) {
    case 'relu':
      for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
      break;
    case 'reluOut':
      for (let i = 0; i < n; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
      break;
    case 'leakyRelu':
      for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : dy[i] * alpha;
      break;
    case 'sigmoid':
      for (let i = 0; i < n; i++) { const v = y[i]; dx[i] = dy[i] * v * (1 - v); }
      break;
    case 'tanh':
      for (let i = 0; i < n; i++) { const v = y[i]; dx[i] = dy[i] * (1 - v * v); }
      break;
  }
}

/**
 * softmax backward from the forward output y, viewed as [outer, dim, inner]:
 * dx = y * (dy - sum_dim(dy * y)).
 */
export function softmaxBackward(y: FArray, dy: FArray, outer: number, dim: number, inner: number, dx: FArray): void {
  const dot = new Float64Array(inner);
  const stride = dim * inner;
  for (let o = 0; o < outer; o++) {
    const base = o * stride;
    dot.fill(0);
    for (let d = 0; d < dim; d++) {
      const row = base + d * inner;
      for (let i = 0; i < inner; i++) dot[i] += dy[row + i] * y[row + i];
    }
    for (let d = 0; d < dim; d++) {
      const row = base + d * inner;
      for (let i = 0; i < inner; i++) dx[row + i] = y[row + i] * (dy[row + i] - dot[i]);
    }
  }
}

/**
 * logSoftmax backward from the forward output y (log-probabilities), viewed as [outer, dim, inner]:
 * dx = dy - exp(y) * sum_dim(dy).
 */
export function logSoftmaxBackward(y: FArray, dy: FArray, outer: number, dim: number, inner: number,
  dx: FArray): void {
  const sum = new Float64Array(inner);
  const stride = dim * inner;
  for (let o = 0; o < outer; o++) {
    const base = o * stride;
    sum.fill(0);
    for (let d = 0; d < dim; d++) {
      const row = base + d * inner;
      for (let i = 0; i < inner; i++) sum[i] += dy[row + i];
    }
    for (let d = 0; d < dim; d++) {
      const row = base + d * inner;
      for (let i = 0; i < inner; i++) dx[row + i] = dy[row + i] - Math.exp(y[row + i]) * sum[i];
    }
  }
}
