/**
 * The shape of the native addon's exports (native/binding/*.cc). Every function validates its
 * arguments again in C++ (types, integer ranges, buffer lengths vs shapes) and throws
 * TypeError/RangeError naming the op and argument; outputs are preallocated JS Float32Arrays that
 * native code fills (it never allocates tensor memory).
 *
 * Integer codes:
 *   act      0 none, 1 + unary code (1 relu, 5 clip, 6 silu, ...), followed by the kind's alpha and beta
 *   pool     0 max, 1 avg, 2 min;          globalPool 0 max, 1 avg
 *   unary    0 relu, 1 leakyRelu, 2 sigmoid, 3 tanh, 4 clip, 5 silu, 6 hardSigmoid, 7 hardSwish, 8 sqrt, 9 erf
 *   binary   0 add, 1 sub, 2 mul, 3 div;   bMode 0 same shape, 1 channel ([C] over [N, C, inner])
 *   unaryBackward 0 relu, 1 leakyRelu, 2 sigmoid, 3 tanh, 4 reluOut (relu read from its output)
 */
/** Integer arguments (geometry, dims): an Array, or an Int32Array (read in one N-API query). */
export type IntArg = Int32Array | number[];

export interface NativeCpuInfo {
  isa: 'avx512' | 'avx2' | 'neon' | 'scalar';
  forced: boolean;            // chosen through SIMDCNN_ISA
  features: string[];         // e.g. ['avx2', 'fma', 'avx512f', ...] or ['neon', 'dotprod', 'fp16', 'bf16', 'i8mm']
  threads: number;            // current intra-op thread count
  hardwareThreads: number;
}

export interface NativeAddon {
  cpuInfo(): NativeCpuInfo;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  /** Bytes held natively between calls (scratch, caches). */
  nativeBytes(): number;
  /** Frees cached scratch. */
  releaseScratch(): void;

  /** geom = [N, C, H, W, outC, kH, kW, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW, groups] */
  conv2d(x: Float32Array, w: Float32Array, b: Float32Array | null, out: Float32Array, geom: IntArg, act: number, actAlpha?: number, actBeta?: number): void;
  /** geom = [N, C, H, W, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, ceilMode(0|1)] */
  pool2d(x: Float32Array, out: Float32Array, geom: IntArg, mode: number, countIncludePad: boolean): void;
  /** dims = [N, C, HW] */
  globalPool2d(x: Float32Array, out: Float32Array, dims: IntArg, mode: number): void;
  /** dims = [N, C, HW] */
  batchNorm2d(x: Float32Array, out: Float32Array, dims: IntArg, mean: Float32Array, variance: Float32Array,
    weight: Float32Array | null, bias: Float32Array | null, eps: number): void;
  /** dims = [N, C, HW]; writes mean[C] and biased variance[C]. */
  channelStats(x: Float32Array, dims: IntArg, mean: Float32Array, variance: Float32Array): void;
  /** dims = [outer, inner] */
  layerNorm(x: Float32Array, out: Float32Array, dims: IntArg, weight: Float32Array | null,
    bias: Float32Array | null, eps: number): void;
  /** dims = [N, C, HW] */
  instanceNorm2d(x: Float32Array, out: Float32Array, dims: IntArg, weight: Float32Array | null,
    bias: Float32Array | null, eps: number): void;
  /** dims = [N, inF, outF] */
  linear(x: Float32Array, w: Float32Array, b: Float32Array | null, out: Float32Array, dims: IntArg): void;
  /** dims = [M, K, N] */
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, dims: IntArg): void;
  unary(x: Float32Array, out: Float32Array, kind: number, alpha: number, beta?: number): void;
  /** dims = [outer, dim, inner] */
  softmax(x: Float32Array, out: Float32Array, dims: IntArg, log: boolean): void;
  /** dims = [N, C, inner] */
  binary(a: Float32Array, b: Float32Array, out: Float32Array, dims: IntArg, kind: number, bMode: number): void;
  copyStrided(x: Float32Array, out: Float32Array, rank: number, dims: IntArg): void;
  /** dims = [N, K]; targets are class indices in [0, K) (RangeError otherwise). */
  crossEntropy(logits: Float32Array, targets: Int32Array, dims: IntArg): number;
  mseLoss(a: Float32Array, b: Float32Array): number;

  // Planned-inference convolutions with weights prepared once and cached by the caller (lib/graph/plan.ts).
  // geom as conv2d's. residual (same shape as out, or null) is added before the activation:
  //   out = act(conv(x) + b + residual).
  /** True when Winograd F(4x4,3x3) is expected to beat the direct path for this layer shape (ignores N). */
  winogradPreferred?(geom: IntArg): boolean;
  /** Transforms 3x3 stride-1 weights w [outC, C, 3, 3] into u [36, outC, C]. */
  /** Output tile size of the layer's Winograd transform: 4 (F(4x4,3x3)) or 2 (F(2x2,3x3)). */
  winogradTileSize?(geom: IntArg): number;
  /** Floats winogradWeights writes (a header and the transformed weights in channel panels); m: 0, 2 or 4. */
  winogradWeightsSize?(geom: IntArg, m?: number): number;
  winogradWeights?(w: Float32Array, u: Float32Array, geom: IntArg, m?: number): void;
  /** 3x3 stride-1 dilation-1 groups-1 convolution from Winograd-transformed weights u. */
  conv2dWinograd?(x: Float32Array, u: Float32Array, b: Float32Array | null, residual: Float32Array | null,
    out: Float32Array, geom: IntArg, act: number, actAlpha?: number, actBeta?: number): void;
  /** Floats conv2dPackWeights needs for this layer's weights on the active ISA (any groups). */
  conv2dPackedSize?(geom: IntArg): number;
  /** Packs weights w [outC, C/groups, kH, kW] into the active ISA's panel layout, per group. */
  conv2dPackWeights?(w: Float32Array, packed: Float32Array, geom: IntArg): void;
  /** Floats linearPackWeights needs; dims = [inF, outF]. */
  linearPackedSize?(dims: IntArg): number;
  /** Packs dense weights w [outF, inF] (runs at once, also during a capture); dims = [inF, outF]. */
  linearPackWeights?(w: Float32Array, packed: Float32Array, dims: IntArg): void;
  /** out = act(x w^T + b) from packed weights; dims = [N, inF, outF]. */
  linearPacked?(x: Float32Array, packed: Float32Array, b: Float32Array | null, out: Float32Array, dims: IntArg,
    act: number, actAlpha?: number, actBeta?: number): void;
  /** A 1x1 stride-1 unpadded convolution + residual (which may be out itself) through the GEMM. */
  conv2dPointwise?(x: Float32Array, w: Float32Array, b: Float32Array | null, residual: Float32Array | null,
    out: Float32Array, geom: IntArg, act: number, actAlpha?: number, actBeta?: number): void;
  /** Convolution (any groups) from packed weights. */
  conv2dPacked?(x: Float32Array, packed: Float32Array, b: Float32Array | null, residual: Float32Array | null,
    out: Float32Array, geom: IntArg, act: number, actAlpha?: number, actBeta?: number): void;
}

/** Native backward kernels (present once built; autograd checks for each function). */
export interface NativeBackwardAddon {
  /** geom as conv2d's */
  conv2dBackwardInput?(dy: Float32Array, w: Float32Array, dx: Float32Array, geom: IntArg): void;
  conv2dBackwardWeight?(x: Float32Array, dy: Float32Array, dw: Float32Array, geom: IntArg): void;

  /** geom as pool2d's */
  pool2dBackward?(x: Float32Array, dy: Float32Array, dx: Float32Array, geom: IntArg, mode: number, countIncludePad: boolean): void;
  /** dims = [N, C, HW] */
  batchNorm2dBackward?(x: Float32Array, dy: Float32Array, dims: IntArg, weight: Float32Array | null, eps: number,
    dx: Float32Array | null, dweight: Float32Array | null, dbias: Float32Array | null): void;
  /** dims = [N, inF, outF] */
  linearBackward?(x: Float32Array, w: Float32Array, dy: Float32Array, dims: IntArg,
    dx: Float32Array | null, dw: Float32Array | null, db: Float32Array | null): void;
  /** dx may be dy itself. */
  unaryBackward?(x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, kind: number, alpha: number): void;
  /** dims = [N, C, inner]; out has C entries. */
  channelSum?(dy: Float32Array, out: Float32Array, dims: IntArg): void;
  /** dims = [N, C, inner]; kind and bMode as binary's. */
  binaryBackward?(a: Float32Array, b: Float32Array, dy: Float32Array, dims: IntArg, kind: number, bMode: number,
    da: Float32Array | null, db: Float32Array | null): void;
  /** dims = [N, C, HW]; mode 0 max, 1 avg. */
  globalPool2dBackward?(x: Float32Array, dy: Float32Array, dx: Float32Array, dims: IntArg, mode: number): void;
  /** dims = [N, K]; the upstream gradient is gradOut[0]. */
  crossEntropyBackward?(logits: Float32Array, targets: Int32Array, dims: IntArg, gradOut: Float32Array,
    dlogits: Float32Array): void;
}

/** Native training-step kernels (every one captured by a capture; see lib/backend/types.ts). */
export interface NativeTrainAddon {
  /** dims = [N, K]; the mean loss into loss[0]. */
  crossEntropyInto?(logits: Float32Array, targets: Int32Array, dims: IntArg, loss: Float32Array): void;
  fill?(out: Float32Array, value: number): void;
  copy?(src: Float32Array, dst: Float32Array): void;
  accumulate?(dst: Float32Array, src: Float32Array): void;
  runningStatsUpdate?(runningMean: Float32Array, runningVar: Float32Array, mean: Float32Array, variance: Float32Array,
    momentum: number, unbias: number): void;
  /** hyper = [lr, momentum, dampening, weightDecay, nesterov, firstStep]. */
  sgdStep?(params: Float32Array[], grads: Float32Array[], buffers: (Float32Array | null)[], hyper: Float32Array): void;
  /** hyper = [lr, beta1, beta2, eps, weightDecay, c1, c2]. */
  adamStep?(params: Float32Array[], grads: Float32Array[], m: Float32Array[], v: Float32Array[], hyper: Float32Array): void;
}
