/**
 * Planning a graph for one set of input shapes: static shapes for every value, the residual add
 * fused into the convolution that feeds it, a per-layer algorithm choice with weights prepared once
 * (Winograd-transformed or panel-packed convolutions, packed dense layers; shared by every plan of
 * the model with the same spatial size), Concat done in place where its inputs are contiguous
 * slices of the output, and one arena for every intermediate, its buffers reused by liveness.
 *
 * The result is a list of steps, each a native kernel call on fixed slices of the arena. A plan
 * whose steps are all native is recorded once (the addon's capture) and replayed by one addon call
 * per run, on this thread or on a worker; nodes the compiler does not know run their exact kernels
 * on tensors wrapping the arena slices.
 */
import { Tensor, allocOutput, persist, captureState, assertNotCapturing, CaptureUnsupportedError } from '../tensor';
import { noGrad } from '../autograd/tape';
import { backend, getAddon } from '../backend/index';
import type { Backend, Conv2dGeom, CopyAxis, FusedActivation, PoolGeom, PreparedConv2d } from '../backend/types';
import { checkPoolWindow, outputSizeRaw } from '../ops/validate';
import { shapeStr } from '../errors';
import type { Act, AutoPad, Graph, GraphNode, SliceAxis } from './ir';
import { actFunction, cloneGraph, producers, readerCounts, resolvePads, runExact } from './ir';
import { fuseActivations } from './passes';

export interface PlanOptions {
  /** Prepared (packed / Winograd) kernels and fused epilogues; false: every node's exact kernel. */
  fast: boolean;
  winograd: boolean;
  /**
   * A plan made inside an open capture (a forwardAsync or Module.compile recording a forward that
   * contains this graph) for that one recording: its arena comes from the buffer pool, so the
   * recording traces and owns it, and its input and output copies are native calls the capture
   * records. It is never recorded as a plan of its own.
   */
  transient?: boolean;
  /** false: never recorded as one native plan (bench/profile.ts times the steps one by one). */
  record?: boolean;
}

interface PlanAddon {
  beginCapture(): void;
  abortCapture(): void;
  capturePlan(): unknown;
  planRun(plan: unknown): void;
  planRunAsync(plan: unknown): Promise<void>;
  planDispose(plan: unknown): void;
}

/** Prepared weights, owned by the model and shared by its plans (keyed by node and prepared form). */
export class PreparedCache {
  private readonly convs = new Map<string, { prepared: PreparedConv2d | null; holder: Tensor | null }>();
  private readonly dense = new Map<string, Tensor>();

  conv(key: string, make: () => PreparedConv2d | null): PreparedConv2d | null {
    let e = this.convs.get(key);
    if (!e) {
      const prepared = make();
      e = { prepared, holder: prepared ? persist(Tensor.wrap(prepared.data, [prepared.data.length])) : null };
      this.convs.set(key, e);
    }
    return e.prepared;
  }

  linear(key: string, make: () => Float32Array): Float32Array {
    let t = this.dense.get(key);
    if (!t) {
      const packed = make();
      t = persist(Tensor.wrap(packed, [packed.length]));
      this.dense.set(key, t);
    }
    return t.data;
  }

  dispose(): void {
    for (const e of this.convs.values()) e.holder?.dispose();
    for (const t of this.dense.values()) t.dispose();
    this.convs.clear();
    this.dense.clear();
  }
}

const prod = (a: readonly number[]): number => a.reduce((x, y) => x * y, 1);

function nodeError(n: GraphNode, e: unknown): Error {
  const inner = e instanceof Error ? e.message : String(e);
  // Errors thrown by the node's own checks already start with its label.
  const msg = inner.startsWith(`${n.label}: `) ? inner : `${n.label}: ${inner}`;
  return e instanceof RangeError ? new RangeError(msg) : e instanceof TypeError ? new TypeError(msg) : new Error(msg);
}

// ---- shapes ------------------------------------------------------------------------------------

interface Shaped {
  shapes: Map<string, number[]>;
  convGeom: Map<GraphNode, Conv2dGeom>;
  /**
   * Values known once the input shapes are (Shape and what is computed from it and constants:
   * PyTorch's exported shape arithmetic), computed while inferring and constants of this plan.
   */
  known: Map<string, Tensor>;
  /** The nodes that computed them (not planned). */
  folded: Set<GraphNode>;
}

function need4d(n: GraphNode, s: readonly number[], what = 'input'): void {
  if (s.length !== 4) throw new RangeError(`${n.label}: ${what} must be 4-D (NCHW), got shape ${shapeStr(s)}`);
}

function convGeomOf(n: GraphNode, x: readonly number[], w: readonly number[]): Conv2dGeom {
  if (n.op.kind !== 'conv') throw new Error('internal: not a conv');
  need4d(n, x);
  if (w.length !== 4) throw new RangeError(`${n.label}: weight must be 4-D [M, C/group, kH, kW], got ${shapeStr(w)}`);
  const [N, C, H, W] = x;
  const [outC, cg, kH, kW] = w;
  const { strides: s, dilations: d, groups } = n.op;
  if (cg * groups !== C) {
    throw new RangeError(`${n.label}: input has ${C} channels (shape ${shapeStr(x)}) but the weight ${shapeStr(w)} with group ${groups} expects ${cg * groups}`);
  }
  if (outC % groups !== 0) throw new RangeError(`${n.label}: group ${groups} must divide the ${outC} output channels`);
  const p = resolvePads(n.op.autoPad, n.op.pads, H, W, [kH, kW], s, d);
  const OH = outputSizeRaw(H, kH, s[0], p[0], p[2], d[0], false);
  const OW = outputSizeRaw(W, kW, s[1], p[1], p[3], d[1], false);
  if (OH < 1 || OW < 1 || N < 1 || H < 1 || W < 1) {
    throw new RangeError(`${n.label}: output would be empty for input ${shapeStr(x)} and weight ${shapeStr(w)}`);
  }
  return { N, C, H, W, outC, kH, kW, strideH: s[0], strideW: s[1], padTop: p[0], padLeft: p[1], padBottom: p[2],
    padRight: p[3], dilationH: d[0], dilationW: d[1], groups, OH, OW };
}

/** The pooling geometry when the native kernel can run it (symmetric padding within half the kernel). */
function poolGeomOf(n: GraphNode, x: readonly number[]): { g: PoolGeom | null; out: number[] } {
  if (n.op.kind !== 'pool') throw new Error('internal: not a pool');
  need4d(n, x);
  const { k, s, d, ceil } = n.op;
  const [N, C, H, W] = x;
  const p = resolvePads(n.op.autoPad, n.op.pads, H, W, k, s, d);
  checkPoolWindow(n.label, k, d, p);
  const OH = outputSizeRaw(H, k[0], s[0], p[0], p[2], d[0], ceil);
  const OW = outputSizeRaw(W, k[1], s[1], p[1], p[3], d[1], ceil);
  if (OH < 1 || OW < 1) throw new RangeError(`${n.label}: output would be empty for input ${shapeStr(x)} and kernel [${k.join(',')}]`);
  const native = p[0] === p[2] && p[1] === p[3] && 2 * p[0] <= k[0] && 2 * p[1] <= k[1] &&
    (n.op.mode === 'max' || (d[0] === 1 && d[1] === 1));
  const g: PoolGeom | null = native ? { N, C, H, W, kH: k[0], kW: k[1], strideH: s[0], strideW: s[1], padH: p[0], padW: p[1],
    dilationH: d[0], dilationW: d[1], ceilMode: ceil, OH, OW } : null;
  // The native kernel's output size rule (PyTorch's) is ONNX's for symmetric padding.
  if (g && (outputSizeRaw(H, k[0], s[0], p[0], p[0], d[0], ceil) !== OH || outputSizeRaw(W, k[1], s[1], p[1], p[1], d[1], ceil) !== OW)) {
    return { g: null, out: [N, C, OH, OW] };
  }
  return { g, out: [N, C, OH, OW] };
}

function broadcastShape(n: GraphNode, a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const pa = [...new Array<number>(r - a.length).fill(1), ...a], pb = [...new Array<number>(r - b.length).fill(1), ...b];
  return pa.map((d, i) => {
    if (d === pb[i] || pb[i] === 1) return d;
    if (d === 1) return pb[i];
    throw new RangeError(`${n.label}: shapes ${shapeStr(a)} and ${shapeStr(b)} cannot be broadcast`);
  });
}

/** keep[i] false for the axes a reduction removes (empty axes: all of them). */
function reducedAxes(n: GraphNode, axes: readonly number[], rank: number): boolean[] {
  const keep = new Array<boolean>(rank).fill(axes.length > 0);
  for (const a of axes) {
    if (a < -rank || a >= rank) throw new RangeError(`${n.label}: axis ${a} is out of range for rank ${rank}`);
    keep[a < 0 ? a + rank : a] = false;
  }
  return keep;
}

/**
 * Output shapes of a node the compiler knows; null for opaque nodes (found by running them).
 * `args` holds the inputs whose values are known now (constants and plan-time values).
 */
function inferNode(n: GraphNode, ins: (number[] | null)[], args: (Tensor | null)[], sh: Shaped): number[][] | null {
  const x = ins[0];
  const op = n.op;
  switch (op.kind) {
    case 'conv': {
      const g = convGeomOf(n, x!, ins[1]!);
      const b = ins[2];
      if (b && (b.length !== 1 || b[0] !== g.outC)) throw new RangeError(`${n.label}: bias ${shapeStr(b)} does not match ${g.outC} output channels`);
      sh.convGeom.set(n, g);
      return [[g.N, g.outC, g.OH, g.OW]];
    }
    case 'dense': {
      const w = ins[1]!;
      if (op.batched ? x!.length < 2 : x!.length !== 2) throw new RangeError(`${n.label}: A must be 2-D, got shape ${shapeStr(x!)}`);
      if (w[1] !== x![x!.length - 1]) throw new RangeError(`${n.label}: A ${shapeStr(x!)} does not match the weight ${shapeStr(w)} (inner dimensions differ)`);
      return [[...x!.slice(0, -1), w[0]]];
    }
    case 'batchNorm': {
      if (x!.length < 2) throw new RangeError(`${n.label}: input must be at least 2-D, got ${shapeStr(x!)}`);
      for (let i = 1; i < 5; i++) {
        const p = ins[i];
        if (!p || p.length !== 1 || p[0] !== x![1]) throw new RangeError(`${n.label}: input ${i} must have shape [${x![1]}], got ${p ? shapeStr(p) : 'none'}`);
      }
      return [x!.slice()];
    }
    case 'layerNorm':
      // Weight and bias along the last axis, as the backend's kernel takes them; otherwise the
      // node is opaque (its exact ops broadcast as the file says).
      if (x!.length < 1 || [ins[1], ins[2]].some((p) => p && (p.length !== 1 || p[0] !== x![x!.length - 1]))) return null;
      return [x!.slice()];
    case 'act':
      return [x!.slice()];
    case 'pool':
      return [poolGeomOf(n, x!).out];
    case 'adaptiveAvgPool': {
      need4d(n, x!);
      const [oh, ow] = [op.size[0] ?? x![2], op.size[1] ?? x![3]];
      return [[x![0], x![1], oh, ow]];
    }
    case 'globalPool':
      if (x!.length < 3) throw new RangeError(`${n.label}: input must be at least 3-D, got ${shapeStr(x!)}`);
      return [[x![0], x![1], ...x!.slice(2).map(() => 1)]];
    case 'reduceMean': {
      const keep = reducedAxes(n, op.axes, x!.length);
      return [op.keepDims ? x!.map((d, i) => (keep[i] ? d : 1)) : x!.filter((_, i) => keep[i])];
    }
    case 'pad': {
      const r = x!.length;
      if (op.pads.length !== 2 * r) throw new RangeError(`${n.label}: ${op.pads.length} pads for an input of rank ${r} (${shapeStr(x!)}), expected ${2 * r}`);
      return [x!.map((d, i) => {
        if (op.mode !== 'constant' && d === 0 && op.pads[i] + op.pads[i + r] > 0) {
          throw new RangeError(`${n.label}: ${op.mode} padding of an empty axis ${i} (${shapeStr(x!)})`);
        }
        if (op.mode === 'reflect' && (op.pads[i] >= d || op.pads[i + r] >= d) && op.pads[i] + op.pads[i + r] > 0) {
          throw new RangeError(`${n.label}: reflect pads [${op.pads.join(',')}] must be smaller than the axis (${shapeStr(x!)})`);
        }
        return d + op.pads[i] + op.pads[i + r];
      })];
    }
    case 'binary':
      return [broadcastShape(n, x!, ins[1]!)];
    case 'softmax': {
      const r = x!.length;
      if (op.axis < -r || op.axis >= r) throw new RangeError(`${n.label}: axis ${op.axis} is out of range for rank ${r}`);
      return [x!.slice()];
    }
    case 'view':
      return [op.shape(x!, args)];
    case 'transpose': {
      const perm = permOf(n, op.perm, x!.length);
      return [perm.map((p) => x![p])];
    }
    case 'slice': {
      const region = op.region(x!, args);
      return region ? [region.map((r) => r.count)] : null;
    }
    case 'shape':
      throw new Error('internal: Shape is evaluated, not inferred');
    case 'concat': {
      const r = x!.length;
      const axis = op.axis < 0 ? op.axis + r : op.axis;
      if (axis < 0 || axis >= r) throw new RangeError(`${n.label}: axis ${op.axis} is out of range for rank ${r}`);
      const out = x!.slice();
      out[axis] = 0;
      for (const [i, s] of ins.entries()) {
        if (!s || s.length !== r || s.some((d, j) => j !== axis && d !== x![j])) {
          throw new RangeError(`${n.label}: input ${i} has shape ${s ? shapeStr(s) : 'none'}, which differs from ${shapeStr(x!)} outside axis ${axis}`);
        }
        out[axis] += s[axis];
      }
      return [out];
    }
    case 'opaque':
      return null;
  }
}

/** A permutation of rank axes (null: reversed, ONNX's default). */
export function permOf(n: GraphNode, perm: readonly number[] | null, rank: number): number[] {
  if (perm === null) return Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const seen = new Set(perm);
  if (perm.length !== rank || seen.size !== rank || perm.some((p) => !(p >= 0 && p < rank))) {
    throw new RangeError(`${n.label}: perm [${perm.join(',')}] is not a permutation of the ${rank} axes`);
  }
  return perm.slice();
}

/** Plan-time values are small (shapes, indices); a larger one is computed by the plan instead. */
const KNOWN_MAX = 1 << 16;

function inferShapes(g: Graph, feeds: Map<string, readonly number[]>): Shaped {
  const sh: Shaped = { shapes: new Map(), convGeom: new Map(), known: new Map(), folded: new Set() };
  for (const [name, t] of g.constants) sh.shapes.set(name, t.shape.slice());
  for (const [name, s] of feeds) sh.shapes.set(name, s.slice());
  const valueOf = (name: string): Tensor | null => (name ? g.constants.get(name) ?? sh.known.get(name) ?? null : null);
  try {
    for (const n of g.nodes) {
      const ins = n.inputs.map((i) => (i ? sh.shapes.get(i) ?? null : null));
      const args = n.inputs.map(valueOf);
      let outs: number[][] | null;
      try {
        const vals = foldAtPlanTime(n, ins, args, sh);
        outs = vals ? vals.map((t) => t.shape.slice()) : inferNode(n, ins, args, sh);
        if (vals) {
          sh.folded.add(n);
          n.outputs.forEach((o, i) => { if (o && vals[i]) sh.known.set(o, vals[i]); });
        }
        if (!outs) outs = runForShapes(n, ins, args);
      } catch (e) {
        throw nodeError(n, e);
      }
      n.outputs.forEach((o, i) => { if (o && outs![i]) sh.shapes.set(o, outs![i]); });
    }
  } catch (e) {
    for (const t of sh.known.values()) t.dispose();
    throw e;
  }
  return sh;
}

/**
 * A Shape node's value, or the outputs of a node whose inputs are all known now with at least one
 * plan-time value among them (the rest were folded at load); null when the node is planned.
 * The values are persistent: the plan owns them.
 */
function foldAtPlanTime(n: GraphNode, ins: (number[] | null)[], args: (Tensor | null)[], sh: Shaped): Tensor[] | null {
  if (n.op.kind === 'shape') {
    const s = ins[0]!;
    const r = s.length;
    const clampAxis = (a: number): number => Math.min(r, Math.max(0, a < 0 ? a + r : a));
    const dims = s.slice(clampAxis(n.op.start), n.op.end === null ? r : clampAxis(n.op.end));
    return [persist(Tensor.wrap(Float32Array.from(dims), [dims.length]))];
  }
  const planTime = n.inputs.some((name) => name && sh.known.has(name));
  if (!planTime || n.inputs.some((name, i) => name && !args[i])) return null;
  if (n.inputs.some((name, i) => name && args[i]!.size > KNOWN_MAX)) return null;
  const outs = runExact(n, args);
  return outs.map((t) => {
    const own = persist(Tensor.wrap(t.data.slice(), t.shape));
    if (!t.persistent && !args.includes(t)) t.dispose();
    return own;
  });
}

/** An opaque node's output shapes: its exact kernel run once on zeros (known values as they are). */
function runForShapes(n: GraphNode, ins: (number[] | null)[], known: (Tensor | null)[]): number[][] {
  return noGrad(() => {
    const made: Tensor[] = [];
    const args = n.inputs.map((name, i) => {
      if (!name) return null;
      const c = known[i];
      if (c) return c;
      const t = Tensor.wrap(new Float32Array(prod(ins[i]!)), ins[i]!);
      made.push(t);
      return t;
    });
    try {
      const outs = runExact(n, args);
      const shapes = outs.map((t) => (t ? t.shape.slice() : []));
      for (const t of outs) if (t && !t.persistent && !made.includes(t)) t.dispose();
      return shapes;
    } finally {
      for (const t of made) t.dispose();
    }
  });
}

// ---- the plan ------------------------------------------------------------------------------------

/** Where a value's data lives: a buffer of the arena, a constant, or (views) another value's. */
interface Slot {
  /** The buffer (root) this value's data is in; values sharing a root share storage. */
  root: Buffer;
  /** Offset in floats within the root buffer. */
  offset: number;
  /** Floats (per image when `images` is set). */
  size: number;
  /** Set for a concat input written per image: image i's `size` floats at offset + i * imageStride. */
  images?: number;
  imageStride?: number;
}

interface Buffer {
  size: number;
  first: number;
  last: number;
  /** Arena offset (floats), assigned by allocate(). */
  at: number;
  /** Constants are not in the arena. */
  constant: Float32Array | null;
}

type Step = () => void;

/** A fused act as the kernels take it (every act kind runs in the convolution and dense epilogues). */
function epilogue(act: Act | null): FusedActivation {
  if (act === null) return 'none';
  if (act.kind === 'relu') return 'relu';
  return { kind: act.kind, alpha: act.alpha, beta: act.beta };
}

/** act in place (or from x into out) over n elements: every act kind is a backend unary kind. */
function actStep(be: Backend, act: Act, x: Float32Array, out: Float32Array): Step {
  return () => be.unary(act.kind, x, act.alpha, out, act.beta);
}

/** An executable plan for one set of input shapes. */
export class ExecPlan {
  readonly inputShapes: Map<string, readonly number[]>;
  readonly outputShapes: Map<string, readonly number[]>;
  /** Steps that are native calls only (the plan is replayed by one addon call). */
  readonly captured: boolean;
  /** For tests and diagnostics: what each node became. */
  readonly summary: { node: string; algo: string }[];
  /** Bytes of the arena, and of the intermediates it holds were each given its own buffer. */
  readonly arenaBytes: number;
  readonly bufferBytes: number;
  /**
   * The constants the steps read when the plan runs. The others (weights only read to make their
   * prepared copies) may be dropped once every plan that needs them is made.
   */
  readonly runConstants: ReadonlySet<string>;
  private readonly arena: Tensor;
  /** Values computed from the input shapes (constants of this plan). */
  private readonly known: Tensor[];
  private readonly steps: Step[];
  /** For each step, the index in summary of the node it computes. */
  private readonly stepNodes: number[];
  private readonly inputViews: Map<string, Float32Array>;
  private readonly outputViews: Map<string, Float32Array>;
  private handle: unknown = null;
  private disposedFlag = false;
  /** Set while a run (sync or on a worker) uses the arena. */
  busy = false;

  constructor(g0: Graph, feeds: Map<string, readonly number[]>, opts: PlanOptions, cache: PreparedCache) {
    const g = cloneGraph(g0);
    const sh = inferShapes(g, feeds);
    // Plan-time values are this plan's constants; the nodes that computed them are gone.
    this.known = [...sh.known.values()];
    for (const [name, t] of sh.known) g.constants.set(name, t);
    g.nodes = g.nodes.filter((n) => !sh.folded.has(n));
    const be = backend();
    this.inputShapes = new Map([...feeds].map(([k, v]) => [k, Object.freeze(v.slice())]));
    const summary: { node: string; algo: string }[] = [];

    // Algorithm choice for convolutions (shape dependent), then residual adds fused into the
    // convolutions whose kernel has a residual epilogue, then activations after them.
    const prepared = new Map<GraphNode, PreparedConv2d>();
    if (opts.fast) {
      const preparable = (n: GraphNode): boolean =>
        n.op.kind === 'conv' && g.constants.has(n.inputs[1]) && !!be.prepareConv2d && !!be.conv2dPrepared && n.op.pack !== false;
      const optsOf = (n: GraphNode, residual: boolean) => ({ winograd: opts.winograd && n.op.kind === 'conv' && n.op.winograd !== false, residual });
      const formOf = (n: GraphNode, o: { winograd: boolean; residual: boolean }): string | null =>
        be.preparedConv2dForm ? be.preparedConv2dForm(sh.convGeom.get(n)!, o) : `${sh.convGeom.get(n)!.H}x${sh.convGeom.get(n)!.W}|${o.winograd}`;
      // The addend each residual add will fuse into (fuseResidualAdds takes the first in the same
      // order that is prepared) is prepared for a residual; the other addend is chosen on its own
      // (a ResNet downsample is then free to take the plain 1x1 GEMM).
      const withResidual = new Set<GraphNode>();
      for (const cands of residualAddends(g, sh)) {
        const c = cands.find((n) => preparable(n) && formOf(n, optsOf(n, true)) !== null);
        if (c) withResidual.add(c);
      }
      for (const n of g.nodes) {
        if (n.op.kind !== 'conv' || !preparable(n)) continue;
        const geom = sh.convGeom.get(n)!;
        const w = g.constants.get(n.inputs[1])!;
        const o = optsOf(n, withResidual.has(n));
        // Keyed by the prepared form, not the input size: plans for other sizes share the copy.
        const form = formOf(n, o);
        if (form === null) continue;
        const key = `${n.label}|${n.inputs[1]}|${be.name}|${form}`;
        const p = cache.conv(key, () => be.prepareConv2d!(w.data, geom, o));
        if (p) prepared.set(n, p);
      }
      fuseResidualAdds(g, sh, prepared);
      fuseActivations(g);
    }
    const readers = readerCounts(g);
    const prod0 = producers(g);

    // Slots: constants, inputs, node outputs; views and in-place concat inputs share their root.
    const slots = new Map<string, Slot>();
    const buffers: Buffer[] = [];
    const newBuffer = (size: number, at: number, constant: Float32Array | null = null): Buffer => {
      const b: Buffer = { size, first: at, last: at, at: -1, constant };
      if (!constant) buffers.push(b);
      return b;
    };
    for (const [name, t] of g.constants) slots.set(name, { root: newBuffer(t.size, 0, t.data), offset: 0, size: t.size });
    for (const [name, s] of feeds) slots.set(name, { root: newBuffer(prod(s), -1), offset: 0, size: prod(s) });
    const shapeOf = (name: string): number[] => sh.shapes.get(name)!;

    // In-place concat: an input produced by a kernel step and read only by the concat is written
    // straight into its slice of the output. With nothing before the axis > 1 the slices are
    // contiguous; a batch > 1 along the channel axis of NCHW makes each a slice per image, which a
    // convolution fills with one call per image when its output outweighs its weights (each call
    // streams them again): SqueezeNet's expand layers at batch 8 1.06-1.10x; GoogLeNet's and
    // Inception's branches, whose weights are as large as an image's output, ran 0.91-0.93x that
    // way and are copied. The other inputs are copied in (buildSteps).
    const inPlace = new Map<string, { concat: GraphNode; offset: number; images: number; imageStride: number }>();
    for (const n of g.nodes) {
      if (n.op.kind !== 'concat' || !opts.fast) continue;
      const s0 = shapeOf(n.inputs[0]);
      const axis = n.op.axis < 0 ? n.op.axis + s0.length : n.op.axis;
      const images = prod(s0.slice(0, axis)), imageStride = prod(shapeOf(n.outputs[0]).slice(axis));
      if (images !== 1 && !(axis === 1 && s0.length === 4)) continue;
      let off = 0;
      for (const i of n.inputs) {
        const p = prod0.get(i);
        const perImage = (c: GraphNode): boolean => {
          const cg = sh.convGeom.get(c);
          return !!cg && cg.outC * cg.OH * cg.OW >= 4 * cg.outC * (cg.C / cg.groups) * cg.kH * cg.kW;
        };
        const own = p !== undefined && readers.get(i) === 1 && p.op.kind !== 'view' && p.op.kind !== 'opaque' &&
          p.op.kind !== 'concat' && !g.outputs.includes(i) && (images === 1 || (p.op.kind === 'conv' && perImage(p)));
        if (own) inPlace.set(i, { concat: n, offset: off, images, imageStride });
        off += prod(shapeOf(i).slice(axis));
      }
    }

    const stepsOf: (() => Step)[] = [];
    g.nodes.forEach((n, at) => {
      const use = (name: string): void => {
        const s = slots.get(name);
        if (s) s.root.last = Math.max(s.root.last, at);
      };
      for (const i of n.inputs) if (i) use(i);
      for (const [j, o] of n.outputs.entries()) {
        if (!o) continue;
        const size = prod(shapeOf(o));
        if (n.op.kind === 'view' && j === 0) {
          const src = slots.get(n.inputs[0])!;
          slots.set(o, { root: src.root, offset: src.offset, size });
        } else if (inPlace.has(o)) {
          // The concat's own slot is made here, at its first producer, and found again below.
          const { concat, offset, images, imageStride } = inPlace.get(o)!;
          let whole = slots.get(concat.outputs[0]);
          if (!whole) {
            const total = prod(shapeOf(concat.outputs[0]));
            whole = { root: newBuffer(total, at), offset: 0, size: total };
            slots.set(concat.outputs[0], whole);
          }
          // Per image (images > 1): `size` floats at offset + i * imageStride (imageViews).
          slots.set(o, images === 1 ? { root: whole.root, offset, size } : { root: whole.root, offset, size: size / images, images, imageStride });
        } else if (!(n.op.kind === 'concat' && slots.has(o))) {
          slots.set(o, { root: newBuffer(size, at), offset: 0, size });
        }
      }
    });
    for (const o of g.outputs) { const s = slots.get(o); if (s) s.root.last = g.nodes.length; }
    const arenaSize = allocate(buffers);
    this.arenaBytes = 4 * Math.max(arenaSize, 1);
    this.bufferBytes = 4 * buffers.reduce((a, b) => a + b.size, 0);
    const arenaData = opts.transient ? allocOutput(Math.max(arenaSize, 1)) : new Float32Array(Math.max(arenaSize, 1));
    this.arena = persist(Tensor.wrap(arenaData, [arenaData.length]));
    const A = this.arena.data;
    const runConstants = new Set<string>();
    const view = (name: string): Float32Array => {
      const s = slots.get(name);
      if (!s) throw new Error(`internal: value '${name}' has no slot`);
      if (s.images) throw new Error(`internal: value '${name}' is laid out per image (imageViews)`);
      if (s.root.constant) runConstants.add(name);
      const base = s.root.constant ?? A.subarray(s.root.at, s.root.at + s.root.size);
      return base.subarray(s.offset, s.offset + s.size);
    };
    // A value written per image into a concat's slices: one view per image; null for any other.
    const imageViews = (name: string): Float32Array[] | null => {
      const s = slots.get(name);
      if (!s?.images) return null;
      const base = A.subarray(s.root.at, s.root.at + s.root.size);
      return Array.from({ length: s.images }, (_, i) => base.subarray(s.offset + i * s.imageStride!, s.offset + i * s.imageStride! + s.size));
    };
    this.inputViews = new Map([...feeds.keys()].map((k) => [k, view(k)]));
    this.outputViews = new Map(g.outputs.map((o) => [o, view(o)]));
    this.outputShapes = new Map(g.outputs.map((o) => [o, Object.freeze(shapeOf(o).slice())]));

    const stepNodes: number[] = [];
    for (const n of g.nodes) {
      const algo = buildSteps(n, g, sh, be, view, imageViews, prepared, cache, inPlace, stepsOf, opts);
      summary.push({ node: n.label, algo });
      while (stepNodes.length < stepsOf.length) stepNodes.push(summary.length - 1);
    }
    this.steps = stepsOf.map((f) => f());
    this.stepNodes = stepNodes;
    this.runConstants = runConstants;
    this.summary = summary;
    this.captured = this.capture(opts);
    // The steps' closures keep this constructor's scope alive (through view and buildSteps' own
    // scope): empty what they need no longer, so a constant only read to make a prepared copy can
    // be freed by its owner (the steps hold the arrays they read themselves).
    slots.clear();
    g.constants.clear();
    g.nodes = [];
    prepared.clear();
  }

  get disposed(): boolean {
    return this.disposedFlag;
  }

  /**
   * Copies the inputs in, runs the steps (or the recorded plan), copies the outputs out. Inside an
   * open capture (a transient plan) every step, the copies included, is recorded instead.
   */
  run(inputs: Map<string, Tensor>): Record<string, Tensor> {
    if (captureState.active) return this.record(inputs);
    this.load(inputs);
    if (this.handle) (getAddon() as unknown as PlanAddon).planRun(this.handle);
    else for (const s of this.steps) s();
    return this.results();
  }

  private record(inputs: Map<string, Tensor>): Record<string, Tensor> {
    if (this.handle) throw new Error('internal: a recorded plan run inside a capture');
    const be = backend();
    for (const [name, v] of this.inputViews) be.copyStrided(inputs.get(name)!.data, v, v.length, []);
    for (const s of this.steps) s();
    const out: Record<string, Tensor> = {};
    for (const [name, v] of this.outputViews) {
      const a = allocOutput(v.length);
      be.copyStrided(v, a, v.length, []);
      out[name] = Tensor.wrap(a, this.outputShapes.get(name)!);
    }
    return out;
  }

  /** run() on a worker thread; only for captured plans. The caller keeps the plan busy meanwhile. */
  async runAsync(inputs: Map<string, Tensor>): Promise<Record<string, Tensor>> {
    if (!this.handle) throw new Error('internal: runAsync on a plan that is not recorded');
    this.load(inputs);
    await (getAddon() as unknown as PlanAddon).planRunAsync(this.handle);
    return this.results();
  }

  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    if (this.handle) (getAddon() as unknown as PlanAddon).planDispose(this.handle);
    this.handle = null;
    this.arena.dispose();
    for (const t of this.known) t.dispose();
  }

  private load(inputs: Map<string, Tensor>): void {
    for (const [name, v] of this.inputViews) v.set(inputs.get(name)!.data);
  }

  private results(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, v] of this.outputViews) {
      const a = allocOutput(v.length);
      a.set(v);
      out[name] = Tensor.wrap(a, this.outputShapes.get(name)!);
    }
    return out;
  }

  /**
   * For bench/profile.ts (a plan made with record: false): loads the inputs, runs the steps one by
   * one and returns each node's seconds (summed over its steps) by the clock given.
   */
  timeSteps(inputs: Map<string, Tensor>, clock: () => number): number[] {
    if (this.handle) throw new Error('internal: timeSteps on a recorded plan (make it with record: false)');
    this.load(inputs);
    const t = new Array<number>(this.summary.length).fill(0);
    this.steps.forEach((s, i) => {
      const t0 = clock();
      s();
      t[this.stepNodes[i]] += clock() - t0;
    });
    return t;
  }

  /** Records the steps as one native plan; false when a step needs the JS thread. */
  private capture(opts: PlanOptions): boolean {
    if (backend().name !== 'native' || captureState.active || opts.record === false) return false;
    const addon = getAddon() as unknown as PlanAddon;
    addon.beginCapture();
    captureState.active = true;
    try {
      for (const s of this.steps) s();
    } catch (e) {
      addon.abortCapture();
      captureState.active = false;
      if (e instanceof CaptureUnsupportedError) return false;
      throw e;
    }
    captureState.active = false;
    this.handle = addon.capturePlan();
    return true;
  }
}

/**
 * Per Add of two same-shaped values, the convolutions among its inputs that only it reads, in the
 * order fuseResidualAdds tries them.
 */
function residualAddends(g: Graph, sh: Shaped): GraphNode[][] {
  const readers = readerCounts(g);
  const prod0 = producers(g);
  const out: GraphNode[][] = [];
  for (const n of g.nodes) {
    if (n.op.kind !== 'binary' || n.op.op !== 'add' || n.inputs[0] === n.inputs[1]) continue;
    const sa = sh.shapes.get(n.inputs[0]), sb = sh.shapes.get(n.inputs[1]);
    if (!sa || !sb || sa.join() !== sb.join()) continue;
    const cands: GraphNode[] = [];
    for (const x of n.inputs) {
      const c = prod0.get(x);
      if (c && c.op.kind === 'conv' && c.op.act === null && c.op.residual < 0 && readers.get(x) === 1 && !cands.includes(c)) cands.push(c);
    }
    if (cands.length) out.push(cands);
  }
  return out;
}

/**
 * Add(a, b) where a is the output of a convolution with a residual epilogue, read by nothing else:
 * the convolution computes act(conv + bias + b) instead, at the Add's place in the order (b may be
 * computed after the convolution's original position).
 */
function fuseResidualAdds(g: Graph, sh: Shaped, prepared: Map<GraphNode, PreparedConv2d>): void {
  const readers = readerCounts(g);
  const prod0 = producers(g);
  const atAdd = new Map<GraphNode, GraphNode>();
  const moved = new Set<GraphNode>();
  for (const n of g.nodes) {
    if (n.op.kind !== 'binary' || n.op.op !== 'add' || n.inputs[0] === n.inputs[1]) continue;
    const [a, b] = n.inputs;
    const sa = sh.shapes.get(a), sb = sh.shapes.get(b);
    if (!sa || !sb || sa.length !== sb.length || sa.some((d, i) => d !== sb[i])) continue;
    for (const [x, other] of [[a, b], [b, a]]) {
      const c = prod0.get(x);
      if (!c || c.op.kind !== 'conv' || c.op.act !== null || c.op.residual >= 0 || !prepared.has(c) ||
        readers.get(x) !== 1 || moved.has(c)) continue;
      c.op.residual = 3;
      c.inputs = [c.inputs[0], c.inputs[1], c.inputs[2] ?? '', other];
      c.outputs = [n.outputs[0]];
      moved.add(c);
      atAdd.set(n, c);
      break;
    }
  }
  g.nodes = g.nodes.flatMap((n) => (moved.has(n) ? [] : [atAdd.get(n) ?? n]));
}

/** First-fit arena offsets: buffers whose lifetimes overlap never share floats. Returns the size. */
function allocate(buffers: Buffer[]): number {
  const ALIGN = 16;  // floats: 64-byte alignment for every buffer
  const order = buffers.slice().sort((x, y) => y.size - x.size || x.first - y.first);
  const placed: Buffer[] = [];
  let total = 0;
  for (const b of order) {
    const clash = placed.filter((p) => p.first <= b.last && b.first <= p.last).sort((x, y) => x.at - y.at);
    let at = 0;
    for (const p of clash) {
      if (at + b.size <= p.at) break;
      at = Math.max(at, Math.ceil((p.at + p.size) / ALIGN) * ALIGN);
    }
    b.at = at;
    placed.push(b);
    total = Math.max(total, at + b.size);
  }
  return total;
}

/**
 * [outer, block, inner] when `part` (aligned to the right) has the output's dims along one
 * contiguous block of axes and 1 elsewhere, and `full` is the output's shape; null otherwise.
 */
function broadcastBlock(full: readonly number[], part: readonly number[], out: readonly number[]): [number, number, number] | null {
  const r = full.length;
  if (part.length > r || r !== out.length || full.some((d, i) => d !== out[i])) return null;
  const p = [...new Array<number>(r - part.length).fill(1), ...part];
  if (p.some((d, i) => d !== 1 && d !== full[i])) return null;
  const along = p.flatMap((d, i) => (d !== 1 ? [i] : []));
  if (along.length === 0) return [1, 1, prod(full)];
  const k = along[0], l = along[along.length - 1];
  for (let i = k; i <= l; i++) if (p[i] !== full[i]) return null;
  return [prod(full.slice(0, k)), prod(full.slice(k, l + 1)), prod(full.slice(l + 1))];
}

/** Row-major strides of a shape. */
function stridesOf(s: readonly number[]): number[] {
  const st = new Array<number>(s.length);
  for (let i = s.length - 1, m = 1; i >= 0; i--) { st[i] = m; m *= s[i]; }
  return st;
}

/** At most this many grid axes per copy (the kernel's kCopyMaxRank). */
const COPY_MAX_RANK = 6;

/** Axes of size 1 dropped; null when more axes remain than the copy kernel takes. */
function gridOf(axes: CopyAxis[], len: number, offset = 0): { axes: CopyAxis[]; len: number; offset: number } | null {
  const kept = axes.filter((a) => a.count !== 1);
  return kept.length <= COPY_MAX_RANK ? { axes: kept, len, offset } : null;
}

/** A transpose as contiguous runs: the trailing axes it leaves in place are one run. */
function transposeGrid(s: readonly number[], perm: readonly number[]): { axes: CopyAxis[]; len: number } | null {
  let k = s.length;
  while (k > 0 && perm[k - 1] === k - 1) k--;
  const xs = stridesOf(s), os = stridesOf(perm.map((p) => s[p]));
  const axes = perm.slice(0, k).map((p, i) => ({ count: s[p], xStride: xs[p], outStride: os[i] }));
  return gridOf(axes, prod(s.slice(k)));
}

/** A slice as contiguous runs from an offset: the trailing whole axes, and a unit-step axis before them, are one run. */
function sliceGrid(s: readonly number[], region: readonly SliceAxis[]): { axes: CopyAxis[]; len: number; offset: number } | null {
  const r = s.length;
  const xs = stridesOf(s), os = stridesOf(region.map((a) => a.count));
  const offset = region.reduce((o, a, i) => o + a.start * xs[i], 0);
  let k = r;
  while (k > 0 && region[k - 1].step === 1 && region[k - 1].start === 0 && region[k - 1].count === s[k - 1]) k--;
  let len = prod(s.slice(k));
  if (k > 0 && region[k - 1].step === 1) { k--; len *= region[k].count; }
  const axes = region.slice(0, k).map((a, i) => ({ count: a.count, xStride: xs[i] * a.step, outStride: os[i] }));
  return gridOf(axes, len, offset);
}

/** Appends the steps of one node; returns the algorithm's name (plan summary). */
function buildSteps(n: GraphNode, g: Graph, sh: Shaped, be: Backend, view: (name: string) => Float32Array,
  imageViews: (name: string) => Float32Array[] | null,
  prepared: Map<GraphNode, PreparedConv2d>, cache: PreparedCache, inPlace: Map<string, unknown>,
  steps: (() => Step)[], opts: PlanOptions): string {
  const shapeOf = (name: string): number[] => sh.shapes.get(name)!;
  const op = n.op;
  const wrapErr = (s: Step): Step => () => {
    try { s(); } catch (e) { throw e instanceof CaptureUnsupportedError ? e : nodeError(n, e); }
  };
  const push = (f: () => Step): void => { steps.push(() => wrapErr(f())); };
  const perImage = n.op.kind === 'conv' && n.outputs[0] ? imageViews(n.outputs[0]) : null;
  const out = n.outputs[0] && !perImage ? view(n.outputs[0]) : null;
  switch (op.kind) {
    case 'conv': {
      const geom = sh.convGeom.get(n)!;
      const x = view(n.inputs[0]);
      const b = n.inputs[2] ? view(n.inputs[2]) : null;
      const res = op.residual >= 0 ? view(n.inputs[op.residual]) : null;
      const act = epilogue(op.act);
      const p = prepared.get(n);
      const w = p ? null : view(n.inputs[1]);
      // The weights are not read at run time when prepared (ExecPlan.runConstants): only their copy.
      const conv = (xi: Float32Array, ri: Float32Array | null, gi: Conv2dGeom, oi: Float32Array): void => {
        if (p) push(() => () => be.conv2dPrepared!(xi, p, b, ri, gi, oi, act));
        else push(() => () => be.conv2d(xi, w!, b, gi, oi, act));
      };
      if (perImage) {
        // Into a concat's per-image slices: one batch-1 call per image.
        const g1 = { ...geom, N: 1 }, inImg = geom.C * geom.H * geom.W, outImg = geom.outC * geom.OH * geom.OW;
        perImage.forEach((o, i) => conv(x.subarray(i * inImg, (i + 1) * inImg), res ? res.subarray(i * outImg, (i + 1) * outImg) : null, g1, o));
      } else {
        conv(x, res, geom, out!);
      }
      return `${p ? p.algo : geom.groups === geom.C && geom.groups > 1 ? 'depthwise' : 'direct'} ${geom.kH}x${geom.kW}/${geom.strideH}` +
        `${op.act ? ` +${op.act.kind}` : ''}${res ? ' +residual' : ''}${perImage ? ' per image' : ''}`;
    }
    case 'dense': {
      const x = view(n.inputs[0]);
      const b = n.inputs[2] ? view(n.inputs[2]) : null;
      const xs = shapeOf(n.inputs[0]);
      const N = prod(xs.slice(0, -1)), inF = xs[xs.length - 1];
      const outF = g.constants.get(n.inputs[1])!.shape[0];
      if (be.prepareLinear && be.linearPrepared && op.pack !== false && opts.fast) {
        const packed = cache.linear(`${n.inputs[1]}|${be.name}`, () => be.prepareLinear!(g.constants.get(n.inputs[1])!.data, inF, outF));
        const act = epilogue(op.act);
        push(() => () => be.linearPrepared!(x, packed, b, N, inF, outF, out!, act));
      } else {
        const w = view(n.inputs[1]);
        push(() => () => be.linear(x, w, b, N, inF, outF, out!));
        if (op.act) push(() => actStep(be, op.act!, out!, out!));
      }
      return `dense${op.act ? ` +${op.act.kind}` : ''}`;
    }
    case 'batchNorm': {
      const s = shapeOf(n.inputs[0]);
      const [N, C] = s;
      const HW = prod(s.slice(2));
      const [x, scale, bias, mean, variance] = n.inputs.map((i) => view(i));
      push(() => () => be.batchNorm2d(x, N, C, HW, mean, variance, scale, bias, op.eps, out!));
      return 'batchNorm';
    }
    case 'layerNorm': {
      const s = shapeOf(n.inputs[0]);
      const inner = s[s.length - 1];
      const along = (i: number): boolean => !n.inputs[i] || shapeOf(n.inputs[i]).join() === `${inner}`;
      if (!along(1) || !along(2)) break;  // opaque (see inferNode)
      const x = view(n.inputs[0]);
      const w = n.inputs[1] ? view(n.inputs[1]) : null, b = n.inputs[2] ? view(n.inputs[2]) : null;
      push(() => () => be.layerNorm(x, prod(s) / inner, inner, w, b, op.eps, out!));
      return 'layerNorm';
    }
    case 'act':
      push(() => actStep(be, op.act, view(n.inputs[0]), out!));
      return op.act.kind;
    case 'pool': {
      const { g: pg } = poolGeomOf(n, shapeOf(n.inputs[0]));
      if (!pg) break;
      const x = view(n.inputs[0]);
      push(() => () => be.pool2d(x, pg, op.mode, op.includePad, out!));
      return `${op.mode}Pool ${pg.kH}x${pg.kW}/${pg.strideH}`;
    }
    case 'adaptiveAvgPool': {
      // The sizes that are exactly a pooling run as one (as the nn layer does); others exactly.
      const [N, C, H, W] = shapeOf(n.inputs[0]);
      const [, , OH, OW] = shapeOf(n.outputs[0]);
      const x = view(n.inputs[0]);
      if (OH === 1 && OW === 1) {
        push(() => () => be.globalPool2d(x, N, C, H * W, 'avg', out!));
        return 'globalavgPool';
      }
      if (H % OH !== 0 || W % OW !== 0) break;
      const kH = H / OH, kW = W / OW;
      const pg: PoolGeom = { N, C, H, W, kH, kW, strideH: kH, strideW: kW, padH: 0, padW: 0, dilationH: 1, dilationW: 1,
        ceilMode: false, OH, OW };
      push(() => () => be.pool2d(x, pg, 'avg', true, out!));
      return `avgPool ${kH}x${kW}/${kH}`;
    }
    case 'globalPool': {
      const s = shapeOf(n.inputs[0]);
      const x = view(n.inputs[0]);
      push(() => () => be.globalPool2d(x, s[0], s[1], prod(s.slice(2)), op.mode, out!));
      return `global${op.mode}Pool`;
    }
    case 'reduceMean': {
      // The mean over trailing axes is a global average pool of [1, rows, cols]: every spatial axis
      // of NCHW (SE blocks, heads), or the channels of a channels-last tensor (ConvNeXt's LayerNorm).
      const s = shapeOf(n.inputs[0]);
      const keep = reducedAxes(n, op.axes, s.length);
      const k = keep.lastIndexOf(true) + 1;
      if (keep.slice(0, k).some((kept) => !kept) || k === s.length) break;
      const x = view(n.inputs[0]);
      push(() => () => be.globalPool2d(x, 1, prod(s.slice(0, k)), prod(s.slice(k)), 'avg', out!));
      return 'reduceMean as globalavgPool';
    }
    case 'binary': {
      const sa = shapeOf(n.inputs[0]), sb = shapeOf(n.inputs[1]);
      const a = view(n.inputs[0]), b = view(n.inputs[1]);
      const so = shapeOf(n.outputs[0]);
      if (sa.length === sb.length && sa.every((d, i) => d === sb[i])) {
        push(() => () => be.binary(op.op, a, b, 1, 1, a.length, 'same', out!));
        return op.op;
      }
      // One operand broadcast over the other, its elements along one contiguous block of axes:
      // per channel ([C, 1, 1], [1, C, 1, 1]), per sample and channel ([N, C, 1, 1]), per row of a
      // channels-last tensor ([N, H, W, 1]) or along its last axis ([C]), a scalar. The full
      // operand is then [outer, block, inner] and the other one value per block index.
      const commutes = op.op === 'add' || op.op === 'mul';
      for (const [full, sFull, part, sPart] of commutes ? [[a, sa, b, sb], [b, sb, a, sa]] as const : [[a, sa, b, sb]] as const) {
        const block = broadcastBlock(sFull, sPart, so);
        if (!block) continue;
        const [outer, C, inner] = block;
        push(() => () => be.binary(op.op, full, part, outer, C, inner, 'channel', out!));
        return `${op.op} broadcast`;
      }
      break;
    }
    case 'softmax': {
      const s = shapeOf(n.inputs[0]);
      const axis = op.axis < 0 ? op.axis + s.length : op.axis;
      const x = view(n.inputs[0]);
      const outer = prod(s.slice(0, axis));
      const [dim, inner] = op.legacy ? [prod(s.slice(axis)), 1] : [s[axis], prod(s.slice(axis + 1))];
      push(() => () => be.softmax(x, outer, dim, inner, op.log, out!));
      return op.log ? 'logSoftmax' : 'softmax';
    }
    case 'view':
      return 'view';
    case 'concat': {
      if (n.inputs.every((i) => inPlace.has(i))) return 'concat in place';
      // Each input that is not already in its slice is copied there: [outer, C_i * inner] blocks.
      const so = shapeOf(n.outputs[0]);
      const axis = op.axis < 0 ? op.axis + so.length : op.axis;
      const outer = prod(so.slice(0, axis)), rowLen = prod(so.slice(axis));
      let offset = 0;
      for (const i of n.inputs) {
        const len = prod(shapeOf(i).slice(axis));
        if (!inPlace.has(i)) {
          const x = view(i), at = offset;
          push(() => () => be.copyStrided(x, out!.subarray(at), len, [{ count: outer, xStride: len, outStride: rowLen }]));
        }
        offset += len;
      }
      const placed = n.inputs.filter((i) => inPlace.has(i)).length;
      return placed ? `concat, ${placed} of ${n.inputs.length} inputs in place` : 'concat by copy';
    }
    case 'transpose': {
      const s = shapeOf(n.inputs[0]);
      const grid = transposeGrid(s, permOf(n, op.perm, s.length));
      if (!grid) break;
      const x = view(n.inputs[0]);
      push(() => () => be.copyStrided(x, out!, grid.len, grid.axes));
      return 'transpose';
    }
    case 'slice': {
      const s = shapeOf(n.inputs[0]);
      const region = op.region(s, n.inputs.map((i) => (i ? g.constants.get(i) ?? null : null)));
      const grid = region && sliceGrid(s, region);
      if (!grid) break;
      const x = view(n.inputs[0]);
      if (prod(shapeOf(n.outputs[0])) > 0) push(() => () => be.copyStrided(x.subarray(grid.offset), out!, grid.len, grid.axes));
      return 'slice';
    }
    case 'shape':
    case 'pad':
    case 'opaque':
      break;
  }
  // The node's exact kernel on tensors over the arena slices; the results are copied in.
  const ins = n.inputs.map((i) => (i ? { v: view(i), s: shapeOf(i) } : null));
  const outs = n.outputs.map((o) => (o ? view(o) : null));
  push(() => () => {
    assertNotCapturing(`${n.label} (computed on the JS thread)`);
    noGrad(() => {
      const args = ins.map((a) => (a ? Tensor.wrap(a.v, a.s) : null));
      const res = runExact(n, args);
      res.forEach((t, i) => {
        const o = outs[i];
        if (o && t) {
          if (t.size !== o.length) throw new RangeError(`internal: output ${i} has ${t.size} elements, planned ${o.length}`);
          o.set(t.data);
        }
      });
      for (const t of res) if (t && !args.includes(t) && !t.persistent) t.dispose();
      for (const t of args) t?.dispose();
    });
  });
  return `exact (${n.op.kind})`;
}
