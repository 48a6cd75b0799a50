/**
 * ONNX operators mapped onto simdcnn's functional ops. Each supported op type has a compiler that
 * validates the node's arity and attributes once, at load, and returns the kernel that runs it.
 * Shapes are only known at run time (inputs may have symbolic dims), so shape errors surface
 * from `run`, named by node.
 *
 * Where ONNX is more general than `ops` (numpy broadcasting, asymmetric pool padding, batched
 * MatMul, Gemm's transA/alpha/beta), the general case is computed here with plain loops and the
 * common case is handed to the native op.
 */
import { Tensor, sameShape, assertNotCapturing } from '../../tensor';
import * as ops from '../../ops/index';
import { checkPoolWindow, outputSizeRaw } from '../../ops/validate';
import { shapeStr } from '../../errors';
import { AttrType, type AttributeProto, type NodeProto, type TensorData } from './proto';
import { fail } from './protobuf';
import { conv2dAct } from '../../ops/conv2d';
import { erfScalar } from '../../backend/js/activation';
import { actFunction, resolvePads, type Act, type GraphOp, type SliceAxis } from '../../graph/ir';
import * as nd from '../../ops/nd';
import type { ReduceKind } from '../../ops/nd';

/** Runs a node: inputs in order (null for an absent optional input or a load-time constant). */
export type Kernel = (inputs: (Tensor | null)[]) => Tensor[];

export interface CompileContext {
  node: NodeProto;
  /** 'node 'name' (OpType)' for messages. */
  where: string;
  opset: number;
  /** Load-time constants (initializers and Constant outputs) by name. */
  constant(name: string): TensorData | undefined;
  /** Registers a tensor the model owns (disposed with it). */
  own(data: Float32Array, shape: number[]): Tensor;
  /** Whether a value is an integer tensor (integer constants, Shape and what is computed from them). */
  isInt(name: string): boolean;
}

export interface Compiled {
  run: Kernel;
  /** Input slots consumed at load as integer constants: the executor passes null there. */
  staticInputs?: number[];
  /** For Constant nodes: the value, folded at load. */
  constantValue?: TensorData;
  /**
   * What the graph compiler may plan this node as (lib/graph/ir.ts); `run` stays its exact kernel.
   * `inputs` replaces the node's inputs in the graph (e.g. Clip without its constant bounds), and
   * `constants` are new constants the lowered form reads (a transposed Gemm weight).
   */
  lowered?: { op: GraphOp; inputs?: string[]; constants?: [string, Tensor][] };
  /** The outputs are integer tensors (held as float32 values, exact below 2^24). */
  intOutput?: boolean;
}

// ---- attributes ---------------------------------------------------------------------------------

const TYPE_NAMES: Record<number, string> = {
  1: 'FLOAT', 2: 'INT', 3: 'STRING', 4: 'TENSOR', 5: 'GRAPH', 6: 'FLOATS', 7: 'INTS', 8: 'STRINGS', 9: 'TENSORS', 10: 'GRAPHS',
};

class Attrs {
  private readonly map = new Map<string, AttributeProto>();

  constructor(private readonly where: string, attrs: AttributeProto[], allowed: readonly string[]) {
    for (const a of attrs) {
      if (this.map.has(a.name)) fail(`${where} has attribute '${a.name}' twice`);
      if (!allowed.includes(a.name)) {
        fail(`${where} has attribute '${a.name}', which is not supported (supported: ${allowed.join(', ') || 'none'})`);
      }
      this.map.set(a.name, a);
    }
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  private get(name: string, type: number, present: (a: AttributeProto) => boolean): AttributeProto | undefined {
    const a = this.map.get(name);
    if (!a) return undefined;
    // IR version 1 files may leave `type` unset; then the populated field decides.
    if (a.type === 0 ? !present(a) : a.type !== type) {
      fail(`${this.where} attribute '${name}' has type ${TYPE_NAMES[a.type] ?? a.type}, expected ${TYPE_NAMES[type]}`);
    }
    return a;
  }

  int(name: string, def: number): number {
    const a = this.get(name, AttrType.INT, (x) => x.i !== undefined);
    if (!a) return def;
    const v = a.i ?? 0;
    if (!Number.isSafeInteger(v)) fail(`${this.where} attribute '${name}' is out of range (${v})`);
    return v;
  }

  float(name: string, def: number): number {
    const a = this.get(name, AttrType.FLOAT, (x) => x.f !== undefined);
    return a ? a.f ?? 0 : def;
  }

  string(name: string, def: string): string {
    const a = this.get(name, AttrType.STRING, (x) => x.s !== undefined);
    if (!a) return def;
    return new TextDecoder().decode(a.s ?? new Uint8Array(0));
  }

  ints(name: string): number[] | undefined {
    const a = this.get(name, AttrType.INTS, (x) => x.ints.length > 0);
    if (!a) return undefined;
    for (const v of a.ints) if (!Number.isSafeInteger(v)) fail(`${this.where} attribute '${name}' holds an out-of-range value ${v}`);
    return a.ints.slice();
  }

  floats(name: string): number[] | undefined {
    const a = this.get(name, AttrType.FLOATS, (x) => x.floats.length > 0);
    return a ? a.floats.slice() : undefined;
  }

  tensor(name: string): TensorData | undefined {
    const a = this.get(name, AttrType.TENSOR, (x) => x.t !== undefined);
    if (!a) return undefined;
    if (!a.t) fail(`${this.where} attribute '${name}' holds no tensor`);
    return a.t.value;
  }
}

// ---- helpers -------------------------------------------------------------------------------------

function arity(ctx: CompileContext, min: number, max: number, outMax = 1): void {
  const { node, where } = ctx;
  // Trailing empty names mean "absent optional input".
  let n = node.input.length;
  while (n > 0 && node.input[n - 1] === '') n--;
  if (n < min || n > max) fail(`${where} has ${n} inputs, expected ${min === max ? min : `${min} to ${max}`}`);
  for (let i = 0; i < min; i++) if (node.input[i] === '') fail(`${where} input ${i} is required but empty`);
  if (node.output.length < 1 || node.output[0] === '') fail(`${where} has no output`);
  if (node.output.length > outMax) {
    const extra = node.output.slice(outMax).filter((o) => o !== '');
    if (extra.length) fail(`${where} produces ${node.output.length} outputs; only ${outMax} supported (extra: ${extra.join(', ')})`);
  }
}

function pair(ctx: CompileContext, attrs: Attrs, name: string, def: number, len = 2, min = 1): number[] {
  const v = attrs.ints(name);
  if (v === undefined) return new Array<number>(len).fill(def);
  if (v.length !== len) fail(`${ctx.where} attribute '${name}' has ${v.length} values, expected ${len} (only 2-D spatial ops are supported)`);
  for (const x of v) if (x < min) fail(`${ctx.where} attribute '${name}' must hold values >= ${min}, got [${v.join(',')}]`);
  return v;
}

type AutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';

function autoPad(ctx: CompileContext, attrs: Attrs): AutoPad {
  const v = attrs.string('auto_pad', 'NOTSET');
  if (v !== 'NOTSET' && v !== 'SAME_UPPER' && v !== 'SAME_LOWER' && v !== 'VALID') {
    fail(`${ctx.where} attribute 'auto_pad' is '${v}', expected NOTSET, SAME_UPPER, SAME_LOWER or VALID`);
  }
  if (v !== 'NOTSET' && attrs.has('pads')) fail(`${ctx.where} sets both 'auto_pad' ${v} and 'pads'`);
  return v;
}

function need4d(where: string, x: Tensor): void {
  if (x.rank !== 4) throw new RangeError(`${where}: input must be 4-D (NCHW), got shape ${shapeStr(x.shape)}`);
}

function floatConst(ctx: CompileContext, slot: number): TensorData & { kind: 'float' } | undefined {
  const name = ctx.node.input[slot];
  if (!name) return undefined;
  const c = ctx.constant(name);
  return c && c.kind === 'float' ? c : undefined;
}

const prod = (a: readonly number[]): number => a.reduce((x, y) => x * y, 1);

function normAxis(where: string, axis: number, rank: number, allowEnd = false): number {
  const hi = allowEnd ? rank : rank - 1;
  if (axis < -rank || axis > hi) throw new RangeError(`${where}: axis ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

/** t's data under another shape; t itself is released (the view keeps the storage). */
function reshaped(t: Tensor, shape: readonly number[]): Tensor {
  const v = t.reshape(shape);
  t.dispose();
  return v;
}

/** A 2-D transpose. */
function transpose(t: Tensor): Tensor {
  const [r, c] = t.shape;
  assertNotCapturing('ONNX transpose (computed on the JS thread)');
  const src = t.data, out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = src[i * c + j];
  return Tensor.wrap(out, [c, r]);
}

// ---- broadcasting binary ops -------------------------------------------------------------------

type BinKind = 'add' | 'sub' | 'mul' | 'div';
const BIN_FN: Record<BinKind | 'pow', (a: number, b: number) => number> = {
  add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b, pow: (a, b) => a ** b,
};

function perChannel(full: readonly number[], b: readonly number[]): boolean {
  return full.length >= 2 && b.length === full.length && b[0] === 1 && b[1] === full[1] && b.slice(2).every((d) => d === 1);
}

/** numpy-style multidirectional broadcasting. */
export function broadcastBinary(kind: BinKind | 'pow', a: Tensor, b: Tensor): Tensor {
  const r = Math.max(a.rank, b.rank);
  const as = [...new Array<number>(r - a.rank).fill(1), ...a.shape];
  const bs = [...new Array<number>(r - b.rank).fill(1), ...b.shape];
  if (kind !== 'pow') {
    if (sameShape(a.shape, b.shape)) return ops[kind](a, b);
    if (a.rank === r && perChannel(as, bs)) return ops[kind](a, b.reshape(bs));
    if ((kind === 'add' || kind === 'mul') && b.rank === r && perChannel(bs, as)) return ops[kind](b, a.reshape(as));
  }
  const os = as.map((d, i) => {
    if (d === bs[i] || bs[i] === 1) return d;
    if (d === 1) return bs[i];
    throw new RangeError(`${kind}: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} cannot be broadcast`);
  });
  const n = prod(os);
  const out = new Float32Array(n);
  assertNotCapturing('ONNX broadcast (computed on the JS thread)');
  const ad = a.data, bd = b.data, fn = BIN_FN[kind];
  // Element strides, 0 along broadcast dimensions.
  const sa = new Array<number>(r), sb = new Array<number>(r);
  for (let i = r - 1, ma = 1, mb = 1; i >= 0; i--) {
    sa[i] = as[i] === 1 ? 0 : ma; sb[i] = bs[i] === 1 ? 0 : mb;
    ma *= as[i]; mb *= bs[i];
  }
  if (n > 0) {
    const last = r - 1, inner = os[last], ia = sa[last], ib = sb[last];
    const idx = new Array<number>(r).fill(0);
    let oa = 0, ob = 0;
    for (let o = 0; o < n; o += inner) {
      for (let j = 0; j < inner; j++) out[o + j] = fn(ad[oa + j * ia], bd[ob + j * ib]);
      // Advance the outer index (odometer over dims 0..r-2).
      for (let d = last - 1; d >= 0; d--) {
        idx[d]++; oa += sa[d]; ob += sb[d];
        if (idx[d] < os[d]) break;
        oa -= sa[d] * os[d]; ob -= sb[d] * os[d]; idx[d] = 0;
      }
    }
  }
  return Tensor.wrap(out, os);
}

// ---- pooling -------------------------------------------------------------------------------------

interface PoolSpec { k: number[]; s: number[]; d: number[]; pads: number[]; mode: AutoPad; ceil: boolean; includePad: boolean }

/** The general 2-D pool (asymmetric or wide padding, dilated average): PyTorch's window rule. */
function poolJs(x: Tensor, max: boolean, k: number[], s: number[], d: number[], p: number[], ceil: boolean, includePad: boolean): Tensor {
  const [N, C, H, W] = x.shape;
  const OH = outputSizeRaw(H, k[0], s[0], p[0], p[2], d[0], ceil);
  const OW = outputSizeRaw(W, k[1], s[1], p[1], p[3], d[1], ceil);
  if (OH < 1 || OW < 1) throw new RangeError(`pool: output would be empty for input ${shapeStr(x.shape)} and kernel [${k.join(',')}]`);
  assertNotCapturing('ONNX pool (computed on the JS thread)');
  // The taps of a window start at `start` with step `step`: those in [0, size) are read, those
  // below `limit` (the end of the padding) counted by count_include_pad. Loops run over the real
  // taps only, so a window far wider than the input costs what the input does.
  const taps = (start: number, step: number, count: number, size: number, limit: number): [number, number, number] => {
    const lo = start < 0 ? Math.min(count, Math.ceil(-start / step)) : 0;
    const hi = start > size - 1 ? lo : Math.max(lo, Math.min(count, Math.floor((size - 1 - start) / step) + 1));
    const inPad = Math.max(0, Math.min(count, Math.ceil((limit - start) / step)));
    return [lo, hi, inPad];
  };
  const xd = x.data, out = new Float32Array(N * C * OH * OW);
  let o = 0;
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const hs = oh * s[0] - p[0];
      const [i0, i1, padH] = taps(hs, d[0], k[0], H, H + p[2]);
      for (let ow = 0; ow < OW; ow++) {
        const ws = ow * s[1] - p[1];
        const [j0, j1, padW] = taps(ws, d[1], k[1], W, W + p[3]);
        let acc = max ? -Infinity : 0;
        for (let i = i0; i < i1; i++) {
          const row = base + (hs + i * d[0]) * W;
          for (let j = j0; j < j1; j++) {
            const v = xd[row + ws + j * d[1]];
            if (max) { if (v > acc || Number.isNaN(v)) acc = v; } else acc += v;
          }
        }
        out[o++] = max ? acc : acc / (includePad ? padH * padW : Math.max((i1 - i0) * (j1 - j0), 1));
      }
    }
  }
  return Tensor.wrap(out, [N, C, OH, OW]);
}

function runPool(where: string, x: Tensor, max: boolean, spec: PoolSpec): Tensor {
  need4d(where, x);
  const { k, s, d } = spec;
  const p = resolvePads(spec.mode, spec.pads, x.shape[2], x.shape[3], k, s, d);
  checkPoolWindow(where, k, d, p);
  const symmetric = p[0] === p[2] && p[1] === p[3] && 2 * p[0] <= k[0] && 2 * p[1] <= k[1];
  if (symmetric && max) {
    return ops.maxPool2d(x, { kernelSize: [k[0], k[1]], stride: [s[0], s[1]], padding: [p[0], p[1]], dilation: [d[0], d[1]], ceilMode: spec.ceil });
  }
  if (symmetric && d[0] === 1 && d[1] === 1) {
    return ops.avgPool2d(x, { kernelSize: [k[0], k[1]], stride: [s[0], s[1]], padding: [p[0], p[1]], ceilMode: spec.ceil, countIncludePad: spec.includePad });
  }
  return poolJs(x, max, k, s, d, p, spec.ceil, spec.includePad);
}

function compilePool(ctx: CompileContext, max: boolean): Compiled {
  const allowed = ['auto_pad', 'ceil_mode', 'dilations', 'kernel_shape', 'pads', 'strides', max ? 'storage_order' : 'count_include_pad'];
  const a = new Attrs(ctx.where, ctx.node.attribute, allowed);
  arity(ctx, 1, 1, max ? 2 : 1);
  if (!a.has('kernel_shape')) fail(`${ctx.where} has no 'kernel_shape'`);
  const wantIndices = max && ctx.node.output.length > 1 && ctx.node.output[1] !== '';
  const nsp = a.ints('kernel_shape')!.length;
  if (nsp !== 2 || wantIndices) return compilePoolNd(ctx, a, max, nsp, wantIndices);
  const spec: PoolSpec = {
    k: pair(ctx, a, 'kernel_shape', 1), s: pair(ctx, a, 'strides', 1), d: pair(ctx, a, 'dilations', 1),
    pads: pair(ctx, a, 'pads', 0, 4, 0), mode: autoPad(ctx, a), ceil: a.int('ceil_mode', 0) !== 0,
    includePad: a.int('count_include_pad', 0) !== 0,
  };
  const order = max ? a.int('storage_order', 0) : 0;
  if (order !== 0 && order !== 1) fail(`${ctx.where} attribute 'storage_order' must be 0 or 1, got ${order}`);
  return {
    run: ([x]) => [runPool(ctx.where, x!, max, spec)],
    lowered: { op: { kind: 'pool', mode: max ? 'max' : 'avg', k: spec.k, s: spec.s, d: spec.d, pads: spec.pads, autoPad: spec.mode,
      ceil: spec.ceil, includePad: spec.includePad } },
  };
}

// ---- reductions and padding -------------------------------------------------------------------

/** Mean over the axes where keep[i] is false, accumulated in float64. */
function reduceMeanJs(x: Tensor, keep: readonly boolean[], keepDims: boolean): Tensor {
  const s = x.shape, r = s.length;
  const outShape = s.map((d, i) => (keep[i] ? d : 1));
  // Output strides along kept axes, 0 along reduced ones.
  const os = new Array<number>(r);
  for (let i = r - 1, m = 1; i >= 0; i--) { os[i] = keep[i] ? m : 0; m *= outShape[i]; }
  const n = prod(outShape), count = prod(s.filter((_, i) => !keep[i]));
  assertNotCapturing('ONNX ReduceMean (computed on the JS thread)');
  const acc = new Float64Array(n), xd = x.data, idx = new Array<number>(r).fill(0);
  let o = 0;
  for (let i = 0; i < xd.length; i++) {
    acc[o] += xd[i];
    for (let d = r - 1; d >= 0; d--) {
      idx[d]++; o += os[d];
      if (idx[d] < s[d]) break;
      o -= os[d] * s[d]; idx[d] = 0;
    }
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = count > 0 ? acc[i] / count : NaN;
  return Tensor.wrap(out, keepDims ? outShape : s.filter((_, i) => keep[i]));
}

const compileReduceMean: Compiler = (ctx) => compileReduce(ctx, 'mean');

/** ReduceMean/Max/Min/Sum/Prod/L2...: axes an attribute, or from opset 18 (ReduceSum: 13) a constant input. */
function compileReduce(ctx: CompileContext, kind: ReduceKind): Compiled {
  const axesInput = ctx.opset >= (kind === 'sum' ? 13 : 18);
  const a = new Attrs(ctx.where, ctx.node.attribute, !axesInput ? ['axes', 'keepdims'] : ['keepdims', 'noop_with_empty_axes']);
  let axes: number[];
  let staticInputs: number[] = [];
  if (!axesInput) {
    arity(ctx, 1, 1);
    axes = a.ints('axes') ?? [];
  } else {
    arity(ctx, 1, 2);
    axes = [];
    if (ctx.node.input[1]) {
      const c = ctx.constant(ctx.node.input[1]);
      if (!c || c.kind !== 'int' || c.dims.length !== 1) fail(`${ctx.where}: the axes input must be a constant 1-D INT64 tensor`);
      axes = c.data.slice();
      staticInputs = [1];
    }
    if (axes.length === 0 && a.int('noop_with_empty_axes', 0) !== 0) {
      return { staticInputs, run: ([x]) => [x!.reshape(x!.shape)], lowered: { op: { kind: 'view', shape: (sh) => sh.slice() } } };
    }
  }
  if (new Set(axes).size !== axes.length) fail(`${ctx.where}: axes [${axes.join(',')}] repeat an axis`);
  const keepDims = a.int('keepdims', 1) !== 0;
  return {
    staticInputs,
    run: ([x]) => {
      const r = x!.rank;
      const keep = new Array<boolean>(r).fill(axes.length > 0);
      for (const ax of axes) keep[normAxis(ctx.where, ax, r)] = false;
      return [kind === 'mean' ? reduceMeanJs(x!, keep, keepDims) : nd.reduce(ctx.where, x!, kind, keep, keepDims)];
    },
    ...(kind === 'mean' ? { lowered: { op: { kind: 'reduceMean', axes, keepDims } } } : {}),
  };
}

type PadMode = 'constant' | 'reflect' | 'edge';

/** ONNX Pad with non-negative pads [begin..., end...]. */
function padJs(where: string, x: Tensor, pads: readonly number[], mode: PadMode, value: number): Tensor {
  const s = x.shape, r = s.length;
  if (pads.length !== 2 * r) throw new RangeError(`${where}: ${pads.length} pads for an input of rank ${r} (${shapeStr(s)}), expected ${2 * r}`);
  const os = s.map((d, i) => d + pads[i] + pads[i + r]);
  for (let i = 0; i < r; i++) {
    if (mode === 'constant' || pads[i] + pads[i + r] === 0) continue;
    if (s[i] === 0) throw new RangeError(`${where}: ${mode} padding of an empty axis ${i} (${shapeStr(s)})`);
    if (mode === 'reflect' && (pads[i] >= s[i] || pads[i + r] >= s[i])) {
      throw new RangeError(`${where}: reflect pads [${pads.join(',')}] must be smaller than the axis (${shapeStr(s)})`);
    }
  }
  assertNotCapturing('ONNX Pad (computed on the JS thread)');
  // For each axis, the source index of every output index (-1: the constant).
  const src = os.map((n, i) => Int32Array.from({ length: n }, (_, j) => {
    const k = j - pads[i], d = s[i];
    if (k >= 0 && k < d) return k;
    if (mode === 'constant') return -1;
    if (mode === 'edge') return k < 0 ? 0 : d - 1;
    return k < 0 ? -k : 2 * (d - 1) - k;
  }));
  const strides = new Array<number>(r);
  for (let i = r - 1, m = 1; i >= 0; i--) { strides[i] = m; m *= s[i]; }
  const out = new Float32Array(prod(os)), xd = x.data, idx = new Array<number>(r).fill(0);
  for (let o = 0; o < out.length; o++) {
    let at = 0, inside = true;
    for (let i = 0; i < r; i++) {
      const k = src[i][idx[i]];
      if (k < 0) { inside = false; break; }
      at += k * strides[i];
    }
    out[o] = inside ? xd[at] : value;
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d] < os[d]) break;
      idx[d] = 0;
    }
  }
  return Tensor.wrap(out, os);
}

const compilePad: Compiler = (ctx) => {
  const old = ctx.opset < 11;
  const a = new Attrs(ctx.where, ctx.node.attribute, old ? ['mode', 'pads', 'value'] : ['mode']);
  const mode = a.string('mode', 'constant');
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge') fail(`${ctx.where}: mode '${mode}' is not supported (constant, reflect, edge)`);
  let pads: number[];
  let value = 0;
  let staticInputs: number[] = [];
  if (old) {
    arity(ctx, 1, 1);
    const p = a.ints('pads');
    if (!p) fail(`${ctx.where} has no 'pads' attribute`);
    pads = p;
    value = a.float('value', 0);
  } else {
    arity(ctx, 2, 3);
    const c = ctx.constant(ctx.node.input[1]);
    if (!c || c.kind !== 'int' || c.dims.length !== 1) fail(`${ctx.where}: the pads input must be a constant 1-D INT64 tensor (initializer or Constant)`);
    pads = c.data.slice();
    staticInputs = [1];
    if (ctx.node.input[2]) {
      const v = floatConst(ctx, 2);
      if (v && v.data.length !== 1) fail(`${ctx.where}: constant_value must be a scalar, got dims [${v.dims.join(',')}]`);
      if (v) {
        value = v.data[0];
        staticInputs.push(2);
      } else {
        // A value known only when running: the node runs exactly, reading it.
        if (pads.length % 2 !== 0) fail(`${ctx.where}: pads [${pads.join(',')}] must hold a begin and an end per axis`);
        if (pads.some((p) => p < 0)) fail(`${ctx.where}: negative pads [${pads.join(',')}] (cropping) are not supported`);
        const padMode0 = mode as PadMode;
        return {
          staticInputs,
          run: ([x, , cv]) => {
            if (!cv || cv.size !== 1) throw new RangeError(`${ctx.where}: constant_value must be a scalar, got ${cv ? shapeStr(cv.shape) : 'none'}`);
            return [padJs(ctx.where, x!, pads, padMode0, cv.data[0])];
          },
        };
      }
    }
  }
  if (pads.length % 2 !== 0) fail(`${ctx.where}: pads [${pads.join(',')}] must hold a begin and an end per axis`);
  if (pads.some((p) => p < 0)) fail(`${ctx.where}: negative pads [${pads.join(',')}] (cropping) are not supported`);
  const padMode = mode as PadMode;
  const none = pads.every((p) => p === 0);
  return {
    staticInputs,
    run: ([x]) => [none && pads.length === 2 * x!.rank ? x!.reshape(x!.shape) : padJs(ctx.where, x!, pads, padMode, value)],
    lowered: { op: none ? { kind: 'view', shape: (sh) => {
      if (pads.length !== 2 * sh.length) throw new RangeError(`${ctx.where}: ${pads.length} pads for an input of rank ${sh.length} (${shapeStr(sh)}), expected ${2 * sh.length}`);
      return sh.slice();
    } } : { kind: 'pad', pads, mode: padMode, value } },
  };
};

// ---- matmul ----------------------------------------------------------------------------------------

/** numpy matmul: 1-D operands promoted and squeezed, batch dims broadcast. */
function matmulNd(a: Tensor, b: Tensor): Tensor {
  if (a.rank === 0 || b.rank === 0) throw new RangeError(`MatMul: operands must not be scalars, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  const a2 = a.rank === 1 ? a.reshape([1, a.shape[0]]) : a;
  const b2 = b.rank === 1 ? b.reshape([b.shape[0], 1]) : b;
  const K = a2.shape[a2.rank - 1], N = b2.shape[b2.rank - 1], M = a2.shape[a2.rank - 2];
  if (b2.shape[b2.rank - 2] !== K) throw new RangeError(`MatMul: inner dimensions differ: ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  let out: Tensor;
  let batch: number[];
  if (b2.rank === 2) {
    batch = a2.shape.slice(0, -2);
    const rows = a2.reshape([prod(batch) * M, K]);
    out = ops.matmul(rows, b2);
    rows.dispose();
  } else {
    const ab = a2.shape.slice(0, -2), bb = b2.shape.slice(0, -2);
    const r = Math.max(ab.length, bb.length);
    const pa = [...new Array<number>(r - ab.length).fill(1), ...ab], pb = [...new Array<number>(r - bb.length).fill(1), ...bb];
    batch = pa.map((d, i) => {
      if (d === pb[i] || pb[i] === 1) return d;
      if (d === 1) return pb[i];
      throw new RangeError(`MatMul: batch dimensions of ${shapeStr(a.shape)} and ${shapeStr(b.shape)} cannot be broadcast`);
    });
    assertNotCapturing('ONNX MatMul (computed on the JS thread)');
    const nb = prod(batch), ad = a2.data, bd = b2.data, od = new Float32Array(nb * M * N);
    const idx = new Array<number>(r).fill(0);
    for (let t = 0; t < nb; t++) {
      let ia = 0, ib = 0;
      for (let i = 0; i < r; i++) { ia = ia * pa[i] + (pa[i] === 1 ? 0 : idx[i]); ib = ib * pb[i] + (pb[i] === 1 ? 0 : idx[i]); }
      const oa = ia * M * K, ob = ib * K * N, oo = t * M * N;
      for (let m = 0; m < M; m++) {
        for (let kk = 0; kk < K; kk++) {
          const av = ad[oa + m * K + kk];
          for (let n = 0; n < N; n++) od[oo + m * N + n] += av * bd[ob + kk * N + n];
        }
      }
      for (let i = r - 1; i >= 0; i--) { if (++idx[i] < batch[i]) break; idx[i] = 0; }
    }
    out = Tensor.wrap(od, [nb * M, N]);
  }
  const shape = [...batch];
  if (a.rank !== 1) shape.push(M);
  if (b.rank !== 1) shape.push(N);
  if (a2 !== a) a2.dispose();
  if (b2 !== b) b2.dispose();
  return reshaped(out, shape);
}

// ---- N-D convolution and pooling, normalisation, and the rest of the CNN op set ------------------
// 2-D nodes keep the planned forms above; 1-D ones run on the 2-D kernels (a height-1 image) and
// other ranks on the N-D reference kernels (lib/ops/nd.ts), as opaque graph nodes.

/** Spatial axes of a Conv: from the kernel_shape, strides, dilations or pads, else the weight (constant), else 2. */
function spatialRank(ctx: CompileContext, a: Attrs): number | null {
  const w = floatConst(ctx, 1);
  if (w) return w.dims.length - 2;
  for (const name of ['kernel_shape', 'strides', 'dilations', 'output_padding']) { const v = a.ints(name); if (v) return v.length; }
  const p = a.ints('pads');
  return p ? p.length / 2 : null;
}

/**
 * The per-axis attributes for `nsp` spatial axes, checked at load when the rank is known there
 * (a constant weight or a sized attribute), else when the node first runs (all of them absent).
 */
function spatialGeometry<T>(nsp: number | null, make: (n: number) => T): (x: Tensor, where: string) => [T, number] {
  const fixed = nsp === null ? null : make(nsp);
  const cache = new Map<number, T>();
  return (x, where) => {
    const n = x.rank - 2;
    if (nsp !== null) {
      if (n !== nsp) throw new RangeError(`${where}: input must be ${nsp + 2}-D [N, C, ${nsp} spatial], got shape ${shapeStr(x.shape)}`);
      return [fixed!, n];
    }
    if (n < 1) throw new RangeError(`${where}: input must be at least 3-D [N, C, spatial...], got shape ${shapeStr(x.shape)}`);
    let g = cache.get(n);
    if (!g) { g = make(n); cache.set(n, g); }
    return [g, n];
  };
}

/** An attribute with one value per spatial axis (`per` values per axis: 2 for pads). */
function perAxis(ctx: CompileContext, a: Attrs, name: string, def: number, n: number, min: number, per = 1): number[] {
  const v = a.ints(name);
  if (v === undefined) return new Array<number>(n * per).fill(def);
  if (v.length !== n * per) fail(`${ctx.where} attribute '${name}' has ${v.length} values, expected ${n * per} (${n} spatial axes)`);
  for (const x of v) if (x < min) fail(`${ctx.where} attribute '${name}' must hold values >= ${min}, got [${v.join(',')}]`);
  return v;
}

function needRank(where: string, x: Tensor, rank: number): void {
  if (x.rank !== rank) throw new RangeError(`${where}: input must be ${rank}-D [N, C, ${rank - 2} spatial], got shape ${shapeStr(x.shape)}`);
}

/** A 1-D Conv/pool geometry as the 2-D one of a height-1 image: pads [b, e] -> [top 0, left b, bottom 0, right e]. */
const as2d = (v: number[], def: number): number[] => [def, v[0]];

function compileConvNd(ctx: CompileContext, a: Attrs, nsp0: number | null): Compiled {
  if (nsp0 !== null && nsp0 < 1) {
    const w = floatConst(ctx, 1);
    fail(`${ctx.where} weight must be 4-D [M, C/group, kH, kW] for a 2-D convolution (3-D or 5-D for 1-D or 3-D ones), got dims [${w ? w.dims.join(',') : ''}]`);
  }
  const mode = autoPad(ctx, a);
  const ks = a.ints('kernel_shape');
  const group = a.int('group', 1);
  if (group < 1) fail(`${ctx.where} attribute 'group' must be positive, got ${group}`);
  const geometry = spatialGeometry(nsp0, (n) => ({
    s: perAxis(ctx, a, 'strides', 1, n, 1), d: perAxis(ctx, a, 'dilations', 1, n, 1), pads: perAxis(ctx, a, 'pads', 0, n, 0, 2),
  }));
  return {
    run: ([x, w, b]) => {
      const [{ s, d, pads }, nsp] = geometry(x!, ctx.where);
      if (w!.rank !== nsp + 2) throw new RangeError(`${ctx.where}: weight ${shapeStr(w!.shape)} must be ${nsp + 2}-D`);
      const K = w!.shape.slice(2);
      if (ks && ks.some((v, i) => v !== K[i])) throw new RangeError(`${ctx.where}: 'kernel_shape' [${ks.join(',')}] does not match the weight ${shapeStr(w!.shape)}`);
      const p = nd.autoPads(mode, pads, x!.shape.slice(2), K, s, d);
      if (nsp === 2) {
        return [conv2dAct('conv2d', x!, w!, b, { stride: [s[0], s[1]], dilation: [d[0], d[1]], groups: group, padding: [p[0], p[1], p[2], p[3]] }, 'none')];
      }
      if (nsp === 1) {
        const [N, C, W] = x!.shape;
        const x4 = x!.reshape([N, C, 1, W]), w4 = w!.reshape([w!.shape[0], w!.shape[1], 1, K[0]]);
        const y = conv2dAct('conv2d', x4, w4, b, { stride: [1, s[0]], dilation: [1, d[0]], groups: group, padding: [0, p[0], 0, p[1]] }, 'none');
        return [reshaped(y, [N, y.shape[1], y.shape[3]])];
      }
      if (nsp === 3) return [conv3dOn2d(ctx.where, x!, w!, b, s, d, p, group)];
      return [nd.convNd(ctx.where, x!, w!, b, { strides: s, dilations: d, group, pads: p })];
    },
  };
}

/** Depth plane z of a [N, C, D, H, W] tensor as [N, C, H, W]. */
function depthPlane(t: Tensor, z: number): Tensor {
  const [N, C, D, H, W] = t.shape, hw = H * W, src = t.data, out = new Float32Array(N * C * hw);
  for (let nc = 0; nc < N * C; nc++) out.set(src.subarray((nc * D + z) * hw, (nc * D + z + 1) * hw), nc * hw);
  return Tensor.wrap(out, [N, C, H, W]);
}

/**
 * 3-D convolution on the native 2-D kernel: output plane od is the sum over the depth taps kd of
 * conv2d(input plane od * stride - pad + kd * dilation, weight plane kd), plus the bias.
 */
function conv3dOn2d(where: string, x: Tensor, w: Tensor, b: Tensor | null, s: number[], d: number[], p: number[], group: number): Tensor {
  const [N, C, D] = x.shape, [M, Cg, kD] = w.shape;
  if (Cg * group !== C || M % group !== 0) throw new RangeError(`${where}: input ${shapeStr(x.shape)} does not match the weight ${shapeStr(w.shape)} with group ${group}`);
  if (b && b.size !== M) throw new RangeError(`${where}: bias ${shapeStr(b.shape)} does not match ${M} output channels`);
  const OD = outputSizeRaw(D, kD, s[0], p[0], p[3], d[0], false);
  if (OD < 1) throw new RangeError(`${where}: output would be empty for input ${shapeStr(x.shape)} and weight ${shapeStr(w.shape)}`);
  assertNotCapturing(`${where} (3-D convolution, computed on the JS thread)`);
  const planes = new Map<number, Tensor>(), taps = Array.from({ length: kD }, (_, k) => depthPlane(w, k));
  const plane = (z: number): Tensor => { let t = planes.get(z); if (!t) { t = depthPlane(x, z); planes.set(z, t); } return t; };
  const o2 = { stride: [s[1], s[2]] as [number, number], dilation: [d[1], d[2]] as [number, number], groups: group,
    padding: [p[1], p[2], p[4], p[5]] as [number, number, number, number] };
  let out: Float32Array | null = null, OH = 0, OW = 0;
  for (let od = 0; od < OD; od++) {
    for (let kd = 0; kd < kD; kd++) {
      const z = od * s[0] - p[0] + kd * d[0];
      if (z < 0 || z >= D) continue;
      const y = conv2dAct('conv2d', plane(z), taps[kd], null, o2, 'none');
      if (!out) { [, , OH, OW] = y.shape; out = new Float32Array(N * M * OD * OH * OW); }
      const hw = OH * OW, yd = y.data;
      for (let nm = 0; nm < N * M; nm++) {
        const dst = (nm * OD + od) * hw;
        for (let i = 0; i < hw; i++) out[dst + i] += yd[nm * hw + i];
      }
      y.dispose();
    }
  }
  if (!out) {
    // Every output plane reads only padding: the output is the bias (2-D sizes from an empty plane's geometry).
    const y = conv2dAct('conv2d', plane(0), taps[0], null, o2, 'none');
    [, , OH, OW] = y.shape;
    y.dispose();
    out = new Float32Array(N * M * OD * OH * OW);
  }
  if (b) {
    const hw = OD * OH * OW;
    for (let nm = 0; nm < N * M; nm++) { const v = b.data[nm % M]; for (let i = 0; i < hw; i++) out[nm * hw + i] += v; }
  }
  return Tensor.wrap(out, [N, M, OD, OH, OW]);
}

/**
 * The zero-interleaved convolution costs (output size x kernel size) multiply-adds per channel
 * pair, the direct scatter (input size x kernel size): they differ by output/input, which large
 * strides or a kernel much larger than the input make huge (a 65536-wide kernel over 3 inputs:
 * 65538x more work, a hostile file's way to hang a run). The scatter runs on the JS thread, ~30x
 * slower per multiply-add than the native kernel, so it is chosen only past that factor and when
 * the native work is large enough (2^26 multiply-adds) for the difference to matter.
 */
function scatterPays(where: string, x: Tensor, w: Tensor, b: Tensor | null, o: nd.ConvTransposeSpec): boolean {
  const { O, M, Cg } = nd.convTransposeGeometry(where, x, w, b, o);
  const size = (a: readonly number[]): number => a.reduce((p, v) => p * v, 1);
  const outputSize = size(O), inputSize = size(x.shape.slice(2));
  const convWork = x.shape[0] * M * Cg * outputSize * size(w.shape.slice(2));
  return outputSize > 32 * inputSize && convWork > 2 ** 26;
}

const compileConvTranspose: Compiler = (ctx) => {
  const a = new Attrs(ctx.where, ctx.node.attribute, ['auto_pad', 'dilations', 'group', 'kernel_shape', 'output_padding', 'output_shape', 'pads', 'strides']);
  arity(ctx, 2, 3);
  const nsp0 = spatialRank(ctx, a);
  if (nsp0 !== null && nsp0 < 1) fail(`${ctx.where}: the weight must have at least 3 dims [C, M/group, k...] (4-D for a 2-D transposed convolution)`);
  const mode = autoPad(ctx, a);
  const group = a.int('group', 1);
  if (group < 1) fail(`${ctx.where} attribute 'group' must be positive, got ${group}`);
  const geometry = spatialGeometry(nsp0, (n): nd.ConvTransposeSpec => ({
    strides: perAxis(ctx, a, 'strides', 1, n, 1), dilations: perAxis(ctx, a, 'dilations', 1, n, 1),
    pads: perAxis(ctx, a, 'pads', 0, n, 0, 2), outputPadding: perAxis(ctx, a, 'output_padding', 0, n, 0),
    group, autoPad: mode, outputShape: null,
  }));
  // output_shape may list the spatial sizes only, or (as some exporters write) N and C too.
  const os = a.ints('output_shape');
  const ks = a.ints('kernel_shape');
  return {
    run: ([x, w, b]) => {
      const [spec, nsp] = geometry(x!, ctx.where);
      if (w!.rank !== nsp + 2) throw new RangeError(`${ctx.where}: weight ${shapeStr(w!.shape)} must be ${nsp + 2}-D`);
      if (ks && ks.some((v, i) => v !== w!.shape[i + 2])) throw new RangeError(`${ctx.where}: 'kernel_shape' [${ks.join(',')}] does not match the weight ${shapeStr(w!.shape)}`);
      const outputShape = os ? (os.length === nsp + 2 ? os.slice(2) : os) : null;
      const full = { ...spec, outputShape };
      if (nsp > 2 || scatterPays(ctx.where, x!, w!, b, full)) return [nd.convTransposeNd(ctx.where, x!, w!, b, full)];
      // 1-D and 2-D on the native convolution: a stride-1 convolution of the zero-interleaved input.
      const { u, w: wc } = nd.convTransposeAsConv(ctx.where, x!, w!, b, full);
      const d = spec.dilations;
      const u4 = nsp === 1 ? u.reshape([u.shape[0], u.shape[1], 1, u.shape[2]]) : u;
      const w4 = nsp === 1 ? wc.reshape([wc.shape[0], wc.shape[1], 1, wc.shape[2]]) : wc;
      const y = conv2dAct('conv2d', u4, w4, b, { dilation: nsp === 1 ? [1, d[0]] : [d[0], d[1]], groups: spec.group }, 'none');
      return [nsp === 1 ? reshaped(y, [y.shape[0], y.shape[1], y.shape[3]]) : y];
    },
  };
};

function compilePoolNd(ctx: CompileContext, a: Attrs, max: boolean, nsp: number, wantIndices: boolean): Compiled {
  const k = perAxis(ctx, a, 'kernel_shape', 1, nsp, 1), s = perAxis(ctx, a, 'strides', 1, nsp, 1);
  const d = perAxis(ctx, a, 'dilations', 1, nsp, 1), pads = perAxis(ctx, a, 'pads', 0, nsp, 0, 2);
  const mode = autoPad(ctx, a), ceil = a.int('ceil_mode', 0) !== 0, includePad = a.int('count_include_pad', 0) !== 0;
  const storageOrder = max ? a.int('storage_order', 0) : 0;
  if (storageOrder !== 0 && storageOrder !== 1) fail(`${ctx.where} attribute 'storage_order' must be 0 or 1, got ${storageOrder}`);
  return {
    run: ([x]) => {
      needRank(ctx.where, x!, nsp + 2);
      const p = nd.autoPads(mode, pads, x!.shape.slice(2), k, s, d);
      if (nsp === 1 && !wantIndices) {
        const [N, C, W] = x!.shape;
        const y = runPool(ctx.where, x!.reshape([N, C, 1, W]), max, {
          k: as2d(k, 1), s: as2d(s, 1), d: as2d(d, 1), pads: [0, p[0], 0, p[1]], mode: 'NOTSET', ceil, includePad,
        });
        return [reshaped(y, [N, C, y.shape[3]])];
      }
      return nd.poolNd(ctx.where, x!, max, { k, s, d, pads: p, ceil, includePad, storageOrder }, wantIndices);
    },
  };
}

/** GlobalAverage/MaxPool on any rank >= 3 (4-D on the 2-D op). */
function globalPool(mode: 'avg' | 'max'): Compiler {
  return (ctx) => {
    new Attrs(ctx.where, ctx.node.attribute, []);
    arity(ctx, 1, 1);
    return {
      lowered: { op: { kind: 'globalPool', mode } },
      run: ([x]) => {
        if (x!.rank === 4) return [mode === 'avg' ? ops.globalAvgPool2d(x!) : ops.globalMaxPool2d(x!)];
        if (x!.rank < 3) throw new RangeError(`${ctx.where}: input must be at least 3-D [N, C, ...], got shape ${shapeStr(x!.shape)}`);
        return [nd.reduce(ctx.where, x!, mode === 'avg' ? 'mean' : 'max', x!.shape.map((_, i) => i < 2), true)];
      },
    };
  };
}

const compileInstanceNorm: Compiler = (ctx) => {
  const a = new Attrs(ctx.where, ctx.node.attribute, ['epsilon']);
  arity(ctx, 3, 3);
  const eps = a.float('epsilon', 1e-5);
  return { run: ([x, scale, bias]) => [nd.instanceNormNd(ctx.where, x!, scale!, bias!, eps)] };
};

const compileLayerNorm: Compiler = (ctx) => {
  const a = new Attrs(ctx.where, ctx.node.attribute, ['axis', 'epsilon', 'stash_type']);
  const stash = a.int('stash_type', 1);
  if (stash !== 1) fail(`${ctx.where} attribute 'stash_type' is ${stash}; only 1 (float32) is supported`);
  arity(ctx, 2, 3, 3);
  const axis = a.int('axis', -1), eps = a.float('epsilon', 1e-5);
  const stats = ctx.node.output.slice(1).some((o) => o !== '');
  return {
    // Over the last axis with only Y wanted: the compiler's layerNorm step (it checks the scale and bias shapes).
    ...(axis === -1 && !stats ? { lowered: { op: { kind: 'layerNorm', eps } as GraphOp, inputs: [ctx.node.input[0], ctx.node.input[1], ctx.node.input[2] ?? ''] } } : {}),
    run: ([x, scale, bias]) => {
      const ax = normAxis(ctx.where, axis, x!.rank);
      const outs = nd.layerNormNd(ctx.where, x!, ax, scale, bias ?? null, eps);
      return outs.slice(0, Math.max(1, ctx.node.output.length));
    },
  };
};

const compileLrn: Compiler = (ctx) => {
  const a = new Attrs(ctx.where, ctx.node.attribute, ['alpha', 'beta', 'bias', 'size']);
  arity(ctx, 1, 1);
  if (!a.has('size')) fail(`${ctx.where} has no 'size' attribute`);
  const size = a.int('size', 1);
  if (size < 1) fail(`${ctx.where} attribute 'size' must be positive, got ${size}`);
  const alpha = a.float('alpha', 1e-4), beta = a.float('beta', 0.75), bias = a.float('bias', 1);
  return { run: ([x]) => [nd.lrn(ctx.where, x!, size, alpha, beta, bias)] };
};

/** Softmax and LogSoftmax: along `axis` from opset 13; before, over the 2-D coercion's whole tail. */
function compileSoftmax(ctx: CompileContext, log: boolean): Compiled {
  const a = new Attrs(ctx.where, ctx.node.attribute, ['axis']);
  arity(ctx, 1, 1);
  const legacy = ctx.opset < 13;
  const axis = a.int('axis', legacy ? 1 : -1);
  const f = log ? ops.logSoftmax : ops.softmax;
  return {
    lowered: { op: { kind: 'softmax', axis, log, legacy } },
    run: ([x]) => {
      const ax = normAxis(ctx.where, axis, x!.rank);
      if (!legacy || ax === x!.rank - 1) return [f(x!, ax)];
      const flat = x!.reshape([prod(x!.shape.slice(0, ax)), prod(x!.shape.slice(ax))]);
      const y = f(flat, 1);
      flat.dispose();
      return [reshaped(y, x!.shape)];
    },
  };
}

const compileHardmax: Compiler = (ctx) => {
  const a = new Attrs(ctx.where, ctx.node.attribute, ['axis']);
  arity(ctx, 1, 1);
  const legacy = ctx.opset < 13;
  const axis = a.int('axis', legacy ? 1 : -1);
  return {
    run: ([x]) => {
      const s = x!.shape, ax = normAxis(ctx.where, axis, x!.rank);
      return [legacy ? nd.hardmax(x!, prod(s.slice(0, ax)), prod(s.slice(ax)), 1) : nd.hardmax(x!, prod(s.slice(0, ax)), s[ax], prod(s.slice(ax + 1)))];
    },
  };
};

/** An elementwise op computed on the JS thread (attributes read by `make`). */
function unaryJs(attrs: string[], make: (a: Attrs) => (v: number) => number, ints = false): Compiler {
  return (ctx) => {
    const a = new Attrs(ctx.where, ctx.node.attribute, attrs);
    arity(ctx, 1, 1);
    const f = make(a);
    return {
      intOutput: ints && ctx.isInt(ctx.node.input[0]),
      run: ([x]) => {
        assertNotCapturing(`${ctx.where} (computed on the JS thread)`);
        const src = x!.data, out = new Float32Array(src.length);
        for (let i = 0; i < src.length; i++) out[i] = f(src[i]);
        return [Tensor.wrap(out, x!.shape)];
      },
    };
  };
}

const softplus = (v: number): number => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v)));

/**
 * Integers travel as float32 values, exact up to 2^24: a larger integer result is refused rather
 * than rounded.
 */
function exactInts(where: string, t: Tensor): Tensor {
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    if (!(Math.abs(d[i]) <= 2 ** 24)) throw new RangeError(`${where}: integer result ${d[i]} is beyond 2^24, where float32 holds integers exactly`);
  }
  return t;
}

/** Max, Min, Sum, Mean over any number of inputs, numpy-broadcast. Integer inputs give an integer result (not Mean). */
function variadic(name: string, fn: (a: number, b: number) => number, mean = false): Compiler {
  return (ctx) => {
    new Attrs(ctx.where, ctx.node.attribute, ctx.opset < 8 ? ['consumed_inputs'] : []);
    arity(ctx, 1, Number.MAX_SAFE_INTEGER);
    if (ctx.node.input.some((i) => i === '')) fail(`${ctx.where} has an empty input name`);
    const ints = ctx.node.input.map((i) => ctx.isInt(i));
    if (ints.some((v) => v !== ints[0])) fail(`${ctx.where}: the inputs mix integer and float tensors`);
    if (ints[0] && mean) fail(`${ctx.where}: integer inputs are not supported`);
    return {
      intOutput: ints[0],
      run: (xs) => {
        let acc = (xs[0] as Tensor).reshape(xs[0]!.shape);
        for (let i = 1; i < xs.length; i++) {
          const next = nd.broadcastMap(ctx.where, acc, xs[i]!, fn);
          acc.dispose();
          acc = next;
        }
        if (mean && xs.length > 1) {
          const d = acc.data, n = xs.length;
          for (let i = 0; i < d.length; i++) d[i] /= n;
        }
        return [ints[0] ? exactInts(ctx.where, acc) : acc];
      },
    };
  };
}

const compilePRelu: Compiler = (ctx) => {
  new Attrs(ctx.where, ctx.node.attribute, []);
  arity(ctx, 2, 2);
  // Before opset 7 a 1-D slope of C values is per channel (axis 1), as PyTorch's opset-6 exports mean.
  const legacy = ctx.opset < 7;
  return {
    run: ([x, slope0]) => {
      let slope = slope0!;
      if (legacy && slope.rank === 1 && x!.rank >= 2 && slope.size === x!.shape[1] && slope.size > 1) {
        slope = slope.reshape([slope.size, ...x!.shape.slice(2).map(() => 1)]);
      }
      const y = nd.broadcastMap(ctx.where, x!, slope, (v, al) => (v < 0 ? v * al : v));
      if (!sameShape(y.shape, x!.shape)) throw new RangeError(`${ctx.where}: slope ${shapeStr(slope0!.shape)} does not broadcast to the input ${shapeStr(x!.shape)}`);
      return [y];
    },
  };
};

/** An integer input's values: from a constant at load, else (a plan-time value) when running. */
function intArg(ctx: CompileContext, slot: number, what: string): (t: Tensor | null) => number[] {
  const name = ctx.node.input[slot];
  if (!ctx.isInt(name)) fail(`${ctx.where}: the ${what} input '${name}' must be an INT64 tensor`);
  return (t) => intsOf(ctx.where, what, t);
}

const compileSplit: Compiler = (ctx) => {
  const old = ctx.opset < 13;
  const a = new Attrs(ctx.where, ctx.node.attribute, old ? ['axis', 'split'] : ['axis']);
  arity(ctx, 1, old ? 1 : 2, Number.MAX_SAFE_INTEGER);
  const axis0 = a.int('axis', 0);
  const n = ctx.node.output.length;
  const attrSplit = old ? a.ints('split') : undefined;
  const splitIn = !old && ctx.node.input[1] ? intArg(ctx, 1, 'split') : null;
  return {
    intOutput: ctx.isInt(ctx.node.input[0]),
    run: ([x, sp]) => {
      const ax = normAxis(ctx.where, axis0, x!.rank), dim = x!.shape[ax];
      let sizes = attrSplit ?? (splitIn ? splitIn(sp ?? null) : null);
      if (!sizes) {
        if (dim % n !== 0) throw new RangeError(`${ctx.where}: axis ${ax} of ${shapeStr(x!.shape)} does not split into ${n} equal parts`);
        sizes = new Array<number>(n).fill(dim / n);
      }
      if (sizes.length !== n) throw new RangeError(`${ctx.where}: ${sizes.length} split sizes for ${n} outputs`);
      return nd.split(ctx.where, x!, ax, sizes);
    },
  };
};

const compileExpand: Compiler = (ctx) => {
  new Attrs(ctx.where, ctx.node.attribute, []);
  arity(ctx, 2, 2);
  const shapeOf = intArg(ctx, 1, 'shape');
  return { intOutput: ctx.isInt(ctx.node.input[0]), run: ([x, sh]) => [nd.expandTo(ctx.where, x!, shapeOf(sh))] };
};

const compileTile: Compiler = (ctx) => {
  new Attrs(ctx.where, ctx.node.attribute, []);
  arity(ctx, 2, 2);
  const repeatsOf = intArg(ctx, 1, 'repeats');
  return { intOutput: ctx.isInt(ctx.node.input[0]), run: ([x, r]) => [nd.tile(ctx.where, x!, repeatsOf(r))] };
};

const compileConstantOfShape: Compiler = (ctx) => {
  const a = new Attrs(ctx.where, ctx.node.attribute, ['value']);
  arity(ctx, 1, 1);
  const shapeOf = intArg(ctx, 0, 'shape');
  const v = a.tensor('value');
  if (v && v.data.length !== 1) fail(`${ctx.where} attribute 'value' must hold one element, got dims [${v.dims.join(',')}]`);
  const fill = v ? Number(v.data[0]) : 0;
  return {
    intOutput: v?.kind === 'int',
    run: ([s]) => {
      const dims = shapeOf(s);
      if (dims.some((d) => d < 0)) throw new RangeError(`${ctx.where}: negative dims [${dims.join(',')}]`);
      return [Tensor.wrap(new Float32Array(prod(dims)).fill(fill), dims)];
    },
  };
};

const compileRange: Compiler = (ctx) => {
  new Attrs(ctx.where, ctx.node.attribute, []);
  arity(ctx, 3, 3);
  const ints = ctx.node.input.map((i) => ctx.isInt(i));
  if (ints.some((v) => v !== ints[0])) fail(`${ctx.where}: start, limit and delta mix integer and float tensors`);
  const scalar = (t: Tensor | null, what: string): number => {
    if (!t || t.size !== 1) throw new RangeError(`${ctx.where}: '${what}' must be a scalar${t ? `, got shape ${shapeStr(t.shape)}` : ' known when planning'}`);
    return t.data[0];
  };
  return {
    intOutput: ints[0],
    run: ([s0, l0, d0]) => {
      const start = scalar(s0, 'start'), limit = scalar(l0, 'limit'), delta = scalar(d0, 'delta');
      if (delta === 0) throw new RangeError(`${ctx.where}: delta is 0`);
      const n = Math.max(Math.ceil((limit - start) / delta), 0);
      if (n > 2 ** 28) throw new RangeError(`${ctx.where}: ${n} elements is too many`);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = start + i * delta;
      return [Tensor.wrap(out, [n])];
    },
  };
};

const RESIZE_MODES = ['nearest', 'linear', 'cubic'];
const COORD_MODES = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'tf_crop_and_resize'];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

function oneOf<T extends string>(ctx: CompileContext, name: string, v: string, allowed: readonly string[]): T {
  if (!allowed.includes(v)) fail(`${ctx.where} attribute '${name}' is '${v}', expected one of ${allowed.join(', ')}`);
  return v as T;
}

/**
 * Resize (opset 10: X, scales; 11+: X, roi, scales, sizes) and Upsample (7: scales attribute; 9:
 * input). Opset 10 Resize and Upsample map coordinates asymmetrically and nearest rounds down.
 */
function compileResize(ctx: CompileContext, upsample: boolean): Compiled {
  const v10 = upsample || ctx.opset < 11;
  const names = v10 ? ['mode', ...(upsample && ctx.opset < 9 ? ['scales'] : [])]
    : ['coordinate_transformation_mode', 'cubic_coeff_a', 'exclude_outside', 'extrapolation_value', 'mode', 'nearest_mode'];
  const a = new Attrs(ctx.where, ctx.node.attribute, names);
  const attrScales = upsample && ctx.opset < 9 ? a.floats('scales') : undefined;
  if (upsample && ctx.opset < 9) {
    arity(ctx, 1, 1);
    if (!attrScales) fail(`${ctx.where} has no 'scales' attribute`);
  } else arity(ctx, v10 ? 2 : 1, v10 ? 2 : 4);
  const mode = oneOf<nd.ResizeMode>(ctx, 'mode', a.string('mode', 'nearest'), v10 ? ['nearest', 'linear', 'bilinear'].slice(0, upsample ? 3 : 2) : RESIZE_MODES);
  const spec: nd.ResizeSpec = {
    mode: (mode as string) === 'bilinear' ? 'linear' : mode,
    coord: v10 ? 'asymmetric' : oneOf<nd.CoordMode>(ctx, 'coordinate_transformation_mode', a.string('coordinate_transformation_mode', 'half_pixel'), COORD_MODES),
    nearest: v10 ? (upsample ? 'floor' : 'simple') : oneOf<nd.NearestMode>(ctx, 'nearest_mode', a.string('nearest_mode', 'round_prefer_floor'), NEAREST_MODES),
    cubicA: a.float('cubic_coeff_a', -0.75), excludeOutside: a.int('exclude_outside', 0) !== 0, extrapolation: a.float('extrapolation_value', 0),
  };
  const [roiSlot, scalesSlot, sizesSlot] = v10 ? [-1, 1, -1] : [1, 2, 3];
  const floats = (t: Tensor | null | undefined): number[] | null => (t && t.size > 0 ? [...t.toArray()] : null);
  if (sizesSlot > 0 && ctx.node.input[sizesSlot] && !ctx.isInt(ctx.node.input[sizesSlot])) fail(`${ctx.where}: the sizes input must be an INT64 tensor`);
  for (let i = 0; i < ctx.node.input.length; i++) {
    if (i !== sizesSlot && ctx.node.input[i] && ctx.isInt(ctx.node.input[i])) fail(`${ctx.where} input ${i} '${ctx.node.input[i]}' is an integer tensor; a float tensor is expected there`);
  }
  return {
    run: (xs) => {
      const x = xs[0]!, s = x.shape;
      const sizes = sizesSlot > 0 && ctx.node.input[sizesSlot] ? floats(xs[sizesSlot]) : null;
      let scales = attrScales ?? (ctx.node.input[scalesSlot] ? floats(xs[scalesSlot]) : null);
      let out: number[];
      if (sizes) {
        if (scales) throw new RangeError(`${ctx.where}: both scales and sizes are given`);
        if (sizes.length !== s.length) throw new RangeError(`${ctx.where}: ${sizes.length} sizes for an input of rank ${s.length} (${shapeStr(s)})`);
        out = sizes;
        scales = sizes.map((v, i) => v / s[i]);
      } else {
        if (!scales) throw new RangeError(`${ctx.where}: neither scales nor sizes is given`);
        if (scales.length !== s.length) throw new RangeError(`${ctx.where}: ${scales.length} scales for an input of rank ${s.length} (${shapeStr(s)})`);
        if (scales.some((v) => !(v > 0))) throw new RangeError(`${ctx.where}: scales [${scales.join(',')}] must be positive`);
        if (upsample && scales.some((v) => v < 1)) throw new RangeError(`${ctx.where}: Upsample scales [${scales.join(',')}] must be >= 1`);
        // Opset 10 left linear downsampling's coordinates unspecified (runtimes differ): refused, not guessed.
        if (v10 && !upsample && spec.mode === 'linear' && scales.some((v) => v < 1)) {
          throw new RangeError(`${ctx.where}: Resize-10 linear with a scale below 1 ([${scales.join(',')}]) is not supported (use opset >= 11)`);
        }
        out = scales.map((v, i) => Math.floor(s[i] * v));
      }
      const roi = roiSlot > 0 ? floats(xs[roiSlot]) : null;
      if (spec.coord === 'tf_crop_and_resize' && (!roi || roi.length !== 2 * s.length)) {
        throw new RangeError(`${ctx.where}: tf_crop_and_resize needs an roi of ${2 * s.length} values, got ${roi ? roi.length : 'none'}`);
      }
      return [nd.resize(ctx.where, x, scales, out, roi, spec)];
    },
  };
}

// ---- the op table --------------------------------------------------------------------------------

type Compiler = (ctx: CompileContext) => Compiled;

function unary(fn: (x: Tensor, alpha: number) => Tensor, attrs: string[] = [], alphaDefault = 0,
  lower?: (alpha: number) => GraphOp): Compiler {
  return (ctx) => {
    const a = new Attrs(ctx.where, ctx.node.attribute, attrs);
    arity(ctx, 1, 1);
    const alpha = attrs.length ? a.float(attrs[0], alphaDefault) : 0;
    return { run: ([x]) => [fn(x!, alpha)], ...(lower ? { lowered: { op: lower(alpha) } } : {}) };
  };
}

const act = (kind: Act['kind'], alpha = 0, beta = 0): GraphOp => ({ kind: 'act', act: { kind, alpha, beta } });

/** An activation the ops module has no function for, computed on the JS thread (exact kernel). */
function jsAct(a: Act): (x: Tensor) => Tensor {
  const f = actFunction(a);
  return (x) => {
    assertNotCapturing(`ONNX ${a.kind} (computed on the JS thread)`);
    const src = x.data, out = new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = f(src[i]);
    return Tensor.wrap(out, x.shape);
  };
}

function binary(kind: BinKind): Compiler {
  return (ctx) => {
    const a = new Attrs(ctx.where, ctx.node.attribute, ['broadcast', 'axis']);
    arity(ctx, 2, 2);
    // Opset < 7 broadcasting with an explicit axis is a different rule; refuse it rather than guess.
    if (a.int('broadcast', 0) !== 0 && a.has('axis')) fail(`${ctx.where}: legacy 'broadcast' with 'axis' is not supported`);
    // Integer operands (shape arithmetic) follow ONNX's integer semantics: Div truncates.
    const ints = ctx.isInt(ctx.node.input[0]) && ctx.isInt(ctx.node.input[1]);
    if (!ints && (ctx.isInt(ctx.node.input[0]) || ctx.isInt(ctx.node.input[1]))) {
      const slot = ctx.isInt(ctx.node.input[0]) ? 0 : 1;
      fail(`${ctx.where} input ${slot} '${ctx.node.input[slot]}' is an integer tensor; a float tensor is expected there (the other operand is float)`);
    }
    if (ints) {
      return {
        intOutput: true,
        run: ([x, y]) => {
          const r = broadcastBinary(kind, x!, y!);
          if (kind !== 'div') return [r];
          const q = Tensor.wrap(r.data.map(Math.trunc), r.shape);
          r.dispose();
          return [q];
        },
      };
    }
    return { run: ([x, y]) => [broadcastBinary(kind, x!, y!)], lowered: { op: { kind: 'binary', op: kind } } };
  };
}

const compileConv: Compiler = (ctx) => {
  const a = new Attrs(ctx.where, ctx.node.attribute, ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides']);
  arity(ctx, 2, 3);
  const nsp = spatialRank(ctx, a);
  // 2-D with the rank known at load: planned when the weights are constants (below).
  if (nsp !== 2) return compileConvNd(ctx, a, nsp);
  const mode = autoPad(ctx, a);
  const s = pair(ctx, a, 'strides', 1), d = pair(ctx, a, 'dilations', 1), pads = pair(ctx, a, 'pads', 0, 4, 0);
  const ks = a.ints('kernel_shape');
  const groups = a.int('group', 1);
  if (groups < 1) fail(`${ctx.where} attribute 'group' must be positive, got ${groups}`);
  const w = floatConst(ctx, 1);
  if (w) {
    if (w.dims.length !== 4) fail(`${ctx.where} weight must be 4-D [M, C/group, kH, kW], got dims [${w.dims.join(',')}] (only 2-D convolution is supported)`);
    if (ks && (ks.length !== 2 || ks[0] !== w.dims[2] || ks[1] !== w.dims[3])) {
      fail(`${ctx.where} 'kernel_shape' [${ks.join(',')}] does not match the weight dims [${w.dims.join(',')}]`);
    }
    const b = floatConst(ctx, 2);
    if (b && (b.dims.length !== 1 || b.dims[0] !== w.dims[0])) fail(`${ctx.where} bias dims [${b.dims.join(',')}] do not match ${w.dims[0]} output channels`);
  } else if (ks && ks.length !== 2) fail(`${ctx.where} 'kernel_shape' has ${ks.length} values; only 2-D convolution is supported`);
  // Planned when the weights (and bias) are constants: the compiler prepares them once.
  const plannable = w !== undefined && (!ctx.node.input[2] || floatConst(ctx, 2) !== undefined);
  return {
    ...(plannable ? { lowered: { op: { kind: 'conv', strides: s, dilations: d, groups, pads, autoPad: mode, act: null, residual: -1 } } } : {}),
    run: ([x, wt, bias]) => {
      need4d(ctx.where, x!);
      if (ks && (wt!.rank !== 4 || ks[0] !== wt!.shape[2] || ks[1] !== wt!.shape[3])) {
        throw new RangeError(`${ctx.where}: 'kernel_shape' [${ks.join(',')}] does not match the weight ${shapeStr(wt!.shape)}`);
      }
      const k = wt!.rank === 4 ? [wt!.shape[2], wt!.shape[3]] : [1, 1];
      const p = resolvePads(mode, pads, x!.shape[2], x!.shape[3], k, s, d);
      return [conv2dAct('conv2d', x!, wt!, bias, {
        stride: [s[0], s[1]], dilation: [d[0], d[1]], groups, padding: [p[0], p[1], p[2], p[3]],
      }, 'none')];
    },
  };
};

const compileBatchNorm: Compiler = (ctx) => {
  const a = new Attrs(ctx.where, ctx.node.attribute, ['epsilon', 'momentum', 'training_mode', 'spatial', 'is_test', 'consumed_inputs']);
  const training = a.int('training_mode', 0) !== 0;
  arity(ctx, 5, 5, training ? 3 : 1);
  const eps = a.float('epsilon', 1e-5);
  if (a.int('spatial', 1) !== 1) fail(`${ctx.where}: spatial=0 is not supported`);
  const momentum = a.float('momentum', 0.9);
  if (!(eps >= 0)) fail(`${ctx.where}: 'epsilon' must be non-negative, got ${eps}`);
  // Opset 14's training mode: normalised with the batch statistics (biased variance); the running
  // mean and variance outputs are input * momentum + batch * (1 - momentum).
  if (training) {
    return {
      run: ([x, scale, bias, mean, v]) => {
        const t = x!;
        if (t.rank < 2) throw new RangeError(`${ctx.where}: input must be at least 2-D [N, C, ...], got shape ${shapeStr(t.shape)}`);
        const C = t.shape[1];
        for (const [p, what] of [[scale, 'scale'], [bias, 'B'], [mean, 'input_mean'], [v, 'input_var']] as const) {
          if (p!.size !== C) throw new RangeError(`${ctx.where}: ${what} ${shapeStr(p!.shape)} must have ${C} values`);
        }
        const keep = t.shape.map((_, i) => i === 1);
        const bm = nd.reduce(ctx.where, t, 'mean', keep, false);
        const centered = nd.broadcastMap(ctx.where, t, bm.reshape([C, ...t.shape.slice(2).map(() => 1)]), (p, q) => (p - q) * (p - q));
        const bv = nd.reduce(ctx.where, centered, 'mean', keep, false);
        const y = ops.batchNorm2d(t.reshape([t.shape[0], C, prod(t.shape.slice(2)), 1]), { runningMean: bm, runningVar: bv, weight: scale, bias, eps, training: false });
        const run = (r: Tensor, b: Tensor): Tensor => Tensor.wrap(Float32Array.from(r.data, (val, i) => val * momentum + b.data[i] * (1 - momentum)), [C]);
        return [y.reshape(t.shape), run(mean!, bm), run(v!, bv)];
      },
    };
  }
  return {
    run: ([x, scale, bias, mean, v]) => {
      const t = x!;
      if (t.rank < 2) throw new RangeError(`${ctx.where}: input must be at least 2-D [N, C, ...], got shape ${shapeStr(t.shape)}`);
      const x4 = t.rank === 4 ? t : t.reshape([t.shape[0], t.shape[1], prod(t.shape.slice(2)), 1]);
      const y = ops.batchNorm2d(x4, { runningMean: mean!, runningVar: v!, weight: scale, bias, eps, training: false });
      return [t.rank === 4 ? y : y.reshape(t.shape)];
    },
    lowered: { op: { kind: 'batchNorm', eps } },
  };
};

const compileGemm: Compiler = (ctx) => {
  const a = new Attrs(ctx.where, ctx.node.attribute, ['alpha', 'beta', 'transA', 'transB', 'broadcast']);
  arity(ctx, 2, 3);
  const alpha = a.float('alpha', 1), beta = a.float('beta', 1);
  const transA = a.int('transA', 0) !== 0, transB = a.int('transB', 0) !== 0;
  a.int('broadcast', 0);
  // linear() wants the weight as [N, K], which is B when transB is set; a constant B without
  // transB is transposed once here instead of on every run.
  const bc = floatConst(ctx, 1);
  let fixedW: Tensor | null = null;
  if (bc) {
    if (bc.dims.length !== 2) fail(`${ctx.where} B must be 2-D, got dims [${bc.dims.join(',')}]`);
    if (!transB) {
      const [K, N] = bc.dims, t = new Float32Array(K * N);
      for (let i = 0; i < K; i++) for (let j = 0; j < N; j++) t[j * K + i] = bc.data[i * N + j];
      fixedW = ctx.own(t, [N, K]);
    }
  }
  const cc = floatConst(ctx, 2);
  const outN = bc ? (transB ? bc.dims[0] : bc.dims[1]) : -1;
  const biasFused = alpha === 1 && beta === 1 && cc !== undefined && outN > 0 &&
    ((cc.dims.length === 1 && cc.dims[0] === outN) || (cc.dims.length === 2 && cc.dims[0] === 1 && cc.dims[1] === outN));
  // A dense layer for the compiler: constant B, no transA, and no C or a bias-shaped one.
  const dense = bc !== undefined && !transA && (biasFused || (!ctx.node.input[2] && alpha === 1));
  let lowered: Compiled['lowered'];
  if (dense) {
    const wName = fixedW ? `${ctx.node.input[1]}::transposed` : ctx.node.input[1];
    const inputs = [ctx.node.input[0], wName];
    const constants: [string, Tensor][] = fixedW ? [[wName, fixedW]] : [];
    if (biasFused && cc!.dims.length === 2) {
      const bName = `${ctx.node.input[2]}::flat`;
      constants.push([bName, ctx.own(cc!.data, [outN])]);
      inputs.push(bName);
    } else if (biasFused) inputs.push(ctx.node.input[2]);
    lowered = { op: { kind: 'dense', act: null }, inputs, constants };
  }
  return {
    lowered,
    run: ([A, B, C]) => {
      if (A!.rank !== 2) throw new RangeError(`${ctx.where}: A must be 2-D, got shape ${shapeStr(A!.shape)}`);
      if (B!.rank !== 2) throw new RangeError(`${ctx.where}: B must be 2-D, got shape ${shapeStr(B!.shape)}`);
      const a2 = transA ? transpose(A!) : A!;
      const w = fixedW ?? (transB ? B! : transpose(B!));
      if (biasFused) return [ops.linear(a2, w, C!.rank === 1 ? C! : C!.reshape([outN]))];
      let y = ops.linear(a2, w);
      if (alpha !== 1) {
        assertNotCapturing('ONNX Gemm (computed on the JS thread)');
        const d = y.data;
        for (let i = 0; i < d.length; i++) d[i] *= alpha;
      }
      if (C && beta !== 0) {
        let c = C;
        if (beta !== 1) {
          const cd = new Float32Array(C.size), src = C.data;
          for (let i = 0; i < cd.length; i++) cd[i] = src[i] * beta;
          c = Tensor.wrap(cd, C.shape);
        }
        const out = broadcastBinary('add', y, c);
        if (!sameShape(out.shape, y.shape)) throw new RangeError(`${ctx.where}: C ${shapeStr(C.shape)} does not broadcast to ${shapeStr(y.shape)}`);
        y = out;
      }
      return [y];
    },
  };
};

/** Reshape's target dims for an input shape (0 copies a dim unless allowzero; one -1 is inferred). */
function reshapeDims(where: string, shape: readonly number[], allowZero: boolean, xs: readonly number[]): number[] {
  if (shape.filter((v) => v === -1).length > 1) throw new RangeError(`${where}: shape [${shape.join(',')}] has more than one -1`);
  if (shape.some((v) => v < -1 || !Number.isSafeInteger(v))) throw new RangeError(`${where}: shape [${shape.join(',')}] holds invalid values`);
  if (allowZero && shape.includes(0) && shape.includes(-1)) throw new RangeError(`${where}: allowzero with both 0 and -1 in the shape`);
  const dims = shape.map((v, i) => {
    if (v !== 0 || allowZero) return v;
    if (i >= xs.length) throw new RangeError(`${where}: shape [${shape.join(',')}] copies dim ${i} of ${shapeStr(xs)}, which has none`);
    return xs[i];
  });
  const known = prod(dims.filter((d) => d !== -1)), total = prod(xs);
  if (dims.includes(-1)) {
    if (known === 0 || total % known !== 0) throw new RangeError(`${where}: cannot reshape ${shapeStr(xs)} to [${shape.join(',')}]`);
    dims[dims.indexOf(-1)] = total / known;
  } else if (known !== total) throw new RangeError(`${where}: cannot reshape ${shapeStr(xs)} (${total} elements) to [${dims.join(',')}]`);
  return dims;
}

/** The integer values of a 1-D shape/index tensor (ints travel as float32 tensors; see model.ts). */
function intsOf(where: string, what: string, t: Tensor | null): number[] {
  if (!t) throw new RangeError(`${where}: the ${what} input is neither a constant nor computable from the input shapes`);
  if (t.rank > 1) throw new RangeError(`${where}: the ${what} input must be 1-D, got shape ${shapeStr(t.shape)}`);
  const v = [...t.toArray()];
  if (v.some((x) => !Number.isInteger(x))) throw new RangeError(`${where}: the ${what} input holds non-integers [${v.join(',')}]`);
  return v;
}

const compileReshape: Compiler = (ctx) => {
  const a = new Attrs(ctx.where, ctx.node.attribute, ['allowzero', 'shape']);
  const allowZero = a.int('allowzero', 0) !== 0;
  if (ctx.opset < 5) {
    arity(ctx, 1, 1);
    const shape = a.ints('shape');
    if (!shape) fail(`${ctx.where} has no 'shape' attribute`);
    return fixedReshape(ctx, shape, allowZero, []);
  }
  arity(ctx, 2, 2);
  const c = ctx.constant(ctx.node.input[1]);
  if (c) {
    if (c.kind !== 'int') fail(`${ctx.where}: the shape input '${ctx.node.input[1]}' must be an INT64 tensor`);
    if (c.dims.length !== 1) fail(`${ctx.where}: the shape input must be 1-D, got dims [${c.dims.join(',')}]`);
    return fixedReshape(ctx, c.data.slice(), allowZero, [1]);
  }
  // A shape computed in the graph (PyTorch's x.view(x.size(0), ...)): known once the input shapes are.
  if (!ctx.isInt(ctx.node.input[1])) fail(`${ctx.where}: the shape input '${ctx.node.input[1]}' must be an INT64 tensor`);
  const dimsFor = (xs: readonly number[], args: readonly (Tensor | null)[]): number[] =>
    reshapeDims(ctx.where, intsOf(ctx.where, 'shape', args[1]), allowZero, xs);
  return {
    run: ([x, shape]) => [x!.reshape(dimsFor(x!.shape, [x, shape]))],
    lowered: { op: { kind: 'view', shape: dimsFor } },
    intOutput: ctx.isInt(ctx.node.input[0]),
  };
};

function fixedReshape(ctx: CompileContext, shape: number[], allowZero: boolean, staticInputs: number[]): Compiled {
  if (shape.filter((v) => v === -1).length > 1) fail(`${ctx.where}: shape [${shape.join(',')}] has more than one -1`);
  if (shape.some((v) => v < -1 || !Number.isSafeInteger(v))) fail(`${ctx.where}: shape [${shape.join(',')}] holds invalid values`);
  if (allowZero && shape.includes(0) && shape.includes(-1)) fail(`${ctx.where}: allowzero with both 0 and -1 in the shape`);
  const dimsFor = (xs: readonly number[]): number[] => reshapeDims(ctx.where, shape, allowZero, xs);
  return {
    staticInputs,
    run: ([x]) => [x!.reshape(dimsFor(x!.shape))],
    lowered: { op: { kind: 'view', shape: dimsFor }, inputs: [ctx.node.input[0]] },
    intOutput: ctx.isInt(ctx.node.input[0]),
  };
}

// ---- elementwise math ------------------------------------------------

function elementwise(name: string, f: (v: number) => number, kind: Act['kind']): Compiler {
  return (ctx) => {
    new Attrs(ctx.where, ctx.node.attribute, []);
    arity(ctx, 1, 1);
    return {
      lowered: { op: act(kind) },
      run: ([x]) => {
        assertNotCapturing(`ONNX ${name} (computed on the JS thread)`);
        const src = x!.data, out = new Float32Array(src.length);
        for (let i = 0; i < src.length; i++) out[i] = f(src[i]);
        return [Tensor.wrap(out, x!.shape)];
      },
    };
  };
}

const compilePow: Compiler = (ctx) => {
  new Attrs(ctx.where, ctx.node.attribute, []);
  arity(ctx, 2, 2);
  // x ** 2 (LayerNorm's variance as exported) is x * x on the native kernel: the same rounding.
  const e = floatConst(ctx, 1);
  const square = e !== undefined && e.data.length === 1 && e.data[0] === 2 && !ctx.isInt(ctx.node.input[0]);
  // The result has the base's type: an integer base gives an integer power (truncated).
  if (ctx.isInt(ctx.node.input[0])) {
    return {
      intOutput: true,
      run: ([x, y]) => {
        const r = broadcastBinary('pow', x!, y!);
        const d = r.data;
        for (let i = 0; i < d.length; i++) d[i] = Math.trunc(d[i]);
        return [exactInts(ctx.where, r)];
      },
    };
  }
  return {
    run: ([x, y]) => [broadcastBinary('pow', x!, y!)],
    ...(square ? { lowered: { op: { kind: 'binary', op: 'mul' }, inputs: [ctx.node.input[0], ctx.node.input[0]] } } : {}),
  };
};

// ---- shape arithmetic and data movement --------------------------------------------------------
// PyTorch exports x.size(1) // 2, x.view(n, g, c, h, w) and x.chunk(2, 1) as Shape -> Gather ->
// Div -> Unsqueeze -> Concat -> Reshape / Slice. The integer values are computed when a plan is
// made for an input shape (lib/graph/plan.ts), so the Reshape is a view and the Slice a copy.

const compileShape: Compiler = (ctx) => {
  const a = new Attrs(ctx.where, ctx.node.attribute, ctx.opset >= 15 ? ['start', 'end'] : []);
  arity(ctx, 1, 1);
  const start = a.int('start', 0), end = a.has('end') ? a.int('end', 0) : null;
  return {
    run: ([x]) => {
      const r = x!.rank;
      const clamp = (v: number): number => Math.min(r, Math.max(0, v < 0 ? v + r : v));
      const dims = x!.shape.slice(clamp(start), end === null ? r : clamp(end));
      return [Tensor.wrap(Float32Array.from(dims), [dims.length])];
    },
    lowered: { op: { kind: 'shape', start, end } },
    intOutput: true,
  };
};

const compileGather: Compiler = (ctx) => {
  const a = new Attrs(ctx.where, ctx.node.attribute, ['axis']);
  arity(ctx, 2, 2);
  if (!ctx.isInt(ctx.node.input[1])) fail(`${ctx.where}: the indices input must be an integer tensor`);
  const axis0 = a.int('axis', 0);
  return {
    intOutput: ctx.isInt(ctx.node.input[0]),
    run: ([x, idx]) => {
      const s = x!.shape, axis = normAxis(ctx.where, axis0, x!.rank), d = s[axis];
      const ind = idx!.toArray().map((v) => {
        const k = v < 0 ? v + d : v;
        if (!Number.isInteger(k) || k < 0 || k >= d) throw new RangeError(`${ctx.where}: index ${v} is out of range for axis ${axis} of ${shapeStr(s)}`);
        return k;
      });
      const outer = prod(s.slice(0, axis)), inner = prod(s.slice(axis + 1));
      const out = new Float32Array(outer * ind.length * inner), xd = x!.data;
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < ind.length; j++) out.set(xd.subarray((o * d + ind[j]) * inner, (o * d + ind[j] + 1) * inner), (o * ind.length + j) * inner);
      }
      return [Tensor.wrap(out, [...s.slice(0, axis), ...idx!.shape, ...s.slice(axis + 1)])];
    },
  };
};

// TensorProto.DataType: the float and integer types a CNN's shape arithmetic casts between.
const FLOAT_TYPES = new Set([1, 10, 11, 16]);  // float, float16, double, bfloat16
const INT_TYPES = new Set([2, 3, 4, 5, 6, 7, 12, 13]);  // uint8 .. int64, uint32, uint64

const compileCast: Compiler = (ctx) => {
  const a = new Attrs(ctx.where, ctx.node.attribute, ['to', 'saturate']);
  arity(ctx, 1, 1);
  const to = a.int('to', 0);
  const toInt = INT_TYPES.has(to), toBool = to === 9;
  if (!toInt && !toBool && !FLOAT_TYPES.has(to)) fail(`${ctx.where}: cast to data type ${to} is not supported`);
  const same = (s: readonly number[]): number[] => s.slice();
  const keeps = ctx.isInt(ctx.node.input[0]) ? toInt : !toInt && !toBool;
  return {
    intOutput: toInt || toBool,
    run: ([x]) => {
      if (keeps) return [x!.reshape(x!.shape)];
      const out = new Float32Array(x!.size), xd = x!.data;
      for (let i = 0; i < out.length; i++) out[i] = toBool ? (xd[i] !== 0 ? 1 : 0) : Math.trunc(xd[i]);
      return [Tensor.wrap(out, x!.shape)];
    },
    ...(keeps ? { lowered: { op: { kind: 'view', shape: same } } } : {}),
  };
};

/** Unsqueeze/Squeeze axes: an attribute before opset 13, a constant input from 13. */
function axesArg(ctx: CompileContext, a: Attrs, required: boolean): { axes: number[] | null; staticInputs: number[] } {
  if (ctx.opset < 13) {
    arity(ctx, 1, 1);
    const v = a.ints('axes');
    if (!v && required) fail(`${ctx.where} has no 'axes' attribute`);
    return { axes: v ?? null, staticInputs: [] };
  }
  arity(ctx, required ? 2 : 1, 2);
  const name = ctx.node.input[1];
  if (!name) return { axes: null, staticInputs: [] };
  const c = ctx.constant(name);
  if (!c || c.kind !== 'int' || c.dims.length > 1) fail(`${ctx.where}: the axes input must be a constant 1-D INT64 tensor`);
  return { axes: c.data.slice(), staticInputs: [1] };
}

const compileUnsqueeze: Compiler = (ctx) => {
  const a = new Attrs(ctx.where, ctx.node.attribute, ctx.opset < 13 ? ['axes'] : []);
  const { axes, staticInputs } = axesArg(ctx, a, true);
  const dimsFor = (s: readonly number[]): number[] => {
    const r = s.length + axes!.length;
    const at = axes!.map((ax) => normAxis(ctx.where, ax, r));
    if (new Set(at).size !== at.length) throw new RangeError(`${ctx.where}: axes [${axes!.join(',')}] repeat an axis`);
    const out: number[] = [];
    for (let i = 0, j = 0; i < r; i++) out.push(at.includes(i) ? 1 : s[j++]);
    return out;
  };
  return {
    staticInputs, intOutput: ctx.isInt(ctx.node.input[0]),
    run: ([x]) => [x!.reshape(dimsFor(x!.shape))],
    lowered: { op: { kind: 'view', shape: dimsFor }, inputs: [ctx.node.input[0]] },
  };
};

const compileSqueeze: Compiler = (ctx) => {
  const a = new Attrs(ctx.where, ctx.node.attribute, ctx.opset < 13 ? ['axes'] : []);
  const { axes, staticInputs } = axesArg(ctx, a, false);
  const dimsFor = (s: readonly number[]): number[] => {
    const at = axes ? axes.map((ax) => normAxis(ctx.where, ax, s.length)) : s.flatMap((d, i) => (d === 1 ? [i] : []));
    for (const i of at) if (s[i] !== 1) throw new RangeError(`${ctx.where}: axis ${i} of ${shapeStr(s)} is not 1`);
    return s.filter((_, i) => !at.includes(i));
  };
  return {
    staticInputs, intOutput: ctx.isInt(ctx.node.input[0]),
    run: ([x]) => [x!.reshape(dimsFor(x!.shape))],
    lowered: { op: { kind: 'view', shape: dimsFor }, inputs: [ctx.node.input[0]] },
  };
};

const compileTranspose: Compiler = (ctx) => {
  const a = new Attrs(ctx.where, ctx.node.attribute, ['perm']);
  arity(ctx, 1, 1);
  const perm = a.ints('perm') ?? null;
  return {
    intOutput: ctx.isInt(ctx.node.input[0]),
    run: ([x]) => {
      const s = x!.shape, r = s.length;
      const p = perm ?? Array.from({ length: r }, (_, i) => r - 1 - i);
      if (p.length !== r || new Set(p).size !== r || p.some((v) => !(v >= 0 && v < r))) {
        throw new RangeError(`${ctx.where}: perm [${p.join(',')}] is not a permutation of the ${r} axes`);
      }
      const os = p.map((v) => s[v]);
      const xs = new Array<number>(r);
      for (let i = r - 1, m = 1; i >= 0; i--) { xs[i] = m; m *= s[i]; }
      assertNotCapturing('ONNX Transpose (computed on the JS thread)');
      const out = new Float32Array(x!.size), xd = x!.data, idx = new Array<number>(r).fill(0);
      let at = 0;
      for (let o = 0; o < out.length; o++) {
        out[o] = xd[at];
        for (let d = r - 1; d >= 0; d--) {
          idx[d]++; at += xs[p[d]];
          if (idx[d] < os[d]) break;
          at -= xs[p[d]] * os[d]; idx[d] = 0;
        }
      }
      return [Tensor.wrap(out, os)];
    },
    lowered: { op: { kind: 'transpose', perm } },
  };
};

/** ONNX Slice semantics per axis: start/end clamped to the axis, any non-zero step. */
function sliceRegion(where: string, s: readonly number[], starts: number[], ends: number[], axes: number[] | null,
  steps: number[] | null): SliceAxis[] {
  const r = s.length;
  const region: SliceAxis[] = s.map((d) => ({ start: 0, step: 1, count: d }));
  const ax = axes ?? starts.map((_, i) => i);
  if (ends.length !== starts.length || ax.length !== starts.length || (steps && steps.length !== starts.length)) {
    throw new RangeError(`${where}: starts, ends, axes and steps differ in length`);
  }
  const seen = new Set<number>();
  ax.forEach((a0, i) => {
    const a = normAxis(where, a0, r);
    if (seen.has(a)) throw new RangeError(`${where}: axis ${a0} is sliced twice`);
    seen.add(a);
    const d = s[a], step = steps ? steps[i] : 1;
    if (step === 0) throw new RangeError(`${where}: step 0 on axis ${a0}`);
    const norm = (v: number): number => (v < 0 ? v + d : v);
    let b = norm(starts[i]), e = norm(ends[i]);
    if (step > 0) { b = Math.min(Math.max(b, 0), d); e = Math.min(Math.max(e, 0), d); } else { b = Math.min(Math.max(b, -1), d - 1); e = Math.min(Math.max(e, -1), d - 1); }
    region[a] = { start: b, step, count: Math.max(0, Math.ceil((e - b) / step)) };
  });
  return region;
}

const compileSlice: Compiler = (ctx) => {
  const old = ctx.opset < 10;
  const a = new Attrs(ctx.where, ctx.node.attribute, old ? ['starts', 'ends', 'axes'] : []);
  arity(ctx, old ? 1 : 3, old ? 1 : 5);
  const attrStarts = old ? a.ints('starts') : undefined, attrEnds = old ? a.ints('ends') : undefined;
  if (old && (!attrStarts || !attrEnds)) fail(`${ctx.where} needs 'starts' and 'ends'`);
  for (const slot of [1, 2, 3, 4]) {
    const name = ctx.node.input[slot];
    if (!old && name && !ctx.isInt(name)) fail(`${ctx.where}: input ${slot} '${name}' must be an integer tensor`);
  }
  const regionOf = (s: readonly number[], args: readonly (Tensor | null)[]): SliceAxis[] => {
    if (old) return sliceRegion(ctx.where, s, attrStarts!, attrEnds!, a.ints('axes') ?? null, null);
    const opt = (slot: number, what: string): number[] | null => (ctx.node.input[slot] ? intsOf(ctx.where, what, args[slot]) : null);
    return sliceRegion(ctx.where, s, intsOf(ctx.where, 'starts', args[1]), intsOf(ctx.where, 'ends', args[2]), opt(3, 'axes'), opt(4, 'steps'));
  };
  return {
    intOutput: ctx.isInt(ctx.node.input[0]),
    run: (xs) => {
      const x = xs[0]!, s = x.shape, region = regionOf(s, xs);
      const os = region.map((q) => q.count), r = s.length;
      const st = new Array<number>(r);
      for (let i = r - 1, m = 1; i >= 0; i--) { st[i] = m; m *= s[i]; }
      const out = new Float32Array(prod(os)), xd = x.data, idx = new Array<number>(r).fill(0);
      for (let o = 0; o < out.length; o++) {
        let at = 0;
        for (let i = 0; i < r; i++) at += (region[i].start + idx[i] * region[i].step) * st[i];
        out[o] = xd[at];
        for (let d = r - 1; d >= 0; d--) { if (++idx[d] < os[d]) break; idx[d] = 0; }
      }
      return [Tensor.wrap(out, os)];
    },
    // Bounds computed from data, and negative steps, run exactly; the planned copy takes forward strides.
    lowered: { op: { kind: 'slice', region: (s, args) => {
      if ([1, 2, 3, 4].some((slot) => ctx.node.input[slot] && !args[slot]) && !old) return null;
      const region = regionOf(s, args);
      return region.some((q) => q.step < 0) ? null : region;
    } } },
  };
};

const compileClip: Compiler = (ctx) => {
  const a = new Attrs(ctx.where, ctx.node.attribute, ctx.opset < 11 ? ['min', 'max'] : []);
  let lo = -Infinity, hi = Infinity;
  if (ctx.opset < 11) {
    arity(ctx, 1, 1);
    lo = a.float('min', -Infinity);
    hi = a.float('max', Infinity);
  } else {
    arity(ctx, 1, 3);
  }
  // Constant bounds (or none) make Clip an activation the compiler can fuse (ReLU6).
  const bound = (slot: number, def: number): number | undefined => {
    if (ctx.opset < 11) return slot === 1 ? lo : hi;
    if (!ctx.node.input[slot]) return def;
    const c = floatConst(ctx, slot);
    return c && c.data.length === 1 ? c.data[0] : undefined;
  };
  const cmin = bound(1, -Infinity), cmax = bound(2, Infinity);
  const lowered: Compiled['lowered'] = cmin !== undefined && cmax !== undefined && cmin <= cmax
    ? { op: act('clip', cmin, cmax), inputs: [ctx.node.input[0]] } : undefined;
  const scalar = (t: Tensor | null, def: number, which: string): number => {
    if (!t) return def;
    if (t.size !== 1) throw new RangeError(`${ctx.where}: '${which}' must be a scalar, got shape ${shapeStr(t.shape)}`);
    return t.data[0];
  };
  return {
    lowered,
    run: ([x, mn, mx]) => {
      const l = scalar(mn ?? null, lo, 'min'), h = scalar(mx ?? null, hi, 'max');
      assertNotCapturing('ONNX Clip (computed on the JS thread)');
      const src = x!.data, out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i];
        out[i] = v < l ? l : v > h ? h : v;
      }
      return [Tensor.wrap(out, x!.shape)];
    },
  };
};

const compileConstant: Compiler = (ctx) => {
  const a = new Attrs(ctx.where, ctx.node.attribute, ['value', 'value_float', 'value_floats', 'value_int', 'value_ints']);
  arity(ctx, 0, 0);
  if (ctx.node.attribute.length !== 1) fail(`${ctx.where} must have exactly one value attribute, got ${ctx.node.attribute.length}`);
  let v: TensorData;
  if (a.has('value')) v = a.tensor('value')!;
  else if (a.has('value_float')) v = { kind: 'float', dims: [], data: Float32Array.of(a.float('value_float', 0)) };
  else if (a.has('value_floats')) { const f = a.floats('value_floats') ?? []; v = { kind: 'float', dims: [f.length], data: Float32Array.from(f) }; }
  else if (a.has('value_int')) v = { kind: 'int', dims: [], data: [a.int('value_int', 0)] };
  else { const i = a.ints('value_ints') ?? []; v = { kind: 'int', dims: [i.length], data: i }; }
  return { constantValue: v, run: () => { throw new Error(`${ctx.where}: internal: constants are folded at load`); } };
};

export const COMPILERS: Readonly<Record<string, Compiler>> = {
  Conv: compileConv,
  BatchNormalization: compileBatchNorm,
  Relu: unary((x) => ops.relu(x), [], 0, () => act('relu')),
  LeakyRelu: unary((x, alpha) => ops.leakyRelu(x, alpha), ['alpha'], 0.01, (alpha) => act('leakyRelu', alpha)),
  Sigmoid: unary((x) => ops.sigmoid(x), [], 0, () => act('sigmoid')),
  Tanh: unary((x) => ops.tanh(x), [], 0, () => act('tanh')),
  HardSigmoid: (ctx) => {
    const a = new Attrs(ctx.where, ctx.node.attribute, ['alpha', 'beta']);
    arity(ctx, 1, 1);
    const op = act('hardSigmoid', a.float('alpha', 0.2), a.float('beta', 0.5));
    const f = jsAct((op as { act: Act }).act);
    return { run: ([x]) => [f(x!)], lowered: { op } };
  },
  // Opset 20's Gelu; the tanh approximation is not one of the kernels' kinds.
  Gelu: (ctx) => {
    const a = new Attrs(ctx.where, ctx.node.attribute, ['approximate']);
    arity(ctx, 1, 1);
    const approximate = a.string('approximate', 'none');
    if (approximate !== 'none') throw new Error(`${ctx.where}: attribute approximate = '${approximate}' is not supported (only 'none')`);
    const op = act('gelu');
    const f = jsAct((op as { act: Act }).act);
    return { run: ([x]) => [f(x!)], lowered: { op } };
  },
  HardSwish: (ctx) => {
    new Attrs(ctx.where, ctx.node.attribute, []);
    arity(ctx, 1, 1);
    const op = act('hardSwish');
    const f = jsAct((op as { act: Act }).act);
    return { run: ([x]) => [f(x!)], lowered: { op } };
  },
  MaxPool: (ctx) => compilePool(ctx, true),
  AveragePool: (ctx) => compilePool(ctx, false),
  GlobalAveragePool: globalPool('avg'),
  GlobalMaxPool: globalPool('max'),
  Gemm: compileGemm,
  MatMul: (ctx) => {
    new Attrs(ctx.where, ctx.node.attribute, []);
    arity(ctx, 2, 2);
    // By a constant [K, N] matrix (a Linear layer applied along the last axis, as ConvNeXt's
    // channels-last MLP): a dense layer over the rows, on the weight transposed once.
    const w = floatConst(ctx, 1);
    let lowered: Compiled['lowered'];
    if (w && w.dims.length === 2) {
      const [K, N] = w.dims;
      const t = new Float32Array(K * N);
      for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) t[j * K + k] = w.data[k * N + j];
      const wName = `${ctx.node.input[1]}::transposed`;
      lowered = { op: { kind: 'dense', act: null, batched: true }, inputs: [ctx.node.input[0], wName], constants: [[wName, ctx.own(t, [N, K])]] };
    }
    return { lowered, run: ([x, y]) => [x!.rank === 2 && y!.rank === 2 ? ops.matmul(x!, y!) : matmulNd(x!, y!)] };
  },
  Flatten: (ctx) => {
    const a = new Attrs(ctx.where, ctx.node.attribute, ['axis']);
    arity(ctx, 1, 1);
    const axis = a.int('axis', 1);
    const flat = (s: readonly number[]): number[] => {
      const ax = normAxis(ctx.where, axis, s.length, true);
      return [prod(s.slice(0, ax)), prod(s.slice(ax))];
    };
    return { run: ([x]) => [x!.reshape(flat(x!.shape))], lowered: { op: { kind: 'view', shape: flat } } };
  },
  Reshape: compileReshape,
  Add: binary('add'),
  Sub: binary('sub'),
  Mul: binary('mul'),
  Div: binary('div'),
  Softmax: (ctx) => compileSoftmax(ctx, false),
  LogSoftmax: (ctx) => compileSoftmax(ctx, true),
  Hardmax: compileHardmax,
  Dropout: (ctx) => {
    new Attrs(ctx.where, ctx.node.attribute, ['ratio', 'is_test', 'seed']);
    arity(ctx, 1, 3, 2);
    const tm = ctx.node.input[2] ? ctx.constant(ctx.node.input[2]) : undefined;
    if (tm && tm.data.some((v) => v !== 0)) fail(`${ctx.where}: training_mode is true; only inference is supported`);
    const wantMask = ctx.node.output.length > 1 && ctx.node.output[1] !== '';
    return {
      ...(wantMask ? {} : { lowered: { op: { kind: 'view', shape: (s: readonly number[]) => s.slice() }, inputs: [ctx.node.input[0]] } }),
      staticInputs: [1, 2],
      run: ([x]) => (wantMask ? [x!.reshape(x!.shape), Tensor.wrap(new Float32Array(x!.size).fill(1), x!.shape)] : [x!.reshape(x!.shape)]),
    };
  },
  Identity: (ctx) => {
    new Attrs(ctx.where, ctx.node.attribute, []);
    arity(ctx, 1, 1);
    return { run: ([x]) => [x!.reshape(x!.shape)], lowered: { op: { kind: 'view', shape: (s) => s.slice() } } };
  },
  Clip: compileClip,
  Concat: (ctx) => {
    const a = new Attrs(ctx.where, ctx.node.attribute, ['axis']);
    if (!a.has('axis')) fail(`${ctx.where} has no 'axis' attribute`);
    const axis = a.int('axis', 1);
    arity(ctx, 1, Number.MAX_SAFE_INTEGER);
    if (ctx.node.input.some((i) => i === '')) fail(`${ctx.where} has an empty input name`);
    return {
      run: (xs) => {
        const ts = xs as Tensor[];
        return [ops.concat(ts, normAxis(ctx.where, axis, ts[0].rank))];
      },
      lowered: { op: { kind: 'concat', axis } },
    };
  },
  Constant: compileConstant,
  ReduceMean: compileReduceMean,
  Pad: compilePad,
  Shape: compileShape,
  Gather: compileGather,
  Cast: compileCast,
  Unsqueeze: compileUnsqueeze,
  Squeeze: compileSqueeze,
  Transpose: compileTranspose,
  Slice: compileSlice,
  Pow: compilePow,
  Sqrt: elementwise('Sqrt', Math.sqrt, 'sqrt'),
  Erf: elementwise('Erf', erfScalar, 'erf'),
  ConvTranspose: compileConvTranspose,
  InstanceNormalization: compileInstanceNorm,
  LayerNormalization: compileLayerNorm,
  LRN: compileLrn,
  ReduceMax: (ctx) => compileReduce(ctx, 'max'),
  ReduceMin: (ctx) => compileReduce(ctx, 'min'),
  ReduceSum: (ctx) => compileReduce(ctx, 'sum'),
  ReduceProd: (ctx) => compileReduce(ctx, 'prod'),
  ReduceL2: (ctx) => compileReduce(ctx, 'l2'),
  Max: variadic('Max', Math.max),
  Min: variadic('Min', Math.min),
  Sum: variadic('Sum', (x, y) => x + y),
  Mean: variadic('Mean', (x, y) => x + y, true),
  PRelu: compilePRelu,
  Abs: unaryJs([], () => Math.abs, true),
  Neg: unaryJs([], () => (v) => -v, true),
  Exp: unaryJs([], () => Math.exp),
  Log: unaryJs([], () => Math.log),
  Reciprocal: unaryJs([], () => (v) => 1 / v),
  Floor: unaryJs([], () => Math.floor),
  Ceil: unaryJs([], () => Math.ceil),
  Softplus: unaryJs([], () => softplus),
  Softsign: unaryJs([], () => (v) => v / (1 + Math.abs(v))),
  Elu: unaryJs(['alpha'], (a) => { const al = a.float('alpha', 1); return (v) => (v < 0 ? al * Math.expm1(v) : v); }),
  Selu: unaryJs(['alpha', 'gamma'], (a) => {
    const al = a.float('alpha', 1.67326319217681884765625), g = a.float('gamma', 1.05070102214813232421875);
    return (v) => (v <= 0 ? g * al * Math.expm1(v) : g * v);
  }),
  Split: compileSplit,
  Expand: compileExpand,
  Tile: compileTile,
  ConstantOfShape: compileConstantOfShape,
  Range: compileRange,
  Resize: (ctx) => compileResize(ctx, false),
  Upsample: (ctx) => compileResize(ctx, true),
};

/**
 * Inputs whose values (not only shapes) decide output shapes, by op: a graph input read there is
 * bound when the model runs, like an integer input (model.ts).
 */
export const VALUE_INPUTS: Readonly<Record<string, readonly number[]>> = { Range: [0, 1, 2], Resize: [1, 2, 3], Upsample: [1] };

/**
 * Inputs that must be known when a plan is made (constants, bound graph inputs, or values computed
 * from Shape and constants): output shapes depend on them, and a plan infers shapes before any data
 * exists. A file reading data-dependent values there is refused at load, naming the node.
 */
export const PLAN_TIME_INPUTS: Readonly<Record<string, readonly number[]>> = {
  ...VALUE_INPUTS, Expand: [1], Tile: [1], ConstantOfShape: [0], Split: [1], Reshape: [1], Slice: [1, 2, 3, 4],
};

/** Ops whose inputs may be integer tensors (the rest take float tensors only). */
export const INT_INPUT_OPS: ReadonlySet<string> = new Set(['Shape', 'Gather', 'Cast', 'Unsqueeze', 'Squeeze', 'Transpose', 'Slice',
  'Reshape', 'Concat', 'Identity', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Abs', 'Neg', 'Split', 'Expand', 'Tile',
  'ConstantOfShape', 'Range', 'Resize']);
