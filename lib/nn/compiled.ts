/**
 * Compiled inference: a module's planned forward for one input shape, recorded once as a list of
 * native kernel calls and replayed by a single addon call per forward (Module.compile).
 *
 * A small model's forward is dominated by per-op costs, not arithmetic: LeNet-5 makes seven kernel
 * calls of 1-4 us each, and each op also pays for validation, output tensors and an N-API crossing.
 * Compiling records the forward with the same machinery as forwardAsync (every binding validates
 * its arguments, then appends its kernel call instead of running it, pinning the arrays it
 * borrows), keeps the recorded list, and from then on a forward is: copy the input into the
 * recorded input array, run the list, copy the output out. The arithmetic is exactly the eager
 * planned forward's (same kernels, same order), so results are bit-identical to `module.call(x)`
 * under `eval()` + `noGrad`.
 *
 * The recording holds its own arrays for the input, every intermediate and the output (counted in
 * memory().bytes; nothing is reused by other ops); `dispose()` releases them. It reads the layers'
 * prepared weights, so it is rebuilt automatically when a parameter or buffer changes (their
 * `version`), or a module's train/eval mode or setFastInference options change. It snapshots the
 * model's structure: after assigning new layers or parameter tensors, compile again.
 */
import {
  Tensor, allocOutput, allocTrace, captureState, CaptureUnsupportedError, claimArrays, keep, persist, sameShape, tidy,
} from '../tensor';
import { noGrad } from '../autograd/tape';
import { getAddon, getBackend } from '../backend/index';
import { describe, shapeStr } from '../errors';
import { assertTensor } from '../ops/validate';
import type { Module } from './module';
import type { Graph } from '../graph/ir';
import { optimize } from '../graph/passes';
import { ExecPlan, PreparedCache } from '../graph/plan';
import { lowerModule, switchesOf } from './planned';
import { firstHooked, hookState } from './hooks';

interface PlanAddon {
  beginCapture(): void;
  abortCapture(): void;
  capturePlan(): unknown;
  planRun(plan: unknown): void;
  planRunAsync(plan: unknown): Promise<void>;
  planDispose(plan: unknown): void;
}

/** A forward for the compiled input shape, replayed by one addon call. */
interface Recording {
  /** x's data copied in, the plan run on this thread, the output copied out. */
  run(x: Float32Array): Tensor;
  /** The same on a worker thread (x may be reused once this returns a promise). */
  runAsync(x: Float32Array): Promise<Tensor>;
  release(): void;
}

/**
 * The module lowered to the graph compiler (lib/nn/lower.ts): the same passes and plan as an ONNX
 * model (batch norm folded, activations and residual adds fused, prepared weights, one arena),
 * recorded as one native plan.
 */
class GraphRecording implements Recording {
  private constructor(private readonly plan: ExecPlan, private readonly cache: PreparedCache,
    private readonly owned: Tensor[], private readonly shape: readonly number[]) {}

  /** null when the module tree has a module the nn front end cannot lower, or mixed switches. */
  static build(module: Module, modules: Module[], shape: readonly number[]): GraphRecording | null {
    const fast = modules[0].fastInference;
    if (modules.some((m) => m.fastInference !== fast)) return null;
    const graph = lowerModule(module);
    if (!graph) return null;
    const owned: Tensor[] = [];
    const cache = new PreparedCache();
    const own = (data: Float32Array, s: readonly number[]): Tensor => {
      const t = persist(Tensor.wrap(data, s));
      owned.push(t);
      return t;
    };
    let plan: ExecPlan | null = null;
    try {
      if (fast) optimize(graph, { own });
      plan = new ExecPlan(graph, new Map([['input', shape]]), { fast, winograd: true }, cache);
    } catch (e) {
      plan?.dispose();
      cache.dispose();
      for (const t of owned) t.dispose();
      // A shape the module cannot take: the caller records the forward, which fails with the
      // module's own message.
      if (e instanceof RangeError || e instanceof TypeError) return null;
      throw e;
    }
    if (!plan.captured) {
      plan.dispose();
      cache.dispose();
      for (const t of owned) t.dispose();
      return null;
    }
    return new GraphRecording(plan, cache, owned, shape);
  }

  run(x: Float32Array): Tensor {
    return this.first(this.plan.run(this.feeds(x)));
  }

  async runAsync(x: Float32Array): Promise<Tensor> {
    return this.first(await this.plan.runAsync(this.feeds(x)));
  }

  release(): void {
    this.plan.dispose();
    this.cache.dispose();
    for (const t of this.owned) t.dispose();
  }

  private feeds(x: Float32Array): Map<string, Tensor> {
    // The plan only copies the data in: a wrapper, never registered as a live tensor's owner.
    return new Map([['input', { data: x, shape: this.shape } as unknown as Tensor]]);
  }

  private first(r: Record<string, Tensor>): Tensor {
    return Object.values(r)[0];
  }
}

/** The module's forward recorded as the list of native kernel calls its eager forward makes. */
class CapturedRecording implements Recording {
  constructor(private readonly plan: unknown, private readonly input: Tensor, private readonly output: Tensor,
    /** The intermediates' arrays, as tensors so that memory() counts them. */
    private readonly held: Tensor[]) {}

  run(x: Float32Array): Tensor {
    this.input.data.set(x);
    (getAddon() as unknown as PlanAddon).planRun(this.plan);
    return this.result();
  }

  async runAsync(x: Float32Array): Promise<Tensor> {
    this.input.data.set(x);
    await (getAddon() as unknown as PlanAddon).planRunAsync(this.plan);
    return this.result();
  }

  release(): void {
    (getAddon() as unknown as PlanAddon).planDispose(this.plan);
    this.input.dispose();
    this.output.dispose();
    for (const t of this.held) t.dispose();
  }

  private result(): Tensor {
    const out = allocOutput(this.output.size);
    out.set(this.output.data);
    return Tensor.wrap(out, this.output.shape);
  }
}

/**
 * A module compiled for one input shape. `call(x)` and `forwardAsync(x)` return what the module's
 * eval-mode forward under noGrad returns, bit for bit, with one native call per forward.
 * @example const fast = net.eval().compile([1, 1, 28, 28]); const logits = fast.call(x);
 */
export class CompiledModule {
  readonly inputShape: readonly number[];
  private readonly modules: Module[];
  private readonly sources: Tensor[];
  private versions: number[] = [];
  private switches: boolean[] = [];
  private rec: Recording | null = null;
  private inFlight = 0;
  /** Settles after the last queued forwardAsync: the next one starts after it. */
  private tail: Promise<void> = Promise.resolve();
  private disposedFlag = false;
  /** hookState.epoch when the module was last seen without hooks. */
  private hookEpoch = -1;

  constructor(readonly module: Module, inputShape: readonly number[]) {
    const op = 'compile';
    if (!Array.isArray(inputShape) || inputShape.length === 0 ||
      !inputShape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 1)) {
      throw new RangeError(`${op}: inputShape must be a non-empty array of positive integers, got ${describe(inputShape)}`);
    }
    this.inputShape = Object.freeze(inputShape.slice());
    this.modules = module.modules();
    this.sources = [...module.parameters(), ...module.buffers()];
    this.rec = this.record();
  }

  get disposed(): boolean {
    return this.disposedFlag;
  }

  /** The module's forward on x (shape inputShape), as under eval() and noGrad. */
  call(x: Tensor): Tensor {
    const op = 'CompiledModule.call';
    this.check(op, x);
    if (this.inFlight > 0) throw new Error(`${op}: a forwardAsync of this compiled module is still running; await it first`);
    if (captureState.active) throw new Error(`${op}: cannot run inside forwardAsync`);
    return this.current(op).run(x.data);
  }

  /**
   * forward on a worker thread (the event loop stays free). Calls on one compiled module run one at
   * a time, in order; x may be reused as soon as the call returns (it is copied first).
   */
  forwardAsync(x: Tensor): Promise<Tensor> {
    const op = 'CompiledModule.forwardAsync';
    try {
      this.check(op, x);
    } catch (e) {
      return Promise.reject(e);
    }
    const data = x.data.slice();
    const run = this.tail.then(async () => {
      // Only here, with every earlier call settled, may the recording be rebuilt (and the old one
      // released): a run in flight still reads and writes its arrays.
      return this.current(op).runAsync(data);
    });
    this.inFlight++;
    const done = run.finally(() => { this.inFlight--; });
    this.tail = done.then(() => undefined, () => undefined);
    return done;
  }

  /** Frees the recording (its arrays and pinned references). Idempotent. */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    this.rec?.release();
    this.rec = null;
  }

  private check(op: string, x: Tensor): void {
    assertTensor(op, 'x', x);
    if (!sameShape(x.shape, this.inputShape)) {
      throw new RangeError(`${op}: x has shape ${shapeStr(x.shape)}, the module was compiled for ${shapeStr(this.inputShape)}`);
    }
    if (x.disposed) throw new Error(`${op}: x (shape ${shapeStr(x.shape)}) is disposed`);
    if (this.disposedFlag) throw new Error(`${op}: the compiled module is disposed`);
  }

  /**
   * The current recording, rebuilt when something it depends on changed. Callers make sure no
   * run of this module is in flight.
   */
  private current(op: string): Recording {
    if (this.disposedFlag || !this.rec) throw new Error(`${op}: the compiled module is disposed`);
    if (this.hookEpoch !== hookState.epoch) this.refuseHooks(op);
    if (!this.fresh()) {
      const old = this.rec;
      this.rec = this.record();
      old.release();
    }
    return this.rec;
  }

  /**
   * A replay runs native kernels only, so it could not call a hook with the hooked module's
   * output: a tree with hooks is refused (at compile and at each call after hooks change).
   */
  private refuseHooks(op: string): void {
    const hooked = firstHooked(this.module);
    if (hooked) {
      const [path, m] = hooked;
      throw new Error(`${op}: ${path ? `module '${path}' (${m.constructor.name})` : `the ${m.constructor.name}`} has forward ` +
        'hooks, which a compiled forward cannot call; remove them (handle.remove()) or run module.forward');
    }
    this.hookEpoch = hookState.epoch;
  }

  private fresh(): boolean {
    const s = this.sources, v = this.versions;
    for (let i = 0; i < s.length; i++) if (s[i].version !== v[i] || s[i].disposed) return false;
    const w = this.switches;
    let k = 0;
    for (const m of this.modules) {
      if (m.training !== w[k] || m.fastInference !== w[k + 1] || m.packWeights !== w[k + 2] || m.winograd !== w[k + 3]) {
        return false;
      }
      k += 4;
    }
    return true;
  }

  /** The module's planned forward for inputShape: lowered to the graph compiler where it can be. */
  private record(): Recording {
    const op = 'compile';
    this.refuseHooks(op);
    if (getBackend() !== 'native') throw new Error(`${op}: compiled modules run on the native backend (setBackend('native'))`);
    if (this.modules.some((m) => m.training)) {
      throw new Error(`${op}: the module is in training mode; call eval() first (compiled modules are for inference)`);
    }
    if (captureState.active) throw new Error(`${op}: cannot compile inside forwardAsync`);
    const versions = this.sources.map((t) => t.version);
    const switches = this.modules.flatMap(switchesOf);
    const lowered = noGrad(() => GraphRecording.build(this.module, this.modules, this.inputShape));
    if (lowered) {
      this.versions = versions;
      this.switches = switches;
      return lowered;
    }
    return this.recordForward(versions, switches);
  }

  /** Records the module's own forward (modules the nn front end cannot lower). */
  private recordForward(versions: number[], switches: boolean[]): Recording {
    const op = 'compile';
    const addon = getAddon() as unknown as PlanAddon;
    const input = persist(Tensor.wrap(new Float32Array(this.inputShape.reduce((a, b) => a * b, 1)), this.inputShape));
    addon.beginCapture();
    captureState.active = true;
    // Intermediates are recycled within the recording as in an eager forward (an array freed after
    // its last reader goes to a later op's output): the replay runs the same calls in the same
    // order, so the sharing stays valid. Afterwards every array the recording touched is claimed.
    const traced: Float32Array[] = [];
    allocTrace.arrays = traced;
    let output: Tensor;
    try {
      output = noGrad(() => tidy(() => keep(this.module.forward(input))));
    } catch (e) {
      addon.abortCapture();
      captureState.active = false;
      allocTrace.arrays = null;
      input.dispose();
      if (e instanceof CaptureUnsupportedError || (e instanceof Error && /cannot run inside forwardAsync/.test(e.message))) {
        throw new Error(`${op}: the forward cannot be recorded: ${(e as Error).message}`);
      }
      throw e;
    }
    captureState.active = false;
    allocTrace.arrays = null;
    // The recorded calls write into these arrays on every run: none may ever be handed to another
    // op by the buffer pool again.
    const arrays = new Set(traced);
    claimArrays(arrays);
    const plan = addon.capturePlan();
    persist(output);
    arrays.delete(output.data);
    arrays.delete(input.data);
    const held = [...arrays].map((a) => persist(Tensor.wrap(a, [a.length])));
    this.versions = versions;
    this.switches = switches;
    return new CapturedRecording(plan, input, output, held);
  }
}
