/**
 * Module: the base of every layer and model. Like PyTorch's nn.Module it owns parameters and
 * buffers, finds its children among its own properties (or an explicit ordered list, for
 * containers), and names everything with PyTorch's state-dict keys (`features.0.weight`,
 * `layer1.0.bn1.running_mean`) so weights move between the two unchanged.
 *
 * Parameters and buffers are `persist()`-ed: tidy never disposes them; `dispose()` does.
 */
import { CompiledModule } from './compiled';
import { Tensor, persist, tidy, zeros } from '../tensor';
import { noGrad } from '../autograd/tape';
import { runOffThread } from '../async';
import { plannedForwardAsync, releasePlanned } from './planned';
import { concat } from '../ops/shape';
import { describe, shapeStr } from '../errors';
import { addForwardHook, type ForwardHook, type RemovableHandle } from './hooks';

/** One leaf module's line in a summary. */
export interface SummaryRow {
  /** State-dict path of the module, e.g. `features.0`. */
  name: string;
  /** Class name, e.g. `Conv2d`. */
  type: string;
  /** Output shape including the batch dimension. */
  outputShape: number[];
  /** Output elements per sample. */
  activationSize: number;
  /** Parameter elements owned by the module (weights and biases). */
  params: number;
}

export interface Summary {
  rows: SummaryRow[];
  /** Parameter elements of the whole model, each shared tensor counted once (buffers excluded). */
  totalParams: number;
  /** Those of totalParams whose tensor has requiresGrad. */
  trainableParams: number;
  /** Bytes of the model's state: parameters plus buffers (float32). */
  totalBytes: number;
  paramBytes: number;
  bufferBytes: number;
  /** Bytes of every leaf output of one forward pass over the summarised batch. */
  activationBytes: number;
  inputShape: number[];
  toString(): string;
}

export interface LoadStateDictOptions {
  /** Missing or unexpected keys throw (default true). Mis-shaped keys always throw. */
  strict?: boolean;
}

function isModule(v: unknown): v is Module {
  return v instanceof Module;
}

/**
 * Base class of layers and models. Subclasses create parameters with `this.param(...)`, buffers
 * with `this.buffer(...)`, assign child modules to properties, and implement `forward`.
 * @example
 * class Net extends nn.Module {
 *   conv = new nn.Conv2d(1, 4, 3);
 *   fc = new nn.Linear(4 * 26 * 26, 10);
 *   forward(x: Tensor) { return this.fc.call(ops.flatten(ops.relu(this.conv.call(x)))); }
 * }
 */
export abstract class Module {
  /** Training mode (dropout active, batch norm uses batch statistics). Set with train()/eval(). */
  training = true;
  /** Explicitly registered children (containers), in order; property children follow them. */
  protected readonly _modules = new Map<string, Module>();
  /** Property names holding parameters (the state-dict key is the property name). */
  protected readonly _paramKeys: string[] = [];
  /** [state-dict key, property name] of each buffer. */
  protected readonly _bufferKeys: [string, string][] = [];

  abstract forward(x: Tensor): Tensor;

  /** Same as forward (kept for symmetry with PyTorch's `module(x)`). */
  call(x: Tensor): Tensor {
    return this.forward(x);
  }

  /**
   * Calls hook(module, input, output) after every forward of this module (forward() and call(),
   * eager or planned, training or eval), hooks in registration order, as PyTorch's
   * register_forward_hook; input is the Tensor the forward received. A hook that returns a Tensor
   * replaces the output. A hooked module always runs its own forward: the planned eval-mode forward
   * plans around it (the layers before and after it are still fused), so the hook sees the tensor
   * the next layer reads. forwardAsync of a hooked tree runs on the JS thread; compile() refuses
   * one. The tensors are the forward's own: inside a tidy (and in forwardAsync, which frees the
   * forward's intermediates), keep() or clone what you store.
   * @example
   * const maps = new Map<string, Tensor>();
   * const handle = net.get('0').registerForwardHook((_m, _x, y) => { maps.set('conv1', keep(y)); });
   * noGrad(() => net.eval().forward(x)); handle.remove();
   */
  registerForwardHook(hook: ForwardHook<this>): RemovableHandle {
    if (typeof hook !== 'function') throw new TypeError(`registerForwardHook: hook must be a function, got ${describe(hook)}`);
    return addForwardHook(this, hook as unknown as ForwardHook);
  }

  /**
   * forward(x) as under noGrad, with the arithmetic on a worker thread so the event loop stays
   * free. x (and the module's weights) stay pinned until the Promise settles: do not modify them
   * meanwhile. Several calls may be in flight; they share the cores without oversubscribing.
   * @example const logits = await model.eval().forwardAsync(x);
   */
  forwardAsync(x: Tensor): Promise<Tensor> {
    if (!(x instanceof Tensor)) return Promise.reject(new TypeError(`forwardAsync: x must be a Tensor, got ${describe(x)}`));
    if (x.disposed) return Promise.reject(new Error(`forwardAsync: x (shape ${shapeStr(x.shape)}) is disposed`));
    return plannedForwardAsync(this, x) ?? runOffThread(() => this.forward(x));
  }

  /**
   * The module compiled for inputs of one shape: its eval-mode planned forward recorded once as a
   * list of native kernel calls, replayed by one addon call per forward (bit-identical results;
   * a LeNet-5 forward at batch 1 takes 10 us instead of 15). Rebuilt automatically when weights,
   * buffers, train/eval or setFastInference change; compile again after changing the structure.
   * A tree with forward hooks is refused (a replay cannot call them), also at a call after a hook
   * was registered. dispose() frees its arrays.
   * @example const fast = net.eval().compile([1, 1, 28, 28]); const y = fast.call(x); fast.dispose();
   */
  compile(inputShape: readonly number[]): CompiledModule {
    return new CompiledModule(this, inputShape);
  }

  /** Registers `t` as a parameter held by property `name`; returns it (persisted, requiresGrad). */
  protected param(name: string, t: Tensor): Tensor {
    if (!this._paramKeys.includes(name)) this._paramKeys.push(name);
    persist(t);
    t.requiresGrad = true;
    return t;
  }

  /** Registers an absent parameter (e.g. `bias: false`): not in the state dict, as in PyTorch. */
  protected noParam(name: string): null {
    if (!this._paramKeys.includes(name)) this._paramKeys.push(name);
    return null;
  }

  /** Registers `t` as a buffer held by property `prop` under state-dict key `key`. */
  protected buffer(key: string, prop: string, t: Tensor): Tensor {
    if (!this._bufferKeys.some(([k]) => k === key)) this._bufferKeys.push([key, prop]);
    return persist(t);
  }

  /** Registers a child under `name` explicitly (containers; property children need not). */
  protected registerModule(name: string, m: Module): void {
    if (!isModule(m)) throw new TypeError(`${this.constructor.name}: child '${name}' must be a Module, got ${describe(m)}`);
    this._modules.set(name, m);
  }

  /** Direct children with their names, in registration order. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [...this._modules.entries()];
    for (const key of Object.keys(this)) {
      if (key.startsWith('_') || this._modules.has(key)) continue;
      const v = (this as Record<string, unknown>)[key];
      if (isModule(v)) out.push([key, v]);
      // An array of modules acts as PyTorch's ModuleList: children `key.0`, `key.1`, ...
      else if (Array.isArray(v) && v.length > 0 && v.every(isModule)) v.forEach((m, i) => out.push([`${key}.${i}`, m]));
    }
    return out;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every descendant with its dotted path ('' for this one); each module once. */
  namedModules(prefix = '', seen = new Set<Module>()): [string, Module][] {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) {
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name, seen));
    }
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /**
   * Internal (lib/nn/planned.ts, on every planned forward): visits this module and every
   * descendant in namedModules() order, each once, with its own parameters and buffers, building no
   * names. False as soon as a visitor returns false.
   */
  visitState(onModule: (m: Module) => boolean, onTensor: (t: Tensor) => boolean, seen = new Set<Module>()): boolean {
    if (seen.has(this)) return true;
    seen.add(this);
    if (!onModule(this)) return false;
    const self = this as Record<string, unknown>;
    for (const k of this._paramKeys) {
      const v = self[k];
      if (v instanceof Tensor && !onTensor(v)) return false;
    }
    for (const [, prop] of this._bufferKeys) {
      const v = self[prop];
      if (v instanceof Tensor && !onTensor(v)) return false;
    }
    for (const m of this._modules.values()) if (!m.visitState(onModule, onTensor, seen)) return false;
    for (const key of Object.keys(this)) {
      if (key.startsWith('_') || this._modules.has(key)) continue;
      const v = self[key];
      if (isModule(v)) {
        if (!v.visitState(onModule, onTensor, seen)) return false;
      } else if (Array.isArray(v) && v.length > 0 && v.every(isModule)) {
        for (const m of v) if (!m.visitState(onModule, onTensor, seen)) return false;
      }
    }
    return true;
  }

  /** This module's own parameters (not its children's), skipping absent ones. */
  protected ownParams(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const k of this._paramKeys) {
      const v = (this as Record<string, unknown>)[k];
      if (v instanceof Tensor) out.push([k, v]);
    }
    return out;
  }

  protected ownBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [key, prop] of this._bufferKeys) {
      const v = (this as Record<string, unknown>)[prop];
      if (v instanceof Tensor) out.push([key, v]);
    }
    return out;
  }

  /** [state-dict name, parameter] pairs; a tensor shared by two modules appears once. */
  namedParameters(): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules()) {
      for (const [k, t] of m.ownParams()) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([path ? `${path}.${k}` : k, t]);
      }
    }
    return out;
  }

  /** Every trainable tensor, each once: what an optimiser takes. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** [state-dict name, buffer] pairs (running statistics and counters). */
  namedBuffers(): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules()) {
      for (const [k, t] of m.ownBuffers()) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([path ? `${path}.${k}` : k, t]);
      }
    }
    return out;
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, t]) => t);
  }

  /** Number of parameter elements (each shared tensor once). */
  numParameters(): number {
    return this.parameters().reduce((a, t) => a + t.size, 0);
  }

  /** Sets training mode on this module and every descendant. Returns this. */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new TypeError(`train: mode must be a boolean, got ${describe(mode)}`);
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Frees derived caches (the planned forward's lowerings, plans and prepared weights); called by dispose(). */
  protected releaseCaches(): void {
    releasePlanned(this);
  }

  /** Whether eval()+noGrad forwards may use planned fast paths (see setFastInference). */
  fastInference = true;

  /**
   * Turns the planned inference fast paths on or off for this module and its descendants. With
   * them on (the default), a module in eval() mode running under noGrad folds batch norm into the
   * preceding convolution and fuses the following ReLU into its epilogue; the folded weights are
   * cached until a weight or running statistic changes (its `version`); weights are also
   * rearranged once for the fastest kernel (panel-packed, or Winograd-transformed for 3x3 stride-1
   * layers where that wins unless opts.winograd is false; no copies when opts.packWeights is
   * false), and residual blocks add their shortcut
   * in the convolution's epilogue. Outputs stay within 1e-4 of the exact result relative to the
   * output's largest magnitude. Returns this.
   */
  setFastInference(on: boolean, opts?: { winograd?: boolean; packWeights?: boolean }): this {
    if (typeof on !== 'boolean') throw new TypeError(`setFastInference: on must be a boolean, got ${describe(on)}`);
    if (opts !== undefined && (opts === null || typeof opts !== 'object')) {
      throw new TypeError(`setFastInference: opts must be an object, got ${describe(opts)}`);
    }
    const w = opts?.winograd;
    if (w !== undefined && typeof w !== 'boolean') {
      throw new TypeError(`setFastInference: opts.winograd must be a boolean, got ${describe(w)}`);
    }
    const pw = opts?.packWeights;
    if (pw !== undefined && typeof pw !== 'boolean') {
      throw new TypeError(`setFastInference: opts.packWeights must be a boolean, got ${describe(pw)}`);
    }
    for (const m of this.modules()) {
      m.fastInference = on;
      if (w !== undefined) m.winograd = w;
      if (pw !== undefined) m.packWeights = pw;
    }
    return this;
  }

  /**
   * Whether planned convolutions and dense layers keep a rearranged copy of their weights for the
   * faster kernels (default true). The copy is about the size of the weights (4x for Winograd
   * layers): setFastInference(true, { packWeights: false }) trades that memory for speed.
   */
  packWeights = true;

  /**
   * Whether planned 3x3 stride-1 convolutions may use Winograd F(4x4,3x3) where it is faster
   * (setFastInference(true, { winograd: false }) keeps them on the direct algorithm).
   */
  winograd = true;

  /** Inference mode: dropout off, batch norm uses its running statistics. Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Clears `.grad` of every parameter. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      if (p.grad) { p.grad.dispose(); p.grad = null; }
    }
  }

  /**
   * Parameters and buffers under PyTorch's keys, in PyTorch's order (each module's parameters,
   * then its buffers, then its children). The values are the live tensors: do not dispose them.
   * Integer buffers (`num_batches_tracked`) are float32 tensors holding the count.
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    const visit = (m: Module, prefix: string, seen: Set<Module>): void => {
      if (seen.has(m)) return;
      seen.add(m);
      for (const [k, t] of m.ownParams()) out[prefix + k] = t;
      for (const [k, t] of m.ownBuffers()) out[prefix + k] = t;
      for (const [name, child] of m.namedChildren()) visit(child, `${prefix}${name}.`, seen);
    };
    visit(this, '', new Set());
    return out;
  }

  /**
   * Copies `dict`'s tensors into this module's parameters and buffers. Strict: a missing key, an
   * unexpected key or a shape that differs throws an Error naming every offender, and then nothing
   * has been modified.
   */
  loadStateDict(dict: Record<string, Tensor> | Map<string, Tensor>, opts: LoadStateDictOptions = {}): void {
    const op = 'loadStateDict';
    if (dict === null || typeof dict !== 'object') throw new TypeError(`${op}: dict must be an object of Tensors, got ${describe(dict)}`);
    const strict = opts.strict ?? true;
    if (typeof strict !== 'boolean') throw new TypeError(`${op}: 'strict' must be a boolean, got ${describe(strict)}`);
    const entries: [string, unknown][] = dict instanceof Map ? [...dict.entries()] : Object.entries(dict);
    const own = this.stateDict();
    const given = new Map<string, Tensor>();
    for (const [k, v] of entries) {
      if (!(v instanceof Tensor)) throw new TypeError(`${op}: value of key '${k}' must be a Tensor, got ${describe(v)}`);
      if (v.disposed) throw new Error(`${op}: tensor for key '${k}' (shape ${shapeStr(v.shape)}) is disposed`);
      given.set(k, v);
    }
    const missing = Object.keys(own).filter((k) => !given.has(k));
    const unexpected = [...given.keys()].filter((k) => !(k in own));
    const misShaped: string[] = [];
    for (const [k, v] of given) {
      const t = own[k];
      if (t && !compatibleShape(t.shape, v.shape)) misShaped.push(`'${k}' (expected ${shapeStr(t.shape)}, got ${shapeStr(v.shape)})`);
    }
    const problems: string[] = [];
    if (strict && missing.length) problems.push(`missing keys: ${missing.map((k) => `'${k}'`).join(', ')}`);
    if (strict && unexpected.length) problems.push(`unexpected keys: ${unexpected.map((k) => `'${k}'`).join(', ')}`);
    if (misShaped.length) problems.push(`shape mismatch for ${misShaped.join(', ')}`);
    if (problems.length) throw new Error(`${op}: ${this.constructor.name}: ${problems.join('; ')}`);
    for (const [k, v] of given) {
      const t = own[k];
      if (t && t !== v) {
        t.data.set(v.data);
        t.version++;
      }
    }
  }

  /** Frees every parameter, buffer and gradient of this module and its descendants. */
  dispose(): void {
    for (const m of this.modules()) {
      m.releaseCaches();
      for (const [, t] of [...m.ownParams(), ...m.ownBuffers()]) {
        if (t.grad) { t.grad.dispose(); t.grad = null; }
        t.dispose();
      }
    }
  }

  /**
   * Runs a forward pass on zeros (no tape, eval mode, the previous mode restored) and lists every
   * leaf module in call order with its output shape, per-sample activation size and parameters.
   * `inputShape` is `[C, H, W]` (batch 1) or `[N, C, H, W]`; `[F]` / `[N, F]` for flat inputs.
   * @example console.log(models.lenet5({ inputSize: 32 }).summary([1, 32, 32]).toString());
   */
  summary(inputShape: readonly number[]): Summary {
    const shape = batchedShape('summary', inputShape);
    const rows: SummaryRow[] = [];
    const leaves = this.namedModules().filter(([, m]) => m.namedChildren().length === 0);
    let activationBytes = 0;
    withLeafHooks(leaves, (name, m, _x, y) => {
      const outShape = y instanceof Tensor ? y.shape.slice() : [];
      const size = y instanceof Tensor ? y.size : 0;
      activationBytes += size * 4;
      rows.push({
        name,
        type: m.constructor.name,
        outputShape: outShape,
        activationSize: outShape.length > 0 && outShape[0] > 0 ? size / outShape[0] : size,
        params: m.ownParams().reduce((a, [, t]) => a + t.size, 0),
      });
    }, () => this.inferenceRun(shape));
    const params = this.parameters();
    const totalParams = params.reduce((a, t) => a + t.size, 0);
    const trainableParams = params.filter((t) => t.requiresGrad).reduce((a, t) => a + t.size, 0);
    const bufferBytes = this.buffers().reduce((a, t) => a + t.size * 4, 0);
    const paramBytes = totalParams * 4;
    const result: Summary = {
      rows, totalParams, trainableParams, paramBytes, bufferBytes, activationBytes,
      totalBytes: paramBytes + bufferBytes,
      inputShape: shape,
      toString: () => formatSummary(this.constructor.name, result),
    };
    return result;
  }

  /**
   * Internal: one forward on zeros of `shape` in eval mode under noGrad (the previous modes
   * restored); `onInput` sees the input tensor first. Frees every tensor it made.
   */
  inferenceRun(shape: number[], onInput?: (x: Tensor) => void): void {
    // Tracing sees every leaf module, so the planned (fused) paths are off for this run.
    const mods = this.modules();
    const fast = mods.map((m) => m.fastInference);
    for (const m of mods) m.fastInference = false;
    try {
      this.withEvalMode(() => noGrad(() => tidy(() => {
        const x = zeros(shape);
        onInput?.(x);
        this.forward(x);
      })));
    } finally {
      mods.forEach((m, i) => { m.fastInference = fast[i]; });
    }
  }

  /** Runs fn with every module in eval mode, then restores each module's previous mode. */
  protected withEvalMode<T>(fn: () => T): T {
    const mods = this.modules();
    const modes = mods.map((m) => m.training);
    for (const m of mods) m.training = false;
    try {
      return fn();
    } finally {
      mods.forEach((m, i) => { m.training = modes[i]; });
    }
  }

  /**
   * Inference over a batch in chunks of `batchSize` (default 32): no tape, eval mode (the previous
   * mode restored), outputs concatenated along the batch axis.
   * @example const logits = model.predict(images, { batchSize: 64 });
   */
  predict(x: Tensor, opts: { batchSize?: number } = {}): Tensor {
    const op = 'predict';
    if (!(x instanceof Tensor)) throw new TypeError(`${op}: x must be a Tensor, got ${describe(x)}`);
    if (x.disposed) throw new Error(`${op}: x (shape ${shapeStr(x.shape)}) is disposed`);
    if (opts === null || typeof opts !== 'object') throw new TypeError(`${op}: options must be an object, got ${describe(opts)}`);
    const bs = opts.batchSize ?? 32;
    if (typeof bs !== 'number' || !Number.isInteger(bs) || bs < 1) {
      throw new RangeError(`${op}: 'batchSize' must be a positive integer, got ${String(bs)}`);
    }
    if (x.rank < 1 || x.shape[0] < 1) throw new RangeError(`${op}: x must have a non-empty batch dimension, got shape ${shapeStr(x.shape)}`);
    const N = x.shape[0];
    const per = x.size / N;
    const rest = x.shape.slice(1);
    const data = x.data;
    return this.withEvalMode(() => noGrad(() => tidy(() => {
      if (N <= bs) return this.forward(x);
      const outs: Tensor[] = [];
      for (let i = 0; i < N; i += bs) {
        const n = Math.min(bs, N - i);
        outs.push(this.forward(Tensor.wrap(data.slice(i * per, (i + n) * per), [n, ...rest])));
      }
      return concat(outs, 0);
    })));
  }

  /** PyTorch-like structure, e.g. `Sequential(\n  (0): Conv2d(3, 8, kernelSize=[5,5])\n ...)`. */
  toString(): string {
    const kids = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (kids.length === 0) return `${head})`;
    const lines = kids.map(([n, m]) => `  (${n}): ${m.toString().split('\n').join('\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }

  /** The layer's settings shown by toString(). */
  protected extraRepr(): string {
    return '';
  }
}

/** Internal: runs `fn` while each leaf's forward reports (name, module, input, output). */
export function withLeafHooks(leaves: [string, Module][], hook: (name: string, m: Module, x: Tensor, y: Tensor) => void,
  fn: () => void): void {
  const restore: (() => void)[] = [];
  for (const [name, m] of leaves) {
    const own = Object.prototype.hasOwnProperty.call(m, 'forward');
    const orig = m.forward;
    // An own property shadows the prototype's forward for this instance only.
    m.forward = function hooked(this: Module, x: Tensor): Tensor {
      const y = orig.call(this, x);
      hook(name, m, x, y);
      return y;
    };
    restore.push(() => {
      if (own) m.forward = orig;
      else delete (m as { forward?: unknown }).forward;
    });
  }
  try {
    fn();
  } finally {
    for (const r of restore) r();
  }
}

/** `[C, H, W]` or `[F]` gain a batch of 1; `[N, C, H, W]` and `[N, F]` are taken as they are. */
export function batchedShape(op: string, inputShape: readonly number[]): number[] {
  if (!Array.isArray(inputShape) || inputShape.length === 0) {
    throw new TypeError(`${op}: inputShape must be a non-empty array of positive integers, got ${describe(inputShape)}`);
  }
  for (const d of inputShape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
      throw new RangeError(`${op}: inputShape ${shapeStr(inputShape)} must hold positive integers`);
    }
  }
  if (inputShape.length > 4) throw new RangeError(`${op}: inputShape must have 1 to 4 dimensions, got ${shapeStr(inputShape)}`);
  return inputShape.length === 3 || inputShape.length === 1 ? [1, ...inputShape] : inputShape.slice();
}

/** Scalars saved by PyTorch have shape []; accept [] and [1] for each other. */
function compatibleShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length === b.length && a.every((d, i) => d === b[i])) return true;
  return a.length <= 1 && b.length <= 1 && a.reduce((x, y) => x * y, 1) === 1 && b.reduce((x, y) => x * y, 1) === 1;
}

function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

function fmtBytes(b: number): string {
  if (b < 1024) return `${b} B`;
  if (b < 1024 ** 2) return `${(b / 1024).toFixed(2)} KB`;
  if (b < 1024 ** 3) return `${(b / 1024 ** 2).toFixed(2)} MB`;
  return `${(b / 1024 ** 3).toFixed(2)} GB`;
}

function formatSummary(title: string, s: Summary): string {
  const header = ['Layer (type)', 'Output shape', 'Activations', 'Param #'];
  const body = s.rows.map((r) => [`${r.name} (${r.type})`, shapeStr(r.outputShape), fmtInt(r.activationSize), fmtInt(r.params)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('   ');
  const total = widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1);
  const out = [
    `${title} — input ${shapeStr(s.inputShape)}`,
    '='.repeat(total),
    line(header),
    '='.repeat(total),
    ...body.map(line),
    '='.repeat(total),
    `Total params: ${fmtInt(s.totalParams)} (${fmtBytes(s.paramBytes)})`,
    `Trainable params: ${fmtInt(s.trainableParams)}`,
    `Non-trainable params: ${fmtInt(s.totalParams - s.trainableParams)}`,
    `Buffers: ${fmtBytes(s.bufferBytes)}`,
    `Total size (params + buffers): ${fmtBytes(s.totalBytes)}`,
    `Forward activations (batch ${s.inputShape[0]}): ${fmtBytes(s.activationBytes)}`,
  ];
  return out.join('\n');
}

