/**
 * loadOnnx: decodes a ModelProto, validates the whole graph (op types, arity and attributes,
 * names, initializer sizes, acyclicity) before anything runs, and lowers it into the graph
 * compiler (lib/graph): load-time passes once, then a plan per set of input shapes (cached), run
 * by one addon call where every step is native.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Tensor, persist, captureState } from '../../tensor';
import { describe, shapeStr } from '../../errors';
import { decodeModel, DataType, type DecodeContext, type Dim, type NodeProto, type TensorData, type ValueInfo } from './proto';
import { MemoryBudget, guardExact } from './limits';
import { ExternalData } from './external';
import { fail } from './protobuf';
import { COMPILERS, INT_INPUT_OPS, PLAN_TIME_INPUTS, VALUE_INPUTS } from './ops';

/** Ops whose output has their inputs' element type. */
const PASS_TYPE_OPS: ReadonlySet<string> = new Set(['Concat', 'Identity']);
const INT_LIMIT = 2 ** 31;
import type { Graph, GraphNode } from '../../graph/ir';
import { optimize } from '../../graph/passes';
import { ExecPlan, PreparedCache } from '../../graph/plan';

export interface LoadOnnxOptions {
  /**
   * Compile for speed (default true): batch norm folded, activations and residual adds fused into
   * convolution epilogues, prepared (packed / Winograd) kernels. Outputs stay within 1e-4 of the
   * exact ops relative to the output's largest magnitude. false: every node runs its exact op.
   */
  fuse?: boolean;
  /** Winograd for the 3x3 stride-1 convolutions where it wins (default true; needs fuse). */
  winograd?: boolean;
  /**
   * Memory budget in bytes (default: max(64 MiB, 4 x the file size, external data included)): the
   * tensors decoded at load must fit in it, and each plan's arena and op outputs in it plus 64 x
   * the bytes of the inputs fed. A file that asks for more is refused with an Error.
   */
  maxBytes?: number;
  /**
   * The directory external tensor data (TensorProto data_location EXTERNAL) is read from
   * (default: the model file's directory; loaded from bytes, external data is refused unless
   * baseDir is given). Locations that are absolute, contain '..' or resolve outside it are refused.
   */
  baseDir?: string;
}

export interface OnnxValueInfo {
  name: string;
  /** Dims as declared: a number, a symbolic name (e.g. 'batch'), or null; null when no shape is declared. */
  shape: Dim[] | null;
}

/** Oldest default-domain opset whose operator semantics we implement. */
const MIN_OPSET = 6;

/** Plans kept per model: one per input shape (a dynamic batch axis makes several). */
const MAX_PLANS = 8;

function nodeLabel(n: NodeProto, i: number): string {
  return n.name ? `node '${n.name}' (${n.opType})` : `node #${i} (${n.opType})`;
}

export class OnnxModel {
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly opset: number;
  /** @internal the graph after the load-time passes (tests, plan summaries) */
  readonly graph: Graph;
  private owned: Tensor[];
  private readonly prepared = new PreparedCache();
  /** Plans by input-shape key, most recently used last; several per key while runs overlap. */
  private readonly plans = new Map<string, ExecPlan[]>();
  private readonly fast: boolean;
  private readonly winograd: boolean;
  private _disposed = false;
  /**
   * Graph inputs whose values decide shapes (integer ones: a Reshape's shape, Gather's indices; and
   * float ones read as Resize's scales or Range's bounds): the model is lowered again for each set
   * of their values (`bound`: those inputs as initializers) and these specialisations are cached
   * (most recently used last, at most MAX_PLANS); null when there are none.
   */
  private readonly intInputs: ReadonlyMap<string, 'int' | 'float'> | null = null;
  private readonly specialized = new Map<string, OnnxModel>();
  private readonly source: { bytes: Uint8Array; opts: LoadOnnxOptions; ctx: DecodeContext } | null = null;
  private readonly budget: MemoryBudget;

  /** @internal use loadOnnx */
  constructor(bytes: Uint8Array, opts: LoadOnnxOptions = {}, bound?: ReadonlyMap<string, TensorData>, ctx: DecodeContext = decodeContext(bytes, opts, null)) {
    this.budget = ctx.budget;
    const m = decodeModel(bytes, ctx);
    const g = m.graph;
    if (!g) fail('the model has no graph');
    const def = m.opsetImport.filter((o) => o.domain === '' || o.domain === 'ai.onnx');
    if (def.length === 0) fail('the model has no opset_import for the default ONNX domain');
    const opset = def[0].version;
    if (!Number.isSafeInteger(opset) || opset < MIN_OPSET) fail(`default-domain opset ${opset} is not supported (need >= ${MIN_OPSET})`);
    this.opset = opset;
    if (g.sparseInitializers) fail('sparse initializers are not supported');

    // Unknown ops are reported together, before anything else about the nodes.
    // The message ends with the list (tools parse it); the first node of each type is named before it.
    const unknown = new Map<string, string>();
    g.node.forEach((n, i) => {
      const type = n.domain !== '' && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}`
        : Object.prototype.hasOwnProperty.call(COMPILERS, n.opType) ? null : n.opType;
      if (type !== null && !unknown.has(type)) unknown.set(type, n.name ? `node '${n.name}'` : `node #${i}`);
    });
    if (unknown.size) {
      const first = [...unknown].slice(0, 3).map(([t, where]) => `${where} (${t})`).join(', ');
      fail(`${first}${unknown.size > 3 ? ` and ${unknown.size - 3} more` : ''}: unsupported op type(s): ${[...unknown.keys()].join(', ')}`);
    }

    // Names: initializers, graph inputs, node outputs are defined exactly once.
    const consts = new Map<string, TensorData>();
    const defined = new Map<string, string>();
    const define = (name: string, by: string): void => {
      const prev = defined.get(name);
      if (prev !== undefined) fail(`value '${name}' is defined twice (by ${prev} and by ${by})`);
      defined.set(name, by);
    };
    for (const t of g.initializer) {
      if (!t.name) fail('an initializer has no name');
      define(t.name, `initializer '${t.name}'`);
      consts.set(t.name, t.value);
    }
    const realInputs: ValueInfo[] = [];
    const allInputs: ValueInfo[] = [];
    // Graph inputs bound per run (see intInputs): integer ones, and float ones read where a value
    // decides a shape (Resize's scales, Range's bounds).
    const intInputs = new Set<string>();
    const valueRead = new Set<string>();
    for (const n of g.node) for (const slot of VALUE_INPUTS[n.opType] ?? []) if (n.input[slot]) valueRead.add(n.input[slot]);
    const seenInputs = new Set<string>();
    for (const v of g.input) {
      if (!v.name) fail('a graph input has no name');
      if (seenInputs.has(v.name)) fail(`graph input '${v.name}' is listed twice`);
      seenInputs.add(v.name);
      if (consts.has(v.name)) { checkInitializerInput(v, consts.get(v.name)!); continue; } // IR < 4 lists initializers as inputs too
      const isInt = v.elemType === DataType.INT64 || v.elemType === DataType.INT32;
      if (v.elemType !== null && v.elemType !== DataType.FLOAT && !isInt) {
        fail(`graph input '${v.name}' has element type ${v.elemType}; only FLOAT, INT64 and INT32 inputs are supported`);
      }
      allInputs.push(v);
      if (isInt || valueRead.has(v.name)) {
        intInputs.add(v.name);
        const value = bound?.get(v.name);
        if (bound) {
          if (!value) throw new Error(`internal: integer input '${v.name}' is not bound`);
          consts.set(v.name, value);
        }
      }
      define(v.name, `graph input '${v.name}'`);
      if (!intInputs.has(v.name)) realInputs.push(v);
    }
    const producer = new Map<string, number>();
    g.node.forEach((n, i) => {
      for (const o of n.output) {
        if (o === '') continue;
        define(o, nodeLabel(n, i));
        producer.set(o, i);
      }
    });
    g.node.forEach((n, i) => {
      for (const inp of n.input) {
        if (inp !== '' && !defined.has(inp)) fail(`${nodeLabel(n, i)} reads '${inp}', which no node, initializer or graph input defines`);
      }
    });
    if (g.output.length === 0) fail('the graph has no output');
    for (const o of g.output) {
      if (!o.name) fail('a graph output has no name');
      if (!defined.has(o.name)) fail(`graph output '${o.name}' is not produced by any node, initializer or input`);
    }

    // Kahn's algorithm; what is left over lies on (or behind) a cycle.
    const indeg = new Array<number>(g.node.length).fill(0);
    const users: number[][] = g.node.map(() => []);
    g.node.forEach((n, i) => {
      for (const inp of n.input) {
        const p = producer.get(inp);
        if (p !== undefined) { indeg[i]++; users[p].push(i); }
      }
    });
    const order = indeg.flatMap((d, i) => (d === 0 ? [i] : []));
    for (let head = 0; head < order.length; head++) {
      for (const u of users[order[head]]) if (--indeg[u] === 0) order.push(u);
    }
    if (order.length !== g.node.length) {
      const stuck = g.node.flatMap((n, i) => (indeg[i] > 0 ? [nodeLabel(n, i)] : []));
      fail(`the graph has a cycle through ${stuck.slice(0, 5).join(', ')}${stuck.length > 5 ? ` and ${stuck.length - 5} more` : ''}`);
    }
    this.fast = opts.fuse ?? true;
    this.winograd = opts.winograd ?? true;
    // Integer inputs unbound: this model specialises per set of their values (see intInputs); the
    // lowering itself happens then, so an error that depends on the values surfaces from run.
    if (intInputs.size && !bound) {
      this.intInputs = new Map([...intInputs].map((name) => {
        const v = allInputs.find((i) => i.name === name)!;
        return [name, v.elemType === DataType.INT64 || v.elemType === DataType.INT32 ? 'int' : 'float'] as const;
      }));
      this.source = { bytes, opts, ctx };
      this.owned = [];
      this.graph = { nodes: [], inputs: allInputs.map((v) => v.name), outputs: g.output.map((o) => o.name), constants: new Map() };
      this.inputs = Object.freeze(allInputs.map((v) => Object.freeze({ name: v.name, shape: v.shape })));
      this.outputs = Object.freeze(g.output.map((v) => Object.freeze({ name: v.name, shape: v.shape })));
      return;
    }

    // Values known when a plan is made: constants (bound inputs among them), Shape's output, and
    // what nodes compute from those alone. Shape-deciding inputs must be such values.
    const planKnown = new Set<string>(consts.keys());
    for (const i of order) {
      const n = g.node[i];
      if (n.opType === 'Shape' || n.input.every((name) => name === '' || planKnown.has(name))) for (const o of n.output) if (o) planKnown.add(o);
    }
    const needPlanKnown = (n: NodeProto, label: string): void => {
      for (const slot of PLAN_TIME_INPUTS[n.opType] ?? []) {
        const name = n.input[slot];
        if (name && !planKnown.has(name)) {
          fail(`${label} input ${slot} '${name}' decides the output shape but is computed from tensor data; it must be a constant or computed from input shapes`);
        }
      }
    };

    // Lower the nodes in order; Constant nodes are folded into the constant table.
    this.owned = [];
    const own = (data: Float32Array, shape: readonly number[]): Tensor => {
      const t = persist(Tensor.wrap(data, shape));
      this.owned.push(t);
      return t;
    };
    const graph: Graph = {
      nodes: [], inputs: realInputs.map((v) => v.name), outputs: g.output.map((o) => o.name), constants: new Map(),
    };
    // Initializer tensors by decoded array: one wrap each may be rewritten in place by the passes
    // (an Identity-shared initializer is wrapped under two names: neither may).
    const wraps = new Map<Float32Array, Tensor[]>();
    const floatConst = (name: string): void => {
      const c = consts.get(name);
      if (c && c.kind === 'float' && !graph.constants.has(name)) {
        const t = own(c.data, c.dims);
        graph.constants.set(name, t);
        (wraps.get(c.data) ?? wraps.set(c.data, []).get(c.data)!).push(t);
      }
    };
    const overwritable = (t: Tensor): boolean => {
      const w = wraps.get(t.data);
      return w !== undefined && w.length === 1 && w[0] === t;
    };
    // Integer tensors (shapes, indices) travel through the graph as float32 values: exact for the
    // magnitudes shapes have; Slice's "to the end" sentinels (INT64_MAX) are clamped to +-2^31.
    const intValues = new Set<string>();
    const intConst = (name: string, c: TensorData & { kind: 'int' }): void => {
      if (graph.constants.has(name)) return;
      const v = Float32Array.from(c.data, (x) => Math.max(-INT_LIMIT, Math.min(INT_LIMIT, x)));
      graph.constants.set(name, own(v, c.dims));
    };
    try {
      for (const i of order) {
        const node = g.node[i];
        const label = nodeLabel(node, i);
        // PyTorch's exporter shares equal initializers through Identity nodes (VGG's zero conv
        // biases): an Identity of a constant is that constant, so the convolution reading it
        // still has constant weights and bias and is planned.
        const source = node.opType === 'Identity' && node.input.length === 1 ? consts.get(node.input[0]) : undefined;
        if (source && node.output.length === 1 && node.output[0]) { consts.set(node.output[0], source); continue; }
        const isInt = (name: string): boolean => intValues.has(name) || consts.get(name)?.kind === 'int';
        const compiled = COMPILERS[node.opType]({ node, where: label, opset, constant: (name) => consts.get(name), own, isInt });
        needPlanKnown(node, label);
        if (node.opType === 'Constant') { consts.set(node.output[0], compiled.constantValue!); continue; }
        const statics = new Set(compiled.staticInputs ?? []);
        const inputs = node.input.map((name, slot) => {
          if (name === '' || statics.has(slot)) return '';
          if (isInt(name) && !INT_INPUT_OPS.has(node.opType)) {
            fail(`${label} input ${slot} '${name}' is an integer tensor; a float tensor is expected there`);
          }
          const c = consts.get(name);
          if (c && c.kind === 'int') intConst(name, c);
          else floatConst(name);
          return name;
        });
        const intOut = compiled.intOutput ?? (PASS_TYPE_OPS.has(node.opType) && node.input.some((name) => name !== '' && isInt(name)));
        if (intOut) for (const o of node.output) if (o) intValues.add(o);
        // Without fusion every node runs its exact kernel, but Shape still yields its value when
        // the plan is made: the shapes downstream (a Reshape's target) depend on it.
        const low = this.fast || compiled.lowered?.op.kind === 'shape' ? compiled.lowered : undefined;
        for (const [k, t] of low?.constants ?? []) graph.constants.set(k, t);
        const gn: GraphNode = {
          label, op: low ? low.op : { kind: 'opaque' }, inputs: low?.inputs ?? inputs, outputs: node.output.slice(), exact: compiled.run,
        };
        // A lowered node with its own input list runs its exact kernel on the original inputs. The
        // small constants it no longer lists (Pow's exponent) are copied now: the passes drop
        // unreferenced constants, and the model frees them. (A large one, a MatMul's weight that
        // the dense layer holds transposed, is not kept twice: such nodes always have a step.)
        if (low?.inputs) {
          const full = inputs;
          const run = compiled.run;
          const dropped = new Map(full.filter((name) => name && !gn.inputs.includes(name)).map((name) => {
            const t = graph.constants.get(name);
            return [name, t && t.size <= 64 ? own(t.data.slice(), t.shape) : null] as const;
          }));
          gn.exact = (xs) => run(full.map((name) => (name === '' ? null : dropped.has(name) ? dropped.get(name)! : xs[gn.inputs.indexOf(name)] ?? null)));
        }
        graph.nodes.push(guardExact(gn, node, opset, this.budget));
      }
      // An integer output (Shape's) is returned as a float32 tensor holding the values, as integer
      // inputs are passed.
      for (const o of g.output) {
        const c = consts.get(o.name);
        if (c && c.kind === 'int') intConst(o.name, c);
        else floatConst(o.name);
      }
      const lowered = new Set(graph.constants.values());
      if (this.fast) optimize(graph, { own, overwritable });
      // Weights the passes replaced (batch norm folded into them) are no longer held. (Tensors the
      // op compilers made for their exact kernels were never graph constants: they stay.)
      const kept = new Set(graph.constants.values());
      const dropped = new Set([...lowered].filter((t) => !kept.has(t)));
      for (const t of dropped) t.dispose();
      this.owned = this.owned.filter((t) => !dropped.has(t));
    } catch (e) {
      this.disposeOwned();
      throw e;
    }
    // The op compilers' exact kernels keep their context (and so this scope) alive: the decoded
    // initializers must not stay reachable through it. Those the graph still uses are its
    // constants; the rest (weights batch norm was folded out of, shape tensors) are freed now.
    // (Kept, ResNet-50 held a second copy of its raw weights: ~100 MB.)
    consts.clear();
    wraps.clear();
    g.initializer.length = 0;
    this.graph = graph;
    this.inputs = Object.freeze(realInputs.map((v) => Object.freeze({ name: v.name, shape: v.shape })));
    this.outputs = Object.freeze(g.output.map((v) => Object.freeze({ name: v.name, shape: v.shape })));
  }

  get disposed(): boolean {
    return this._disposed;
  }

  /**
   * Runs the graph on one input tensor (or a record of tensors by input name) and returns its
   * single output (a new tensor the caller owns). Intermediates are disposed.
   * @example const logits = model.run(tensor(pixels, [1, 1, 28, 28]));
   */
  run(input: Tensor | Record<string, Tensor>): Tensor {
    if (this.outputs.length !== 1) {
      throw new Error(`OnnxModel.run: the model has ${this.outputs.length} outputs; use runAll()`);
    }
    return this.runAll(input)[this.outputs[0].name];
  }

  /** Runs the graph and returns every graph output by name (new tensors the caller owns). */
  runAll(input: Tensor | Record<string, Tensor>): Record<string, Tensor> {
    const op = 'OnnxModel.run';
    if (this._disposed) throw new Error(`${op}: the model is disposed`);
    if (captureState.active) throw new Error(`${op}: cannot run inside forwardAsync`);
    if (this.intInputs) {
      const b = this.bind(op, input);
      return b.model.runAll(b.feeds);
    }
    const feeds = this.feeds(input);
    const plan = this.acquire(op, feeds);
    plan.busy = true;
    try {
      return plan.run(feeds);
    } catch (e) {
      throw prefixed(op, e);
    } finally {
      plan.busy = false;
    }
  }

  /**
   * run() with the kernels on a worker thread: the event loop stays free. The inputs are copied
   * first, so they may be reused as soon as the call returns. A plan with a step that needs the JS
   * thread (an op the compiler runs exactly, such as a general broadcast) runs synchronously and
   * the Promise resolves with its result.
   */
  runAsync(input: Tensor | Record<string, Tensor>): Promise<Tensor> {
    return this.runAllAsync(input).then((r) => {
      if (this.outputs.length !== 1) {
        for (const t of Object.values(r)) t.dispose();
        throw new Error(`OnnxModel.runAsync: the model has ${this.outputs.length} outputs; use runAllAsync()`);
      }
      return r[this.outputs[0].name];
    });
  }

  /** runAll() on a worker thread (see runAsync). */
  async runAllAsync(input: Tensor | Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const op = 'OnnxModel.runAsync';
    if (this._disposed) throw new Error(`${op}: the model is disposed`);
    if (this.intInputs) {
      const b = this.bind(op, input);
      return b.model.runAllAsync(b.feeds);
    }
    const feeds = this.feeds(input);
    const plan = this.acquire(op, feeds);
    if (!plan.captured) return this.runAll(input);
    plan.busy = true;
    try {
      return await plan.runAsync(feeds);
    } catch (e) {
      throw prefixed(op, e);
    } finally {
      plan.busy = false;
      // A model disposed while this run was in flight frees the plan now.
      if (this._disposed) plan.dispose();
    }
  }

  /** Frees the weights and plans. The model cannot run afterwards. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    for (const m of this.specialized.values()) m.dispose();
    this.specialized.clear();
    for (const list of this.plans.values()) for (const p of list) if (!p.busy) p.dispose();
    this.plans.clear();
    this.prepared.dispose();
    this.disposeOwned();
    this.graph.constants.clear();
  }

  /**
   * The plan for these inputs' shapes (built if needed): what each node runs as, the arena size,
   * and whether it replays as one native call.
   */
  planInfo(input: Tensor | Record<string, Tensor>): { nodes: { node: string; algo: string }[]; arenaBytes: number;
    bufferBytes: number; recorded: boolean } {
    if (this.intInputs) {
      const b = this.bind('OnnxModel.planInfo', input);
      return b.model.planInfo(b.feeds);
    }
    const p = this.acquire('OnnxModel.planInfo', this.feeds(input));
    return { nodes: p.summary, arenaBytes: p.arenaBytes, bufferBytes: p.bufferBytes, recorded: p.captured };
  }

  /** A plan for these input shapes that no run is using (built, and cached, when there is none). */
  private acquire(op: string, feeds: Map<string, Tensor>): ExecPlan {
    const key = [...feeds.values()].map((t) => t.shape.join('x')).join('|');
    let list = this.plans.get(key);
    const free = list?.find((p) => !p.busy);
    if (free) {
      // Most recently used last.
      this.plans.delete(key);
      this.plans.set(key, list!);
      return free;
    }
    let plan: ExecPlan;
    this.budget.inputBytes = 4 * [...feeds.values()].reduce((a, t) => a + t.size, 0);
    try {
      plan = new ExecPlan(this.graph, new Map([...feeds].map(([k, t]) => [k, t.shape])),
        { fast: this.fast, winograd: this.winograd }, this.prepared);
    } catch (e) {
      throw prefixed(op, e);
    }
    // The arena is allocated but not yet touched: a plan over budget is dropped before it runs.
    if (plan.arenaBytes > this.budget.runLimit()) {
      plan.dispose();
      try { this.budget.checkRun(plan.arenaBytes, `the plan for input shapes ${key}`); } catch (e) { throw prefixed(op, e); }
    }
    if (!list) {
      list = [];
      this.plans.set(key, list);
    }
    list.push(plan);
    // Bound the cache: the least recently used shape's idle plans go first.
    for (const [k, ps] of this.plans) {
      if (this.plans.size <= MAX_PLANS) break;
      if (k === key || ps.some((p) => p.busy)) continue;
      for (const p of ps) p.dispose();
      this.plans.delete(k);
    }
    return plan;
  }

  /**
   * The model specialised for these integer input values (lowered now, or cached) and the float
   * feeds it takes. Integer inputs arrive as float32 tensors holding integers.
   */
  private bind(op: string, input: Tensor | Record<string, Tensor>): { model: OnnxModel; feeds: Record<string, Tensor> } {
    const all = this.feeds(input);
    const bound = new Map<string, TensorData>();
    const feeds: Record<string, Tensor> = {};
    const key: string[] = [];
    for (const [name, t] of all) {
      const kind = this.intInputs!.get(name);
      if (!kind) { feeds[name] = t; continue; }
      const data = t.toArray();
      if (kind === 'int') {
        const bad = data.find((v) => !Number.isSafeInteger(v));
        if (bad !== undefined) throw new RangeError(`${op}: integer input '${name}' holds a non-integer value ${bad}`);
        bound.set(name, { kind: 'int', dims: t.shape.slice(), data: [...data] });
      } else bound.set(name, { kind: 'float', dims: t.shape.slice(), data });
      key.push(`${name}:${t.shape.join('x')}:${data.join(',')}`);
    }
    const k = key.join('|');
    let model = this.specialized.get(k);
    if (model) {
      this.specialized.delete(k);
    } else {
      try {
        model = new OnnxModel(this.source!.bytes, this.source!.opts, bound, this.source!.ctx);
      } catch (e) {
        throw prefixed(op, e);
      }
      for (const [old, m] of this.specialized) {
        if (this.specialized.size < MAX_PLANS) break;
        m.dispose();
        this.specialized.delete(old);
      }
    }
    this.specialized.set(k, model);
    return { model, feeds };
  }

  private disposeOwned(): void {
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
  }

  private feeds(input: Tensor | Record<string, Tensor>): Map<string, Tensor> {
    const feeds = new Map<string, Tensor>();
    if (input instanceof Tensor) {
      if (this.inputs.length !== 1) {
        throw new TypeError(`OnnxModel.run: the model has ${this.inputs.length} inputs (${this.inputs.map((i) => i.name).join(', ')}); pass a record of tensors by name`);
      }
      feeds.set(this.inputs[0].name, input);
    } else if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
      for (const i of this.inputs) {
        const t = (input as Record<string, unknown>)[i.name];
        if (!(t instanceof Tensor)) throw new TypeError(`OnnxModel.run: input '${i.name}' must be a Tensor, got ${describe(t)}`);
        feeds.set(i.name, t);
      }
    } else {
      throw new TypeError(`OnnxModel.run: input must be a Tensor, got ${describe(input)}`);
    }
    for (const i of this.inputs) {
      const t = feeds.get(i.name)!;
      if (t.disposed) throw new Error(`OnnxModel.run: input '${i.name}' is disposed`);
      if (i.shape) {
        const bad = t.rank !== i.shape.length || i.shape.some((d, k) => typeof d === 'number' && d > 0 && d !== t.shape[k]);
        if (bad) {
          const want = `[${i.shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
          throw new RangeError(`OnnxModel.run: input '${i.name}' has shape ${shapeStr(t.shape)}, the model expects ${want}`);
        }
      }
    }
    return feeds;
  }
}

function prefixed(op: string, e: unknown): Error {
  const m = e instanceof Error ? e.message : String(e);
  if (m.startsWith('OnnxModel.')) return e as Error;
  const msg = `${op}: ${m}`;
  return e instanceof RangeError ? new RangeError(msg) : e instanceof TypeError ? new TypeError(msg) : new Error(msg);
}

/**
 * Loads an ONNX model from a file path or its bytes. The whole file is validated first; a
 * malformed, unsupported or hostile file rejects with an Error whose message starts with
 * 'loadOnnx:' and gives the reason.
 * @example const model = await io.loadOnnx('lenet5.onnx'); const y = model.run(x);
 */
export async function loadOnnx(pathOrBytes: string | Uint8Array | ArrayBuffer, opts?: LoadOnnxOptions): Promise<OnnxModel> {
  let bytes: Uint8Array;
  if (typeof pathOrBytes === 'string') {
    try {
      bytes = await readFile(pathOrBytes);
    } catch (e) {
      throw new Error(`loadOnnx: cannot read '${pathOrBytes}': ${(e as Error).message}`);
    }
  } else if (pathOrBytes instanceof Uint8Array) bytes = pathOrBytes;
  else if (pathOrBytes instanceof ArrayBuffer) bytes = new Uint8Array(pathOrBytes);
  else throw new TypeError(`loadOnnx: expected a path, a Uint8Array or an ArrayBuffer, got ${describe(pathOrBytes)}`);
  return parseWith(bytes, opts, typeof pathOrBytes === 'string' ? dirname(pathOrBytes) : null);
}

/**
 * The synchronous core of loadOnnx, on bytes already in memory (external data only with
 * opts.baseDir).
 */
export function parseOnnx(bytes: Uint8Array, opts?: LoadOnnxOptions): OnnxModel {
  return parseWith(bytes, opts, null);
}

/** The budget and external-data reader of one load (shared by the model's specialisations). */
function decodeContext(bytes: Uint8Array, opts: LoadOnnxOptions, fileDir: string | null): DecodeContext {
  if (opts.baseDir !== undefined && (typeof opts.baseDir !== 'string' || opts.baseDir === '')) {
    throw new TypeError(`loadOnnx: baseDir must be a non-empty string, got ${describe(opts.baseDir)}`);
  }
  const dir = opts.baseDir ?? fileDir;
  return { budget: new MemoryBudget(bytes.length, opts.maxBytes), external: new ExternalData(dir) };
}

/** A graph input that names an initializer (IR < 4) must declare what the initializer holds. */
function checkInitializerInput(v: ValueInfo, c: TensorData): void {
  const ok = c.kind === 'int' ? v.elemType === DataType.INT64 || v.elemType === DataType.INT32 : v.elemType === DataType.FLOAT;
  if (v.elemType !== null && v.elemType !== 0 && !ok) {
    fail(`graph input '${v.name}' is declared with element type ${v.elemType} but its initializer holds ${c.kind === 'int' ? 'INT64/INT32' : 'FLOAT (1)'} data`);
  }
  if (v.shape && (v.shape.length !== c.dims.length || v.shape.some((d, i) => typeof d === 'number' && d !== c.dims[i]))) {
    fail(`graph input '${v.name}' is declared with shape [${v.shape.map((d) => d ?? '?').join(',')}] but its initializer has dims [${c.dims.join(',')}]`);
  }
}

function parseWith(bytes: Uint8Array, opts: LoadOnnxOptions | undefined, fileDir: string | null): OnnxModel {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`loadOnnx: expected a Uint8Array, got ${describe(bytes)}`);
  if (bytes.length === 0) fail('the file is empty');
  const o = opts ?? {};
  const ctx = decodeContext(bytes, o, fileDir);
  try {
    return new OnnxModel(bytes, o, undefined, ctx);
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('loadOnnx:')) throw e;
    // Anything else (a RangeError from a tensor factory, say) still names loadOnnx.
    throw new Error(`loadOnnx: ${e instanceof Error ? e.message : String(e)}`);
  }
}
