/**
 * A micro-batcher: single-sample requests that arrive close together share one batched forward.
 *
 * The semantics follow Triton's dynamic batcher and TorchServe's batch_size / max_batch_delay: a
 * batch is sent to the model when maxBatchSize requests of one shape wait, or when the oldest
 * waiting request has waited maxQueueDelayMs, and only while the model has a free slot
 * (`concurrency` batches in flight, 1 for an in-process model). Under load the queue fills while a
 * batch runs, so the next batch leaves as soon as the model is free: batching grows with load and
 * costs nothing but the delay when idle. Rows are independent in every simdcnn kernel (a batch's
 * rows are bit-identical to the samples run one by one), so batching never changes a result.
 *
 * Failure is per request: a full queue rejects at once; a timeout or an abort rejects that request
 * only (removed from the queue if it has not run yet); a shape the model cannot take fails only
 * the requests of that shape, and a batch whose forward throws is retried row by row so one bad
 * row never fails the others.
 */
import { Tensor } from '../tensor';
import { describe, shapeStr } from '../errors';
import { ServeError } from './errors';
import { engineFor, sampleShapeStr, type BatchEngine, type BatchOutput } from './engine';
import type { Module } from '../nn/module';
import type { CompiledModule } from '../nn/compiled';
import type { OnnxModel } from '../io/onnx/model';

export interface BatcherOptions {
  /** Most requests in one forward (default 8). A CompiledModule caps it at its compiled batch. */
  maxBatchSize?: number;
  /**
   * How long the oldest waiting request may wait for others to join its batch while the model is
   * free, in ms (default 0, as Triton's max_queue_delay_microseconds). With 0 a batch leaves as
   * soon as the model is free, and requests still gather while it is busy: under load batches
   * fill by themselves, and an idle server adds no delay. A few ms make fuller batches at
   * moderate load at the cost of that much latency per request.
   */
  maxQueueDelayMs?: number;
  /** Requests that may wait (not counting those running); one more is rejected with QUEUE_FULL (default 256). */
  maxQueueSize?: number;
  /** Batches in flight at once (default: the engine's concurrency, 1 for an in-process model). */
  concurrency?: number;
  /**
   * The batch sizes the model is run at (ascending, e.g. [1, 2, 4, 8]): a batch of n rows is padded
   * with zeros to the smallest listed size >= n, and maxBatchSize is capped at the largest. Every
   * batch size is an input shape the model plans for (an nn Module keeps plans for 4 shapes, an
   * OnnxModel for 8), so a short list keeps a server from rebuilding plans as its batches vary;
   * rows are independent, so padding never changes a result. Default: every size up to maxBatchSize.
   */
  batchSizes?: readonly number[];
  /** Called after every forward: rows it carried, rows it ran (with padding), seconds, success. */
  onBatch?(info: BatchInfo): void;
}

export interface BatchInfo {
  size: number;
  padded: number;
  seconds: number;
  ok: boolean;
}

export interface InferOptions {
  /** Rejects the request with code 'ABORTED' when it fires (removed from the queue if it has not run). */
  signal?: AbortSignal;
  /** Rejects with code 'TIMEOUT' after this many ms unless the result came first. */
  timeoutMs?: number;
}

interface Pending {
  data: Float32Array;
  shape: readonly number[];
  key: string;
  arrived: number;
  resolve(t: Tensor): void;
  reject(e: Error): void;
  settled: boolean;
  queued: boolean;
  timer: NodeJS.Timeout | null;
  signal: AbortSignal | null;
  onAbort: (() => void) | null;
}

const nowMs = (): number => performance.now();

function posInt(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new RangeError(`Batcher: options.${name} must be a positive integer, got ${describe(v)}`);
  }
  return v;
}

/**
 * Gathers concurrent single-sample requests into batched forwards.
 * @example
 * const net = models.lenet5().eval();
 * const batcher = new serve.Batcher(net, { maxBatchSize: 8, maxQueueDelayMs: 1, maxQueueSize: 256 });
 * const logits = await batcher.infer(tensor(pixels, [1, 1, 28, 28]), { timeoutMs: 1000 }); // [1, 10]
 * await batcher.close();
 */
export class Batcher {
  readonly maxBatchSize: number;
  readonly maxQueueDelayMs: number;
  readonly maxQueueSize: number;
  readonly concurrency: number;
  /** The sizes batches are padded to (null: none, every batch runs at its own size). */
  readonly batchSizes: readonly number[] | null;
  private readonly engine: BatchEngine;
  private readonly onBatch: ((info: BatchInfo) => void) | null;
  private queue: Pending[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private closedFlag = false;
  private idleWaiters: (() => void)[] = [];
  /** Forwards run and the rows they carried (padding not counted). */
  readonly stats = { batches: 0, rows: 0 };

  constructor(model: Module | CompiledModule | OnnxModel | BatchEngine, options: BatcherOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError(`Batcher: options must be an object, got ${describe(options)}`);
    this.engine = engineFor(model);
    const fixed = this.engine.fixedBatch;
    const sizes = options.batchSizes;
    if (sizes !== undefined && (!Array.isArray(sizes) || sizes.length === 0 ||
      !sizes.every((v, i) => Number.isInteger(v) && v >= 1 && (i === 0 || v > sizes[i - 1])))) {
      throw new RangeError(`Batcher: options.batchSizes must be an ascending list of positive integers, got ${Array.isArray(sizes) ? `[${sizes.join(', ')}]` : describe(sizes)}`);
    }
    this.batchSizes = sizes && fixed === null ? Object.freeze(sizes.slice()) : null;
    const cap = fixed ?? (this.batchSizes ? this.batchSizes[this.batchSizes.length - 1] : Infinity);
    this.maxBatchSize = Math.min(posInt('maxBatchSize', options.maxBatchSize, 8), cap);
    const d = options.maxQueueDelayMs ?? 0;
    if (typeof d !== 'number' || !Number.isFinite(d) || d < 0) {
      throw new RangeError(`Batcher: options.maxQueueDelayMs must be a finite number >= 0, got ${describe(d)}`);
    }
    this.maxQueueDelayMs = d;
    this.maxQueueSize = posInt('maxQueueSize', options.maxQueueSize, 256);
    this.concurrency = posInt('concurrency', options.concurrency, this.engine.concurrency ?? 1);
    this.onBatch = options.onBatch ?? null;
  }

  /** Requests waiting for a batch (not counting those running). */
  get queueDepth(): number {
    return this.queue.length;
  }

  /** Batches running now. */
  get inFlight(): number {
    return this.running;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * The model's output for one sample: x has shape [1, ...sample]; the result has shape
   * [1, ...output] and belongs to the caller (dispose it). x is copied at once, so the caller may
   * dispose or reuse it as soon as infer() returns. Rejects with a ServeError (see its codes).
   */
  infer(x: Tensor, options: InferOptions = {}): Promise<Tensor> {
    if (this.closedFlag) return Promise.reject(new ServeError('CLOSED', 'Batcher.infer: the batcher is closed'));
    let data: Float32Array, timeoutMs: number | undefined, signal: AbortSignal | null;
    try {
      data = this.check(x);
      ({ timeoutMs, signal } = checkInferOptions(options));
    } catch (e) {
      return Promise.reject(e);
    }
    if (signal?.aborted) {
      return Promise.reject(new ServeError('ABORTED', 'Batcher.infer: the request was aborted before it was queued', { cause: signal.reason }));
    }
    if (this.queue.length >= this.maxQueueSize) {
      return Promise.reject(new ServeError('QUEUE_FULL',
        `Batcher.infer: the queue is full (${this.queue.length} requests waiting, maxQueueSize ${this.maxQueueSize}); retry later`));
    }
    return new Promise<Tensor>((resolve, reject) => {
      const p: Pending = {
        data, shape: x.shape, key: x.shape.join(','), arrived: nowMs(), resolve, reject,
        settled: false, queued: true, timer: null, signal, onAbort: null,
      };
      if (timeoutMs !== undefined) {
        p.timer = setTimeout(() => this.fail(p, new ServeError('TIMEOUT',
          `Batcher.infer: no result within timeoutMs ${timeoutMs} (${p.queued ? 'still queued' : 'its batch was running'})`)), timeoutMs);
      }
      if (signal) {
        p.onAbort = () => this.fail(p, new ServeError('ABORTED',
          `Batcher.infer: the request was aborted (${p.queued ? 'while queued' : 'while its batch was running'})`, { cause: signal.reason }));
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.queue.push(p);
      this.schedule();
    });
  }

  /**
   * Refuses new requests and rejects the queued ones with code 'CLOSED'; batches already running
   * finish and deliver. Resolves once none is running. Idempotent.
   */
  close(): Promise<void> {
    this.closedFlag = true;
    this.clearTimer();
    const queued = this.queue;
    this.queue = [];
    for (const p of queued) this.fail(p, new ServeError('CLOSED', 'Batcher.infer: the batcher was closed before the request ran'));
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** The sample's data (copied), or a ServeError('INVALID_INPUT') saying what was expected. */
  private check(x: Tensor): Float32Array {
    const op = 'Batcher.infer';
    if (!(x instanceof Tensor)) throw new ServeError('INVALID_INPUT', `${op}: x must be a Tensor, got ${describe(x)}`);
    if (x.disposed) throw new ServeError('INVALID_INPUT', `${op}: x (shape ${shapeStr(x.shape)}) is disposed`);
    if (x.rank < 1 || x.shape[0] !== 1) {
      throw new ServeError('INVALID_INPUT', `${op}: x must hold one sample, shape [1, ...], got ${shapeStr(x.shape)}`);
    }
    const s = this.engine.sampleShape;
    if (s && (x.rank !== s.length + 1 || s.some((d, i) => d !== null && d !== x.shape[i + 1]))) {
      throw new ServeError('INVALID_INPUT', `${op}: x has shape ${shapeStr(x.shape)}, the model takes [1, ${sampleShapeStr(s).slice(1)}`);
    }
    return x.data.slice();
  }

  /** Rejects p (once), leaving the queue if it is still there. */
  private fail(p: Pending, e: Error): void {
    if (p.settled) return;
    if (p.queued) {
      const i = this.queue.indexOf(p);
      if (i >= 0) this.queue.splice(i, 1);
      p.queued = false;
    }
    this.settle(p);
    p.reject(e);
  }

  private settle(p: Pending): void {
    p.settled = true;
    if (p.timer) clearTimeout(p.timer);
    if (p.signal && p.onAbort) p.signal.removeEventListener('abort', p.onAbort);
    p.timer = null;
    p.onAbort = null;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Sends batches while the model has a free slot and a batch is due; otherwise arms the timer. */
  private schedule(): void {
    while (this.queue.length > 0 && this.running < this.concurrency) {
      const oldest = this.queue[0];
      const waited = nowMs() - oldest.arrived;
      if (this.sameShape(oldest.key) < this.maxBatchSize && waited < this.maxQueueDelayMs) {
        const at = oldest.arrived + this.maxQueueDelayMs;
        if (!this.timer || this.timerAt > at + 0.5) {
          this.clearTimer();
          this.timerAt = at;
          this.timer = setTimeout(() => { this.timer = null; this.schedule(); }, Math.max(0, at - nowMs()));
        }
        return;
      }
      this.clearTimer();
      this.dispatch();
    }
  }

  /** Waiting requests with this shape key, counted up to maxBatchSize. */
  private sameShape(key: string): number {
    let n = 0;
    for (const p of this.queue) if (p.key === key && ++n >= this.maxBatchSize) break;
    return n;
  }

  /** Takes the oldest request and up to maxBatchSize - 1 more of its shape, and runs them. */
  private dispatch(): void {
    const key = this.queue[0].key;
    const take: Pending[] = [];
    const rest: Pending[] = [];
    for (const p of this.queue) (take.length < this.maxBatchSize && p.key === key ? take : rest).push(p);
    this.queue = rest;
    for (const p of take) p.queued = false;
    this.running++;
    void this.execute(take).finally(() => {
      this.running--;
      if (this.running === 0 && this.queue.length === 0) {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const f of w) f();
      }
      this.schedule();
    });
  }

  /** One forward for the batch; when it throws and held several rows, each row on its own. */
  private async execute(items: Pending[]): Promise<void> {
    try {
      await this.forward(items);
    } catch (e) {
      if (items.length === 1) {
        this.fail(items[0], inferenceFailed(e));
        return;
      }
      for (const p of items) {
        if (p.settled) continue;
        try {
          await this.forward([p]);
        } catch (e1) {
          this.fail(p, inferenceFailed(e1));
        }
      }
    }
  }

  private async forward(items: Pending[]): Promise<void> {
    const n = items.length;
    const rows = this.engine.fixedBatch ?? this.batchSizes?.find((b) => b >= n) ?? n;
    const per = items[0].data.length;
    // A fresh array (never a pooled one): an engine may transfer it to another thread.
    const data = new Float32Array(rows * per);
    for (let i = 0; i < n; i++) data.set(items[i].data, i * per);
    const shape = [rows, ...items[0].shape.slice(1)];
    const t0 = nowMs();
    let out: BatchOutput;
    try {
      out = await this.engine.run(data, shape);
    } catch (e) {
      this.onBatch?.({ size: n, padded: rows, seconds: (nowMs() - t0) / 1000, ok: false });
      throw e;
    }
    this.onBatch?.({ size: n, padded: rows, seconds: (nowMs() - t0) / 1000, ok: true });
    this.stats.batches++;
    this.stats.rows += n;
    try {
      const m = out.shape[0];
      if (!(m >= n) || out.data.length % m !== 0) {
        throw new Error(`the model returned shape ${shapeStr(out.shape)} for a batch of ${rows}`);
      }
      const po = out.data.length / m;
      const rowShape = [1, ...out.shape.slice(1)];
      for (let i = 0; i < n; i++) {
        const p = items[i];
        if (p.settled) continue;
        this.settle(p);
        p.resolve(Tensor.wrap(out.data.slice(i * po, (i + 1) * po), rowShape));
      }
    } finally {
      out.release?.();
    }
  }
}

function inferenceFailed(e: unknown): ServeError {
  const m = e instanceof Error ? e.message : String(e);
  return new ServeError('INFERENCE_FAILED', `Batcher.infer: the forward failed: ${m}`, { cause: e });
}

function checkInferOptions(o: InferOptions): { timeoutMs: number | undefined; signal: AbortSignal | null } {
  if (o === null || typeof o !== 'object') throw new TypeError(`Batcher.infer: options must be an object, got ${describe(o)}`);
  const t = o.timeoutMs;
  if (t !== undefined && (typeof t !== 'number' || !Number.isFinite(t) || t <= 0)) {
    throw new RangeError(`Batcher.infer: options.timeoutMs must be a finite number > 0, got ${describe(t)}`);
  }
  const s = o.signal;
  if (s !== undefined && !(s instanceof AbortSignal)) throw new TypeError(`Batcher.infer: options.signal must be an AbortSignal, got ${describe(s)}`);
  return { timeoutMs: t, signal: s ?? null };
}
