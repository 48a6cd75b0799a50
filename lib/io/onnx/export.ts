/**
 * ONNX export of nn module trees (io.saveOnnx): the inverse of the loader in ./model.ts.
 *
 * The walk mirrors lib/nn/lower.ts (the nn front end of the graph compiler): one rule per layer
 * class, containers and the built-in models recursing into their children in forward order. What
 * is written is the eval-mode network (Dropout omitted, batch norm on its running statistics)
 * whatever mode the module is in; the modes are restored afterwards.
 *
 * Every leaf also runs its own eval forward on zeros of the declared input shape while it is
 * exported (the probe), so each rule knows its input and output shapes from the module itself:
 * ceil-mode pooling, 'same' padding and adaptive bins are written from the sizes the forward
 * produced instead of a second copy of the size rules, and a shape error is reported with the
 * module that raised it.
 *
 * The file: opset 13, graph input 'input' [N, C, H, W] and output 'output' with the symbolic batch
 * axis 'N', initializers named by their state-dict keys (num_batches_tracked is not written: no
 * op reads it). The few auxiliary values (reshape shapes, slice bounds, epsilon) are Constant
 * nodes, so the initializers are exactly the module's tensors.
 *
 * Opset 13 rather than 17 (LayerNormalization's): every op written here exists at 13, so the file
 * also runs on runtimes and converters that stop short of opset 17. LayerNorm is written as the nine ops torch.onnx.export emits below opset 17
 * (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add): the same values, and both
 * onnxruntime's graph optimizer and simdcnn's loader fuse it back into one layer norm over the last
 * axis. InstanceNorm2d is InstanceNormalization (opset 6), as PyTorch exports it.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { randomBytes } from 'node:crypto';
import { Tensor, tidy, zeros } from '../../tensor';
import { noGrad } from '../../autograd/tape';
import * as ops from '../../ops/index';
import { describe, shapeStr } from '../../errors';
import { Module } from '../../nn/module';
import { Sequential, Residual } from '../../nn/container';
import { Conv2d } from '../../nn/conv';
import { BatchNorm2d, LayerNorm, InstanceNorm2d } from '../../nn/norm';
import { Linear, Flatten, Identity } from '../../nn/linear';
import { ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax } from '../../nn/activation';
import { MaxPool2d, AvgPool2d, MinPool2d, GlobalAvgPool2d, GlobalMaxPool2d, AdaptiveAvgPool2d } from '../../nn/pool';
import { adaptiveBins } from '../../nn/adaptive-avg-pool';
import { Dropout } from '../../nn/dropout';
import { BasicBlock, ResNet } from '../../models/resnet';
import { LeNet5 } from '../../models/lenet5';
import { AlexNet } from '../../models/alexnet';
import { buildOnnxModel, type OnnxAttr, type OnnxNodeSpec } from './writer';

const OP = 'saveOnnx';
const OPSET = 13;

/** The classes with an export rule, for the error that names a module without one. */
const KNOWN: (abstract new (...args: never[]) => Module)[] = [
  Sequential, Residual, Conv2d, BatchNorm2d, LayerNorm, InstanceNorm2d, Linear, Flatten, Identity, ReLU, LeakyReLU,
  Sigmoid, Tanh, Softmax, LogSoftmax, MaxPool2d, AvgPool2d, MinPool2d, GlobalAvgPool2d, GlobalMaxPool2d,
  AdaptiveAvgPool2d, Dropout, BasicBlock, ResNet, LeNet5, AlexNet,
];

/** A value of the graph: its name, the probe tensor the module computed for it, and whether axis 0 is the batch. */
interface Value {
  name: string;
  t: Tensor;
  batched: boolean;
}

class Exporter {
  readonly nodes: OnnxNodeSpec[] = [];
  readonly inits: Record<string, Tensor> = {};
  private readonly used = new Map<string, number>();

  constructor(private readonly paths: Map<Module, string>, private readonly keys: Map<Tensor, string>) {}

  path(m: Module): string {
    return this.paths.get(m) ?? '?';
  }

  /** How messages name a module: its state-dict path and class. */
  label(m: Module): string {
    const p = this.path(m);
    return `module '${p === '' ? '(root)' : p}' (${m.constructor.name})`;
  }

  /** The initializer for one of m's tensors, named by its state-dict key. */
  init(m: Module, t: Tensor, what: string): string {
    const key = this.keys.get(t);
    // A tensor a layer reads but the state dict does not hold has no name the file could use.
    if (key === undefined) throw new Error(`${OP}: ${this.label(m)}: its ${what} (shape ${shapeStr(t.shape)}) is not in the model's state dict`);
    this.inits[key] = t;
    return key;
  }

  /** Appends a node written for module m; returns its output's name. */
  node(m: Module, op: string, inputs: string[], attrs?: Record<string, OnnxAttr>): string {
    const p = this.path(m);
    const base = p === '' ? op : `${p}/${op}`;
    const k = this.used.get(base) ?? 0;
    this.used.set(base, k + 1);
    const name = k === 0 ? base : `${base}_${k}`;
    const out = `${name}_output`;
    this.nodes.push({ op, inputs, outputs: [out], name, ...(attrs ? { attrs } : {}) });
    return out;
  }

  /** A Constant node holding int64 values (shapes, axes, slice bounds). */
  ints(m: Module, values: number[]): string {
    return this.node(m, 'Constant', [], { value: { t: { dims: [values.length], int64: values } } });
  }

  /** A Constant node holding float values of the given dims ([] for a scalar). */
  floats(m: Module, dims: number[], values: number[]): string {
    return this.node(m, 'Constant', [], { value: { t: { dims, float: values } } });
  }

  /** Runs one step of m's forward on the probe, naming m (and the input shape) in any error. */
  probe(m: Module, x: Tensor, f: () => Tensor): Tensor {
    try {
      return f();
    } catch (e) {
      const msg = `${OP}: ${this.label(m)} failed on input shape ${shapeStr(x.shape)}: ${e instanceof Error ? e.message : String(e)}`;
      if (e instanceof RangeError) throw new RangeError(msg, { cause: e });
      if (e instanceof TypeError) throw new TypeError(msg, { cause: e });
      throw new Error(msg, { cause: e });
    }
  }
}

/**
 * m is an instance of C whose forward is C's: a subclass that redefines forward computes
 * something else, and exporting it by C's rule would write the wrong network.
 */
function is<T extends Module>(m: Module, C: abstract new (...args: never[]) => T): m is T {
  return plain(m, C);
}

/**
 * The same test without narrowing m's type: for classes with no members of their own (ReLU,
 * Identity, ...), which TypeScript would otherwise remove from every later branch as if they
 * were Module itself.
 */
function plain(m: Module, C: abstract new (...args: never[]) => Module): boolean {
  return m instanceof C && (Object.getPrototypeOf(m) as { forward: unknown }).forward === C.prototype.forward;
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

/** Writes m applied to x; returns the value it produces. */
function exportModule(E: Exporter, m: Module, x: Value): Value {
  const out = (name: string, t: Tensor, batched = x.batched): Value => ({ name, t, batched });
  const leaf = (f: () => Tensor): Tensor => E.probe(m, x.t, f);

  if (is(m, Sequential)) {
    let y = x;
    for (const c of m.children()) y = exportModule(E, c, y);
    return y;
  }
  if (is(m, Residual)) {
    const body = exportModule(E, m.body, x);
    const short = m.shortcut ? exportModule(E, m.shortcut, x) : x;
    const t = E.probe(m, body.t, () => ops.add(body.t, short.t));
    return out(E.node(m, 'Add', [body.name, short.name]), t, body.batched && short.batched);
  }
  if (is(m, Dropout) || plain(m, Identity)) return x; // eval mode: the input itself
  if (is(m, Conv2d)) {
    const t = leaf(() => m.call(x.t));
    const inputs = [x.name, E.init(m, m.weight, 'weight')];
    if (m.bias) inputs.push(E.init(m, m.bias, 'bias'));
    // padding4 is [top, left, bottom, right]: ONNX's [x1_begin, x2_begin, x1_end, x2_end].
    return out(E.node(m, 'Conv', inputs, {
      kernel_shape: [...m.kernelSize], strides: [...m.stride], pads: [...m.padding4], dilations: [...m.dilation], group: m.groups,
    }), t);
  }
  if (is(m, BatchNorm2d)) {
    const t = leaf(() => m.call(x.t));
    const C = m.numFeatures;
    // Without affine parameters BatchNormalization still takes a scale and a shift: ones and zeros.
    const scale = m.weight ? E.init(m, m.weight, 'weight') : E.floats(m, [C], new Array<number>(C).fill(1));
    const shift = m.bias ? E.init(m, m.bias, 'bias') : E.floats(m, [C], new Array<number>(C).fill(0));
    return out(E.node(m, 'BatchNormalization', [x.name, scale, shift, E.init(m, m.runningMean, 'running_mean'),
      E.init(m, m.runningVar, 'running_var')], { epsilon: m.eps }), t);
  }
  if (is(m, LayerNorm)) {
    const t = leaf(() => m.call(x.t));
    const k = m.normalizedShape.length, r = x.t.rank;
    if (k >= r && x.batched) {
      throw new RangeError(`${OP}: ${E.label(m)} normalizes over the batch axis too (normalizedShape ${shapeStr(m.normalizedShape)} ` +
        `on input shape ${shapeStr(x.t.shape)}); the file's batch axis is dynamic, so its weight could not broadcast`);
    }
    // Negative axes, as torch.onnx.export writes them (simdcnn's loader fuses axes [-1] into one step).
    const y = normChain(E, m, x.name, range(-k, 0), m.eps,
      m.weight ? E.init(m, m.weight, 'weight') : null, m.bias ? E.init(m, m.bias, 'bias') : null);
    return out(y, t);
  }
  if (is(m, InstanceNorm2d)) {
    const t = leaf(() => m.call(x.t));
    // InstanceNormalization (opset 6) takes a scale and a shift always: ones and zeros without affine.
    const C = m.numFeatures;
    const scale = m.weight ? E.init(m, m.weight, 'weight') : E.floats(m, [C], new Array<number>(C).fill(1));
    const shift = m.bias ? E.init(m, m.bias, 'bias') : E.floats(m, [C], new Array<number>(C).fill(0));
    return out(E.node(m, 'InstanceNormalization', [x.name, scale, shift], { epsilon: m.eps }), t);
  }
  if (is(m, Linear)) {
    // ops.linear takes [N, in] only (the probe refuses other ranks), so Gemm always applies.
    const t = leaf(() => m.call(x.t));
    const inputs = [x.name, E.init(m, m.weight, 'weight')];
    if (m.bias) inputs.push(E.init(m, m.bias, 'bias'));
    return out(E.node(m, 'Gemm', inputs, { transB: 1 }), t);
  }
  if (is(m, Flatten)) return flatten(E, m, x, m.startDim);
  if (plain(m, ReLU)) return out(E.node(m, 'Relu', [x.name]), leaf(() => m.call(x.t)));
  if (is(m, LeakyReLU)) return out(E.node(m, 'LeakyRelu', [x.name], { alpha: m.negativeSlope }), leaf(() => m.call(x.t)));
  if (plain(m, Sigmoid)) return out(E.node(m, 'Sigmoid', [x.name]), leaf(() => m.call(x.t)));
  if (plain(m, Tanh)) return out(E.node(m, 'Tanh', [x.name]), leaf(() => m.call(x.t)));
  if (is(m, Softmax) || is(m, LogSoftmax)) {
    const t = leaf(() => m.call(x.t));
    const axis = m.dim < 0 ? m.dim + x.t.rank : m.dim;
    // From opset 13 Softmax normalises along the one axis, as PyTorch's dim does.
    return out(E.node(m, m instanceof LogSoftmax ? 'LogSoftmax' : 'Softmax', [x.name], { axis }), t);
  }
  if (is(m, MaxPool2d) || is(m, MinPool2d) || is(m, AvgPool2d)) return pool(E, m, x, leaf(() => m.call(x.t)));
  if (plain(m, GlobalAvgPool2d)) return out(E.node(m, 'GlobalAveragePool', [x.name]), leaf(() => m.call(x.t)));
  if (plain(m, GlobalMaxPool2d)) return out(E.node(m, 'GlobalMaxPool', [x.name]), leaf(() => m.call(x.t)));
  if (is(m, AdaptiveAvgPool2d)) return adaptive(E, m, x, leaf(() => m.call(x.t)));
  if (is(m, BasicBlock)) {
    // torchvision's forward: relu(bn2(conv2(relu(bn1(conv1(x))))) + identity), one relu module called twice.
    let h = exportModule(E, m.conv1, x);
    h = exportModule(E, m.bn1, h);
    h = exportModule(E, m.relu, h);
    h = exportModule(E, m.conv2, h);
    h = exportModule(E, m.bn2, h);
    const identity = m.downsample ? exportModule(E, m.downsample, x) : x;
    const t = E.probe(m, h.t, () => ops.add(h.t, identity.t));
    return exportModule(E, m.relu, out(E.node(m, 'Add', [h.name, identity.name]), t));
  }
  if (is(m, ResNet)) {
    let y = x;
    for (const c of [m.conv1, m.bn1, m.relu, m.maxpool, m.layer1, m.layer2, m.layer3, m.layer4, m.avgpool]) y = exportModule(E, c, y);
    return exportModule(E, m.fc, flatten(E, m, y, 1));
  }
  if (is(m, LeNet5)) return exportModule(E, m.classifier, flatten(E, m, exportModule(E, m.features, x), 1));
  if (is(m, AlexNet)) {
    const y = exportModule(E, m.avgpool, exportModule(E, m.features, x));
    return exportModule(E, m.classifier, flatten(E, m, y, 1));
  }
  const base = KNOWN.find((C) => m instanceof C);
  throw new Error(`${OP}: ${E.label(m)} has no ONNX export rule` +
    (base ? ` (it extends ${base.name} but defines its own forward)` : '') +
    `; exportable: ${KNOWN.map((C) => C.name).join(', ')}, and containers of them`);
}

/**
 * (x - mean) / sqrt(var + eps) [* weight] [+ bias] over `axes`, biased variance: the nine ops
 * torch.onnx.export writes for F.layer_norm before opset 17.
 */
function normChain(E: Exporter, m: Module, x: string, axes: number[], eps: number, weight: string | null, bias: string | null): string {
  const mean = E.node(m, 'ReduceMean', [x], { axes, keepdims: 1 });
  const d = E.node(m, 'Sub', [x, mean]);
  const sq = E.node(m, 'Pow', [d, E.floats(m, [], [2])]);
  const variance = E.node(m, 'ReduceMean', [sq], { axes, keepdims: 1 });
  const std = E.node(m, 'Sqrt', [E.node(m, 'Add', [variance, E.floats(m, [], [eps])])]);
  let y = E.node(m, 'Div', [d, std]);
  if (weight) y = E.node(m, 'Mul', [y, weight]);
  if (bias) y = E.node(m, 'Add', [y, bias]);
  return y;
}

/** ops.flatten(x, startDim): dims startDim.. merged into one. */
function flatten(E: Exporter, m: Module, x: Value, startDim: number): Value {
  const t = E.probe(m, x.t, () => ops.flatten(x.t, startDim));
  const r = x.t.rank;
  const s = startDim < 0 ? startDim + r : startDim;
  if (s === r - 1) return { name: x.name, t, batched: x.batched }; // the last dim alone: nothing moves
  // ONNX Flatten always makes 2-D [prod(:axis), prod(axis:)]: PyTorch's flatten only for startDim 1.
  if (s === 1) return { name: E.node(m, 'Flatten', [x.name], { axis: 1 }), t, batched: x.batched };
  // startDim 0 merges the batch into the one remaining axis.
  if (s === 0) return { name: E.node(m, 'Reshape', [x.name, E.ints(m, [-1])]), t, batched: false };
  // Reshape's 0 copies the (dynamic) batch dim; the dims before startDim are fixed.
  return { name: E.node(m, 'Reshape', [x.name, E.ints(m, [0, ...x.t.shape.slice(1, s), -1])]), t, batched: x.batched };
}

/**
 * Max, min and average pooling. The ceil mode is written as explicit end padding in floor mode:
 * the opset-13 text of ceil_mode = 1 computes ceil((I + pads - span) / s) + 1 without PyTorch's
 * correction (a last window that would start in the end padding is dropped: 27 -> 14 with kernel
 * 2, stride 2, padding 1, not 15), and runtimes differ on it (onnxruntime 1.30 applies it), while
 * floor mode over padding that makes the last window fit means the same everywhere. Max pooling
 * pads with -inf and average pooling without count_include_pad does not count pads, so the extra
 * padding changes no value. Average pooling that counts its padding divides each window by its
 * cells inside the padded input but not the ceil overflow: the real padding becomes zeros of an
 * explicit Pad and the pool then counts no pads.
 */
function pool(E: Exporter, m: MaxPool2d | MinPool2d | AvgPool2d, x: Value, t: Tensor): Value {
  const [, , H, W] = x.t.shape;
  const [OH, OW] = [t.shape[2], t.shape[3]];
  const [kH, kW] = m.kernelSize, [sH, sW] = m.stride, [pH, pW] = m.padding;
  const [dH, dW] = m.dilation; // [1, 1] for average and min pooling
  const extra = (I: number, O: number, k: number, s: number, p: number, d: number): number => {
    const span = d * (k - 1) + 1;
    const e = Math.max(0, (O - 1) * s + span - (I + 2 * p));
    // Internal consistency: floor mode over the padded input must give the forward's size.
    if (Math.floor((I + 2 * p + e - span) / s) + 1 !== O) {
      throw new Error(`${OP}: ${E.label(m)}: cannot express output size ${O} of input ${I} (kernel ${k}, stride ${s}, padding ${p}, dilation ${d}) as floor-mode pooling`);
    }
    return e;
  };
  const eH = extra(H, OH, kH, sH, pH, dH), eW = extra(W, OW, kW, sW, pW, dW);
  const geometry = { kernel_shape: [kH, kW], strides: [sH, sW] };
  if (m instanceof AvgPool2d) {
    if (m.countIncludePad && (eH > 0 || eW > 0)) {
      const padded = E.node(m, 'Pad', [x.name, E.ints(m, [0, 0, pH, pW, 0, 0, pH, pW])]);
      return { name: E.node(m, 'AveragePool', [padded], { ...geometry, pads: [0, 0, eH, eW], count_include_pad: 0 }), t, batched: x.batched };
    }
    return {
      name: E.node(m, 'AveragePool', [x.name], { ...geometry, pads: [pH, pW, pH + eH, pW + eW], count_include_pad: m.countIncludePad ? 1 : 0 }),
      t, batched: x.batched,
    };
  }
  const attrs = { ...geometry, pads: [pH, pW, pH + eH, pW + eW], dilations: [dH, dW] };
  if (m instanceof MaxPool2d) return { name: E.node(m, 'MaxPool', [x.name], attrs), t, batched: x.batched };
  // min(x) = -max(-x), with the padding ignored either way.
  const neg = E.node(m, 'Neg', [x.name]);
  return { name: E.node(m, 'Neg', [E.node(m, 'MaxPool', [neg], attrs)]), t, batched: x.batched };
}

/** One axis of adaptive pooling: a plain pooling (equal bins at a fixed step) or its bins. */
type AxisPlan = { k: number; s: number } | { bins: [number, number][] };

function axisPlan(inSize: number, outSize: number): AxisPlan {
  const bins = adaptiveBins(inSize, outSize);
  const k = bins[0][1] - bins[0][0];
  if (bins.length === 1) return { k, s: 1 };
  const s = bins[1][0] - bins[0][0];
  const even = s >= 1 && bins.every(([a, b], i) => a === i * s && b - a === k);
  return even ? { k, s } : { bins };
}

/**
 * Adaptive average pooling with PyTorch's bin rule. Output 1x1 is GlobalAveragePool (what the
 * forward computes too); bins of one size at a fixed step are an AveragePool (exact when the
 * input divides evenly, and also e.g. 7 -> 3: bins [0,3) [2,5) [4,7)); other axes are written per
 * bin as Slice + ReduceMean, concatenated. The two axes are pooled one after the other: the mean
 * of a rectangle is the mean of its row means.
 */
function adaptive(E: Exporter, m: AdaptiveAvgPool2d, x: Value, t: Tensor): Value {
  const [, , H, W] = x.t.shape;
  const [OH, OW] = [t.shape[2], t.shape[3]];
  const done = (name: string): Value => ({ name, t, batched: x.batched });
  if (OH === 1 && OW === 1) return done(E.node(m, 'GlobalAveragePool', [x.name]));
  const h = axisPlan(H, OH), w = axisPlan(W, OW);
  if ('k' in h && 'k' in w) {
    if (h.k === 1 && h.s === 1 && w.k === 1 && w.s === 1) return done(x.name);
    return done(E.node(m, 'AveragePool', [x.name], { kernel_shape: [h.k, w.k], strides: [h.s, w.s] }));
  }
  const along = (v: string, axis: 2 | 3, p: AxisPlan): string => {
    if ('k' in p) {
      if (p.k === 1 && p.s === 1) return v;
      return E.node(m, 'AveragePool', [v], axis === 2
        ? { kernel_shape: [p.k, 1], strides: [p.s, 1] } : { kernel_shape: [1, p.k], strides: [1, p.s] });
    }
    // Small inputs repeat bins (1 -> 6 is six copies of the one row): each distinct bin once.
    const means = new Map<string, string>();
    const parts = p.bins.map(([a, b]) => {
      const key = `${a}:${b}`;
      let mean = means.get(key);
      if (!mean) {
        const slice = E.node(m, 'Slice', [v, E.ints(m, [a]), E.ints(m, [b]), E.ints(m, [axis])]);
        mean = E.node(m, 'ReduceMean', [slice], { axes: [axis], keepdims: 1 });
        means.set(key, mean);
      }
      return mean;
    });
    return E.node(m, 'Concat', parts, { axis });
  };
  return done(along(along(x.name, 2, h), 3, w));
}

/** The protobuf limit of one ModelProto (weights in external data files are not written). */
const MAX_BYTES = 2 ** 31 - 1;

/**
 * Exports a network built from nn layers (or a built-in model) to ONNX: opset 13, graph input
 * 'input' [N, C, H, W] and output 'output' with a dynamic batch axis 'N', initializers named by
 * the state-dict keys. The eval-mode network is written (Dropout omitted, batch norm with its
 * running statistics); `inputShape` fixes C, H and W (its N only sizes the shape check, which runs
 * each layer's forward once on zeros). Writes `path` when given; returns the file's bytes.
 * A module class without an export rule (a user-defined Module) throws, naming its path and class.
 * @example
 * const net = models.resnet18({ numClasses: 10 });
 * io.saveOnnx(net, [1, 3, 224, 224], 'resnet18.onnx');
 * const back = await io.loadOnnx('resnet18.onnx'); // or onnxruntime, PyTorch's onnx2torch, ...
 */
export function saveOnnx(module: Module, inputShape: readonly number[], path?: string): Uint8Array {
  if (!(module instanceof Module)) throw new TypeError(`${OP}: module must be an nn Module, got ${describe(module)}`);
  if (!Array.isArray(inputShape)) throw new TypeError(`${OP}: inputShape must be an array [N, C, H, W] of positive integers, got ${describe(inputShape)}`);
  if (inputShape.length !== 4 || inputShape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 1)) {
    throw new RangeError(`${OP}: inputShape must be [N, C, H, W] of 4 positive integers, got [${inputShape.map((d) => (typeof d === 'number' ? String(d) : describe(d))).join(',')}]`);
  }
  if (path !== undefined && (typeof path !== 'string' || path.length === 0)) {
    throw new TypeError(`${OP}: path must be a non-empty string when given, got ${describe(path)}`);
  }
  const shape = inputShape.slice();

  const keys = new Map<Tensor, string>();
  for (const [k, t] of Object.entries(module.stateDict())) if (!keys.has(t)) keys.set(t, k);
  const mods = module.modules();
  const modes = mods.map((m) => [m.training, m.fastInference] as const);
  // Eval mode: batch norm must not update its running statistics on the probe. The planned fast
  // paths are off so the probe builds no prepared-weight caches.
  for (const m of mods) { m.training = false; m.fastInference = false; }
  let spec: Parameters<typeof buildOnnxModel>[0];
  try {
    spec = noGrad(() => tidy(() => {
      const E = new Exporter(new Map(module.namedModules().map(([p, mod]) => [mod, p])), keys);
      const y = exportModule(E, module, { name: 'input', t: zeros(shape), batched: true });
      // The graph output is named 'output': the last value is renamed wherever it is read (an
      // Identity when the network is the identity, since a graph's input cannot be its output).
      if (y.name === 'input') E.nodes.push({ op: 'Identity', inputs: ['input'], outputs: ['output'], name: 'Identity' });
      else {
        for (const n of E.nodes) {
          n.inputs = n.inputs.map((v) => (v === y.name ? 'output' : v));
          n.outputs = n.outputs.map((v) => (v === y.name ? 'output' : v));
        }
      }
      const outShape: (number | string | null)[] = y.batched ? ['N', ...y.t.shape.slice(1)] : y.t.shape.map(() => null);
      return {
        nodes: E.nodes, initializers: { ...E.inits }, opset: OPSET, graphName: module.constructor.name,
        inputs: [{ name: 'input', shape: ['N', ...shape.slice(1)] }], outputs: [{ name: 'output', shape: outShape }],
      };
    }));
  } finally {
    mods.forEach((m, i) => { [m.training, m.fastInference] = modes[i]; });
  }
  let weightBytes = 0;
  for (const t of Object.values(spec.initializers ?? {})) weightBytes += (t as Tensor).size * 4;
  if (weightBytes > MAX_BYTES - 2 ** 20) {
    throw new RangeError(`${OP}: the weights take ${weightBytes} bytes; one ONNX protobuf holds at most 2 GiB (external data files are not written)`);
  }
  const bytes = buildOnnxModel(spec);
  if (path !== undefined) writeAtomically(path, bytes);
  return bytes;
}

/** Writes to a temporary file beside path, then renames: a failed write leaves no partial file. */
function writeAtomically(path: string, bytes: Uint8Array): void {
  const target = nodePath.resolve(path);
  const tmp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(tmp, bytes, { flag: 'wx' });
    fs.renameSync(tmp, target);
  } catch (e) {
    try { fs.unlinkSync(tmp); } catch { /* never created, or already gone */ }
    throw new Error(`${OP}: cannot write '${path}': ${(e as Error).message}`, { cause: e });
  }
}
