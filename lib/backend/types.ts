/**
 * The backend contract: data-level kernels on flat row-major arrays. `lib/ops/` validates shapes
 * and parameters, allocates the output (JS-owned memory) and calls exactly one of these; backends
 * only do the math. The pure-TS reference (`js/`) accepts Float64Array as well, so gradient checks
 * can run in float64; the native backend takes Float32Array only.
 */
export type FArray = Float32Array | Float64Array;

/** Convolution geometry. Input [N, C, H, W], weight [outC, C/groups, kH, kW], output [N, outC, OH, OW]. */
export interface Conv2dGeom {
  N: number; C: number; H: number; W: number;
  outC: number; kH: number; kW: number;
  strideH: number; strideW: number;
  padTop: number; padLeft: number; padBottom: number; padRight: number;
  dilationH: number; dilationW: number;
  groups: number;
  OH: number; OW: number;
}

/**
 * Pooling geometry. Padding is symmetric per axis (PyTorch). OH/OW follow PyTorch's rule including
 * ceilMode (a last window that would start in the right/bottom padding is dropped).
 * Windows are clipped to the input for max/min (padding never wins); for avg the divisor is the
 * window clipped to the padded input when countIncludePad, else the window clipped to the input.
 */
export interface PoolGeom {
  N: number; C: number; H: number; W: number;
  kH: number; kW: number;
  strideH: number; strideW: number;
  padH: number; padW: number;
  dilationH: number; dilationW: number;
  ceilMode: boolean;
  OH: number; OW: number;
}

export type PoolMode = 'max' | 'avg' | 'min';
export type UnaryKind = 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh';
/**
 * The activations unaryBackward differentiates: the trainable unary kinds, and 'reluOut', a ReLU
 * whose gradient is read from its output y (dx = y > 0 ? dy : 0) for a ReLU fused into a
 * convolution, whose input is not kept.
 */
export type UnaryBackwardKind = UnaryKind | 'reluOut';
/**
 * Forward-only activations of the graph compiler (no backward): clip(alpha = min, beta = max),
 * silu, hardSigmoid(alpha, beta), hardSwish, sqrt, erf, gelu (x/2 * (1 + erf(x / sqrt 2))).
 */
export type InferenceUnaryKind = 'clip' | 'silu' | 'hardSigmoid' | 'hardSwish' | 'sqrt' | 'erf' | 'gelu';
export type BinaryKind = 'add' | 'sub' | 'mul' | 'div';
export interface CopyAxis { count: number; xStride: number; outStride: number }
/**
 * What a planner tells prepareConv2d about a layer: winograd false keeps it on direct algorithms;
 * residual: the output feeds an Add the prepared kernel's epilogue can take (conv2d has none).
 */
export interface PrepareConv2dOptions { winograd?: boolean; residual?: boolean }
/** 'same': b has a's shape; 'channel': b is [1, C, 1, 1] broadcast over [N, C, inner]. */
export type BroadcastMode = 'same' | 'channel';
/**
 * The activation a convolution or dense kernel applies to its outputs after bias and residual:
 * 'none', 'relu', or any unary kind with its parameters (native: run over each finished output
 * block while it is in cache; js: a pass after the kernel).
 */
export type FusedActivation = 'none' | 'relu' | { kind: UnaryKind | InferenceUnaryKind; alpha: number; beta: number };

/**
 * Convolution weights rearranged once for a faster inference kernel (planned inference);
 * 'pointwise' keeps a 1x1 layer's weights as they are, for the GEMM that adds its residual.
 */
export interface PreparedConv2d {
  readonly algo: 'winograd' | 'packed' | 'pointwise';
  readonly data: Float32Array;
}

export interface Backend {
  readonly name: 'js' | 'native';
  /** out[N, outC, OH, OW] = conv(x, w) + b, then the fused activation. */
  conv2d(x: FArray, w: FArray, b: FArray | null, g: Conv2dGeom, out: FArray, act?: FusedActivation): void;
  /**
   * Optional (native): weights rearranged for the fastest inference kernel for this layer shape
   * (Winograd-transformed or panel-packed), or null when conv2d itself is the best choice. The
   * choice depends on the shape only, never on N. w may be a transient buffer: the result must
   * not keep it.
   */
  prepareConv2d?(w: FArray, g: Conv2dGeom, opts?: PrepareConv2dOptions): PreparedConv2d | null;
  /**
   * Optional (native, with prepareConv2d): what prepareConv2d would make for this shape, as a key
   * ('packed', 'pointwise', or 'winograd' with its size), null for nothing. Two shapes of a layer with the same
   * form share one prepared copy (packed weights do not depend on the input's size; Winograd's
   * depend on its tile size only).
   */
  preparedConv2dForm?(g: Conv2dGeom, opts?: PrepareConv2dOptions): string | null;
  /** out = act(conv(x, prepared) + b + residual); residual has out's shape or is null. */
  conv2dPrepared?(x: FArray, p: PreparedConv2d, b: FArray | null, residual: FArray | null, g: Conv2dGeom,
    out: FArray, act: FusedActivation): void;
  /** Optional (native): dense-layer weights [outF, inF] packed once for linearPrepared. */
  prepareLinear?(w: FArray, inF: number, outF: number): Float32Array;
  /** out[N, outF] = act(x * W^T + b) from prepareLinear's packed weights. */
  linearPrepared?(x: FArray, packed: Float32Array, b: FArray | null, N: number, inF: number, outF: number,
    out: FArray, act: FusedActivation): void;
  pool2d(x: FArray, g: PoolGeom, mode: PoolMode, countIncludePad: boolean, out: FArray): void;
  /** x viewed as [N, C, HW] -> out [N, C]. */
  globalPool2d(x: FArray, N: number, C: number, HW: number, mode: 'max' | 'avg', out: FArray): void;
  /** out = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]; x viewed as [N, C, HW]. */
  batchNorm2d(x: FArray, N: number, C: number, HW: number, mean: FArray, variance: FArray,
    weight: FArray | null, bias: FArray | null, eps: number, out: FArray): void;
  /** Per-channel mean and biased variance over N and HW. */
  channelStats(x: FArray, N: number, C: number, HW: number, mean: FArray, variance: FArray): void;
  /** x viewed as [outer, inner]; normalise each row; weight/bias have `inner` entries. */
  layerNorm(x: FArray, outer: number, inner: number, weight: FArray | null, bias: FArray | null,
    eps: number, out: FArray): void;
  /** x viewed as [N, C, HW]; normalise each (n, c) over HW; weight/bias have C entries. */
  instanceNorm2d(x: FArray, N: number, C: number, HW: number, weight: FArray | null, bias: FArray | null,
    eps: number, out: FArray): void;
  /** out[N, outF] = x[N, inF] * w[outF, inF]^T + b[outF]. */
  linear(x: FArray, w: FArray, b: FArray | null, N: number, inF: number, outF: number, out: FArray): void;
  /** out[M, N] = a[M, K] * b[K, N]. */
  matmul(a: FArray, b: FArray, M: number, K: number, N: number, out: FArray): void;
  /** Elementwise; alpha is leakyRelu's slope, alpha/beta clip's and hardSigmoid's parameters. */
  unary(kind: UnaryKind | InferenceUnaryKind, x: FArray, alpha: number, out: FArray, beta?: number): void;
  /** x viewed as [outer, dim, inner]; softmax (or log-softmax) along dim. */
  softmax(x: FArray, outer: number, dim: number, inner: number, log: boolean, out: FArray): void;
  /** a viewed as [N, C, inner]; b is a's shape ('same') or [C] broadcast ('channel'). */
  binary(kind: BinaryKind, a: FArray, b: FArray, N: number, C: number, inner: number,
    mode: BroadcastMode, out: FArray): void;
  /**
   * Runs of len floats over a grid of axes (outermost first, at most 6):
   * out[sum i_k * outStride_k + j] = x[sum i_k * xStride_k + j]. Concat inputs into their slices,
   * Transpose, Slice. x and out disjoint.
   */
  copyStrided(x: FArray, out: FArray, len: number, axes: readonly CopyAxis[]): void;
  /** Mean over the batch of -log softmax(logits)[n, targets[n]]; logits [N, K]. */
  crossEntropy(logits: FArray, targets: Int32Array, N: number, K: number): number;
  /** Mean of (a - b)^2. */
  mseLoss(a: FArray, b: FArray): number;

  // Training-step kernels. Each overwrites its outputs and reads every run-time value from an array,
  // so a captured training step (native/binding/defer.h) can replay them on the same arrays.
  /** crossEntropy's mean loss written to loss[0] (same arithmetic). */
  crossEntropyInto(logits: FArray, targets: Int32Array, N: number, K: number, loss: FArray): void;
  /** out[i] = value. */
  fill(out: FArray, value: number): void;
  /** dst[i] = src[i]; equal lengths. */
  copy(src: FArray, dst: FArray): void;
  /** dst[i] += src[i]; equal lengths. */
  accumulate(dst: FArray, src: FArray): void;
  /**
   * batchNorm2d's running statistics, per channel: rm = (1 - m) rm + m mean,
   * rv = (1 - m) rv + m var unbias (unbias = count / (count - 1)).
   */
  runningStatsUpdate(runningMean: FArray, runningVar: FArray, mean: FArray, variance: FArray, momentum: number,
    unbias: number): void;
  /**
   * One torch.optim.SGD step over every parameter. hyper = [lr, momentum, dampening, weightDecay,
   * nesterov (0/1), firstStep (0/1)], read when the kernel runs. Per element: d = g + wd w; with a
   * momentum buffer (buffers[i] non-null) buf = firstStep ? d : momentum buf + (1 - dampening) d and
   * d = nesterov ? d + momentum buf : buf; then w -= lr d. A null buffer means no momentum.
   */
  sgdStep(params: FArray[], grads: FArray[], buffers: (FArray | null)[], hyper: Float32Array): void;
  /**
   * One Adam step over every parameter. hyper = [lr, beta1, beta2, eps, weightDecay, c1, c2] with
   * c1 = 1 - beta1^t, c2 = 1 - beta2^t. Per element: d = g + wd w; m = b1 m + (1 - b1) d;
   * v = b2 v + (1 - b2) d^2; w -= lr (m / c1) / (sqrt(v / c2) + eps).
   */
  adamStep(params: FArray[], grads: FArray[], m: FArray[], v: FArray[], hyper: Float32Array): void;
}

/**
 * Backward kernels a backend may provide natively; autograd falls back to the pure-TS reference
 * (lib/backend/js/backward.ts, same signatures) for any that are missing. Outputs are overwritten.
 */
export interface BackwardKernels {
  /** dx[N, C, H, W] from dy[N, outC, OH, OW] and w (col2im of W^T * dY). */
  conv2dBackwardInput(dy: FArray, w: FArray, g: Conv2dGeom, dx: FArray): void;
  /** dw[outC, C/groups, kH, kW] from x and dy (dY * im2col(X)^T). */
  conv2dBackwardWeight(x: FArray, dy: FArray, g: Conv2dGeom, dw: FArray): void;
  /** dx[N, C, H, W] for pooling (max/min route to the first arg-extremum; avg spreads by the divisor). */
  pool2dBackward(x: FArray, dy: FArray, g: PoolGeom, mode: PoolMode, countIncludePad: boolean, dx: FArray): void;
  /** Training-mode batch norm backward (batch statistics); weight null means ones. */
  batchNorm2dBackward(x: FArray, dy: FArray, N: number, C: number, HW: number, weight: FArray | null, eps: number,
    dx: FArray | null, dweight: FArray | null, dbias: FArray | null): void;
  /** dx = dy * w, dw = dy^T * x, db = column sums of dy (each output optional). */
  linearBackward(x: FArray, w: FArray, dy: FArray, N: number, inF: number, outF: number,
    dx: FArray | null, dw: FArray | null, db: FArray | null): void;
  /**
   * dx = dy * f'(.): relu/leakyRelu read x, sigmoid/tanh/reluOut read y (the other may be any
   * array). dx may be dy itself (in place).
   */
  unaryBackward(kind: UnaryBackwardKind, x: FArray, y: FArray, dy: FArray, alpha: number, dx: FArray): void;
  /** out[c] = sum over n, i of dy[(n C + c) inner + i] (a conv bias / per-channel operand gradient). */
  channelSum(dy: FArray, N: number, C: number, inner: number, out: FArray): void;
  /** Gradients of binary (see lib/backend/js/elementwise-backward.ts); null for one not needed. */
  binaryBackward(kind: BinaryKind, a: FArray, b: FArray, dy: FArray, N: number, C: number, inner: number,
    mode: BroadcastMode, da: FArray | null, db: FArray | null): void;
  /** dx[N, C, HW] for globalPool2d (max routes to the first arg-max, a NaN wins; avg spreads dy / HW). */
  globalPool2dBackward(x: FArray, dy: FArray, N: number, C: number, HW: number, mode: 'max' | 'avg', dx: FArray): void;
  /** dlogits = gradOut[0] / N (softmax(logits) - onehot(targets)); the upstream gradient from an array. */
  crossEntropyBackward(logits: FArray, targets: Int32Array, N: number, K: number, gradOut: FArray,
    dlogits: FArray): void;
}
