/** The native backend: each method is one call into the addon (which validates again). */
import type { Backend, Conv2dGeom, FArray, BinaryKind, FusedActivation, InferenceUnaryKind, PoolMode, PrepareConv2dOptions, PreparedConv2d, UnaryKind } from './types';
import type { NativeAddon, NativeTrainAddon } from './addon-types';
import * as ref from './js/train-step';
import { crossEntropyInto as refCrossEntropyInto } from './js/loss';

const UNARY: Record<UnaryKind | InferenceUnaryKind, number> = {
  relu: 0, leakyRelu: 1, sigmoid: 2, tanh: 3, clip: 4, silu: 5, hardSigmoid: 6, hardSwish: 7, sqrt: 8, erf: 9, gelu: 10,
};
/** The addon's activation arguments: code (0 none, 1 + unary kind), alpha, beta. */
function actArgs(act: FusedActivation): [number, number, number] {
  if (act === 'none') return [0, 0, 0];
  if (act === 'relu') return [1, 0, 0];
  return [1 + UNARY[act.kind], act.alpha, act.beta];
}
const BINARY: Record<BinaryKind, number> = { add: 0, sub: 1, mul: 2, div: 3 };
const POOL: Record<PoolMode, number> = { max: 0, avg: 1, min: 2 };

function f32(a: FArray | null, what: string): Float32Array {
  if (!(a instanceof Float32Array)) throw new TypeError(`native backend: ${what} must be a Float32Array`);
  return a;
}
function f32OrNull(a: FArray | null, what: string): Float32Array | null {
  return a === null ? null : f32(a, what);
}
/** The optimisers' lists of arrays go as they are: the addon checks every entry. */
const f32s = (a: FArray[]) => a as Float32Array[];

/**
 * Integer arguments (geometry, dims) for the addon: a reused Int32Array when every value fits, which
 * the binding reads in one query (a plain Array costs one N-API lookup per entry, ~1 us for a
 * convolution's 16: as much as a small layer's kernel). Values outside int32 go as the Array, so the
 * binding's own range checks still see them. The addon copies the values before it returns, so one
 * scratch array per length serves every call.
 */
const scratchInts = new Map<number, Int32Array>();
function ints(values: number[]): Int32Array | number[] {
  let buf = scratchInts.get(values.length);
  if (!buf) { buf = new Int32Array(values.length); scratchInts.set(values.length, buf); }
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if ((v | 0) !== v) return values;
    buf[i] = v;
  }
  return buf;
}

function convGeom(g: Conv2dGeom): Int32Array | number[] {
  return ints([g.N, g.C, g.H, g.W, g.outC, g.kH, g.kW, g.strideH, g.strideW, g.padTop, g.padLeft, g.padBottom,
    g.padRight, g.dilationH, g.dilationW, g.groups]);
}

export function makeNativeBackend(addon: NativeAddon & NativeTrainAddon): Backend {
  /**
   * The prepared form for a layer: Winograd where the addon prefers it (never where it cannot run),
   * null (conv2d's GEMM over the input as it is) for a 1x1 stride-1 layer on a large map, else
   * packed. The GEMM's tiles are output channels x pixels, stored straight into the NCHW rows; the
   * packed tiles' pixels x channels must be transposed on the way out, which is most of a
   * small-K layer's time. Measured per layer (CPU time, 1 thread, AVX-512 Xeon; same bits both
   * ways): GEMM / packed 0.68-0.91 at 28x28 and above with at least 24 input channels
   * (MobileNetV2's 24->144@56 0.77-0.91, ResNet-50's 256->128@56 0.71, 128->512@28 0.74-0.83),
   * 0.9-1.2 at 14x14, 1.26-1.43 at 7x7. Below 24 input channels the GEMM reads B in place (no
   * panel packing; gemm.cc): on Zen 5 GEMM / packed 0.47-0.85 from 4 to 16 input channels at 56x56
   * and 112x112 (16->96@112 0.85, 16->24@112 0.56, 8->48@112 0.67). A layer whose output feeds a
   * residual Add takes the same GEMM started from the residual ('pointwise', below).
   */
  const preparedAlgo = (g: Conv2dGeom, opts?: PrepareConv2dOptions): PreparedConv2d['algo'] | null => {
    // Depthwise layers (one input channel per group) keep conv2d's depthwise kernel; other grouped
    // layers run packed per group (Winograd is groups-1 only).
    if (g.groups !== 1) {
      if (g.C === g.groups) return null;
      return addon.conv2dPackedSize && addon.conv2dPackWeights ? 'packed' : null;
    }
    // 1x1 stride-1 unpadded layers on maps of 28x28 and more run as one GEMM per image (conv2d's
    // path; with a residual, conv2dPointwise, which starts the GEMM from it): its 8-channel x
    // 48-pixel tiles write whole lines of 8 planes, where the packed kernel's 7-pixel x 32-channel
    // tiles scatter 7 floats into each of 32 planes. With the layer's input and residual cold, as
    // in a network, ResNet-50's 64 -> 256 @ 56x56 + residual ran 1.6-1.9x faster, 128 -> 512 @ 28x28
    // 1.2-1.5x, 256 -> 1024 @ 14x14 1.4x; at 14x14 with fewer output channels (MobileNet's and
    // EfficientNet's 64-112) the two are even, and at 7x7 the packed kernel is faster.
    const pointwise = g.kH === 1 && g.kW === 1 && g.strideH === 1 && g.strideW === 1 && g.padTop + g.padLeft + g.padBottom + g.padRight === 0;
    const pixels = g.OH * g.OW;
    if (pointwise && opts?.residual && addon.conv2dPointwise && (pixels >= 28 * 28 || (pixels >= 14 * 14 && g.outC >= 256))) return 'pointwise';
    if (pointwise && pixels >= 28 * 28 && !opts?.residual) return null;
    // Strided 1x1 layers (ResNet's downsamples) likewise, from conv2d's copy of the one input phase
    // they read (a compact [C, OH*OW] matrix): 256 -> 512 @ 56/2 and 512 -> 1024 @ 28/2 with cold
    // inputs 1.12x the packed kernel; at a 7x7 output the packed kernel is faster.
    if (g.kH === 1 && g.kW === 1 && (g.strideH > 1 || g.strideW > 1) && g.padTop + g.padLeft + g.padBottom + g.padRight === 0 &&
      pixels >= 14 * 14 && !opts?.residual) return null;
    const geom = convGeom(g);
    if (opts?.winograd !== false && addon.winogradPreferred && addon.winogradWeights && addon.winogradWeightsSize &&
      addon.winogradPreferred(geom)) return 'winograd';
    return addon.conv2dPackedSize && addon.conv2dPackWeights ? 'packed' : null;
  };
  return {
    name: 'native',
    conv2d(x, w, b, g, out, act = 'none') {
      addon.conv2d(f32(x, 'x'), f32(w, 'weight'), f32OrNull(b, 'bias'), f32(out, 'out'), convGeom(g), ...actArgs(act));
    },
    prepareConv2d(w, g, opts) {
      const algo = preparedAlgo(g, opts);
      if (!algo) return null;
      const geom = convGeom(g);
      if (algo === 'pointwise') return { algo, data: Float32Array.from(f32(w, 'weight')) };
      if (algo === 'winograd') {
        const u = new Float32Array(addon.winogradWeightsSize!(geom));
        addon.winogradWeights!(f32(w, 'weight'), u, geom);
        return { algo, data: u };
      }
      const packed = new Float32Array(addon.conv2dPackedSize!(geom));
      addon.conv2dPackWeights!(f32(w, 'weight'), packed, geom);
      return { algo, data: packed };
    },
    preparedConv2dForm(g, opts) {
      const algo = preparedAlgo(g, opts);
      return algo === 'winograd' ? `winograd ${addon.winogradWeightsSize!(convGeom(g))}` : algo;
    },
    conv2dPrepared(x, p, b, residual, g, out, act) {
      const fn = p.algo === 'winograd' ? addon.conv2dWinograd : p.algo === 'pointwise' ? addon.conv2dPointwise : addon.conv2dPacked;
      if (!fn) throw new Error(`conv2dPrepared: the addon has no ${p.algo} convolution`);
      fn(f32(x, 'x'), p.data, f32OrNull(b, 'bias'), f32OrNull(residual, 'residual'), f32(out, 'out'), convGeom(g),
        ...actArgs(act));
    },
    ...(addon.linearPackedSize && addon.linearPackWeights && addon.linearPacked ? {
      prepareLinear(w: FArray, inF: number, outF: number) {
        const packed = new Float32Array(addon.linearPackedSize!(ints([inF, outF])));
        addon.linearPackWeights!(f32(w, 'weight'), packed, ints([inF, outF]));
        return packed;
      },
      linearPrepared(x: FArray, packed: Float32Array, b: FArray | null, N: number, inF: number, outF: number,
        out: FArray, act: FusedActivation) {
        addon.linearPacked!(f32(x, 'x'), packed, f32OrNull(b, 'bias'), f32(out, 'out'), ints([N, inF, outF]), ...actArgs(act));
      },
    } : {}),
    pool2d(x, g, mode, countIncludePad, out) {
      addon.pool2d(f32(x, 'x'), f32(out, 'out'),
        ints([g.N, g.C, g.H, g.W, g.kH, g.kW, g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW,
          g.ceilMode ? 1 : 0]), POOL[mode], countIncludePad);
    },
    globalPool2d(x, N, C, HW, mode, out) {
      addon.globalPool2d(f32(x, 'x'), f32(out, 'out'), ints([N, C, HW]), mode === 'max' ? 0 : 1);
    },
    batchNorm2d(x, N, C, HW, mean, variance, weight, bias, eps, out) {
      addon.batchNorm2d(f32(x, 'x'), f32(out, 'out'), ints([N, C, HW]), f32(mean, 'mean'), f32(variance, 'variance'),
        f32OrNull(weight, 'weight'), f32OrNull(bias, 'bias'), eps);
    },
    channelStats(x, N, C, HW, mean, variance) {
      addon.channelStats(f32(x, 'x'), ints([N, C, HW]), f32(mean, 'mean'), f32(variance, 'variance'));
    },
    layerNorm(x, outer, inner, weight, bias, eps, out) {
      addon.layerNorm(f32(x, 'x'), f32(out, 'out'), ints([outer, inner]), f32OrNull(weight, 'weight'),
        f32OrNull(bias, 'bias'), eps);
    },
    instanceNorm2d(x, N, C, HW, weight, bias, eps, out) {
      addon.instanceNorm2d(f32(x, 'x'), f32(out, 'out'), ints([N, C, HW]), f32OrNull(weight, 'weight'),
        f32OrNull(bias, 'bias'), eps);
    },
    linear(x, w, b, N, inF, outF, out) {
      addon.linear(f32(x, 'x'), f32(w, 'weight'), f32OrNull(b, 'bias'), f32(out, 'out'), ints([N, inF, outF]));
    },
    matmul(a, b, M, K, N, out) {
      addon.matmul(f32(a, 'a'), f32(b, 'b'), f32(out, 'out'), ints([M, K, N]));
    },
    unary(kind, x, alpha, out, beta = 0) {
      addon.unary(f32(x, 'x'), f32(out, 'out'), UNARY[kind], alpha, beta);
    },
    softmax(x, outer, dim, inner, log, out) {
      addon.softmax(f32(x, 'x'), f32(out, 'out'), ints([outer, dim, inner]), log);
    },
    binary(kind, a, b, N, C, inner, mode, out) {
      addon.binary(f32(a, 'a'), f32(b, 'b'), f32(out, 'out'), ints([N, C, inner]), BINARY[kind], mode === 'channel' ? 1 : 0);
    },
    copyStrided(x, out, len, axes) {
      const d = [len];
      for (const a of axes) d.push(a.count, a.xStride, a.outStride);
      addon.copyStrided(f32(x, 'x'), f32(out, 'out'), axes.length, ints(d));
    },
    crossEntropy(logits, targets, N, K) {
      return addon.crossEntropy(f32(logits, 'logits'), targets, [N, K]);
    },
    mseLoss(a, b) {
      return addon.mseLoss(f32(a, 'a'), f32(b, 'b'));
    },
    // Training-step kernels: the pure-TS reference until the addon has them.
    crossEntropyInto: addon.crossEntropyInto
      ? (logits, targets, N, K, loss) => addon.crossEntropyInto!(f32(logits, 'logits'), targets, [N, K], f32(loss, 'loss'))
      : refCrossEntropyInto,
    fill: addon.fill ? (out, value) => addon.fill!(f32(out, 'out'), value) : ref.fill,
    copy: addon.copy ? (src, dst) => addon.copy!(f32(src, 'src'), f32(dst, 'dst')) : ref.copy,
    accumulate: addon.accumulate ? (dst, src) => addon.accumulate!(f32(dst, 'dst'), f32(src, 'src')) : ref.accumulate,
    runningStatsUpdate: addon.runningStatsUpdate
      ? (rm, rv, mean, variance, momentum, unbias) => addon.runningStatsUpdate!(f32(rm, 'runningMean'),
        f32(rv, 'runningVar'), f32(mean, 'mean'), f32(variance, 'variance'), momentum, unbias)
      : ref.runningStatsUpdate,
    sgdStep: addon.sgdStep
      ? (params, grads, buffers, hyper) => addon.sgdStep!(f32s(params), f32s(grads),
        buffers as (Float32Array | null)[], hyper)
      : ref.sgdStep,
    adamStep: addon.adamStep
      ? (params, grads, m, v, hyper) => addon.adamStep!(f32s(params), f32s(grads), f32s(m),
        f32s(v), hyper)
      : ref.adamStep,
  };
}
