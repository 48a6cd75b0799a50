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

interface PlanAddon {
  beginCapture(): void;
  abortCapture(): void;
  capturePlan(): unknown;
  planRun(plan: unknown): void;
  planRunAsync(plan: unknown): Promise<void>;
  planDispose(plan: unknown): void;
}

/** What a recording depends on besides the structure: each module's switches. */
function switchesOf(m: Module): boolean[] {
  return [m.training, m.fastInference, m.packWeights, m.winograd];
}

interface Recording {
  plan: unknown;
  input: Tensor;
  output: Tensor;
  /** The intermediates' arrays, as tensors so that memory() counts them. */
  held: Tensor[];
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
    const rec = this.current(op);
    rec.input.data.set(x.data);
    (getAddon() as unknown as PlanAddon).planRun(rec.plan);
    return this.result(rec);
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
      const r = this.current(op);
      r.input.data.set(data);
      await (getAddon() as unknown as PlanAddon).planRunAsync(r.plan);
      return this.result(r);
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
    if (this.rec) this.release(this.rec);
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
    if (!this.fresh()) {
      const old = this.rec;
      this.rec = this.record();
      this.release(old);
    }
    return this.rec;
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

  private result(rec: Recording): Tensor {
    const out = allocOutput(rec.output.size);
    out.set(rec.output.data);
    return Tensor.wrap(out, rec.output.shape);
  }

  /** Records the module's planned forward on a zero input of inputShape. */
  private record(): Recording {
    const op = 'compile';
    if (getBackend() !== 'native') throw new Error(`${op}: compiled modules run on the native backend (setBackend('native'))`);
    if (this.modules.some((m) => m.training)) {
      throw new Error(`${op}: the module is in training mode; call eval() first (compiled modules are for inference)`);
    }
    if (captureState.active) throw new Error(`${op}: cannot compile inside forwardAsync`);
    const addon = getAddon() as unknown as PlanAddon;
    const input = persist(Tensor.wrap(new Float32Array(this.inputShape.reduce((a, b) => a * b, 1)), this.inputShape));
    const versions = this.sources.map((t) => t.version);
    const switches = this.modules.flatMap(switchesOf);
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
    return { plan, input, output, held };
  }

  private release(rec: Recording): void {
    (getAddon() as unknown as PlanAddon).planDispose(rec.plan);
    rec.input.dispose();
    rec.output.dispose();
    for (const t of rec.held) t.dispose();
  }
}
