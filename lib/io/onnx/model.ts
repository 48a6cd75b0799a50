/**
 * loadOnnx: decodes a ModelProto, validates the whole graph (op types, arity and attributes,
 * names, initializer sizes, acyclicity) before anything runs, and returns an OnnxModel that
 * executes the nodes in topological order on simdcnn's ops.
 */
import { runOffThread } from '../../async';
import { readFile } from 'node:fs/promises';
import { Tensor, persist, tidy, CaptureUnsupportedError } from '../../tensor';
import { noGrad } from '../../autograd/tape';
import { describe, shapeStr } from '../../errors';
import { decodeModel, DataType, type Dim, type NodeProto, type TensorData, type ValueInfo } from './proto';
import { fail } from './protobuf';
import { COMPILERS, type Kernel } from './ops';
import { fuseForInference, type FusedNode } from './fuse';

type LabelledNode = FusedNode & { label: string };

export interface LoadOnnxOptions {
  /**
   * Fold BatchNormalization into the preceding Conv and fuse Conv+Relu (default true). Outputs
   * stay within float32 rounding of the unfused graph.
   */
  fuse?: boolean;
}

export interface OnnxValueInfo {
  name: string;
  /** Dims as declared: a number, a symbolic name (e.g. 'batch'), or null; null when no shape is declared. */
  shape: Dim[] | null;
}

/** Oldest default-domain opset whose operator semantics we implement. */
const MIN_OPSET = 6;

interface Step {
  where: string;
  run: Kernel;
  /** Input names; '' for absent or load-time-consumed inputs. */
  inputs: string[];
  outputs: string[];
  /** Names whose last use is this step (freed after it runs). */
  free: string[];
}

function nodeLabel(n: NodeProto, i: number): string {
  return n.name ? `node '${n.name}' (${n.opType})` : `node #${i} (${n.opType})`;
}

export class OnnxModel {
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly opset: number;
  private readonly steps: Step[];
  private readonly constants: Map<string, Tensor>;
  private readonly owned: Tensor[];
  private _disposed = false;

  /** @internal use loadOnnx */
  constructor(bytes: Uint8Array, opts: LoadOnnxOptions = {}) {
    const m = decodeModel(bytes);
    const g = m.graph;
    if (!g) fail('the model has no graph');
    const def = m.opsetImport.filter((o) => o.domain === '' || o.domain === 'ai.onnx');
    if (def.length === 0) fail('the model has no opset_import for the default ONNX domain');
    const opset = def[0].version;
    if (!Number.isSafeInteger(opset) || opset < MIN_OPSET) fail(`default-domain opset ${opset} is not supported (need >= ${MIN_OPSET})`);
    this.opset = opset;
    if (g.sparseInitializers) fail('sparse initializers are not supported');

    // Unknown ops are reported together, before anything else about the nodes.
    const unknown = new Set<string>();
    for (const n of g.node) {
      if (n.domain !== '' && n.domain !== 'ai.onnx') unknown.add(`${n.domain}.${n.opType}`);
      else if (!Object.prototype.hasOwnProperty.call(COMPILERS, n.opType)) unknown.add(n.opType);
    }
    if (unknown.size) fail(`unsupported op type(s): ${[...unknown].join(', ')}`);

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
    const seenInputs = new Set<string>();
    for (const v of g.input) {
      if (!v.name) fail('a graph input has no name');
      if (seenInputs.has(v.name)) fail(`graph input '${v.name}' is listed twice`);
      seenInputs.add(v.name);
      if (consts.has(v.name)) continue; // IR < 4 lists initializers as inputs too
      if (v.elemType !== null && v.elemType !== DataType.FLOAT) fail(`graph input '${v.name}' has element type ${v.elemType}; only FLOAT inputs are supported`);
      define(v.name, `graph input '${v.name}'`);
      realInputs.push(v);
    }
    if (realInputs.length === 0) fail('the graph has no input (besides initializers)');
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

    // Compile nodes in order; Constant nodes are folded into the constant table.
    this.owned = [];
    const own = (data: Float32Array, shape: number[]): Tensor => {
      const t = persist(Tensor.wrap(data, shape));
      this.owned.push(t);
      return t;
    };
    this.constants = new Map();
    const floatConst = (name: string): Tensor | undefined => {
      let t = this.constants.get(name);
      const c = consts.get(name);
      if (!t && c && c.kind === 'float') {
        t = own(c.data, c.dims);
        this.constants.set(name, t);
      }
      return t;
    };
    const steps: Step[] = [];
    const compile = (n: LabelledNode) =>
      COMPILERS[n.opType]({ node: n, where: n.label, opset, constant: (name) => consts.get(name), own });
    try {
      // Constants first (they have no inputs), so that rewrites and compilers see their values.
      let nodes: LabelledNode[] = [];
      for (const i of order) {
        const n: LabelledNode = { ...g.node[i], label: nodeLabel(g.node[i], i) };
        if (n.opType === 'Constant') consts.set(n.output[0], compile(n).constantValue!);
        else nodes.push(n);
      }
      if (opts.fuse ?? true) nodes = fuseForInference(nodes, consts, new Set(g.output.map((o) => o.name))) as LabelledNode[];
      for (const n of nodes) {
        const where = n.label;
        const compiled = compile(n);
        const statics = new Set(compiled.staticInputs ?? []);
        const inputs = n.input.map((name, slot) => {
          if (name === '' || statics.has(slot)) return '';
          const c = consts.get(name);
          if (c && c.kind === 'int') fail(`${where} input ${slot} '${name}' is an integer tensor; a float tensor is expected there`);
          if (c) floatConst(name);
          return name;
        });
        steps.push({ where, run: compiled.run, inputs, outputs: n.output.slice(), free: [] });
      }
      for (const o of g.output) {
        const c = consts.get(o.name);
        if (c && c.kind === 'int') fail(`graph output '${o.name}' is an integer tensor; only float outputs are supported`);
        if (c) floatConst(o.name);
      }
    } catch (e) {
      this.disposeOwned();
      throw e;
    }

    // Free each intermediate after its last reader.
    const keepAlive = new Set([...g.output.map((o) => o.name), ...realInputs.map((v) => v.name), ...this.constants.keys()]);
    const lastUse = new Map<string, number>();
    steps.forEach((s, i) => { for (const n of s.inputs) if (n) lastUse.set(n, i); });
    steps.forEach((s, i) => {
      for (const o of s.outputs) if (o && !keepAlive.has(o) && !lastUse.has(o)) lastUse.set(o, i);
    });
    for (const [name, i] of lastUse) if (!keepAlive.has(name)) steps[i].free.push(name);
    this.steps = steps;
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

  /** Runs the graph and returns every graph output by name. */
  runAll(input: Tensor | Record<string, Tensor>): Record<string, Tensor> {
    if (this._disposed) throw new Error('OnnxModel.run: the model is disposed');
    const feeds = this.feeds(input);
    return tidy(() => noGrad(() => {
      const env = new Map<string, Tensor>(this.constants);
      for (const [k, v] of feeds) env.set(k, v);
      for (const s of this.steps) {
        const ins = s.inputs.map((n) => (n ? env.get(n)! : null));
        let outs: Tensor[];
        try {
          outs = s.run(ins);
        } catch (e) {
          // A forward being captured for runAsync falls back to running synchronously.
          if (e instanceof CaptureUnsupportedError) throw e;
          const msg = `OnnxModel.run: ${s.where}: ${e instanceof Error ? e.message : String(e)}`;
          throw e instanceof RangeError ? new RangeError(msg) : e instanceof TypeError ? new TypeError(msg) : new Error(msg);
        }
        s.outputs.forEach((o, i) => { if (o && outs[i]) env.set(o, outs[i]); });
        for (const n of s.free) {
          const t = env.get(n);
          env.delete(n);
          if (t && !t.persistent) t.dispose();
        }
      }
      const result: Record<string, Tensor> = {};
      for (const o of this.outputs) {
        const t = env.get(o.name)!;
        // Never hand out the model's own constants or the caller's input object itself.
        result[o.name] = t.persistent || feeds.get(o.name) === t ? t.reshape(t.shape) : t;
      }
      return result;
    }));
  }

  /**
   * run() with the kernels on a worker thread (see lib/async.ts): the event loop stays free, and
   * the input stays pinned until the Promise settles.
   */
  runAsync(input: Tensor | Record<string, Tensor>): Promise<Tensor> {
    try {
      return runOffThread(() => this.run(input));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Frees the weights. The model cannot run afterwards. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this.disposeOwned();
    this.constants.clear();
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
  return parseOnnx(bytes, opts);
}

/** The synchronous core of loadOnnx, on bytes already in memory. */
export function parseOnnx(bytes: Uint8Array, opts?: LoadOnnxOptions): OnnxModel {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`loadOnnx: expected a Uint8Array, got ${describe(bytes)}`);
  if (bytes.length === 0) fail('the file is empty');
  try {
    return new OnnxModel(bytes, opts);
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('loadOnnx:')) throw e;
    // Anything else (a RangeError from a tensor factory, say) still names loadOnnx.
    throw new Error(`loadOnnx: ${e instanceof Error ? e.message : String(e)}`);
  }
}
