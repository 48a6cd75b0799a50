/**
 * A compiled training step: forward, cross-entropy loss, backward and the optimiser update of one
 * batch shape, recorded once as the list of native kernel calls the eager step makes and replayed
 * by one addon call per step (the inference counterpart is lib/nn/compiled.ts).
 *
 * A small network's step is dominated by per-op costs, not arithmetic: LeNet-5's eager step makes
 * ~40 kernel calls and pays for each one's validation, tensors, tape node and N-API crossing.
 * Recording uses the capture machinery of forwardAsync (native/binding/defer.h): every binding
 * validates its arguments and appends its kernel call instead of running it. Every op of the step
 * only calls backend kernels on arrays (the tape marks such nodes capturable; an op that computes
 * on the JS thread, or dropout, whose mask would be replayed, refuses the capture and the step
 * stays eager, with the reason in `whyEager`). Run-time values the kernels read live in arrays
 * rewritten before each replay: the input and targets, the optimiser's hyper-parameters (its
 * learning rate may change between steps; lib/optim prepareStep).
 *
 * The first step runs eagerly (it creates the optimiser state, so that every later step is the
 * same sequence of calls); the second is recorded and replayed; every step after that is a replay.
 * The arithmetic is the eager step's (same kernels, same order, same arrays' roles), so the
 * parameters after any number of steps are bit-identical to the eager loop's (test/train-step.test.ts).
 * The recording owns its arrays (counted in memory()); the parameters' gradients are its arrays
 * (read them between steps; do not zero them: each step overwrites them).
 */
import { Tensor, allocTrace, captureState, CaptureUnsupportedError, claimArrays, keep, persist, sameShape, tidy } from '../tensor';
import { getAddon, getBackend } from '../backend/index';
import { describe, shapeStr } from '../errors';
import { crossEntropy } from '../ops/loss';
import { assertTensor } from '../ops/validate';
import type { Module } from '../nn/module';
import { firstHooked } from '../nn/hooks';
import { Optimizer } from '../optim/optimizer';
import { SGD } from '../optim/sgd';
import { Adam } from '../optim/adam';

interface PlanAddon {
  beginCapture(): void;
  abortCapture(): void;
  capturePlan(): unknown;
  planRun(plan: unknown): void;
  planDispose(plan: unknown): void;
}

/**
 * The addon functions a recorded step needs: where one is missing the backend falls back to its
 * pure-TS kernel, which would run once, at recording time, instead of being recorded.
 */
const NATIVE_STEP_KERNELS = ['beginCapture', 'capturePlan', 'planRun', 'unaryBackward', 'channelSum', 'binaryBackward',
  'globalPool2dBackward', 'crossEntropyBackward', 'crossEntropyInto', 'copy', 'accumulate', 'runningStatsUpdate',
  'sgdStep', 'adamStep'] as const;

/** What a recorded step reads and writes besides the model's own arrays. */
interface Recorded {
  plan: unknown;
  input: Tensor;
  targets: Int32Array;
  logits: Tensor;
  loss: Tensor;
  /** The intermediates' arrays as tensors, so that memory() counts them. */
  held: Tensor[];
  /** The parameters' arrays when recorded: replaced arrays (new tensors) mean record again. */
  paramArrays: Float32Array[];
  gradArrays: (Float32Array | null)[];
  switches: boolean[];
}

export interface TrainStepOptions {
  optimizer: Optimizer;
  /** [N, ...]: the batch shape every run takes. */
  inputShape: readonly number[];
}

/**
 * One training step of `model` (cross-entropy over its [N, K] logits) for batches of inputShape.
 * @example const step = compileTrainStep(net, { optimizer, inputShape: [64, 1, 28, 28] });
 *          for (const [x, y] of batches) console.log(step.run(x, y));
 */
export class TrainStep {
  readonly inputShape: readonly number[];
  /** Why the step runs eagerly (null while it is, or will be, compiled). */
  whyEager: string | null = null;
  private rec: Recorded | null = null;
  private steps = 0;
  /** The last step's logits (eager steps copy them here). */
  private eagerLogits: Float32Array | null = null;
  private readonly size: number;
  private disposedFlag = false;

  constructor(readonly model: Module, readonly optimizer: Optimizer, inputShape: readonly number[]) {
    const op = 'compileTrainStep';
    if (model === null || typeof model !== 'object' || typeof (model as Module).forward !== 'function') {
      throw new TypeError(`${op}: model must be a Module, got ${describe(model)}`);
    }
    if (!(optimizer instanceof Optimizer)) throw new TypeError(`${op}: 'optimizer' must be an optim.SGD or optim.Adam, got ${describe(optimizer)}`);
    if (!Array.isArray(inputShape) || inputShape.length < 2 ||
      !inputShape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 1)) {
      throw new RangeError(`${op}: 'inputShape' must be [N, ...] of positive integers, got ${describe(inputShape)}`);
    }
    this.inputShape = Object.freeze(inputShape.slice());
    this.size = inputShape.reduce((a, b) => a * b, 1);
    if (!(optimizer instanceof SGD || optimizer instanceof Adam)) this.whyEager = `${optimizer.constructor.name} has no native update`;
    // A replay never calls step(): one that was replaced (a subclass, a wrapper) must keep running.
    else if (optimizer.step !== SGD.prototype.step && optimizer.step !== Adam.prototype.step) {
      this.whyEager = 'the optimizer\'s step() is overridden';
    }
  }

  /** True once steps are replays of the recorded step. */
  get compiled(): boolean {
    return this.rec !== null;
  }

  get disposed(): boolean {
    return this.disposedFlag;
  }

  /**
   * Trains on one batch: x [inputShape], y the N class indices. Returns the batch's mean loss.
   * The model must be in training mode.
   */
  run(x: Tensor, y: Int32Array): number {
    const op = 'TrainStep.run';
    assertTensor(op, 'x', x);
    if (!sameShape(x.shape, this.inputShape)) {
      throw new RangeError(`${op}: x has shape ${shapeStr(x.shape)}, the step was compiled for ${shapeStr(this.inputShape)}`);
    }
    return this.runData(op, x.data, y);
  }

  /** Internal (fit): run() on a batch already laid out as inputShape. */
  runData(op: string, x: Float32Array, y: Int32Array): number {
    if (this.disposedFlag) throw new Error(`${op}: the training step is disposed`);
    if (x.length !== this.size) throw new RangeError(`${op}: x has ${x.length} values, the step takes ${shapeStr(this.inputShape)}`);
    if (!(y instanceof Int32Array)) throw new TypeError(`${op}: 'y' must be an Int32Array of class indices, got ${describe(y)}`);
    if (y.length !== this.inputShape[0]) throw new RangeError(`${op}: 'y' has ${y.length} labels, the batch has ${this.inputShape[0]} samples`);
    if (!this.model.training) throw new Error(`${op}: the model is in eval mode; call model.train() first`);
    if (captureState.active) throw new Error(`${op}: cannot run inside forwardAsync`);
    if (this.rec && !this.fresh(this.rec)) this.release();
    const compile = this.whyEager === null && this.steps >= 1 && getBackend() === 'native' && !this.rec;
    if (compile) this.record(op);
    this.steps++;
    if (!this.rec) return this.eager(x, y);
    const r = this.rec;
    const K = r.logits.shape[1];
    for (let i = 0; i < y.length; i++) {
      const t = y[i];
      if (!(t >= 0 && t < K)) throw new RangeError(`${op}: target ${t} at index ${i} is out of range for ${K} classes`);
    }
    r.input.data.set(x);
    r.targets.set(y);
    // The recording's own first run is the step it was recorded as: its bookkeeping already ran.
    if (!compile) {
      this.optimizer.prepareStep();
      for (const b of this.model.buffers()) b.version++;
    }
    this.reattachGrads(r);
    (getAddon() as unknown as PlanAddon).planRun(r.plan);
    return r.loss.data[0];
  }

  /** The last step's logits [N, K] (a view valid until the next run). */
  lastLogits(): Float32Array {
    if (this.rec) return this.rec.logits.data;
    if (!this.eagerLogits) throw new Error('TrainStep.lastLogits: no step has run yet');
    return this.eagerLogits;
  }

  /** Frees the recording (its arrays and pinned references). Idempotent. */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    this.release();
  }

  private eager(x: Float32Array, y: Int32Array): number {
    let loss = 0;
    tidy(() => {
      const input = Tensor.wrap(x.slice(), this.inputShape);
      this.optimizer.zeroGrad();
      const logits = this.model.forward(input);
      const l = crossEntropy(logits, y.slice());
      l.backward();
      this.optimizer.step();
      loss = l.item();
      this.eagerLogits = logits.toArray();
    });
    return loss;
  }

  /** Records the step (it runs at the next planRun). On a refusal the step stays eager for good. */
  private record(op: string): void {
    const hooked = firstHooked(this.model);
    if (hooked) {
      this.whyEager = `module '${hooked[0]}' has forward hooks`;
      return;
    }
    const addon = getAddon() as unknown as PlanAddon;
    const missing = NATIVE_STEP_KERNELS.filter((k) => typeof (addon as unknown as Record<string, unknown>)[k] !== 'function');
    if (missing.length > 0) {
      this.whyEager = `the native addon lacks ${missing.join(', ')} (rebuild it: npm rebuild simdcnn)`;
      return;
    }
    const input = persist(Tensor.wrap(new Float32Array(this.size), this.inputShape));
    const targets = new Int32Array(this.inputShape[0]);
    // Gradients start as arrays of the recording (each backward kernel overwrites its own).
    this.optimizer.zeroGrad();
    const traced: Float32Array[] = [];
    let logits!: Tensor, loss!: Tensor;
    addon.beginCapture();
    captureState.active = true;
    allocTrace.arrays = traced;
    try {
      tidy(() => {
        const out = this.model.forward(input);
        const l = crossEntropy(out, targets);
        l.backward();
        this.optimizer.step();
        logits = keep(out);
        loss = keep(l);
      });
    } catch (e) {
      addon.abortCapture();
      captureState.active = false;
      allocTrace.arrays = null;
      input.dispose();
      if (!(e instanceof CaptureUnsupportedError)) throw e;
      this.whyEager = `the step cannot be recorded: ${(e as Error).message}`;
      return;
    }
    captureState.active = false;
    allocTrace.arrays = null;
    const plan = addon.capturePlan();
    if (logits.rank !== 2) {
      addon.planDispose(plan);
      throw new RangeError(`${op}: the model's output must be [N, K] logits, got ${shapeStr(logits.shape)}`);
    }
    // The recorded calls write into these arrays on every run: the pool must never hand them out.
    const arrays = new Set(traced);
    claimArrays(arrays);
    persist(logits);
    persist(loss);
    const params = this.optimizer.params;
    for (const a of [input.data, logits.data, loss.data, ...params.map((p) => p.grad?.data)]) if (a) arrays.delete(a);
    this.rec = {
      plan, input, targets, logits, loss,
      held: [...arrays].map((a) => persist(Tensor.wrap(a, [a.length]))),
      paramArrays: params.map((p) => p.data),
      gradArrays: params.map((p) => p.grad?.data ?? null),
      switches: this.model.modules().map((m) => m.training),
    };
  }

  /** The recording still matches the model: same parameter arrays, same train/eval switches. */
  private fresh(r: Recorded): boolean {
    const params = this.optimizer.params;
    if (params.length !== r.paramArrays.length) return false;
    for (let i = 0; i < params.length; i++) if (params[i].disposed || params[i].data !== r.paramArrays[i]) return false;
    const mods = this.model.modules();
    if (mods.length !== r.switches.length) return false;
    for (let i = 0; i < mods.length; i++) if (mods[i].training !== r.switches[i]) return false;
    return true;
  }

  /** A zeroGrad() between steps drops the gradient tensors: give them back their recorded arrays. */
  private reattachGrads(r: Recorded): void {
    const params = this.optimizer.params;
    for (let i = 0; i < params.length; i++) {
      const a = r.gradArrays[i];
      const p = params[i];
      if (a && (!p.grad || p.grad.disposed || p.grad.data !== a)) {
        p.grad?.dispose();
        p.grad = persist(Tensor.wrap(a, p.shape));
      }
    }
  }

  private release(): void {
    const r = this.rec;
    if (!r) return;
    this.rec = null;
    this.steps = 0;
    (getAddon() as unknown as PlanAddon).planDispose(r.plan);
    r.input.dispose();
    r.logits.dispose();
    r.loss.dispose();
    for (const t of r.held) t.dispose();
    // The gradients were the recording's arrays: the next step makes its own.
    for (const p of this.optimizer.params) {
      if (p.grad && !p.grad.disposed && r.gradArrays.includes(p.grad.data)) {
        p.grad.dispose();
        p.grad = null;
      }
    }
  }
}

/**
 * A training step for batches of one shape, compiled after its first run (see TrainStep).
 * @example const step = compileTrainStep(net.train(), { optimizer: new optim.SGD(net.parameters(), { lr: 0.01 }), inputShape: [64, 1, 28, 28] });
 */
export function compileTrainStep(model: Module, o: TrainStepOptions): TrainStep {
  if (o === null || typeof o !== 'object') throw new TypeError(`compileTrainStep: options must be { optimizer, inputShape }, got ${describe(o)}`);
  return new TrainStep(model, o.optimizer, o.inputShape);
}
