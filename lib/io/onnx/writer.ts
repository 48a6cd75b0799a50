/**
 * A small ONNX writer: builds a ModelProto (IR version 8, one default-domain opset) from a list
 * of nodes and initializers, plus builders for the torchvision-shaped networks the benchmarks
 * compare (LeNet-5, AlexNet, ResNet-18, a single convolution) from a PyTorch-style state dict.
 */
import { Tensor } from '../../tensor';
import { describe } from '../../errors';
import { Writer } from './protobuf';
import { AttrType, DataType } from './proto';

/**
 * An attribute value. Plain numbers are INT when integral, except for the names in FLOAT_ATTRS.
 * `{ t }` takes any initializer form (a Constant's int64 shape, say).
 */
export type OnnxAttr =
  | number | number[] | string | Tensor
  | { f: number } | { i: number } | { s: string } | { t: OnnxInitializer } | { floats: number[] } | { ints: number[] };

export interface OnnxNodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: Record<string, OnnxAttr>;
}

export type OnnxInitializer = Tensor | { dims: number[]; int64: number[] } | { dims: number[]; float: ArrayLike<number> };

export interface OnnxValueSpec {
  name: string;
  /** Dims: numbers, symbolic names, or null for unknown. Omit for no shape. */
  shape?: (number | string | null)[];
}

export interface BuildOnnxOptions {
  nodes: OnnxNodeSpec[];
  initializers?: Record<string, OnnxInitializer>;
  inputs: (OnnxValueSpec | string)[];
  outputs: (OnnxValueSpec | string)[];
  opset?: number;
  /** Float payloads as raw_data (default) or as packed float_data. */
  rawData?: boolean;
  graphName?: string;
}

/** Attributes whose plain-number values are FLOAT in the ONNX spec. */
const FLOAT_ATTRS = new Set(['alpha', 'beta', 'epsilon', 'momentum', 'min', 'max', 'ratio', 'value_float', 'gamma', 'bias', 'lambd', 'scale']);

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function tensorProto(name: string, v: OnnxInitializer, raw: boolean): Writer {
  const w = new Writer();
  if (v instanceof Tensor) {
    w.packedVarint(1, v.shape.slice());
    w.varint(2, DataType.FLOAT);
    w.string(8, name);
    const d = v.data;
    if (raw) {
      let b: Uint8Array;
      if (LITTLE_ENDIAN) b = new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
      else {
        b = new Uint8Array(d.length * 4);
        const dv = new DataView(b.buffer);
        for (let i = 0; i < d.length; i++) dv.setFloat32(i * 4, d[i], true);
      }
      w.bytes(9, b);
    } else w.packedFloat(4, d);
    return w;
  }
  if (v && typeof v === 'object' && Array.isArray((v as { dims?: unknown }).dims)) {
    w.packedVarint(1, v.dims);
    if ('int64' in v) {
      w.varint(2, DataType.INT64);
      w.string(8, name);
      w.packedVarint(7, v.int64);
      return w;
    }
    if ('float' in v) {
      w.varint(2, DataType.FLOAT);
      w.string(8, name);
      w.packedFloat(4, v.float);
      return w;
    }
  }
  throw new TypeError(`buildOnnxModel: initializer '${name}' must be a Tensor, { dims, int64 } or { dims, float }, got ${describe(v)}`);
}

function attribute(name: string, v: OnnxAttr, raw: boolean): Writer {
  const w = new Writer();
  w.string(1, name);
  const isFloat = FLOAT_ATTRS.has(name);
  if (typeof v === 'number') {
    if (isFloat || !Number.isInteger(v)) { w.float(2, v); w.varint(20, AttrType.FLOAT); } else { w.varint(3, v); w.varint(20, AttrType.INT); }
  } else if (typeof v === 'string') {
    w.string(4, v); w.varint(20, AttrType.STRING);
  } else if (v instanceof Tensor) {
    w.message(5, tensorProto('', v, raw)); w.varint(20, AttrType.TENSOR);
  } else if (Array.isArray(v)) {
    if (isFloat || v.some((x) => !Number.isInteger(x))) { w.packedFloat(7, v); w.varint(20, AttrType.FLOATS); } else { w.packedVarint(8, v); w.varint(20, AttrType.INTS); }
  } else if ('f' in v) { w.float(2, v.f); w.varint(20, AttrType.FLOAT); }
  else if ('i' in v) { w.varint(3, v.i); w.varint(20, AttrType.INT); }
  else if ('s' in v) { w.string(4, v.s); w.varint(20, AttrType.STRING); }
  else if ('t' in v) { w.message(5, tensorProto('', v.t, raw)); w.varint(20, AttrType.TENSOR); }
  else if ('floats' in v) { w.packedFloat(7, v.floats); w.varint(20, AttrType.FLOATS); }
  else if ('ints' in v) { w.packedVarint(8, v.ints); w.varint(20, AttrType.INTS); }
  else throw new TypeError(`buildOnnxModel: attribute '${name}' has an unsupported value ${describe(v)}`);
  return w;
}

function valueInfo(v: OnnxValueSpec | string): Writer {
  const spec = typeof v === 'string' ? { name: v } : v;
  const w = new Writer();
  w.string(1, spec.name);
  const tt = new Writer();
  tt.varint(1, DataType.FLOAT);
  if (spec.shape) {
    const shape = new Writer();
    for (const d of spec.shape) {
      const dim = new Writer();
      if (typeof d === 'number') dim.varint(1, d);
      else if (typeof d === 'string') dim.string(2, d);
      shape.message(1, dim);
    }
    tt.message(2, shape);
  }
  const type = new Writer();
  type.message(1, tt);
  w.message(2, type);
  return w;
}

/**
 * Serialises a graph to ONNX bytes (a ModelProto with ir_version 8).
 * @example
 * const bytes = buildOnnxModel({
 *   nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
 *   inputs: [{ name: 'x', shape: ['N', 4] }], outputs: ['y'],
 * });
 */
export function buildOnnxModel(o: BuildOnnxOptions): Uint8Array {
  const raw = o.rawData ?? true;
  const graph = new Writer();
  o.nodes.forEach((n, i) => {
    const w = new Writer();
    for (const x of n.inputs) w.string(1, x);
    for (const x of n.outputs) w.string(2, x);
    w.string(3, n.name ?? `${n.op}_${i}`);
    w.string(4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) w.message(5, attribute(k, v, raw));
    graph.message(1, w);
  });
  graph.string(2, o.graphName ?? 'simdcnn');
  for (const [k, v] of Object.entries(o.initializers ?? {})) graph.message(5, tensorProto(k, v, raw));
  for (const v of o.inputs) graph.message(11, valueInfo(v));
  for (const v of o.outputs) graph.message(12, valueInfo(v));
  const model = new Writer();
  model.varint(1, 8);
  model.string(2, 'simdcnn');
  model.string(3, '0.1.0');
  model.message(7, graph);
  const opset = new Writer();
  opset.string(1, '');
  opset.varint(2, o.opset ?? 13);
  model.message(8, opset);
  return model.finish();
}

// ---- builders from state dicts ----------------------------------------------------------------

export interface StateDictOnnxOptions {
  /** Batch dimension of the declared input: a number, or a symbolic name (default 'N'). */
  batch?: number | string;
  opset?: number;
}

/** Accumulates nodes and the initializers they use. */
class GraphBuilder {
  nodes: OnnxNodeSpec[] = [];
  inits: Record<string, OnnxInitializer> = {};
  private n = 0;

  constructor(private readonly sd: Record<string, Tensor>, private readonly what: string) {
    if (sd === null || typeof sd !== 'object') throw new TypeError(`${what}: stateDict must be a Record<string, Tensor>, got ${describe(sd)}`);
  }

  w(key: string, rank?: number): string {
    const t = this.sd[key];
    if (!(t instanceof Tensor)) throw new RangeError(`${this.what}: state dict has no tensor '${key}'`);
    if (rank !== undefined && t.rank !== rank) throw new RangeError(`${this.what}: '${key}' must be ${rank}-D, got [${t.shape.join(',')}]`);
    this.inits[key] = t;
    return key;
  }

  shape(key: string): readonly number[] {
    const t = this.sd[key];
    if (!(t instanceof Tensor)) throw new RangeError(`${this.what}: state dict has no tensor '${key}'`);
    return t.shape;
  }

  has(key: string): boolean {
    return this.sd[key] instanceof Tensor;
  }

  op(op: string, inputs: string[], attrs?: Record<string, OnnxAttr>, name?: string): string {
    const out = `${name ?? op.toLowerCase()}_${this.n++}`;
    this.nodes.push({ op, inputs, outputs: [out], attrs, name: name ?? out });
    return out;
  }

  conv(x: string, prefix: string, o: { stride?: number; pad?: number; bias?: boolean }): string {
    const ws = this.shape(`${prefix}.weight`);
    const inputs = [x, this.w(`${prefix}.weight`, 4)];
    if (o.bias ?? this.has(`${prefix}.bias`)) inputs.push(this.w(`${prefix}.bias`, 1));
    const p = o.pad ?? 0, s = o.stride ?? 1;
    return this.op('Conv', inputs, { kernel_shape: [ws[2], ws[3]], strides: [s, s], pads: [p, p, p, p] }, prefix);
  }

  bn(x: string, prefix: string): string {
    return this.op('BatchNormalization', [x, this.w(`${prefix}.weight`, 1), this.w(`${prefix}.bias`, 1),
      this.w(`${prefix}.running_mean`, 1), this.w(`${prefix}.running_var`, 1)], { epsilon: 1e-5 }, prefix);
  }

  linear(x: string, prefix: string): string {
    const inputs = [x, this.w(`${prefix}.weight`, 2)];
    if (this.has(`${prefix}.bias`)) inputs.push(this.w(`${prefix}.bias`, 1));
    return this.op('Gemm', inputs, { transB: 1, alpha: 1, beta: 1 }, prefix);
  }

  build(input: string, inShape: (number | string)[], output: string, opset: number): Uint8Array {
    // The last node writes the graph output under a stable name.
    const last = this.nodes[this.nodes.length - 1];
    last.outputs = [output];
    return buildOnnxModel({
      nodes: this.nodes, initializers: this.inits, inputs: [{ name: input, shape: inShape }],
      outputs: [{ name: output }], opset,
    });
  }
}

export interface LeNet5OnnxOptions extends StateDictOnnxOptions {
  /** 28 (default): conv1 padded by 2; 32: the classic unpadded net. */
  inputSize?: number;
  activation?: 'relu' | 'tanh';
  pool?: 'max' | 'avg';
}

export interface ConvOnnxOptions extends StateDictOnnxOptions {
  stride?: number | [number, number];
  padding?: number | [number, number] | [number, number, number, number];
  dilation?: number | [number, number];
  groups?: number;
  autoPad?: 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';
  /** [H, W] of the declared input (default: symbolic). */
  inputSize?: [number, number];
}

const pair2 = (v: number | [number, number] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]];

/** Graphs of torchvision-shaped networks from their state dicts (input 'input', output 'output'). */
export const onnxFromStateDict = {
  /** LeNet-5 as models.lenet5 builds it (features.0/3 conv, classifier.0/2/4 linear). */
  lenet5(stateDict: Record<string, Tensor>, opts: LeNet5OnnxOptions = {}): Uint8Array {
    const g = new GraphBuilder(stateDict, 'onnxFromStateDict.lenet5');
    const size = opts.inputSize ?? 28;
    const act = opts.activation === 'tanh' ? 'Tanh' : 'Relu';
    const pool = (x: string): string => (opts.pool === 'avg'
      ? g.op('AveragePool', [x], { kernel_shape: [2, 2], strides: [2, 2] })
      : g.op('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] }));
    const inC = g.shape('features.0.weight')[1];
    let x = g.conv('input', 'features.0', { pad: size === 28 ? 2 : 0 });
    x = pool(g.op(act, [x]));
    x = pool(g.op(act, [g.conv(x, 'features.3', {})]));
    x = g.op('Flatten', [x], { axis: 1 });
    x = g.op(act, [g.linear(x, 'classifier.0')]);
    x = g.op(act, [g.linear(x, 'classifier.2')]);
    g.linear(x, 'classifier.4');
    return g.build('input', [opts.batch ?? 'N', inC, size, size], 'output', opts.opset ?? 13);
  },

  /**
   * torchvision AlexNet for 224x224 input. AdaptiveAvgPool2d(6) is the identity there (the
   * features already end at 6x6), so the graph leaves it out; the declared input is 224x224.
   * Dropout is omitted (inference).
   */
  alexnet(stateDict: Record<string, Tensor>, opts: StateDictOnnxOptions = {}): Uint8Array {
    const g = new GraphBuilder(stateDict, 'onnxFromStateDict.alexnet');
    const pool = (x: string): string => g.op('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2] });
    let x = pool(g.op('Relu', [g.conv('input', 'features.0', { stride: 4, pad: 2 })]));
    x = pool(g.op('Relu', [g.conv(x, 'features.3', { pad: 2 })]));
    x = g.op('Relu', [g.conv(x, 'features.6', { pad: 1 })]);
    x = g.op('Relu', [g.conv(x, 'features.8', { pad: 1 })]);
    x = pool(g.op('Relu', [g.conv(x, 'features.10', { pad: 1 })]));
    x = g.op('Flatten', [x], { axis: 1 });
    x = g.op('Relu', [g.linear(x, 'classifier.1')]);
    x = g.op('Relu', [g.linear(x, 'classifier.4')]);
    g.linear(x, 'classifier.6');
    return g.build('input', [opts.batch ?? 'N', 3, 224, 224], 'output', opts.opset ?? 13);
  },

  /** torchvision ResNet-18 (BasicBlocks, batch norm eps 1e-5); any input size >= 32. */
  resnet18(stateDict: Record<string, Tensor>, opts: StateDictOnnxOptions & { inputSize?: number } = {}): Uint8Array {
    const g = new GraphBuilder(stateDict, 'onnxFromStateDict.resnet18');
    let x = g.op('Relu', [g.bn(g.conv('input', 'conv1', { stride: 2, pad: 3, bias: false }), 'bn1')]);
    x = g.op('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
    for (let l = 1; l <= 4; l++) {
      for (let b = 0; b < 2; b++) {
        const p = `layer${l}.${b}`;
        const stride = l > 1 && b === 0 ? 2 : 1;
        let y = g.op('Relu', [g.bn(g.conv(x, `${p}.conv1`, { stride, pad: 1, bias: false }), `${p}.bn1`)]);
        y = g.bn(g.conv(y, `${p}.conv2`, { pad: 1, bias: false }), `${p}.bn2`);
        const shortcut = g.has(`${p}.downsample.0.weight`)
          ? g.bn(g.conv(x, `${p}.downsample.0`, { stride, bias: false }), `${p}.downsample.1`)
          : x;
        x = g.op('Relu', [g.op('Add', [y, shortcut])]);
      }
    }
    x = g.op('Flatten', [g.op('GlobalAveragePool', [x])], { axis: 1 });
    g.linear(x, 'fc');
    const s = opts.inputSize ?? 'H';
    return g.build('input', [opts.batch ?? 'N', 3, s, typeof s === 'number' ? s : 'W'], 'output', opts.opset ?? 13);
  },

  /** A single Conv node (weight [M, C/groups, kH, kW], optional bias). */
  conv(weight: Tensor, bias: Tensor | null | undefined, opts: ConvOnnxOptions = {}): Uint8Array {
    if (!(weight instanceof Tensor) || weight.rank !== 4) throw new TypeError(`onnxFromStateDict.conv: weight must be a 4-D Tensor, got ${describe(weight)}`);
    const [M, Cg, kH, kW] = weight.shape;
    const groups = opts.groups ?? 1;
    const s = pair2(opts.stride, 1), d = pair2(opts.dilation, 1);
    const attrs: Record<string, OnnxAttr> = { kernel_shape: [kH, kW], strides: s, dilations: d, group: groups };
    if (opts.autoPad) attrs.auto_pad = opts.autoPad;
    else {
      const p = opts.padding ?? 0;
      const pads = typeof p === 'number' ? [p, p, p, p] : p.length === 2 ? [p[0], p[1], p[0], p[1]] : p.slice();
      attrs.pads = pads;
    }
    const inputs = ['input', 'weight'];
    const initializers: Record<string, OnnxInitializer> = { weight };
    if (bias) { inputs.push('bias'); initializers.bias = bias; }
    const hw = opts.inputSize ?? ['H', 'W'];
    void M;
    return buildOnnxModel({
      nodes: [{ op: 'Conv', inputs, outputs: ['output'], attrs, name: 'conv' }], initializers,
      inputs: [{ name: 'input', shape: [opts.batch ?? 'N', Cg * groups, hw[0], hw[1]] }], outputs: [{ name: 'output' }],
      opset: opts.opset ?? 13,
    });
  },
};
